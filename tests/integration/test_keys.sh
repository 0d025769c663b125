#!/usr/bin/env bash
# Integration: authenticated clusters (real meshd processes, AEAD frames). Two nodes hold
# keys A and C with different primaries, as during a key rotation, and still form one
# cluster and replicate. A node with the wrong key, and a node without keys, are never
# admitted; their frames are counted (bad_auth / plaintext). Key file errors name the
# file and line. Then, on the live nodes:
#   rotation on SIGHUP: add a new key, make it primary, drop the old ones, a reload per
#   step: the nodes stay members with the same process and generation and keep
#   replicating; a key file that does not load keeps the keys in use; frames under the
#   dropped key id count as unknown_key;
#   keyless-to-keyed migration: a keyed node and a keyless one do not talk; with
#   send_plaintext they do (also after a reload); with keys on both sides, a node that
#   seals (accept_plaintext) and one that still sends keyless (send_plaintext) talk.
# Usage: test_keys.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tk 'rm -rf "$tmp" /tmp/${MESH_NS}-*.sock'
tmp=$(mktemp -d)

A=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
B=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
C=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# rotation in progress: A seals here\n1 %s primary\n2 %s\n' "$A" "$C" >"$tmp/n1.keys"
printf '1 %s\n2 %s primary\n' "$A" "$C" >"$tmp/n2.keys"
printf '1 %s primary\n' "$B" >"$tmp/wrong.keys"
printf '1 %s\n1 %s\n' "$A" "$C" >"$tmp/dup.keys"
printf '1 %s\n' "${A:0:60}" >"$tmp/short.keys"
chmod 600 "$tmp"/*.keys

start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@"; }

mesh_topo_up 4
start 1 --key-file "$tmp/n1.keys"
start 2 --key-file "$tmp/n2.keys" --seed 10.99.0.1
start 3 --key-file "$tmp/wrong.keys" --seed 10.99.0.1
start 4 --seed 10.99.0.1 --insecure-plaintext
for i in 1 2 3 4; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
is "node 1 seals frames with AEAD" "$(mesh_tel_get 1 /mesh/info frames)" "xchacha20poly1305"
ok_if "nodes with different primaries (A, C) form one cluster" mesh_wait_members 1 alive 2 15
ok_if "... seen from node 2 too" mesh_wait_members 2 alive 2 15
sleep 1
is "wrong-key node never admitted" "$(mesh_tel_get 1 /mesh/members total)" 2
is "wrong-key node sees only itself" "$(mesh_tel_get 3 /mesh/members alive)" 1
is "keyless node sees only itself" "$(mesh_tel_get 4 /mesh/members alive)" 1
ok_if "wrong-key frames counted as bad_auth on node 1" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_bad_auth)" -gt 0
ok_if "keyless frames counted as plaintext on node 1" \
  test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_plaintext)" -gt 0
"$CTL" -s "/tmp/${MESH_NS}-1.sock" put config:secret s3cr3t >/dev/null
got=
for _ in $(seq 1 100); do
  got=$("$CTL" -s "/tmp/${MESH_NS}-2.sock" get config:secret 2>/dev/null) && break
  sleep 0.05
done
is "put replicates between the keyed nodes" "$got" "s3cr3t"
"$CTL" -s "/tmp/${MESH_NS}-3.sock" get config:secret >/dev/null 2>&1
is "the wrong-key node did not receive it" "$?" 1

chk() { "$MESHD" --no-huge -m 64 --no-pci --no-shconf --no-telemetry --file-prefix "${MESH_NS}x" \
  --log-level=lib.eal:warning -- --name x --ip 10.0.0.1 --key-file "$1" 2>&1; }
out=$(chk "$tmp/dup.keys"); rc=$?
ok_if "duplicate key id refused with its line ($out)" test $rc -eq 2 -a -n "$(grep ':2: key 1: duplicate' <<<"$out")"
out=$(chk "$tmp/short.keys"); rc=$?
ok_if "short key refused with its line ($out)" test $rc -eq 2 -a -n "$(grep 'short.keys:1:' <<<"$out")"
out=$(chk "$tmp/none.keys"); rc=$?
ok_if "missing key file refused ($out)" test $rc -eq 2
# ---- rotation on SIGHUP, no restart
c() { local i=$1; shift; "$CTL" -s "/tmp/${MESH_NS}-$i.sock" "$@"; }
# gen I J: the generation node I lists for member nJ
gen() {
  c "$1" --json members 2>/dev/null | python3 -c '
import json, sys
print(next((m["generation"] for m in json.load(sys.stdin)["members"] if m["name"] == sys.argv[1]), ""))' "n$2"
}
# eventually I KEY VALUE: node I reads VALUE at KEY within 10 s
eventually() {
  local _
  for _ in $(seq 1 100); do [ "$(c "$1" get "$2" 2>/dev/null)" = "$3" ] && return 0; sleep 0.1; done
  return 1
}
# reload I: SIGHUP node I; wait until its log shows one more "reload:" key line
reload() {
  local n; n=$(grep -c 'reload: .*key' "$MESH_LOGDIR/n$1.log")
  kill -HUP "${MESH_PIDS[$1]}"
  for _ in $(seq 1 50); do
    [ "$(grep -c 'reload: .*key' "$MESH_LOGDIR/n$1.log")" -gt "$n" ] && return 0
    sleep 0.1
  done
  return 1
}
D=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
g12=$(gen 1 2) g21=$(gen 2 1) p1=${MESH_PIDS[1]} p2=${MESH_PIDS[2]}
ok_if "generations known before the rotation ($g12, $g21)" test -n "$g12" -a -n "$g21"
printf '1 %s primary\n2 %s\n3 %s\n' "$A" "$C" "$D" >"$tmp/n1.keys"
printf '1 %s\n2 %s primary\n3 %s\n' "$A" "$C" "$D" >"$tmp/n2.keys"
ok_if "pass 1 (add key 3): node 1 reloads" reload 1
ok_if "pass 1: node 2 reloads" reload 2
ok_if "pass 1: node 1 logs 3 keys" grep -q 'reload: 3 key(s) from .*n1.keys, primary id 1' "$MESH_LOGDIR/n1.log"
printf '1 %s\n2 %s\n3 %s primary\n' "$A" "$C" "$D" | tee "$tmp/n1.keys" >"$tmp/n2.keys"
ok_if "pass 2 (key 3 primary): node 1 reloads" reload 1
ok_if "pass 2: node 2 reloads" reload 2
c 1 put config:rot pass2 >/dev/null
ok_if "pass 2: a put on node 1 replicates (sealed under key 3)" eventually 2 config:rot pass2
printf '3 %s primary\n' "$D" | tee "$tmp/n1.keys" >"$tmp/n2.keys"
bad0=$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_unknown_key)
ok_if "pass 3 (old keys dropped): node 1 reloads" reload 1
ok_if "pass 3: node 2 reloads" reload 2
ok_if "pass 3: node 1 logs 1 key, primary 3" grep -q 'reload: 1 key(s) from .*n1.keys, primary id 3' "$MESH_LOGDIR/n1.log"
c 2 put config:rot pass3 >/dev/null
ok_if "pass 3: a put on node 2 replicates" eventually 1 config:rot pass3
sleep 1
is "after the rotation node 1 sees 2 alive" "$(mesh_tel_get 1 /mesh/members alive)" 2
is "... node 2 too" "$(mesh_tel_get 2 /mesh/members alive)" 2
is "same processes (no restart)" "${MESH_PIDS[1]} ${MESH_PIDS[2]}" "$p1 $p2"
is "same generations (no new identity)" "$(gen 1 2) $(gen 2 1)" "$g12 $g21"
ok_if "frames of the wrong-key node (key id 1, now dropped) count as unknown_key" \
  mesh_wait_tel 1 /mesh/stats net.rx_drop_frame_unknown_key $((bad0 + 1)) 10
printf '3 %s\n3 %s\n' "$D" "$D" >"$tmp/n1.keys"
kill -HUP "${MESH_PIDS[1]}"
for _ in $(seq 1 50); do grep -q 'refused, keys unchanged' "$MESH_LOGDIR/n1.log" && break; sleep 0.1; done
ok_if "a key file that does not load is refused, keys unchanged (logged)" \
  grep -q "reload: key file .*n1.keys refused, keys unchanged: .*:2: key 3: duplicate" "$MESH_LOGDIR/n1.log"
c 1 put config:rot kept >/dev/null
ok_if "... and node 1 still talks to node 2" eventually 2 config:rot kept
is "... and still runs" "${MESH_PIDS[1]}" "$p1"
kill -0 "$p1"
is "... (process alive)" "$?" 0

# ---- keyless-to-keyed migration (doc/deployment.md section 6)
E=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '7 %s primary\n' "$E" >"$tmp/mig.keys"
chmod 600 "$tmp/mig.keys"
mesh_node_stop 3; mesh_node_stop 4
# the lan profile (1 s probes): membership here must not flap on a loaded machine
start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" --profile lan "$@"; }
start 4 --insecure-plaintext --seed 10.99.0.3         # a keyless node
start 3 --key-file "$tmp/mig.keys" --seed 10.99.0.4   # keyed, no migration setting
ok_if "migration: node 4 (keyless) up" mesh_wait_tel 4 /mesh/info port 1 30
ok_if "migration: node 3 (keyed) up" mesh_wait_tel 3 /mesh/info port 1 30
ok_if "keyed node 3 drops node 4's keyless frames (plaintext)" \
  mesh_wait_tel 3 /mesh/stats net.rx_drop_frame_plaintext 1 10
ok_if "keyless node 4 drops node 3's sealed frames (no_key)" \
  mesh_wait_tel 4 /mesh/stats net.rx_drop_frame_no_key 1 10
is "without a migration setting they do not talk: node 3 sees itself only" \
  "$(mesh_tel_get 3 /mesh/members alive)" 1
is "... node 4 too" "$(mesh_tel_get 4 /mesh/members alive)" 1
mesh_node_stop 3
start 3 --key-file "$tmp/mig.keys" --send-plaintext --seed 10.99.0.4   # pass 1
ok_if "pass 1: node 3 (keys, send_plaintext) and keyless node 4 form a cluster" \
  mesh_wait_members 3 alive 2 30
ok_if "... seen from node 4 too" mesh_wait_members 4 alive 2 30
ok_if "node 3 logs the migration warning" grep -q 'migration: keyless frames accepted, frames sent keyless' "$MESH_LOGDIR/n3.log"
c 4 put config:mig p1 >/dev/null
ok_if "pass 1: a put on keyless node 4 reaches node 3" eventually 3 config:mig p1
ok_if "pass 1: node 3 reloads (SIGHUP)" reload 3
c 3 put config:mig p1-reloaded >/dev/null
ok_if "a reload keeps send_plaintext: node 3's put still reaches keyless node 4" \
  eventually 4 config:mig p1-reloaded
mesh_node_stop 4
start 4 --key-file "$tmp/mig.keys" --send-plaintext --seed 10.99.0.3  # pass 1 on node 4
ok_if "pass 1: node 4 back with keys" mesh_wait_members 3 alive 2 30
mesh_node_stop 3
start 3 --key-file "$tmp/mig.keys" --accept-plaintext --seed 10.99.0.4  # pass 2 on node 3
ok_if "pass 2: node 3 (seals, accept_plaintext) and node 4 (send_plaintext) form a cluster" \
  mesh_wait_members 3 alive 2 30
ok_if "... seen from node 4 too" mesh_wait_members 4 alive 2 30
is "pass 2: node 3 seals" "$(mesh_tel_get 3 /mesh/info frames)" "xchacha20poly1305"
is "pass 1: node 4 still sends keyless" "$(mesh_tel_get 4 /mesh/info frames)" "xxh3"
c 3 put config:mig p2 >/dev/null
ok_if "pass 2: node 3's sealed put reaches node 4" eventually 4 config:mig p2
c 4 put config:mig p2-back >/dev/null
ok_if "pass 2: node 4's keyless put reaches node 3" eventually 3 config:mig p2-back

tap_done
