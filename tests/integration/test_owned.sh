#!/usr/bin/env bash
# Integration: owner-bound keys over real meshd processes (net_af_packet on veth in
# namespaces). n3 writes owned keys (PutReq.owned = true) and plain keys; both replicate;
# n3 is killed with SIGKILL (no leave); once n1 and n2 see it dead, the owned keys are
# gone on both (get: not found) and the plain keys remain; the survivors' stores converge
# (equal digests) and count the expiry (crdt.crdt_owner_expired). A key n3 wrote owned
# and n2 overwrote later survives. Owned puts go through `meshctl put --owned` when
# meshctl has it, else through a raw ClientRequest (hand-encoded protobuf, python3).
# Usage: test_owned.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns to 'rm -f /tmp/${MESH_NS}-*.sock'
N_OWNED=20

c() { local i=$1; shift; "$CTL" -s "/tmp/${MESH_NS}-$i.sock" "$@"; }

# owned_put I KEY VALUE: a put with owned = true at node I; prints OK or the error
if "$CTL" --help 2>&1 | grep -q -- '--owned'; then
  owned_put() { c "$1" put --owned "$2" "$3"; }
else
  owned_put() {
    python3 - "/tmp/${MESH_NS}-$1.sock" "$2" "$3" <<'PY'
import socket, sys
def varint(n):
    out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def ld(field, data): return varint(field << 3 | 2) + varint(len(data)) + data
path, key, value = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
put = ld(1, key) + ld(2, value) + varint(3 << 3) + b'\x01'          # PutReq, owned = 3
req = varint(1 << 3) + varint(7) + ld(10, put)                      # Request id = 1, put = 10
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(path)
s.send(req)
r = s.recv(65536)
i, status = 0, 0
while i < len(r):                                                   # Response: status = 2
    tag = 0; sh = 0
    while True:
        b = r[i]; i += 1; tag |= (b & 0x7f) << sh; sh += 7
        if not b & 0x80: break
    f, wt = tag >> 3, tag & 7
    if wt == 0:
        v = 0; sh = 0
        while True:
            b = r[i]; i += 1; v |= (b & 0x7f) << sh; sh += 7
            if not b & 0x80: break
        if f == 2: status = (v >> 1) ^ -(v & 1)
    elif wt == 2:
        n = 0; sh = 0
        while True:
            b = r[i]; i += 1; n |= (b & 0x7f) << sh; sh += 7
            if not b & 0x80: break
        i += n
    elif wt == 1: i += 8
    elif wt == 5: i += 4
print("OK" if status == 0 else "status %d" % status)
sys.exit(0 if status == 0 else 1)
PY
  }
fi

# until SECONDS_MAX CMD...: CMD succeeds within the time
until_ok() {
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $deadline ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
has_all() { # has_all NODE: every owned and plain key of n3 readable on NODE
  local k
  for k in $(seq 1 $N_OWNED); do
    c "$1" get "worker:own$k" >/dev/null 2>&1 || return 1
    c "$1" get "worker:plain$k" >/dev/null 2>&1 || return 1
  done
}
owned_gone() { # owned_gone NODE: no owned key of n3 is readable on NODE
  local k
  for k in $(seq 2 $N_OWNED); do
    c "$1" get "worker:own$k" >/dev/null 2>&1 && return 1
  done
  return 0
}
plain_kept() { # plain_kept NODE: every plain key of n3 still reads its value
  local k
  for k in $(seq 1 $N_OWNED); do
    [ "$(c "$1" get "worker:plain$k" 2>/dev/null)" = "p$k" ] || return 1
  done
}
sees_dead() { [ "$(mesh_tel_get "$1" /mesh/members dead)" = 1 ]; }
digests_equal() {
  local a b
  a=$(mesh_tel_get 1 /mesh/kv/stats digest); b=$(mesh_tel_get 2 /mesh/kv/stats digest)
  [ -n "$a" ] && [ "$a" = "$b" ]
}

mesh_cluster_up 3

ok_if "owned put on n3" owned_put 3 worker:own1 o1
for k in $(seq 2 $N_OWNED); do owned_put 3 "worker:own$k" "o$k" >/dev/null; done
for k in $(seq 1 $N_OWNED); do c 3 put "worker:plain$k" "p$k" >/dev/null; done
ok_if "n1 has n3's owned and plain keys" until_ok 10 has_all 1
ok_if "n2 has n3's owned and plain keys" until_ok 10 has_all 2
# a later write by n2 over one of n3's owned keys belongs to n2: it must survive
is "n2 overwrites worker:own1" "$(c 2 put worker:own1 by-n2)" "OK"
ok_if "n1 has n2's overwrite" until_ok 10 test "$(c 1 get worker:own1 2>/dev/null)" = by-n2
ok_if "owned keys are still there while n3 lives" has_all 1

kill -KILL "${MESH_PIDS[3]}"; wait "${MESH_PIDS[3]}" 2>/dev/null; unset 'MESH_PIDS[3]'
t0=$(date +%s%N)
ok_if "n1 sees n3 dead" until_ok 20 sees_dead 1
ok_if "n2 sees n3 dead" until_ok 20 sees_dead 2
t1=$(date +%s%N)
ok_if "n3's owned keys are gone on n1" until_ok 10 owned_gone 1
ok_if "n3's owned keys are gone on n2" until_ok 10 owned_gone 2
t2=$(date +%s%N)
echo "# n3 dead on both survivors $(((t1 - t0) / 1000000)) ms after the kill; its owned" \
  "keys gone on both $(((t2 - t1) / 1000000)) ms later"
c 1 get worker:own2 >/dev/null 2>&1
is "get of an expired owned key is not found (exit 1)" "$?" 1
ok_if "n3's plain keys remain on n1" plain_kept 1
ok_if "n3's plain keys remain on n2" plain_kept 2
is "n2's later write over an owned key survives on n1" "$(c 1 get worker:own1)" "by-n2"
is "n2's later write over an owned key survives on n2" "$(c 2 get worker:own1)" "by-n2"
ok_if "survivors' stores converge" until_ok 20 digests_equal
ok_if "n1 counted the expiry" test "$(c 1 --json stats crdt | python3 -c 'import json,sys; print(json.load(sys.stdin)["crdt.crdt_owner_expired"])')" -ge 1
ok_if "n1 still healthy" c 1 health
tap_done
