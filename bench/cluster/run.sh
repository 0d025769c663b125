#!/usr/bin/env bash
# bench/cluster/run.sh: meshd cluster figures on the test topology (one network namespace
# per node, net_af_packet on veth, event polling (the daemon default; MESH_POLL_MODE=backoff for the old mode), fast SWIM profile). Phases, in order:
#   updates  convergence of lww puts, deletes, epoch_max updates and broadcast stream
#            messages from node 1: "to all" per update through client events (mesh_bench:
#            one process, one host clock) and meshd's own origin-to-apply histograms
#            (/mesh/latency read before and after, lat.py), with per-update samples for CDFs;
#   idle     CPU per node over a quiet window;
#   sweep    sustained lww rates (--sweep "R1 R2 ..."): achieved rate, p99 to all, CPU per
#            update (meshd CPU over the run minus the idle baseline, over the updates);
#   soak     --soak S with --loss PCT (nftables on every bridge port) and/or --fault SPEC
#            (meshd --fault-inject on every node: dup, delay, reordering): every dead,
#            suspect and refutation counted on every node (nothing is killed, so any dead
#            is a false positive), plus the member lists at the end;
#   kills    SIGKILL of the last node until every survivor reports it dead (K times);
#   leaves   SIGTERM (graceful leave) of the last node until every survivor reports it
#            left (K times); both watched by one mesh_watch process (client API, 1 ms polls).
# Writes DIR/meshd-N<n>[-TAG].json (and DIR/samples-* for plots); progress on stderr.
# --writers W: nodes 1..W write (one client thread each, sharing the rate) in the update
# and sweep phases; default 1, as the memberlist and tarantool drivers do.
#   run.sh [--nodes N] [--updates U] [--rate R] [--kills K] [--leaves K] [--sweep "R..."]
#          [--sweep-secs S] [--writers W] [--soak S] [--loss PCT] [--fault SPEC] [--no-updates]
#          [--tag TAG] [--out DIR] [--quick]
set -uo pipefail   # no -e: netns-lib probes expect failures
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/cluster
nodes=8 updates=1000 rate=200 kills=3 leaves=3 out="$root/build-bench/meshd" idle=5
sweep="" sweep_secs=4 soak=0 loss=0 fault="" do_updates=1 tag="" writers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift ;;
    --updates) updates=$2; shift ;;
    --rate) rate=$2; shift ;;
    --kills) kills=$2; shift ;;
    --leaves) leaves=$2; shift ;;
    --sweep) sweep=$2; shift ;;
    --sweep-secs) sweep_secs=$2; shift ;;
    --writers) writers=$2; shift ;;
    --soak) soak=$2; shift ;;
    --loss) loss=$2; shift ;;
    --fault) fault=$2; shift ;;
    --no-updates) do_updates=0 ;;
    --tag) tag=-$2; shift ;;
    --out) out=$2; shift ;;
    --quick) updates=300; kills=1; leaves=1; idle=2; sweep_secs=2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (namespaces)" >&2; exit 2; }
MESHD=$root/build/app/meshd/meshd
BENCH=$root/build/bench/cluster/mesh_bench
CTL=$root/build/app/meshctl/meshctl
WATCH=$root/build/bench/cluster/mesh_watch
[ -x "$MESHD" ] && [ -x "$BENCH" ] && [ -x "$WATCH" ] || { echo "run.sh: build first (ninja -C build)" >&2; exit 2; }
mkdir -p "$out"
MESH_NS="mb$$x"
source "$root/scripts/netns-lib.sh"
trap 'mesh_topo_down; rm -f /tmp/${MESH_NS}-*.sock' EXIT
log() { echo "[meshd N=$nodes$tag] $*" >&2; }
fault_args=(); [ -n "$fault" ] && fault_args=(--fault-inject "$fault")

