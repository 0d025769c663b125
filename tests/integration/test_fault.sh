#!/usr/bin/env bash
# Integration: meshd's receive fault injection (--fault-inject, testing only) with real
# EAL and real packets (net_af_packet on veth in namespaces, event polling, lan SWIM
# profile so a 20 ms delay is within the probe timeout).
# Checks: a bad spec exits 2 naming the bad token (command line and INI, --check-config);
# loss=100: node 2 drops everything it receives (fault_drop grows, no hello or SWIM
# message gets through, it never sees node 1) while node 1 suspects it; dup=100: node 3
# (rx, merge and tx on separate lcores, so copies cross the rx->merge ring) duplicates
# (fault_dup), the cluster still converges and kernel hellos are answered;
# delay=20000: node 4 delays (fault_delay), still converges, and a kernel client's hello
# round trip is at least 20 ms; a node holding frames (delay=5 s) exits 0 on SIGTERM, as
# does every faulty node; the counters reach Prometheus text too.
# Usage: test_fault.sh MESHD MESHCTL PROBE   (root; 77 = skipped)
set -u
MESHD=$1
CTL=$2
PROBE=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns tf 'rm -f /tmp/${MESH_NS}-*.sock /tmp/${MESH_NS}-*.ini'

# ---- bad specs: exit 2 and the bad token named (no port needed)
run_bad() {
  timeout 30 "$MESHD" -l 0 --no-huge -m 64 --no-pci --no-shconf --no-telemetry \
    --file-prefix "${MESH_NS}bad" --log-level=lib.eal:warning -- --name a --ip 10.0.0.1 "$@" 2>&1
}
expect_bad() { # expect_bad PATTERN WHAT ARGS...
  local pat=$1 what=$2 out rc; shift 2
  out=$("$@"); rc=$?
  ok_if "$what (exit $rc: $(tr '\n' ' ' <<<"$out"))" \
    test "$rc" -eq 2 -a -n "$(grep -E -- "$pat" <<<"$out")"
}
expect_bad "--fault-inject: bad token 'jitter=3': unknown key" "unknown fault key refused" \
  run_bad --fault-inject loss=5,jitter=3
expect_bad "--fault-inject: bad token 'loss=150': loss wants a percentage" \
  "loss above 100 % refused" run_bad --fault-inject loss=150
expect_bad "--fault-inject: bad token 'delay=9-2'" "delay MIN > MAX refused" \
  run_bad --fault-inject delay=9-2
expect_bad "--fault-inject: bad token '': empty" "stray comma refused" \
  run_bad --fault-inject loss=1,
rm -rf "/var/run/dpdk/${MESH_NS}bad"
ini=/tmp/${MESH_NS}-bad.ini
printf '[node]\nname = a\nip = 10.0.0.1\nfault_inject = loss=1,dup=x\n' >"$ini"
check_config() { "$MESHD" --check-config "$1" 2>&1; }
expect_bad "bad.ini:4: \[node\] fault_inject: bad token 'dup=x'" \
  "--check-config names file, line, key and bad token" check_config "$ini"
printf '[node]\nname = a\nip = 10.0.0.1\nfault_inject = loss=0.5,dup=1,delay=100-900,seed=7\n%s\n%s\n' \
  '[cluster]' 'insecure_plaintext = yes' >"/tmp/${MESH_NS}-good.ini"
out=$("$MESHD" --check-config "/tmp/${MESH_NS}-good.ini" 2>&1)
ok_if "--check-config accepts a valid fault_inject ($out)" test $? -eq 0

# ---- live nodes
start() { # start I [ARGS]
  local i=$1; shift
  mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" --profile lan "$@"
}
stat() { mesh_tel_get "$1" /mesh/stats "$2"; }
cli() { ip netns exec "${MESH_NS}c" "$@"; }

mesh_topo_up 4
export MESH_PROBE_KEYS; MESH_PROBE_KEYS=$(mesh_keys) # kernel-client hellos sealed like the nodes'
start 1 --peer 10.99.0.2 --hello-interval-ms 100
ok_if "node 1 up" mesh_wait_tel 1 /mesh/info port 1 30

