#!/usr/bin/env bash
# Integration: the local client API of one meshd node (real EAL, af_packet in a namespace)
# through meshctl: put/get/del, ordered and paged keys, watch events after the merge,
# epoch_max merging, stream publish rules, members, stats, and the store's telemetry
# (/mesh/kv/get, /mesh/kv/stats); every bad request (unknown
# namespace, wrong kind, malformed epoch value, malformed protobuf, unknown command) gets
# a clear error and the node keeps serving. Client protocol version 2 (checked against
# hello's features; a feature the node does not list is a TAP SKIP): 10,000 async puts in
# flight on one connection (put --pipeline), a batch with mixed results, put --owned,
# Error names in refusals, 100,000 keys by put --batch read on a second node, member
# metadata seen on the other node, and cluster (exit 1 once the other node is dead).
# libmeshclient's watches (test_client_watch.c, one C check per run): a snapshot then live
# changes (event callback, a v1 subscription beside), a resume from the stored cursor
# after a disconnect gets exactly the changes made meanwhile, a cursor of another life
# (made up, then a real restart of the node) is reported MISSED with a snapshot, and a
# members watch sees node 2 join (with its address) and node 2 dead.
# Usage: test_client.sh MESHD MESHCTL [WATCH_CHECK]   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
WATCH=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tk 'rm -f "$sock" "${cursor:-}"; [ -z "${mwpid:-}" ] || kill "$mwpid" 2>/dev/null'
sock=/tmp/${MESH_NS}-n1.sock

mesh_topo_up 2
mesh_node_start 1 --ctl-socket "$sock" --metrics-listen 127.0.0.1:9464
ok_if "node answers telemetry" mesh_wait_tel 1 /mesh/info port 1 30
c() { "$CTL" -s "$sock" "$@"; }

ok_if "health" c health
is "put worker:a" "$(c put worker:a alpha)" "OK"
is "get worker:a" "$(c get worker:a)" "alpha"
c put worker:a alpha2 >/dev/null
is "last write wins locally" "$(c get worker:a)" "alpha2"
c get worker:none >/dev/null 2>&1
is "missing key exits 1" "$?" 1
is "json get of a missing key" "$(c --json get worker:none)" '{"key": "worker:none", "found": false}'

for i in $(seq -w 1 25); do c put "config:k$i" "v$i" >/dev/null; done
is "keys are listed in order" "$(c keys config: | head -3 | tr '\n' ' ')" "config:k01 config:k02 config:k03 "
is "keys follow every page" "$(c keys config: | wc -l)" 25
is "keys with a limit" "$(c keys config: 10 | wc -l)" 10
ok_if "json keys reports more pages" grep -q '"more": true' <<<"$(c --json keys config: 10)"

c watch worker: 3 >/tmp/${MESH_NS}-watch 2>/dev/null &
wpid=$!
sleep 0.5
c put worker:b beta >/dev/null; c del worker:a >/dev/null; c put worker:b beta2 >/dev/null
wait "$wpid"
is "watch saw put, delete, put in order" "$(tr '\n' '|' </tmp/${MESH_NS}-watch)" \
  "put worker:b beta|del worker:a|put worker:b beta2|"
c get worker:a >/dev/null 2>&1
is "deleted key is gone" "$?" 1

# epoch_max: 16-byte big-endian {u64 epoch, i64 count}; meshctl sends text, so use a
# value with no NUL byte: epoch 0x0101010101010101, count 0x0101010101010102 then ...03
v1=$(printf '\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\002')
v2=$(printf '\001\001\001\001\001\001\001\001\001\001\001\001\001\001\001\003')
c put rl:c "$v2" >/dev/null; c put rl:c "$v1" >/dev/null
is "epoch_max keeps the higher count" "$(c --hex get rl:c)" \
  "01010101010101010101010101010103"

