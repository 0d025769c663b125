#!/usr/bin/env bash
# Integration: the local client API of one meshd node (real EAL, af_packet in a namespace)
# through meshctl: put/get/del, ordered and paged keys, watch events after the merge,
# epoch_max merging, stream publish rules, members, stats, and the store's telemetry
# (/mesh/kv/get, /mesh/kv/stats); every bad request (unknown
# namespace, wrong kind, malformed epoch value, malformed protobuf, unknown command) gets
# a clear error and the node keeps serving.
# Usage: test_client.sh MESHD MESHCTL   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tk 'rm -f "$sock"'
sock=/tmp/${MESH_NS}-n1.sock

mesh_topo_up 1
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

mesh_node_stop 1 TERM
is "node exits 0 on SIGTERM" "$?" 0
ok_if "control socket removed on exit" test ! -e "$sock"
out=$(c health 2>&1); rc=$?
ok_if "meshctl reports an unreachable node (exit 3)" test $rc -eq 3
tap_done
