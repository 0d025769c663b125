#!/usr/bin/env bash
# Integration: event-driven idle (--poll-mode event), issue 17. Two meshd nodes on the
# netns topology (fast SWIM profile: a probe every 8 ms) and a kernel client. Node 1 runs
# to completion on one lcore; node 2 splits rx, merge and tx over three lcores floating on
# the 2 CPUs, so its rings must wake each other.
# Every bound is relative to a control measured in the same run, so that it holds on a
# loaded 2-CPU CI machine yet fails when idle is broken:
#   - an idle node sleeps: CPU time of nodes 1 and 2 and of a busy-mode node 3, over the
#     same 3 s (/proc/PID/stat): each idle node < 1/IDLE_CPU_RATIO of the busy one;
#   - it still answers: 100 hellos from the kernel client, 10 ms apart (the node is asleep
#     before each), to the busy node, then (that one stopped) to each idle node: idle p50
#     within HELLO_P50_SLACK_US of the busy node's, p99 below the larger of twice the
#     busy node's and the busy node's + HELLO_P99_SLACK_US; and the port's wake-up
#     source (not a timer) woke the rx loop for them;
#   - timers fire on time while idle: over a quiet 3 s, a reference sleeper (python,
#     clock_nanosleep 1 ms at a time) runs next to the nodes; each node's deadline
#     wake-ups must be about as punctual: within 100 us at least half as often as the
#     reference (a millisecond-granular timer fails this), within 1 ms at most 10 points
#     less often, later than 5 ms at most 1 point more often, p99 (histogram bucket edge)
#     <= 5 ms (not judged when the reference's own p99 is over 2.5 ms);
#     SWIM sends >= 80 % of the probes its 8 ms period asks for;
#   - it wakes for real deadlines only: <= 5 merge-lcore wake-ups per SWIM probe sent (a
#     1 ms periodic tick, as lib/stream's was, makes about 10);
#   - client requests and telemetry queries wake the merge lcore through their eventfds;
#   - event-mode loops run under SCHED_FIFO (rt_priority 1), the busy node's do not;
#   - nodes lock their pages in memory (lock_memory, default yes), node 3 (no) does not.
# MESH_IDLE_VDEV=tap|af_xdp runs the same checks on net_tap (Rx interrupts) or net_af_xdp
# instead of net_af_packet (doc/performance.md, "Shared cores").
# Usage: test_idle.sh MESHD PROBE MESHCTL   (root; exits 77 = skipped when not root)
set -u
MESHD=$1
PROBE=$2
CTL=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns ti 'rm -f /tmp/${MESH_NS}-*.sock'

IDLE_CPU_RATIO=${IDLE_CPU_RATIO:-3}
BUSY_CPU_MIN=${BUSY_CPU_MIN:-30}   # % of one core: else the control did not run
HELLO_P50_SLACK_US=${HELLO_P50_SLACK_US:-1000}
HELLO_P99_SLACK_US=${HELLO_P99_SLACK_US:-25000} # a 100 ms sleep still fails
VDEV=${MESH_IDLE_VDEV:-af_packet}

# start I ARGS: node I in event mode on $VDEV, with a control socket
start() {
  local i=$1; shift
  case "$VDEV" in
  af_packet) mesh_node_start "$i" --poll-mode event --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@" ;;
  tap | af_xdp) vdev_node_start "$i" --poll-mode event --ctl-socket "/tmp/${MESH_NS}-$i.sock" "$@" ;;
  *) echo "unknown MESH_IDLE_VDEV $VDEV"; exit 2 ;;
  esac
}

# mesh_node_start with another vdev: net_tap gets a tap netdev bridged to the node's eth0
# inside its namespace; net_af_xdp attaches to eth0 (generic XDP on the veth)
vdev_node_start() {
  local i=$1; shift
  local ns="${MESH_NS}m$i" prefix="${MESH_NS}n$i" vdev cores=(-l $(( (i - 1) % $(nproc) )))
  [ -n "${MESH_LCORES:-}" ] && cores=(--lcores "$MESH_LCORES")
  case "$VDEV" in
  tap) vdev="net_tap0,iface=mtap$i" ;;
  af_xdp) vdev="net_af_xdp0,iface=eth0,busy_budget=0" ;;
  esac
  rm -rf "/var/run/dpdk/$prefix"
  ip netns exec "$ns" "$MESHD" "${cores[@]}" --no-huge -m "$MESH_EAL_MEM" --no-pci \
    --no-shconf --file-prefix "$prefix" --vdev="$vdev" \
    --log-level=lib.eal:warning --log-level='pmd.*:warning' -- \
    --name "n$i" --ip "$(mesh_ip "$i")" --key-file "$(mesh_keys)" "$@" \
    >"$MESH_LOGDIR/n$i.log" 2>&1 &
  MESH_PIDS[$i]=$!
  [ "$VDEV" = tap ] && tap_wire "$ns" "mtap$i"
}