out=$(c put nope:x 1 2>&1); rc=$?
ok_if "unknown namespace refused with a reason ($out)" test $rc -eq 1 -a -n "$out"
out=$(c put rl:x 12345 2>&1); rc=$?
ok_if "malformed epoch_max value refused ($out)" test $rc -eq 1
out=$(c del rl:c 2>&1); rc=$?
ok_if "delete on epoch_max refused ($out)" test $rc -eq 1
out=$(c put td:x 1 2>&1); rc=$?
ok_if "put on a stream namespace refused ($out)" test $rc -eq 1
is "publish on a broadcast namespace" "$(c publish td:model1 delta)" "OK"
out=$(c publish worker:x 1 2>&1); rc=$?
ok_if "publish on a CRDT namespace refused ($out)" test $rc -eq 1
out=$(c frob 2>&1); rc=$?
ok_if "unknown command is a usage error (exit 2)" test $rc -eq 2
out=$(python3 -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect('$sock')
s.send(b'\xff\xff\xff\x00'); print(s.recv(1000))")
ok_if "malformed protobuf answered with an error ($out)" grep -q "malformed request" <<<"$out"
ok_if "bad request counted" test "$(mesh_tel_get 1 /mesh/stats ctl.ctl_bad_requests)" -ge 1

is "members lists this node" "$(c --json members | python3 -c 'import json,sys; print(json.load(sys.stdin)["members"][0]["name"])')" "n1"
ok_if "stats crdt counts puts" test "$(c --json stats crdt | python3 -c 'import json,sys; print(json.load(sys.stdin)["crdt.crdt_put"])')" -ge 28
ok_if "node still healthy after bad requests" c health

is "telemetry kv/get sees a put" "$(mesh_tel_get 1 /mesh/kv/get,config:k07 value)" "v07"
is "telemetry kv/get of a missing key" "$(mesh_tel_get 1 /mesh/kv/get,config:none found)" 0
ok_if "telemetry kv/get of a bad key answers an error" \
  grep -q error <<<"$(mesh_tel 1 /mesh/kv/get,nope)"
is "telemetry kv/stats counts config keys" "$(mesh_tel_get 1 /mesh/kv/stats config.keys)" 25
ok_if "telemetry kv/stats has a digest" test -n "$(mesh_tel_get 1 /mesh/kv/stats digest)"
is "telemetry kv/stats counts the tombstone" "$(mesh_tel_get 1 /mesh/kv/stats worker.tombstones)" 1

out=$(c metrics)
ok_if "meshctl metrics: Prometheus counters" grep -q '^meshd_crdt_put [1-9]' <<<"$out"
ok_if "meshctl metrics: member gauge" grep -q '^meshd_members{status="alive"} 1' <<<"$out"
scrape=$(ip netns exec "${MESH_NS}m1" python3 -c "
import urllib.request
print(urllib.request.urlopen('http://127.0.0.1:9464/metrics', timeout=5).read().decode())")
ok_if "HTTP /metrics serves the same counters" grep -q '^meshd_crdt_put_total [1-9]' <<<"$scrape"
ok_if "HTTP /metrics has TYPE lines" grep -q '^# TYPE meshd_net_rx_packets_total counter' <<<"$scrape"
ok_if "HTTP /metrics has the replication latency histogram (nothing replicated to a lone node)" \
  grep -q '^meshd_replication_latency_seconds_count{kind="lww"} 0$' <<<"$scrape"
code=$(ip netns exec "${MESH_NS}m1" python3 -c "
import urllib.request, urllib.error
try:
    urllib.request.urlopen('http://127.0.0.1:9464/other', timeout=5)
except urllib.error.HTTPError as e:
    print(e.code)")
is "HTTP: other paths are 404" "$code" 404

# --- client protocol version 2
tmp=$(mktemp -d)
sock2=/tmp/${MESH_NS}-n2.sock
c2() { "$CTL" -s "$sock2" "$@"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $1"; }
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
hello=$(c --json hello 2>&1); rc=$?
is "hello answers" "$rc" 0
feats=" $(python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["features"]))' \
  <<<"$hello" 2>/dev/null) "
has() { [[ "$feats" == *" $1 "* ]]; }
echo "# hello: $hello"
is "hello: node name" "$(jget node <<<"$hello" 2>/dev/null)" n1
ok_if "hello: max_batch > 0" test "$(jget max_batch <<<"$hello" 2>/dev/null)" -gt 0
ok_if "hello: features listed ($feats)" test -n "${feats// /}"

out=$(c put nope:x 1 2>&1)
ok_if "a refusal names its Error ($out)" grep -q '(NO_NAMESPACE)' <<<"$out"

# libmeshclient watches: one C check per run, its lines shown as TAP comments
wt() { "$WATCH" "$@" 2>&1 | sed 's/^/# /'; return "${PIPESTATUS[0]}"; }
cursor=/tmp/${MESH_NS}-cursor
if has watch && [ -n "$WATCH" ]; then
  wt snapshot "$sock" worker:w- "$cursor"
  is "C watch: existing keys, SNAPSHOT_END, then a live change (callback; v1 beside)" "$?" 0
  # the watcher is gone: the changes it must get back, and one outside its prefix
  c put worker:w-e 5 >/dev/null; c put worker:w-a 1b >/dev/null; c del worker:w-b >/dev/null
  c put config:w-elsewhere x >/dev/null
  wt resume "$sock" worker:w- "$cursor" e=5 a=1b b=-
  is "C watch: resume from the stored cursor gets exactly the changes missed" "$?" 0
  wt missed "$sock" worker:w- "$cursor" other-life a d e
  is "C watch: a cursor of another life: MISSED, then a snapshot (a d e)" "$?" 0
else
  skip "node has no watch feature"; skip "no watch"; skip "no watch"
fi

seq 1 10000 | awk '{printf "worker:async%06d v%d\n", $1, $1}' >"$tmp/async"
out=$(c put --pipeline "$tmp/async" 2>&1); rc=$?
echo "# $out"
is "put --pipeline: 10000 async puts completed" "$rc:$(grep -o '^[0-9]* keys written (pipeline), [0-9]* failed' <<<"$out")" \
  "0:10000 keys written (pipeline), 0 failed"
ok_if "put --pipeline: all 10000 were in flight at once" grep -q 'max in flight 10000$' <<<"$out"
is "async puts: last key readable" "$(c get worker:async010000)" v10000
is "async puts: every key there" "$(c keys worker:async | wc -l)" 10000

if has batch; then
  printf 'worker:b1 one\nnope:b2 two\nworker:b3 three\n' >"$tmp/mixed"
  out=$(c put --batch "$tmp/mixed" 2>&1); rc=$?
  is "batch with a refused op: exit 1, 2 written, 1 failed" "$rc:$(grep -o '^[0-9]* keys written (batch), [0-9]* failed' <<<"$out")" \
    "1:2 keys written (batch), 1 failed"
  ok_if "batch: the refused op is named with its Error ($out)" grep -q 'nope:b2.*(NO_NAMESPACE)' <<<"$out"
  is "batch: ops after the refused one applied" "$(c get worker:b1)/$(c get worker:b3)" one/three
else
  skip "node has no batch feature"; skip "no batch"; skip "no batch"
fi
if has owned; then
  is "put --owned accepted" "$(c put --owned worker:own1 mine)" OK
  is "owned key readable" "$(c get worker:own1)" mine
else
  skip "node has no owned feature"; skip "no owned"
fi

mwpid=
if has members_watch && [ -n "$WATCH" ]; then
  "$WATCH" members "$sock" n2 "$tmp/mw-ready" 240 >"$tmp/mw.out" 2>&1 &
  mwpid=$!
  for _ in $(seq 1 50); do [ -e "$tmp/mw-ready" ] && break; sleep 0.1; done
  ok_if "C members watch open, its snapshot starts with JOIN n1" test -e "$tmp/mw-ready"
else
  skip "node has no members_watch feature"
fi
mesh_node_start 2 --ctl-socket "$sock2" --seed 10.99.0.1
ok_if "node 2 up" mesh_wait_tel 2 /mesh/info port 1 60
ok_if "node 1 sees 2 alive" mesh_wait_members 1 alive 2 30
ok_if "node 2 sees 2 alive" mesh_wait_members 2 alive 2 30

if has batch; then
  seq 1 100000 | awk '{printf "worker:bulkk%06d value-%d\n", $1, $1}' >"$tmp/bulk"
  out=$(c put --batch - <"$tmp/bulk" 2>&1); rc=$?
  echo "# $out"
  is "put --batch: 100000 lines written" "$rc:$(grep -o '^[0-9]* keys written (batch), [0-9]* failed' <<<"$out")" \
    "0:100000 keys written (batch), 0 failed"
  n2=0
  for _ in $(seq 1 60); do
    n2=$(c2 keys worker:bulk | wc -l)
    [ "$n2" -eq 100000 ] && break
    sleep 1
  done
  is "put --batch: all 100000 keys on node 2" "$n2" 100000
  is "put --batch: a value read on node 2" "$(c2 get worker:bulkk054321)" value-54321
else
  skip "no batch"; skip "no batch"; skip "no batch"
fi

if has metadata; then
  is "meta set" "$(c meta set 'zone=a gpu=1')" OK
  md=""
  for _ in $(seq 1 30); do
    md=$(c2 --json members | python3 -c '
import json, sys
print([m.get("metadata", "") for m in json.load(sys.stdin)["members"] if m["name"] == "n1"][0])')
    [ "$md" = "zone=a gpu=1" ] && break
    sleep 0.5
  done
  is "metadata set on node 1 seen in members on node 2" "$md" "zone=a gpu=1"
  ok_if "members prints the metadata column" grep -q 'zone=a gpu=1' <<<"$(c members)"
  # node 2's metadata, for the members watch on node 1
  c2 meta set 'zone=b' >/dev/null
  md2=0
  for _ in $(seq 1 30); do
    grep -q 'zone=b' <<<"$(c members)" && { md2=1; break; }
    sleep 0.5
  done
else
  skip "node has no metadata feature"; skip "no metadata"; skip "no metadata"
fi

if has cluster; then
  out=$(c --json cluster); rc=$?
  is "cluster: 2 known, 2 reachable, should serve (exit 0)" \
    "$rc $(jget known <<<"$out") $(jget reachable <<<"$out") $(jget should_serve <<<"$out")" \
    "0 2 2 True"
  touch "$tmp/mw-ready.killed"
  mesh_node_stop 2 KILL
  rc=0
  for _ in $(seq 1 60); do
    c cluster >/dev/null 2>&1; rc=$?
    [ "$rc" -eq 1 ] && break
    sleep 0.5
  done
  is "cluster: exit 1 once node 2 is dead (1 of 2 reachable, quorum 2)" "$rc" 1
  is "cluster: should_serve false" "$(c --json cluster | jget should_serve)" False
else
  touch "$tmp/mw-ready.killed"
  mesh_node_stop 2 KILL
  skip "node has no cluster feature"; skip "no cluster"; skip "no cluster"
fi
if [ -n "$mwpid" ]; then
  wait "$mwpid"
  rc=$?
  mwpid=
  sed 's/^/# /' "$tmp/mw.out"
  is "C members watch: n2 JOIN or ALIVE, then DEAD or LEFT once killed" "$rc" 0
  ok_if "C members watch: n2's event carries its address and generation" \
    grep -Eq '^(JOIN|ALIVE) n2 [a-z]+ 10\.99\.0\.2:[0-9]+ gen=[1-9]' "$tmp/mw.out"
  if has metadata && [ "${md2:-0}" = 1 ]; then
    ok_if "C members watch: METADATA n2 with zone=b" grep -q '^METADATA n2 .* meta=zone=b$' "$tmp/mw.out"
    ok_if "C members watch: METADATA n1 with zone=a gpu=1" \
      grep -q '^METADATA n1 .* meta=zone=a gpu=1$' "$tmp/mw.out"
  else
    skip "no metadata"; skip "no metadata"
  fi
else
  skip "no members_watch"; skip "no members_watch"
fi
rm -rf "$tmp"

mesh_node_stop 1 TERM
is "node exits 0 on SIGTERM" "$?" 0
ok_if "control socket removed on exit" test ! -e "$sock"
out=$(c health 2>&1); rc=$?
ok_if "meshctl reports an unreachable node (exit 3)" test $rc -eq 3

if has watch && [ -n "$WATCH" ] && [ -s "$cursor" ]; then
  mesh_node_start 1 --ctl-socket "$sock"
  ok_if "node 1 restarted (a new life)" mesh_wait_tel 1 /mesh/info port 1 30
  wt missed "$sock" worker:w- "$cursor" as-is any
  is "C watch: the cursor of the node's previous life is reported MISSED" "$?" 0
  mesh_node_stop 1 TERM
else
  skip "no watch"; skip "no watch"
fi
rm -f "$cursor"
tap_done
