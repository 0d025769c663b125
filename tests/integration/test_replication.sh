#!/usr/bin/env bash
# Integration: replicated state between real meshd processes (net_af_packet on veth in
# namespaces, event polling, fast profile), checked through meshctl and telemetry:
# put visible everywhere; delete propagates; epoch_max counters merge over the wire;
# broadcast stream messages reach every subscriber and targeted ones only their target;
# a 5 MB value crosses chunked and intact; a node killed with SIGKILL and restarted with
# the same name catches up on every key written while it was down; a partition (link
# down) with writes on both sides heals to identical store digests on all nodes; garbage
# datagrams from a kernel socket are counted while the cluster keeps converging.
# Usage: test_replication.sh MESHD MESHCTL PROBE   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
PROBE=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tr 'rm -rf "$tmp" /tmp/${MESH_NS}-*.sock'
tmp=$(mktemp -d)

start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@"; }
c() { local i=$1; shift; "$CTL" -s "/tmp/${MESH_NS}-$i.sock" "$@"; }
# eventually I KEY VALUE: node I reads VALUE for KEY within 10 s
eventually() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(c "$1" get "$2" 2>/dev/null)" = "$3" ] && return 0
    sleep 0.05
  done
  return 1
}
gone() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    c "$1" get "$2" >/dev/null 2>&1 || return 0
    sleep 0.05
  done
  return 1
}
digests_equal() {
  local deadline=$((SECONDS + 20)) a b c3
  while [ $SECONDS -lt $deadline ]; do
    a=$(mesh_tel_get 1 /mesh/kv/stats digest); b=$(mesh_tel_get 2 /mesh/kv/stats digest)
    c3=$(mesh_tel_get 3 /mesh/kv/stats digest)
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c3" ] && return 0
    sleep 0.2
  done
  return 1
}

mesh_topo_up 3
start 1
start 2 --seed 10.99.0.1
start 3 --seed 10.99.0.1 --seed 10.99.0.2
for i in 1 2 3; do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3; done

# lww put / delete
t0=$(date +%s%N)
c 1 put worker:w1 '{"url":"http://10.0.0.1:8000","load":0.5}' >/dev/null
ok_if "put on n1 visible on n2" eventually 2 worker:w1 '{"url":"http://10.0.0.1:8000","load":0.5}'
ok_if "put on n1 visible on n3" eventually 3 worker:w1 '{"url":"http://10.0.0.1:8000","load":0.5}'
echo "# put convergence incl. polling: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
c 3 put worker:w1 updated >/dev/null
ok_if "later write from n3 wins on n1" eventually 1 worker:w1 updated
c 2 del worker:w1 >/dev/null
ok_if "delete on n2 reaches n1" gone 1 worker:w1
ok_if "delete on n2 reaches n3" gone 3 worker:w1
for k in $(seq 1 50); do c $((k % 3 + 1)) put "config:k$k" "v$k" >/dev/null; done
ok_if "50 puts spread over all nodes: last one everywhere" eventually 1 config:k50 v50
ok_if "store digests equal after 50 puts" digests_equal

# epoch_max: 16-byte big-endian {epoch, count}; values with no NUL byte
ep() { printf "\\001\\001\\001\\001\\001\\001\\001\\00$1\\001\\001\\001\\001\\001\\001\\001\\00$2"; }
hexget() { c "$1" --hex get "$2" 2>/dev/null; }
eventually_hex() {
  local deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do [ "$(hexget "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
  return 1
}
c 1 put rl:tenant "$(ep 1 5)" >/dev/null
c 2 put rl:tenant "$(ep 1 7)" >/dev/null
ok_if "epoch_max: higher count wins on n3" eventually_hex 3 rl:tenant 01010101010101010101010101010107
ok_if "epoch_max: higher count wins on n1" eventually_hex 1 rl:tenant 01010101010101010101010101010107
c 3 put rl:tenant "$(ep 2 1)" >/dev/null
ok_if "epoch_max: a higher epoch resets the count everywhere" \
  eventually_hex 2 rl:tenant 01010101010101020101010101010101

# meshd's own origin-to-apply latency: every kind written so far was applied remotely on n3
lat() { mesh_tel_get 3 /mesh/latency "$1"; }
for k in lww delete epoch; do
  ok_if "/mesh/latency on n3 recorded remote $k updates ($(lat $k.count))" test "$(lat $k.count)" -ge 1
  ok_if "/mesh/latency $k: p50 <= p99 <= max, max below a minute" \
    test "$(lat $k.p50_ns)" -le "$(lat $k.p99_ns)" -a "$(lat $k.p99_ns)" -le "$(lat $k.max_ns)" \
    -a "$(lat $k.max_ns)" -lt 60000000000
done
is "/mesh/latency: no origin stamp from the future on one host" "$(lat skewed)" 0
# subscribers see the origin stamp of a remote write (client Event.origin_ns)
c 3 --json --timeout 10000 watch worker:stamped 1 >"$tmp/o3" 2>/dev/null & o3=$!
sleep 0.5
before=$(date +%s%N)
c 1 put worker:stamped yes >/dev/null
wait "$o3"
origin=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["origin_ns"])' "$tmp/o3" 2>/dev/null)
ok_if "a watcher on n3 gets the origin stamp n1 gave the write ($origin)" \
  test "${origin:-0}" -ge "$before" -a "${origin:-0}" -le "$(date +%s%N)"