# tap_wire NS TAP: join TAP and eth0 of NS as a wire, both ways (tc mirred; a bridge would
# keep frames for the tap's own MAC, which is meshd's, for itself)
tap_wire() {
  local ns=$1 tap=$2 a b
  for _ in $(seq 100); do ip -n "$ns" link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
  ip -n "$ns" link set "$tap" up
  for a in eth0 "$tap"; do
    b=$tap
    [ "$a" = "$tap" ] && b=eth0
    tc -n "$ns" qdisc add dev "$a" ingress
    tc -n "$ns" filter add dev "$a" parent ffff: protocol all u32 match u32 0 0 \
      action mirred egress redirect dev "$b"
  done
}

# cpu_pct PID SECONDS: CPU time of the whole process over SECONDS, in % of one core
cpu_pct() {
  local hz t0 t1
  hz=$(getconf CLK_TCK)
  t0=$(awk '{print $14 + $15}' "/proc/$1/stat")
  sleep "$2"
  t1=$(awk '{print $14 + $15}' "/proc/$1/stat")
  echo $(( (t1 - t0) * 100 / (hz * $2) ))
}

# hellos I: 100 hellos, 10 ms apart, to node I; prints "p50 p99 answered" (us)
hellos() {
  ip netns exec "${MESH_NS}c" "$PROBE" hello "$(mesh_ip "$1")" 39527 100 10 |
    awk -F'[ =]' '/^hellos=/ { for (k = 1; k < NF; k++) v[$k] = $(k + 1) }
      END { printf "%.0f %.0f %d\n", v["p50"], v["p99"] == "" ? 1e9 : v["p99"], v["replies"] }'
}

