#!/usr/bin/env bash
# bench/cluster/run.sh: meshd cluster figures on the test topology (one network namespace
# per node, net_af_packet on veth, backoff polling, fast SWIM profile):
#   - convergence to all nodes for lww puts, deletes, epoch_max updates and broadcast stream
#     messages (mesh_bench: one process, one host clock, events through the client API);
#   - failure detection: SIGKILL of the last node until every survivor reports it dead
#     (each survivor's member list polled continuously through meshctl), repeated;
#   - idle CPU per node over a quiet window.
# Writes DIR/meshd-N<n>.json and prints progress on stderr.
#   run.sh [--nodes N] [--updates U] [--rate R] [--kills K] [--out DIR] [--quick]
set -uo pipefail   # no -e: netns-lib probes expect failures
root=$(cd "$(dirname "$0")/../.." && pwd)
nodes=8 updates=1000 rate=200 kills=3 out="$root/build-bench/meshd" idle=5
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift ;;
    --updates) updates=$2; shift ;;
    --rate) rate=$2; shift ;;
    --kills) kills=$2; shift ;;
    --out) out=$2; shift ;;
    --quick) updates=300; kills=1; idle=2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (namespaces)" >&2; exit 2; }
MESHD=$root/build/app/meshd/meshd
BENCH=$root/build/bench/cluster/mesh_bench
CTL=$root/build/app/meshctl/meshctl
[ -x "$MESHD" ] && [ -x "$BENCH" ] || { echo "run.sh: build first (ninja -C build)" >&2; exit 2; }
mkdir -p "$out"
MESH_NS="mb$$x"
source "$root/scripts/netns-lib.sh"
trap 'mesh_topo_down; rm -f /tmp/${MESH_NS}-*.sock' EXIT
log() { echo "[meshd N=$nodes] $*" >&2; }

start() { local i=$1; shift; mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" ${MESHD_EXTRA:-} "$@"; }
socks() { for i in $(seq 1 "$nodes"); do printf '/tmp/%s-%s.sock ' "$MESH_NS" "$i"; done; }

mesh_topo_up "$nodes"
start 1
for i in $(seq 2 "$nodes"); do start "$i" --seed 10.99.0.1; done
for i in $(seq 1 "$nodes"); do mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 || { log "membership did not converge"; exit 1; }; done
log "cluster up"

results=()
for kind in lww delete epoch stream; do
  log "$kind: $updates updates at $rate/s"
  # shellcheck disable=SC2046
  r=$("$BENCH" --kind "$kind" --updates "$updates" --rate "$rate" $(socks) || true)
  log "$r"
  results+=("$r")
done

# idle CPU: user+sys ticks of each node over a quiet window
declare -A t0=()
for i in $(seq 1 "$nodes"); do t0[$i]=$(awk '{print $14+$15}' "/proc/${MESH_PIDS[$i]}/stat"); done
sleep "$idle"
cpu=()
hz=$(getconf CLK_TCK)
for i in $(seq 1 "$nodes"); do
  t1=$(awk '{print $14+$15}' "/proc/${MESH_PIDS[$i]}/stat")
  cpu+=("$(echo "scale=2; 100 * ($t1 - ${t0[$i]}) / ($hz * $idle)" | bc)")
done
log "idle CPU per node (%): ${cpu[*]}"

# failure detection: kill the last node, time until every survivor says dead; restart it
det=()
for k in $(seq 1 "$kills"); do
  victim=$nodes
  # one watcher per survivor polls its member list (meshctl, ~2-3 ms a round here) and
  # stamps the first round that shows the victim dead
  rm -f "$out"/.det-*
  watchers=()
  for i in $(seq 1 $((nodes - 1))); do
    ( end=$(( $(date +%s) + 20 ))
      until "$CTL" -s "/tmp/${MESH_NS}-$i.sock" members 2>/dev/null | grep -q "^n$victim .* dead"; do
        [ "$(date +%s)" -gt "$end" ] && exit 0
      done
      date +%s%N >"$out/.det-$i" ) &
    watchers+=($!)
  done
  sleep 0.5
  t=$(date +%s%N)
  kill -KILL "${MESH_PIDS[$victim]}"; wait "${MESH_PIDS[$victim]}" 2>/dev/null || true
  unset "MESH_PIDS[$victim]"
  wait "${watchers[@]}" 2>/dev/null || true
  last=$(cat "$out"/.det-* 2>/dev/null | sort -n | tail -1)
  ms=$(( (${last:-$t} - t) / 1000000 ))
  [ "$(ls "$out"/.det-* 2>/dev/null | wc -l)" -eq $((nodes - 1)) ] || ms=-1
  det+=("$ms")
  log "detection $k: ${ms} ms until all $((nodes - 1)) survivors marked n$victim dead"
  start "$victim" --seed 10.99.0.1
  mesh_wait_tel "$victim" /mesh/info port 1 30
  for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 || true; done
  sleep 1
done

python3 - "$out/meshd-N$nodes.json" "$nodes" "${cpu[*]}" "${det[*]}" "${results[@]}" <<'PY'
import json, statistics, sys
path, nodes, cpu, det = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = [json.loads(r) for r in sys.argv[5:] if r.strip().startswith("{")]
cpu = [float(x) for x in cpu.split()]
det = [int(x) for x in det.split()]
out = {"peer": "meshd", "profile": "fast", "nodes": nodes, "runs": runs,
       "idle_cpu_pct": cpu, "idle_cpu_pct_mean": round(statistics.mean(cpu), 2) if cpu else None,
       "detection_ms": det, "detection_ms_median": statistics.median(det) if det else None}
json.dump(out, open(path, "w"), indent=1)
print(json.dumps(out))
PY