is "/mesh/latency,lww buckets add up to its count" \
  "$(mesh_tel 3 /mesh/latency,lww | python3 -c 'import json,sys; d=next(iter(json.load(sys.stdin).values())); print(sum(d["bucket_count"]) == d["count"] and len(d["bucket_low_ns"]) == len(d["bucket_count"]))')" True
ok_if "/mesh/latency with an unknown kind is an error" \
  test -n "$(mesh_tel_get 3 /mesh/latency,bogus error)"

# streams: broadcast to all subscribers, targeted to one
c 2 --timeout 10000 watch td: 1 >"$tmp/w2" 2>/dev/null & w2=$!
c 3 --timeout 10000 watch td: 1 >"$tmp/w3" 2>/dev/null & w3=$!
c 3 --timeout 3000 watch tree:req: 1 >"$tmp/r3" 2>/dev/null & r3=$!
sleep 0.5
c 1 publish td:model-a delta-1 >/dev/null
wait $w2 $w3
is "broadcast reached n2's subscriber" "$(cat "$tmp/w2")" "put td:model-a delta-1"
is "broadcast reached n3's subscriber" "$(cat "$tmp/w3")" "put td:model-a delta-1"
ok_if "/mesh/latency on n3 recorded the broadcast stream message" test "$(lat stream.count)" -ge 1
c 2 --timeout 10000 watch tree:req: 1 >"$tmp/r2" 2>/dev/null & r2=$!
sleep 0.5
c 1 publish tree:req:s1 repair-please n2 >/dev/null
wait $r2
is "targeted message reached n2" "$(cat "$tmp/r2")" "put tree:req:s1 repair-please"
wait $r3
is "targeted message did not reach n3" "$(cat "$tmp/r3")" ""
out=$(c 1 publish tree:req:s2 x nosuchnode 2>&1); rc=$?
ok_if "publish to an unknown node refused ($out)" test $rc -eq 1

# a 5 MB value, chunked
head -c 3750000 /dev/urandom | base64 -w0 >"$tmp/big"
want=$({ printf 'put tree:page:p1 '; cat "$tmp/big"; echo; } | sha256sum | cut -c1-64)
c 3 --timeout 30000 watch tree:page: 1 2>/dev/null | sha256sum | cut -c1-64 >"$tmp/bigsum" & wb=$!
sleep 0.5
c 1 publish tree:page:p1 "@$tmp/big" n3 >/dev/null
wait $wb
is "5 MB value delivered intact to n3" "$(cat "$tmp/bigsum")" "$want"

# garbage from a kernel socket while writes keep flowing
for k in short magic length checksum random oversize; do
  ip netns exec "${MESH_NS}c" "$PROBE" bad 10.99.0.1 39527 "$k" >/dev/null 2>&1
done
c 2 put config:after-garbage yes >/dev/null
ok_if "cluster converges after garbage" eventually 1 config:after-garbage yes
ok_if "garbage counted on n1" test "$(mesh_tel_get 1 /mesh/stats net.rx_drop_frame_bad_magic)" -ge 1

# crash, writes meanwhile, restart with the same name: catch-up
kill -KILL "${MESH_PIDS[3]}"; wait "${MESH_PIDS[3]}" 2>/dev/null; unset 'MESH_PIDS[3]'
ok_if "n1 sees n3 dead" test "$(for _ in $(seq 1 100); do d=$(mesh_tel_get 1 /mesh/members dead); [ "$d" = 1 ] && echo y && break; sleep 0.1; done)" = y
for k in $(seq 1 20); do c 1 put "worker:during-$k" "v$k" >/dev/null; done
c 2 del config:k1 >/dev/null
start 3 --seed 10.99.0.1
ok_if "restarted n3 rejoins" mesh_wait_members 3 alive 3
ok_if "restarted n3 caught up on keys written while it was down" eventually 3 worker:during-20 v20
ok_if "restarted n3 has keys from before the crash" eventually 3 config:k49 v49
ok_if "restarted n3 saw the delete made while it was down" gone 3 config:k1
ok_if "digests equal after the restart" digests_equal

# partition n3 away, write on both sides, heal
ip -n "${MESH_NS}sw" link set p3 down
c 1 put config:side-a a >/dev/null
c 3 put config:side-b b >/dev/null
c 1 put config:both from-a >/dev/null
sleep 0.3
c 3 put config:both from-b >/dev/null
sleep 1
ip -n "${MESH_NS}sw" link set p3 up
ok_if "after heal n3 has the majority side's key" eventually 3 config:side-a a
ok_if "after heal n1 has n3's key" eventually 1 config:side-b b
ok_if "after heal the store digests are identical on all nodes" digests_equal
b1=$(c 1 get config:both); b3=$(c 3 get config:both)
ok_if "concurrent writes resolved to one value everywhere ($b1 / $b3)" test "$b1" = "$b3" -a -n "$b1"

for i in 1 2 3; do ok_if "node $i still healthy" c "$i" health; done
ok_if "the node core dispatched MSGS frames" \
  test "$(mesh_tel_get 1 /mesh/stats node.node_rx_msgs_frames)" -gt 0
is "no MSGS record list was malformed" \
  "$(mesh_tel_get 1 /mesh/stats node.node_rx_drop_bad_container)" 0
is "every channel record found its handler" \
  "$(mesh_tel_get 1 /mesh/stats node.node_rx_unknown_kind)" 0
ok_if "/mesh/peers reports an ack round trip for n2" \
  test "$(mesh_tel_get 1 /mesh/peers peers.n2.rtt_us)" -gt 0
ok_if "/mesh/peers counts acks from n2" test "$(mesh_tel_get 1 /mesh/peers peers.n2.acks)" -gt 0
tap_done