# loss=100: node 2 hears nothing
start 2 --seed 10.99.0.1 --fault-inject loss=100,seed=1
ok_if "node 2 up with loss=100" mesh_wait_tel 2 /mesh/info port 1 30
grep -q "rx fault injection on (testing only): loss=100" "$MESH_LOGDIR/n2.log"
ok_if "node 2 logged its fault spec" test $? -eq 0
ok_if "node 2 fault_drop grows" mesh_wait_tel 2 /mesh/stats net.fault_drop 10 20
out=$(cli "$PROBE" hello 10.99.0.2 39527 2)
ok_if "kernel hellos to node 2 go unanswered ($out)" test $? -ne 0
ok_if "node 1 suspects node 2 (it never acks)" mesh_wait_tel 1 /mesh/stats swim.swim_suspect 1 20
is "node 2 handled no hello" "$(stat 2 node.node_rx_hello)" 0
is "node 2 handled no SWIM message" "$(stat 2 swim.swim_rx_msgs)" 0
is "node 2 sees only itself alive" "$(mesh_tel_get 2 /mesh/members alive)" 1
is "node 1 got no hello reply from node 2" "$(stat 1 node.node_rx_hello_reply)" 0
ok_if "node 2 frames all reached the fault stage (rx_frames <= fault_drop)" \
  test "$(stat 2 net.rx_frames)" -le "$(stat 2 net.fault_drop)"
metrics=$("$CTL" -s "/tmp/${MESH_NS}-2.sock" metrics 2>&1)
ok_if "fault counters in Prometheus text (meshd_net_fault_drop)" \
  grep -qE '^meshd_net_fault_drop(_total)? [1-9]' <<<"$metrics"
mesh_node_stop 2 TERM
is "node 2 (loss) exits 0 on SIGTERM" "$?" 0

# dup=100: every frame twice, the cluster still converges
MESH_LCORES='(0-2)@(0-1)' start 3 --seed 10.99.0.1 --fault-inject dup=100 \
  --lcore-rx 1 --lcore-merge 2 --lcore-tx 0
ok_if "node 3 (split rx/merge/tx lcores) up with dup=100" mesh_wait_tel 3 /mesh/info port 1 30
ok_if "node 3 sees 2 alive (n1, n3)" mesh_wait_members 3 alive 2 30
ok_if "node 1 sees 2 alive (n1, n3)" mesh_wait_members 1 alive 2 30
ok_if "node 3 fault_dup > 0" mesh_wait_tel 3 /mesh/stats net.fault_dup 1 10
out=$(cli "$PROBE" hello 10.99.0.3 39527 10)
ok_if "kernel client: 10/10 hellos answered by node 3 ($out)" test $? -eq 0
ok_if "node 3 handled the duplicates (node_rx_hello >= 20)" test "$(stat 3 node.node_rx_hello)" -ge 20
is "node 3 dropped nothing by injection" "$(stat 3 net.fault_drop)" 0
mesh_node_stop 3 TERM
is "node 3 (dup) exits 0 on SIGTERM" "$?" 0

# delay=20000: 20 ms on every received frame, the cluster still converges
start 4 --seed 10.99.0.1 --fault-inject delay=20000
ok_if "node 4 up with delay=20000" mesh_wait_tel 4 /mesh/info port 1 30
ok_if "node 4 sees 2 alive (n1, n4)" mesh_wait_members 4 alive 2 30
ok_if "node 1 sees 2 alive (n1, n4)" mesh_wait_members 1 alive 2 30
ok_if "node 4 fault_delay > 0" mesh_wait_tel 4 /mesh/stats net.fault_delay 1 10
out=$(cli "$PROBE" hello 10.99.0.4 39527 10)
rc=$?
ok_if "kernel client: 10/10 hellos answered by node 4 ($out)" test $rc -eq 0
min=$(sed -n 's/.*rtt_us_min=\([0-9]*\).*/\1/p' <<<"$out")
ok_if "hello round trip through node 4 >= 20 ms (min ${min:-?} us)" test "${min:-0}" -ge 20000
is "node 4 queue never overflowed" "$(stat 4 net.fault_queue_full)" 0
mesh_node_stop 4 TERM
is "node 4 (delay) exits 0 on SIGTERM" "$?" 0

# delay=10 s (the maximum, so a slow machine still checks inside it): node 1's hellos
# (every 100 ms) are still held when node 2 stops
start 2 --fault-inject delay=10000000
ok_if "node 2 up with delay=10000000" mesh_wait_tel 2 /mesh/info port 1 30
ok_if "node 2 holds several frames" mesh_wait_tel 2 /mesh/stats net.fault_delay 5 10
is "node 2 handled none of them yet" "$(stat 2 node.node_rx_hello)" 0
mesh_node_stop 2 TERM
is "node 2 exits 0 on SIGTERM while holding frames (freed at shutdown)" "$?" 0
grep -q "shutting down" "$MESH_LOGDIR/n2.log"
ok_if "node 2 logged a clean shutdown" test $? -eq 0
mesh_node_stop 1 TERM
is "node 1 exits 0 on SIGTERM" "$?" 0

tap_done
