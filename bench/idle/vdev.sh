#!/usr/bin/env bash
# bench/idle/vdev.sh: which virtual NIC serves an idle meshd best on shared cores (issue 17).
# For each vdev (net_af_packet and net_af_xdp on the netns veth, net_tap wired to the veth
# with tc mirred, net_memif between the two nodes) and poll mode, two nodes (fast profile;
# node 2 says hello to node 1 every 200 ms) run idle on this machine's CPUs, and we measure:
#   - idle CPU per node over 5 s (% of one core, /proc/PID/stat);
#   - wake-up latency: kernel-client hello RTT to node 1 from sleep (N hellos, 10 ms gaps;
#     not for memif, which has no kernel side), p50/p99 in us, and the DPDK-to-DPDK hello
#     RTT node 2 measures (its last_rtt_max_us, sampled VDEV_DD_SAMPLES times, default 20);
#   - stability: both nodes up and joined, both exit 0 on SIGTERM, no lost hellos.
# Usage (root): bench/idle/vdev.sh [BUILD_DIR] [VDEVS] [MODES] [N]
#   defaults: build, "af_packet af_xdp tap memif", "event busy", 200
# One line per run; figures on a shared machine carry its load (printed with each line).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
VDEVS=${2:-af_packet af_xdp tap memif}
MODES=${3:-event busy}
N=${4:-200}
MESHD=$BUILD/app/meshd/meshd
PROBE=$BUILD/tests/integration/mesh_udp_probe
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
export MESHD
# shellcheck source=../../scripts/netns-lib.sh
source "$ROOT/scripts/netns-lib.sh"

# start I VDEVARGS MODE ARGS...: node I on its own CPU (i - 1 modulo the CPUs)
start() {
  local i=$1 vd=$2 mode=$3 prefix="${MESH_NS}n$1"
  shift 3
  rm -rf "/var/run/dpdk/$prefix"
  ip netns exec "${MESH_NS}m$i" "$MESHD" -l $(( (i - 1) % $(nproc) )) --no-huge -m 128 \
    --no-pci --no-shconf --file-prefix "$prefix" --vdev="$vd" --log-level=lib.eal:warning \
    --log-level='pmd.*:warning' -- --name "n$i" --ip "$(mesh_ip "$i")" --poll-mode "$mode" \
    --key-file "$(mesh_keys)" "$@" >"$MESH_LOGDIR/n$i.log" 2>&1 &
  MESH_PIDS[$i]=$!
}

# tap_wire NS TAP: TAP and eth0 of NS as one wire, both ways
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

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

stats() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
    i = int(NR * 0.99); if (i < 1) i = 1
    printf "%.0f/%.0f", v[int((NR + 1) / 2)], v[i] }'
}

# run VDEV MODE: one line of figures
run() {
  local vdev=$1 mode=$2 vd i ok=yes hz t0 t1 kern="-" dd rxw rc1 rc2 args
  export MESH_NS="vb$$${vdev:0:2}${mode:0:1}"
  MESH_LOGDIR=$(mktemp -d /tmp/meshd-vdev.XXXXXX)
  mesh_topo_up 2 >/dev/null
  for i in 1 2; do
    args=()
    [ "$i" = 2 ] && args=(--seed "$(mesh_ip 1)" --peer "$(mesh_ip 1)" --hello-interval-ms 200)
    case $vdev in
    af_packet) vd=net_af_packet0,iface=eth0 ;;
    af_xdp) vd=net_af_xdp0,iface=eth0,busy_budget=0 ;;
    tap) vd=net_tap0,iface=mtap$i ;;
    memif)
      vd="net_memif0,role=$([ "$i" = 1 ] && echo server || echo client)"
      vd+=",socket=/tmp/$MESH_NS-memif.sock,socket-abstract=no"
      [ "$i" = 1 ] && rm -f "/tmp/$MESH_NS-memif.sock"
      [ "$i" = 2 ] && sleep 1 ;;
    esac
    start "$i" "$vd" "$mode" "${args[@]}"
    [ "$vdev" = tap ] && tap_wire "${MESH_NS}m$i" "mtap$i"
    mesh_wait_tel "$i" /mesh/info port 1 30 || ok="node $i not up"
  done
  mesh_wait_members 1 alive 2 30 || ok="${ok/yes/} not joined"
  sleep 2
  hz=$(getconf CLK_TCK)
  for i in 1 2; do t0[i]=$(cpu_ticks "${MESH_PIDS[$i]}"); done
  sleep 5
  for i in 1 2; do
    t1=$(cpu_ticks "${MESH_PIDS[$i]}")
    cpu[i]=$(awk -v a="${t0[i]}" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 100 / (hz * 5) }')
  done
  if [ "$vdev" != memif ]; then
    kern=$(ip netns exec "${MESH_NS}c" "$PROBE" hello "$(mesh_ip 1)" 39527 "$N" 10 |
      awk -F'[ =]' '/^hellos=/ { for (k = 1; k < NF; k++) v[$k] = $(k + 1)
        printf "%.0f/%.0f lost %d", v["p50"], v["p99"], v["hellos"] - v["replies"] }')
  fi
  dd=$(for _ in $(seq "${VDEV_DD_SAMPLES:-20}"); do mesh_tel_get 2 /mesh/stats hello.last_rtt_max_us; sleep 0.21; done | stats)
  rxw=$(mesh_tel_get 1 /mesh/lcores lcore0.rx_wake)
  mesh_node_stop 2 TERM; rc2=$?
  mesh_node_stop 1 TERM; rc1=$?
  mesh_topo_down >/dev/null 2>&1
  rm -f "/tmp/$MESH_NS-memif.sock"
  printf '| %s | %s | %s | %s / %s | %s | %s | %s | n1 %s n2 %s | %s |\n' "$vdev" "$mode" \
    "$rxw" "${cpu[1]}" "${cpu[2]}" "$kern" "$dd" "$ok" "$rc1" "$rc2" \
    "$(cut -d' ' -f1 /proc/loadavg)"
  rm -rf "$MESH_LOGDIR"
}

trap 'mesh_topo_down >/dev/null 2>&1' EXIT
echo "| vdev | poll mode | rx wake | idle CPU % n1 / n2 | kernel hello p50/p99 us | DPDK hello p50/p99 us | up, joined | exit codes | load |"
echo "|---|---|---|---|---|---|---|---|---|"
for v in $VDEVS; do
  for m in $MODES; do run "$v" "$m"; done
done