start() {
  local i=$1; shift
  mesh_node_start "$i" --ctl-socket "/tmp/${MESH_NS}-$i.sock" "${fault_args[@]}" ${MESHD_EXTRA:-} "$@"
}
restart() {
  start "$1" --seed 10.99.0.1
  mesh_wait_tel "$1" /mesh/info port 1 30
  for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 || true; done
  sleep 1
}
socks() { for i in $(seq 1 "$nodes"); do printf '/tmp/%s-%s.sock ' "$MESH_NS" "$i"; done; }
prefixes() { for i in $(seq "$1" "$nodes"); do printf '%sn%s ' "$MESH_NS" "$i"; done; }
node_ticks() { awk '{print $14+$15}' "/proc/${MESH_PIDS[$1]}/stat" 2>/dev/null || echo 0; }
ticks() {  # user+sys clock ticks of every live node
  local t=0 i
  for i in "${!MESH_PIDS[@]}"; do t=$((t + $(node_ticks "$i"))); done
  echo "$t"
}
swim_sums() {  # "dead suspect refute": swim counters summed over all nodes
  local i
  for i in $(seq 1 "$nodes"); do
    "$CTL" -s "/tmp/${MESH_NS}-$i.sock" stats swim 2>/dev/null  # lines: GROUP NAME VALUE
  done | awk '{ v[$2] += $3 } END { print v["swim_dead"] + 0, v["swim_suspect"] + 0, v["swim_refute"] + 0 }'
}
late_sums() {  # "N MAX_US": timed wake-ups > 5 ms late, and the latest one (us), all nodes
  local i
  for i in $(seq 1 "$nodes"); do mesh_tel "$i" /mesh/lcores; done | python3 -c '
import json, sys
n = mx = 0
for line in sys.stdin:
    for lc in next(iter(json.loads(line).values())).values():
        if isinstance(lc, dict):
            n += lc.get("late_gt_5ms", 0)
            mx = max(mx, lc.get("late_max_ns", 0))
print(n, mx // 1000)'
}
# time_status VICTIM STATUS SIGNAL: signal the victim and wait for it to exit; ST_MS = ms
# until every survivor listed it as STATUS (-1 when some survivor never did within 20 s).
# One mesh_watch process polls all survivors through the client API each millisecond.
time_status() {
  local victim=$1 status=$2 sig=$3 pid=${MESH_PIDS[$1]} obs=() i t wpid rc
  for i in $(seq 1 $((nodes - 1))); do obs+=("/tmp/${MESH_NS}-$i.sock"); done
  rm -f "$out/.st" "$out/.st-err"
  "$WATCH" "n$victim" "$status" 20000 "${obs[@]}" >"$out/.st" 2>"$out/.st-err" &
  wpid=$!
  for i in $(seq 1 100); do grep -q ready "$out/.st-err" 2>/dev/null && break; sleep 0.05; done
  sleep 0.3
  t=$(date +%s%N)
  kill -s "$sig" "$pid"
  wait "$wpid"; rc=$?
  wait "$pid" 2>/dev/null || true
  unset "MESH_PIDS[$victim]"
  ST_MS=-1
  [ "$rc" -eq 0 ] && ST_MS=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(round((max(d["seen_ns"]) - int(sys.argv[2])) / 1e6, 1))' "$out/.st" "$t")
  rm -f "$out/.st" "$out/.st-err"
}

mesh_topo_up "$nodes"
start 1
for i in $(seq 2 "$nodes"); do start "$i" --seed 10.99.0.1; done
for i in $(seq 1 "$nodes"); do mesh_wait_tel "$i" /mesh/info port 1 30; done
for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 || { log "membership did not converge"; exit 1; }; done
log "cluster up"
res=$out/.res-N$nodes$tag
rm -rf "$res"; mkdir -p "$res"

# ---- updates: client-event "to all" and meshd's own apply histograms
if [ "$do_updates" = 1 ]; then
  for kind in lww delete epoch stream; do
    log "$kind: $updates updates at $rate/s"
    # shellcheck disable=SC2046
    python3 "$here/lat.py" snap "$res/h0.json" $(prefixes 2)
    # shellcheck disable=SC2046
    "$BENCH" --kind "$kind" --updates "$updates" --rate "$rate" --writers "$writers" \
      --samples "$out/samples-N$nodes$tag-$kind.txt" $(socks) >"$res/run-$kind.json"
    log "$(cat "$res/run-$kind.json")"
    sleep 0.2
    # shellcheck disable=SC2046
    python3 "$here/lat.py" snap "$res/h1.json" $(prefixes 2)
    python3 "$here/lat.py" diff "$res/h0.json" "$res/h1.json" "$kind" \
      --cdf "$out/apply-cdf-N$nodes$tag-$kind.txt" >"$res/apply-$kind.json"
    log "apply latency (meshd histograms): $(cat "$res/apply-$kind.json")"
  done
fi

# ---- idle CPU: user+sys ticks of each node over a quiet window
hz=$(getconf CLK_TCK)
declare -A t0=()
for i in $(seq 1 "$nodes"); do t0[$i]=$(node_ticks "$i"); done
sleep "$idle"
cpu=()
for i in $(seq 1 "$nodes"); do
  t1=$(node_ticks "$i")
  cpu+=("$(echo "scale=2; 100 * ($t1 - ${t0[$i]}) / ($hz * $idle)" | bc)")
done
echo "${cpu[*]}" >"$res/idle"
log "idle CPU per node (%): ${cpu[*]}"
idle_ticks_per_s=$(echo "${cpu[*]}" | tr ' ' '\n' | awk -v hz="$hz" '{s += $1} END {print s * hz / 100}')

# ---- sweep: sustained lww rates
for r in $sweep; do
  n=$((r * sweep_secs))
  c0=$(ticks); s0=$(date +%s%N)
  # shellcheck disable=SC2046
  "$BENCH" --kind lww --updates "$n" --rate "$r" --writers "$writers" $(socks) >"$res/sweep-$r.json"
  c1=$(ticks); s1=$(date +%s%N)
  python3 - "$res/sweep-$r.json" "$((c1 - c0))" "$(( (s1 - s0) / 1000000 ))" "$hz" "$idle_ticks_per_s" <<'PY'
import json, sys
p, dt, ms, hz, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
r = json.load(open(p))
busy_s = max(0.0, dt / hz - idle * ms / 1000 / hz)
r["cpu_s_total"] = round(dt / hz, 3)
r["cpu_us_per_update"] = round(busy_s * 1e6 / r["updates"], 2) if r["updates"] else None
r["wall_ms"] = ms
json.dump(r, open(p, "w"))
PY
  log "sweep $r/s: $(cat "$res/sweep-$r.json")"
done

# ---- soak: false positives under loss / faults
if [ "$soak" -gt 0 ]; then
  log "soak: ${soak}s, loss ${loss} % on every port${fault:+, fault-inject $fault}"
  for i in $(seq 1 "$nodes"); do mesh_loss "$i" "$loss"; done
  read -r d0 s0 f0 < <(swim_sums)
  read -r l0 _ < <(late_sums)
  end=$((SECONDS + soak)); worst_susp=0 worst_dead=0
  while [ $SECONDS -lt $end ]; do
    for i in $(seq 1 "$nodes"); do
      m=$("$CTL" -s "/tmp/${MESH_NS}-$i.sock" members 2>/dev/null) || continue
      a=$(grep -c " suspect " <<<"$m"); [ "$a" -gt "$worst_susp" ] && worst_susp=$a
      a=$(grep -c " dead " <<<"$m"); [ "$a" -gt "$worst_dead" ] && worst_dead=$a
    done
    sleep 1
  done
  read -r d1 s1 f1 < <(swim_sums)
  read -r l1 late_max_us < <(late_sums)
  for i in $(seq 1 "$nodes"); do mesh_loss "$i" 0; done
  alive_end=0
  for i in $(seq 1 "$nodes"); do mesh_wait_members "$i" alive "$nodes" 30 && alive_end=$((alive_end + 1)); done
  printf '{"seconds": %d, "loss_pct": %d, "fault": "%s", "false_dead": %d, "suspect_events": %d, "refutes": %d, "max_suspect_seen": %d, "max_dead_seen": %d, "nodes_all_alive_after": %d, "timer_wakeups_late_gt_5ms": %d, "timer_late_max_us_since_start": %d}\n' \
    "$soak" "$loss" "$fault" $((d1 - d0)) $((s1 - s0)) $((f1 - f0)) "$worst_susp" "$worst_dead" "$alive_end" $((l1 - l0)) "$late_max_us" >"$res/soak.json"
  log "soak: $(cat "$res/soak.json")"
fi

# ---- failure detection and graceful leave
det=() lv=()
for k in $(seq 1 "$kills"); do
  time_status "$nodes" dead KILL; det+=("$ST_MS")
  log "detection $k: ${det[-1]} ms until all $((nodes - 1)) survivors marked n$nodes dead"
  restart "$nodes"
done
for k in $(seq 1 "$leaves"); do
  time_status "$nodes" left TERM; lv+=("$ST_MS")
  log "leave $k: ${lv[-1]} ms until all $((nodes - 1)) survivors marked n$nodes left"
  restart "$nodes"
done
printf '%s\n' "${det[@]}" >"$out/detection-N$nodes$tag.txt"

python3 - "$out/meshd-N$nodes$tag.json" "$nodes" "$res" "${det[*]}" "${lv[*]}" "$sweep" <<'PY'
import json, os, statistics, sys
path, nodes, res, det, lv, sweep = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
def load(name):
    try:
        return json.load(open(os.path.join(res, name)))
    except Exception:
        return None
runs = [r for r in (load(f"run-{k}.json") for k in ("lww", "delete", "epoch", "stream")) if r]
apply = {k: a for k in ("lww", "delete", "epoch", "stream") if (a := load(f"apply-{k}.json"))}
cpu = [float(x) for x in open(os.path.join(res, "idle")).read().split()]
det = [float(x) for x in det.split()]
lv = [float(x) for x in lv.split()]
sw = [s for s in (load(f"sweep-{r}.json") for r in sweep.split()) if s]
out = {"peer": "meshd", "profile": "fast", "extra_args": os.environ.get("MESHD_EXTRA", ""),
       "writers": runs[0].get("writers", 1) if runs else None,
       "nodes": nodes, "runs": runs, "apply_latency_ms": apply,
       "idle_cpu_pct": cpu, "idle_cpu_pct_mean": round(statistics.mean(cpu), 2) if cpu else None,
       "detection_ms": det, "detection_ms_median": statistics.median(det) if det else None,
       "leave_ms": lv, "leave_ms_median": statistics.median(lv) if lv else None,
       "sweep": [{"rate": s["rate"], "achieved": s["achieved_rate"], "delivered_pct": s["delivered_pct"],
                  "p50_ms": s["to_all_ms"]["p50"], "p99_ms": s["to_all_ms"]["p99"],
                  "cpu_us_per_update": s["cpu_us_per_update"]} for s in sw]}
ok = [s for s in out["sweep"] if s["delivered_pct"] >= 99.0 and 0 <= s["p99_ms"] < 50]
out["max_rate_p99_under_ms"] = {"bound_ms": 50, "rate": max((s["achieved"] for s in ok), default=None)}
if (soak := load("soak.json")):
    out["soak"] = soak
json.dump(out, open(path, "w"), indent=1)
print(json.dumps(out))
PY
