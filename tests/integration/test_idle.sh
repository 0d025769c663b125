#!/usr/bin/env bash
# Integration: event-driven idle (--poll-mode event), issue 17. Two meshd nodes on the
# netns topology (fast SWIM profile: a probe every 10 ms) and a kernel client. Node 1 runs
# to completion on one lcore; node 2 splits rx, merge and tx over three lcores floating on
# the 2 CPUs, so its rings must wake each other.
# Checks, each able to fail (the busy control shows the CPU check failing):
#   - an idle node sleeps: CPU time over 3 s (/proc/PID/stat) < IDLE_CPU_MAX % of a core,
#     while a busy-mode node on the same machine burns > BUSY_CPU_MIN %;
#   - it still answers: 100 sequential hellos from the kernel client, each after a 10 ms
#     gap (the node is asleep), p99 RTT < HELLO_P99_US, and the port's wake-up source
#     (not the timer) woke the loop for them;
#   - timers fire on time while idle: over a quiet 3 s, SWIM sends >= 90 % of the probes
#     its 10 ms period asks for; of the loop's deadline wake-ups at least half are at most
#     100 us late (a millisecond-granular timer fails this), >= LATE_1MS_PCT % at most
#     1 ms, none more than 5 ms (the timing checks assume no other load on the machine);
#   - client requests and telemetry queries wake the merge lcore through their eventfds.
# MESH_IDLE_VDEV=tap|af_xdp runs the same checks on net_tap (Rx interrupts) or net_af_xdp
# instead of net_af_packet (doc/performance.md, "Idle wake-up: vdevs").
# Usage: test_idle.sh MESHD PROBE MESHCTL   (root; exits 77 = skipped when not root)
set -u
MESHD=$1
PROBE=$2
CTL=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
mesh_test_netns ti 'rm -f /tmp/${MESH_NS}-*.sock'

IDLE_CPU_MAX=${IDLE_CPU_MAX:-10}   # % of one core
BUSY_CPU_MIN=${BUSY_CPU_MIN:-50}
HELLO_P99_US=${HELLO_P99_US:-2000}
LATE_1MS_PCT=${LATE_1MS_PCT:-99}
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
    --name "n$i" --ip "$(mesh_ip "$i")" "$@" >"$MESH_LOGDIR/n$i.log" 2>&1 &
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

# hello_p99 I: 100 sequential hellos, 10 ms apart, to node I; prints "p50 p99 answered"
hello_p99() {
  local i r
  for i in $(seq 100); do
    r=$(ip netns exec "${MESH_NS}c" "$PROBE" hello "$(mesh_ip "$1")" 39527 1 |
        sed -n 's/.*rtt_us_min=\([0-9.]*\).*/\1/p')
    [ -n "$r" ] && echo "$r"
    sleep 0.01
  done | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "0 999999 0"; exit }
    p99 = int(NR * 0.99); if (p99 < 1) p99 = 1
    printf "%.0f %.0f %d\n", v[int((NR + 1) / 2)], v[p99], NR }'
}

lc() { mesh_tel_get "$1" /mesh/lcores "$2"; }

mesh_topo_up 3
start 1
MESH_LCORES='(0-2)@(0-1)' start 2 --seed 10.99.0.1 --lcore-rx 1 --lcore-merge 2 --lcore-tx 0
for i in 1 2; do ok_if "node $i up" mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in 1 2; do ok_if "node $i sees 2 alive" mesh_wait_members "$i" alive 2; done
is "node 1 poll mode" "$(mesh_tel_get 1 /mesh/info poll_mode)" event
want_wake=pmd_socket
[ "$VDEV" = tap ] && want_wake=rx_interrupt
is "node 1 waits on the port's $want_wake" "$(lc 1 lcore0.rx_wake)" "$want_wake"
is "node 2 rx lcore waits on the port's $want_wake" "$(lc 2 lcore1.rx_wake)" "$want_wake"
sleep 1

# 1. idle CPU, against a busy poller as the control
for i in 1 2; do
  pct=$(cpu_pct "${MESH_PIDS[$i]}" 3)
  ok_if "idle node $i uses ${pct} % of a core over 3 s (< $IDLE_CPU_MAX %)" \
    test "$pct" -lt "$IDLE_CPU_MAX"
done
mesh_node_start 3 --poll-mode busy --seed 10.99.0.1
ok_if "busy control node up" mesh_wait_tel 3 /mesh/info port 1 30
pct=$(cpu_pct "${MESH_PIDS[3]}" 3)
ok_if "control: a busy-mode node uses ${pct} % (> $BUSY_CPU_MIN %: the CPU check can fail)" \
  test "$pct" -gt "$BUSY_CPU_MIN"
mesh_node_stop 3 KILL

# 2. answers from sleep
for i in 1 2; do
  rx_lcore=lcore0
  [ "$i" = 2 ] && rx_lcore=lcore1
  before=$(lc "$i" "$rx_lcore.wake_rx")
  read -r p50 p99 n <<<"$(hello_p99 "$i")"
  after=$(lc "$i" "$rx_lcore.wake_rx")
  is "node $i answered 100 hellos from sleep" "$n" 100
  ok_if "node $i hello RTT p50 $p50 us, p99 $p99 us (< $HELLO_P99_US us)" \
    test "$p99" -lt "$HELLO_P99_US"
  ok_if "node $i: the port woke its rx loop for the hellos ($before -> $after, >= 90)" \
    test "$((after - before))" -ge 90
done
for l in lcore2:merge lcore0:tx; do
  ok_if "node 2 ${l#*:} lcore was woken through its eventfd by the ring's producer" \
    test "$(lc 2 "${l%:*}.wake_fd")" -gt 0
done

# 3. timers on time while idle
for i in 1 2; do
  merge=lcore0
  [ "$i" = 2 ] && merge=lcore2
  s0=$(mesh_tel_get "$i" /mesh/stats swim.swim_probe_sent)
  l0=$(mesh_tel_get "$i" /mesh/lcores "$merge")
  sleep 3
  s1=$(mesh_tel_get "$i" /mesh/stats swim.swim_probe_sent)
  l1=$(mesh_tel_get "$i" /mesh/lcores "$merge")
  ok_if "node $i sent $((s1 - s0)) SWIM probes in 3 s (period 10 ms: >= 270)" \
    test "$((s1 - s0))" -ge 270
  read -r timed le100 le1ms gt5ms <<<"$(python3 - "$l0" "$l1" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
d = lambda *ks: sum(b["late_" + k] - a["late_" + k] for k in ks)
print(b["timed_wakes"] - a["timed_wakes"], d("le_10us", "le_50us", "le_100us"),
      d("le_10us", "le_50us", "le_100us", "le_250us", "le_500us", "le_1ms"), d("gt_5ms"))
PY
)"
  ok_if "node $i: $le100 of $timed deadline wake-ups within 100 us (>= half)" \
    test "$timed" -gt 0 -a "$((le100 * 2))" -ge "$timed"
  ok_if "node $i: $le1ms of $timed within 1 ms (>= $LATE_1MS_PCT %)" \
    test "$((le1ms * 100))" -ge "$((timed * LATE_1MS_PCT))"
  is "node $i: deadline wake-ups later than 5 ms" "$gt5ms" 0
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
