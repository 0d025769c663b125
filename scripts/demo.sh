#!/usr/bin/env bash
# meshd demo (the README's first command): installs what is missing, builds, creates a
# bridge and one network namespace per node, starts 3 meshd nodes on net_af_packet/veth
# (idle back-off polling, no hugepages, no NIC), lets them exchange hellos, probes one from
# a kernel UDP client, and shows what each node reports through DPDK telemetry
# (dpdk-telemetry.py). Everything is torn down on exit unless --keep is given.
#
#   sudo ./scripts/demo.sh [--keep] [--nodes N]
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
nodes=3
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --nodes) nodes=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "demo: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo ./scripts/demo.sh)" >&2; exit 2; }
[ "$nodes" -ge 2 ] && [ "$nodes" -le 20 ] || { echo "demo: --nodes must be 2..20" >&2; exit 2; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "dependencies"
./scripts/install-deps.sh
say "build"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build app/meshd/meshd tests/integration/mesh_udp_probe | tail -n 1

MESHD=$PWD/build/app/meshd/meshd
PROBE=$PWD/build/tests/integration/mesh_udp_probe
MESH_NS=demo
source scripts/netns-lib.sh
if ip netns list | grep -q '^demo'; then mesh_topo_down; fi   # leftovers of a --keep run
[ "$keep" = 1 ] || trap mesh_topo_down EXIT

say "topology: bridge demosw, nodes demom1..demom$nodes (10.99.0.1..$nodes), client democ (10.99.0.100)"
mesh_topo_up "$nodes"
for i in $(seq 1 "$nodes"); do
  peers=()
  for j in $(seq 1 "$nodes"); do [ "$j" != "$i" ] && peers+=(--peer "$(mesh_ip "$j")"); done
  mesh_node_start "$i" "${peers[@]}" --hello-interval-ms 200
  echo "started n$i (pid ${MESH_PIDS[$i]}, log $MESH_LOGDIR/n$i.log)"
done
for i in $(seq 1 "$nodes"); do
  mesh_wait_tel "$i" /mesh/info port 1 30 || { echo "n$i did not come up:"; cat "$MESH_LOGDIR/n$i.log"; exit 1; }
done
for i in $(seq 1 "$nodes"); do
  mesh_wait_tel "$i" /mesh/stats hello.peers_answering $((nodes - 1)) 20 || true
done

say "kernel UDP client -> n1 (ARP + 10 hellos)"
ip netns exec democ "$PROBE" hello 10.99.0.1 39527 10

say "telemetry: /mesh/info and hello state of every node (dpdk-telemetry.py -f demon<i>)"
for i in $(seq 1 "$nodes"); do
  printf '/mesh/info\n/mesh/stats,hello\n' | dpdk-telemetry.py -f "demon$i" 2>/dev/null | grep '^{'
done
say "telemetry: n1 counters (/mesh/stats,net, non-zero only)"
mesh_tel 1 /mesh/stats,net | python3 -c '
import json, sys
d = json.load(sys.stdin)["/mesh/stats"]["net"]
for k, v in d.items():
    if v:
        print(f"  {k:28s} {v}")'

if [ "$keep" = 1 ]; then
  say "left running (--keep): query with  dpdk-telemetry.py -f demon1 ; stop with  sudo ip netns del demosw demom1 ... or rerun the demo"
  trap - EXIT
  disown -a
else
  say "tearing down"
fi
