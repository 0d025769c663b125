#!/usr/bin/env bash
# meshd demo (the README's first command). It installs what is missing, builds, and
# creates a bridge plus one network namespace per node. It then starts 3 meshd nodes on
# net_af_packet/veth (idle back-off polling, no hugepages, no NIC) that join through a
# seed, keyed: every frame is sealed with a cluster key made by "meshd keygen". It
# writes keys on node 1 with meshctl and shows them arriving on the other nodes
# with the measured convergence time. Membership and store digests are shown through DPDK
# telemetry (dpdk-telemetry.py). Everything is torn down on exit unless --keep is given.
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
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "demo: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (sudo ./scripts/demo.sh)" >&2; exit 2; }
[ "$nodes" -ge 2 ] && [ "$nodes" -le 8 ] || { echo "demo: --nodes must be 2..8" >&2; exit 2; }

# bold headings on a terminal only (not with NO_COLOR set): no escapes in pipes and logs
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

say "dependencies"
./scripts/install-deps.sh
say "build"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build app/meshd/meshd app/meshctl/meshctl | tail -n 1

MESHD=$PWD/build/app/meshd/meshd
CTL=$PWD/build/app/meshctl/meshctl
MESH_NS=demo
source scripts/netns-lib.sh
if ip netns list | grep -q '^demo'; then mesh_topo_down; fi   # leftovers of a --keep run
[ "$keep" = 1 ] || trap 'mesh_topo_down; rm -f /run/meshd/demo-n*.sock' EXIT
sock() { echo "/run/meshd/demo-n$1.sock"; }
ctl() { local i=$1; shift; "$CTL" -s "$(sock "$i")" "$@"; }

say "topology: bridge demosw, nodes demom1..demom$nodes (10.99.0.1..$nodes)"
mesh_topo_up "$nodes"
keys=$(mesh_keys)   # "meshd keygen": one cluster key, mode 0600, shared by the nodes
echo "cluster key file $keys (meshd keygen); every node seals its frames with it (--key-file)"
for i in $(seq 1 "$nodes"); do
  seeds=()
  [ "$i" -gt 1 ] && seeds=(--seed 10.99.0.1)
  mesh_node_start "$i" --ctl-socket "$(sock "$i")" --key-file "$keys" "${seeds[@]}"
  echo "started n$i (pid ${MESH_PIDS[$i]}, log $MESH_LOGDIR/n$i.log, client socket $(sock "$i"))"
done
for i in $(seq 1 "$nodes"); do
  mesh_wait_tel "$i" /mesh/info port 1 30 || { echo "n$i did not start:"; cat "$MESH_LOGDIR/n$i.log"; exit 1; }
done
t0=$(date +%s%N)
for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 10 || true; done
echo "all $nodes nodes see $nodes alive members after $(( ($(date +%s%N) - t0) / 1000000 )) ms"

say "membership on n1 (meshctl members)"
ctl 1 members
say "membership through telemetry (dpdk-telemetry.py -f demon2, /mesh/members)"
printf '/mesh/members\n' | dpdk-telemetry.py -f demon2 2>/dev/null | grep '^{'

say "writes on n1, convergence seen by subscribers on the other nodes"
tmp=$(mktemp -d)
watchers=()
for i in $(seq 2 "$nodes"); do
  # each subscriber stamps the arrival of every event with the host clock
  ( ctl "$i" --timeout 10000 watch worker: 3 2>/dev/null |
      while read -r line; do echo "$(date +%s%N) $line"; done >"$tmp/n$i" ) &
  watchers+=($!)
done
sleep 0.5
declare -A sent=()
for w in 1 2 3; do
  sent[$w]=$(date +%s%N)
  ctl 1 put "worker:w$w" "{\"url\":\"http://10.0.0.$w:8000\",\"health\":true}" >/dev/null
  sleep 0.2
done
wait "${watchers[@]}"
for i in $(seq 2 "$nodes"); do
  while read -r ts verb key rest; do
    w=${key#worker:w}
    printf '  n%s got %-11s %6.2f ms after meshctl put on n1 (client + put + replication + event)\n' \
      "$i" "$key" "$(echo "($ts - ${sent[$w]}) / 1000000" | bc -l)"
  done <"$tmp/n$i"
done
rm -rf "$tmp"

say "the keys as n$nodes sees them (meshctl keys / get)"
ctl "$nodes" keys worker:
ctl "$nodes" get worker:w2

say "store digests (/mesh/kv/stats): identical on every node"
for i in $(seq 1 "$nodes"); do
  echo "  n$i digest $(mesh_tel_get "$i" /mesh/kv/stats digest), worker keys $(mesh_tel_get "$i" /mesh/kv/stats worker.keys)"
done

say "node n$nodes leaves gracefully (SIGTERM)"
mesh_node_stop "$nodes" TERM
sleep 0.5
ctl 1 members

if [ "$keep" = 1 ]; then
  say "left running (--keep): meshctl -s /run/meshd/demo-n1.sock ...; dpdk-telemetry.py -f demon1"
  trap - EXIT
  disown -a
else
  say "tearing down"
fi