# late_ref SECONDS: a reference sleeper's deadline lateness:
# "wakes le_100us le_1ms gt_5ms p99_us"
late_ref() {
  python3 - "$1" <<'PY'
import sys, time
end = time.monotonic_ns() + int(sys.argv[1]) * 10**9
n = le100 = le1ms = gt5ms = 0
lates = []
while time.monotonic_ns() < end:
    deadline = time.monotonic_ns() + 10**6
    time.sleep(1e-3)
    late = time.monotonic_ns() - deadline
    n += 1
    le100 += late <= 100000
    le1ms += late <= 10**6
    gt5ms += late > 5 * 10**6
    lates.append(late)
lates.sort()
print(n, le100, le1ms, gt5ms, lates[int(len(lates) * 0.99)] // 1000 if lates else 10**9)
PY
}

lc() { mesh_tel_get "$1" /mesh/lcores "$2"; }

mesh_topo_up 3
export MESH_PROBE_KEYS; MESH_PROBE_KEYS=$(mesh_keys) # kernel-client hellos sealed like the nodes'
start 1
MESH_LCORES='(0-2)@(0-1)' start 2 --seed 10.99.0.1 --lcore-rx 1 --lcore-merge 2 --lcore-tx 0
mesh_node_start 3 --poll-mode busy --seed 10.99.0.1 --lock-memory no
for i in 1 2 3; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in 1 2; do ok_if "node $i sees 3 alive" mesh_wait_members "$i" alive 3 60; done
is "node 1 poll mode" "$(mesh_tel_get 1 /mesh/info poll_mode)" event
want_wake=pmd_socket
[ "$VDEV" = tap ] && want_wake=rx_interrupt
is "node 1 waits on the port's $want_wake" "$(lc 1 lcore0.rx_wake)" "$want_wake"
is "node 2 rx lcore waits on the port's $want_wake" "$(lc 2 lcore1.rx_wake)" "$want_wake"
# event mode runs every loop under SCHED_FIFO 1 (rt_priority); busy mode never does
is "node 1's loop runs at rt_priority 1" "$(lc 1 lcore0.rt_priority)" 1
is "node 2's rx loop runs at rt_priority 1" "$(lc 2 lcore1.rt_priority)" 1
is "busy node 3's loop keeps the normal scheduler" "$(lc 3 lcore0.rt_priority)" 0
fifo() { ps -L -o cls= -p "${MESH_PIDS[$1]}" | grep -c FF; }
is "node 1: one SCHED_FIFO thread (its lcore)" "$(fifo 1)" 1
is "node 2: three SCHED_FIFO threads (rx, merge, tx lcores)" "$(fifo 2)" 3
is "node 3: no SCHED_FIFO thread" "$(fifo 3)" 0
# pages locked in memory (mlockall) unless lock_memory = no, as node 3 has it
vmlck() { awk '/^VmLck:/ { print ($2 > 0) ? "locked" : "none" }' "/proc/${MESH_PIDS[$1]}/status"; }
is "node 1 reports memory_locked" "$(lc 1 lcore0.memory_locked)" 1
is "node 1: pages locked (VmLck)" "$(vmlck 1)" locked
is "node 2: pages locked (VmLck)" "$(vmlck 2)" locked
is "node 3 (lock_memory no): no page locked" "$(vmlck 3)" none
is "node 3 reports memory_locked 0" "$(lc 3 lcore0.memory_locked)" 0
sleep 1

# 1. idle CPU against the busy control, all three over the same 3 s
cpu_jobs=()
for i in 1 2 3; do
  cpu_pct "${MESH_PIDS[$i]}" 3 >"$MESH_LOGDIR/cpu$i" &
  cpu_jobs+=($!)
done
wait "${cpu_jobs[@]}"
busy=$(cat "$MESH_LOGDIR/cpu3")
ok_if "control: the busy-mode node used $busy % of a core (> $BUSY_CPU_MIN %)" \
  test "$busy" -gt "$BUSY_CPU_MIN"
for i in 1 2; do
  pct=$(cat "$MESH_LOGDIR/cpu$i")
  ok_if "idle node $i used $pct % of a core in the same 3 s (< busy / $IDLE_CPU_RATIO)" \
    test "$((pct * IDLE_CPU_RATIO))" -lt "$busy"
done

# 2. answers from sleep, against the busy control
read -r b50 b99 bn <<<"$(hellos 3)"
is "control: the busy node answered 100 hellos (p50 $b50 us, p99 $b99 us)" "$bn" 100
mesh_node_stop 3 KILL # a busy poller next to them would slow the idle nodes down
p99_max=$((b99 * 2 > b99 + HELLO_P99_SLACK_US ? b99 * 2 : b99 + HELLO_P99_SLACK_US))
for i in 1 2; do
  rx_lcore=lcore0
  [ "$i" = 2 ] && rx_lcore=lcore1
  before=$(lc "$i" "$rx_lcore.wake_rx")
  read -r p50 p99 n <<<"$(hellos "$i")"
  after=$(lc "$i" "$rx_lcore.wake_rx")
  is "node $i answered 100 hellos from sleep" "$n" 100
  ok_if "node $i hello RTT p50 $p50 us (busy node's + $HELLO_P50_SLACK_US: < $((b50 + HELLO_P50_SLACK_US)))" \
    test "$p50" -lt "$((b50 + HELLO_P50_SLACK_US))"
  ok_if "node $i hello RTT p99 $p99 us (< $p99_max)" test "$p99" -lt "$p99_max"
  ok_if "node $i: the port woke its rx loop for the hellos ($before -> $after, >= 90)" \
    test "$((after - before))" -ge 90
done
for l in lcore2:merge lcore0:tx; do
  v=$(lc 2 "${l%:*}.wake_fd")
  ok_if "node 2 ${l#*:} lcore was woken through its eventfd by the ring's producer ($v x)" \
    test "$v" -gt 0
done

# 3. timers on time while idle, against a reference sleeper in the same 3 s
for i in 1 2; do
  merge=lcore0
  [ "$i" = 2 ] && merge=lcore2
  s0[i]=$(mesh_tel_get "$i" /mesh/stats swim.swim_probe_sent)
  l0[i]=$(mesh_tel_get "$i" /mesh/lcores "$merge")
done
read -r rn r100 r1ms r5ms rp99 <<<"$(late_ref 3)"
ok_if "reference sleeper: $r100 of $rn wake-ups within 100 us, $r1ms within 1 ms, $r5ms later than 5 ms" \
  test "$rn" -gt 500
for i in 1 2; do
  merge=lcore0
  [ "$i" = 2 ] && merge=lcore2
  s1=$(mesh_tel_get "$i" /mesh/stats swim.swim_probe_sent)
  l1=$(mesh_tel_get "$i" /mesh/lcores "$merge")
  ok_if "node $i sent $((s1 - s0[i])) SWIM probes in 3 s (period 8 ms: >= 300)" \
    test "$((s1 - s0[i]))" -ge 300
  read -r timed le100 le1ms gt5ms wakes p99 <<<"$(python3 - "${l0[i]}" "$l1" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
d = lambda *ks: sum(b["late_" + k] - a["late_" + k] for k in ks)
timed = b["timed_wakes"] - a["timed_wakes"]
# p99 lateness of the timed wake-ups: the upper edge (us) of the bucket holding it
edges = [("le_10us", 10), ("le_50us", 50), ("le_100us", 100), ("le_250us", 250),
         ("le_500us", 500), ("le_1ms", 1000), ("le_5ms", 5000), ("gt_5ms", 10**9)]
seen, p99 = 0, 10**9
for k, us in edges:
    seen += d(k)
    if seen * 100 >= timed * 99:
        p99 = us
        break
print(timed, d("le_10us", "le_50us", "le_100us"),
      d("le_10us", "le_50us", "le_100us", "le_250us", "le_500us", "le_1ms"), d("gt_5ms"),
      b["idle_sleeps"] - a["idle_sleeps"], p99)
PY
)"
  # shares in per mille, the reference's as the yardstick
  ok_if "node $i: $le100 of $timed deadline wake-ups within 100 us (>= half the reference's share)" \
    test "$timed" -gt 0 -a "$((le100 * 2000 / timed))" -ge "$((r100 * 1000 / rn))"
  # 10 points: since the stream layer stopped ticking every 1 ms, a node sleeps ~10 ms at
  # a time and 5-6 % of its wake-ups from such sleeps came 1-5 ms late on this VM at load
  # 4-12 (reference sleeping 1 ms: 0.2 %); a millisecond-granular timer fails the 100 us
  # check above and a disarmed one the > 5 ms check below
  ok_if "node $i: $le1ms of $timed within 1 ms (>= the reference's share - 10 %)" \
    test "$((le1ms * 1000 / timed))" -ge "$((r1ms * 1000 / rn - 100))"
  ok_if "node $i: $gt5ms of $timed later than 5 ms (<= the reference's share + 1 %)" \
    test "$((gt5ms * 1000 / timed))" -le "$((r5ms * 1000 / rn + 10))"
  # p99 from the 5 ms-resolution histogram: judged when the reference's p99 leaves room
  # (a timer that is not armed wakes with the next frame, up to a probe period late)
  # (bound 5 ms, a bucket edge: measured in the 1-5 ms bucket, see the 10 points above;
  # a disarmed timer waits for the next frame, p99 past 5 ms)
  if [ "$rp99" -le 2500 ]; then
    ok_if "node $i: timed wake-ups p99 late <= $p99 us (<= 5000: reference p99 $rp99 us)" \
      test "$p99" -le 5000
  else
    echo "# node $i: p99 lateness <= $p99 us not judged: the reference's p99 is $rp99 us (load)"
  fi
  # sleeps until the next real deadline: a few wake-ups per SWIM probe (its own, the
  # peer's, their acks), not one per millisecond (the stream layer's old 1 ms tick)
  ok_if "node $i merge lcore woke $wakes times in 3 s for $((s1 - s0[i])) probes (<= 5 per probe)" \
    test "$wakes" -le "$((5 * (s1 - s0[i])))"
done

# 4. client requests and telemetry queries wake the merge lcore
before=$(lc 1 lcore0.wake_fd)
for k in 1 2 3 4 5; do "$CTL" -s "/tmp/${MESH_NS}-1.sock" put "config:idle$k" v >/dev/null; done
mid=$(lc 1 lcore0.wake_fd)
ok_if "5 client requests woke node 1's merge loop ($before -> $mid)" test "$((mid - before))" -ge 5
is "node 2 has the writes" "$("$CTL" -s "/tmp/${MESH_NS}-2.sock" get config:idle5)" v
for k in 1 2 3; do mesh_tel 1 /mesh/members >/dev/null; done
after=$(lc 1 lcore0.wake_fd)
ok_if "3 telemetry member queries woke it too ($mid -> $after)" test "$((after - mid))" -ge 3

mesh_node_stop 2 TERM
is "split node 2 leaves and exits 0" "$?" 0
ok_if "node 1 records node 2 as left" mesh_wait_members 1 left 1
mesh_node_stop 1 INT
is "node 1 exits 0 on SIGINT" "$?" 0
tap_done
