#!/usr/bin/env bash
# Side-by-side benchmark: meshd vs HashiCorp memberlist (LAN defaults and fast tuning) and
# tarantool's SWIM module, on the same topology (one network namespace per node on this
# machine, veth + bridge), same N, same workload shape (updates from node 1 at a fixed
# rate; SIGKILL and graceful leave of one node; an idle window; a rate sweep; a soak under
# loss for false positives).
#   sudo ./scripts/bench.sh [--quick] [--nodes "3 5 8"] [--soak SECONDS] [--soak-nodes N]
#                           [--report-only RAWDIR]   (tables and plots of an earlier run)
# --soak S runs meshd S seconds at 0, 5 and 20 % loss and with injected duplication and
# delay, and memberlist (fast) S seconds at 5 % (0 skips; the issue's 10-minute figure is
# --soak 600). Writes bench/results/<date>-<host>.md (tables with meshd/peer ratios), PNG
# plots next to it (dissemination CDFs, detection and leave times) and keeps the raw JSON
# under build-bench/. Never part of the test suite.
#   sudo ./scripts/bench.sh --converge [ARGS...]   (issue 13's convergence figures instead:
#        bench/cluster/converge.sh ARGS, then bench/results/<date>-converge.md and .png)
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0 nodes_list="3 5 8" soak=120 soak_nodes=8 report_only=""
if [ "${1:-}" = --converge ]; then
  shift
  [ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 2; }
  b=${BENCH_BUILD:-build}
  [ -f "$b/build.ninja" ] || meson setup "$b" >/dev/null
  ninja -C "$b" app/meshd/meshd bench/cluster/mesh_load | tail -n 1
  raw=build-bench/converge-$(date -u +%Y-%m-%d)-$$
  bench/cluster/converge.sh --build "$b" --out "$raw" "$@" || exit 1
  python3 bench/cluster/converge_report.py "$raw/converge.json" \
    "bench/results/$(date -u +%Y-%m-%d)-converge"
  exit 0
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; nodes_list="3 8"; soak=30 ;;
    --nodes) nodes_list=$2; shift ;;
    --soak) soak=$2; shift ;;
    --soak-nodes) soak_nodes=$2; shift ;;
    --report-only) report_only=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
report() {  # report RAW OUT: tables (OUT.md) and plots (OUT-cdf.png, OUT-detect.png)
  local raw=$1 out=$2 plots
  # shellcheck disable=SC2086
  python3 bench/report.py "$raw" "$out" $nodes_list
  if command -v gnuplot >/dev/null && [ -s "$out-cdf.series" ]; then
    plots=$(awk -F'\t' '{printf "%s\"%s\" using 1:2 with steps lw 2 %s title \"%s\"", (NR > 1 ? ", " : ""), $1, $3, $2}' "$out-cdf.series")
    gnuplot <<GP
set terminal png size 1300,650
set output "$out-cdf.png"
set title "Dissemination to all nodes: CDF of per-update latency (lww / payload updates)"
set logscale x
set xlabel "ms (log scale)"
set ylabel "fraction of updates"
set key outside right font ",9"
set grid
plot $plots
GP
    gnuplot <<GP
set terminal png size 1200,650
set output "$out-detect.png"
set title "Failure detection (SIGKILL -> dead everywhere) and graceful leave (-> left everywhere), every sample"
set logscale y
set ylabel "ms (log scale)"
set xtics rotate by -40 font ",9"
set bmargin 9
set grid ytics
set key outside top center horizontal
set xrange [-0.5:*]
set offsets 0, 0.8, 0, 0
plot "$out-detect.labels" using 1:(NaN):xtic(2) notitle, \
     "< grep ' det\$' $out-detect.dat" using 1:2 with points pt 7 ps 1.5 title "detection", \
     "< grep ' leave\$' $out-detect.dat" using 1:2 with points pt 5 ps 1.5 title "leave"
GP
    echo "plots: $out-cdf.png $out-detect.png" >&2
  fi
  rm -f "$out"-cdf-*.dat "$out-cdf.series" "$out-detect.dat" "$out-detect.labels"
  echo "results: $out.md" >&2
}
if [ -n "$report_only" ]; then
  report "$report_only" "bench/results/$(basename "$report_only" | sed -E 's/^run-([0-9-]{10}).*/\1/')-$(hostname -s)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 2; }
./scripts/install-deps.sh --bench >/dev/null || exit 1
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build app/meshd/meshd app/meshctl/meshctl bench/cluster/mesh_bench bench/cluster/mesh_watch | tail -n 1
bench/peers/memberlist/build.sh >/dev/null || exit 1
tnt=0; [ -x bench/peers/tarantool/run.sh ] && command -v tarantool >/dev/null && tnt=1

stamp=$(date -u +%Y-%m-%d)
raw=build-bench/run-$stamp-$$
mkdir -p "$raw" bench/results
qa=(); [ "$quick" = 1 ] && qa=(--quick)
sweep="200 1000 3000 6000"; [ "$quick" = 1 ] && sweep="500 3000"
# Progress: every step below is a `phase`. A first pass over the steps (plan=1) only
# lists them with their expected length, so each phase is announced as [i/total] and,
# while it runs, a line every $BENCH_PROGRESS_S seconds (default 30) gives the time spent,
# the phase's ETA and the whole run's. Soaks are expected to last their length plus 30 s;
# other steps start from a rough guess, replaced by the last measured step of their kind.
progress_s=${BENCH_PROGRESS_S:-30}
plan=1 step=0
plan_kind=() plan_est=()
declare -A took=()
dur() { if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }
expect_s() { local k=${plan_kind[$1]}; echo "${took[$k]:-${plan_est[$1]}}"; }
phase() {  # phase KIND SECONDS LABEL CMD...: one step; CMD's stdout is dropped
  local kind=$1 est=$2 label=$3 i=$step t0=$SECONDS pid el e eta left j
  shift 3
  if [ "$plan" = 1 ]; then plan_kind+=("$kind"); plan_est+=("$est"); return 0; fi
  step=$((step + 1))
  echo "== [$step/${#plan_kind[@]}] $label (~$(dur "$(expect_s "$i")"))" >&2
  "$@" >/dev/null &
  pid=$!
  while :; do
    for ((j = 0; j < progress_s; j++)); do kill -0 "$pid" 2>/dev/null || break 2; sleep 1; done
    el=$((SECONDS - t0)) e=$(expect_s "$i")
    if [ "$el" -lt "$e" ]; then
      eta="phase ETA $(dur $((e - el)))" left=$((e - el))
    else
      eta="over its ~$(dur "$e") estimate" left=0
    fi
    for ((j = i + 1; j < ${#plan_kind[@]}; j++)); do left=$((left + $(expect_s "$j"))); done
    echo "   [$step/${#plan_kind[@]}] $(dur "$el") in, $eta; run ETA $(dur "$left") (~$(date -d "+$left sec" +%H:%M))" >&2
  done
  wait "$pid"
  local rc=$?
  [ "$kind" = soak ] || took[$kind]=$((SECONDS - t0))
  return $rc
}
quiet_to() { local err=$1; shift; "$@" 2>"$err"; }  # quiet_to FILE CMD...: stderr to FILE
peer() {  # peer KIND SECONDS NAME DIR CMD...: one peer's driver as a phase, stderr kept
  local kind=$1 est=$2 name=$3 dir=$4; shift 4
  phase "$kind" "$est" "$name" quiet_to "$dir.err" "$@" --out "$dir" ||
    echo "   ($name failed, see $dir.err)" >&2
}
# the detection/false-positive trade-off: SWIM timers tightened towards a 25 ms detection
timers() {  # timers TAG ARGS: detection, leave and (with --soak) a soak at 5 % loss
  local tag=$1; shift
  phase timers 60 "meshd with $tag SWIM timers ($*), N=$soak_nodes: detection, leave" \
    env MESHD_EXTRA="$*" bench/cluster/run.sh --nodes "$soak_nodes" --updates 300 --kills 5 \
    --leaves 1 --tag "$tag" --out "$raw/meshd"
  [ "$soak" -gt 0 ] && phase soak $((soak + 30)) "meshd with $tag SWIM timers: ${soak}s soak at 5 % loss" \
    env MESHD_EXTRA="$*" bench/cluster/run.sh --nodes "$soak_nodes" \
    --no-updates --kills 0 --leaves 0 --soak "$soak" --loss 5 --tag "soak5-$tag" \
    --out "$raw/meshd"
}
steps() {
  local n prof loss extra
  for n in $nodes_list; do
    phase meshd 120 "meshd, N=$n" \
      bench/cluster/run.sh --nodes "$n" "${qa[@]}" --sweep "$sweep" --out "$raw/meshd"
    for prof in lan fast; do
      extra=(); [ "$prof" = fast ] && extra=(--sweep "$sweep")
      # its leave follows the kill, in the N-1 survivors: it needs 4 nodes
      [ "$n" -ge 4 ] && extra+=(--leave)
      peer "ml-$prof" 90 "memberlist $prof, N=$n" "$raw/ml-$prof-n$n" bench/peers/memberlist/run.sh \
        --nodes "$n" --profile "$prof" --kill "${extra[@]}" "${qa[@]}"
    done
    if [ "$tnt" = 1 ]; then
      for prof in default fast; do
        peer "tnt-$prof" 90 "tarantool $prof, N=$n" "$raw/tnt-$prof-n$n" bench/peers/tarantool/run.sh \
          --nodes "$n" --profile "$prof" --kill "${qa[@]}"
      done
    fi
  done
  if [ "$soak" -gt 0 ]; then
    for loss in 0 5 20; do
      phase soak $((soak + 30)) "meshd soak, N=$soak_nodes, ${soak}s at $loss % loss" \
        bench/cluster/run.sh --nodes "$soak_nodes" --no-updates --kills 0 --leaves 0 \
        --soak "$soak" --loss "$loss" --tag "soak$loss" --out "$raw/meshd"
    done
    phase soak $((soak + 30)) "meshd soak, N=$soak_nodes, ${soak}s with duplication and delay" \
      bench/cluster/run.sh --nodes "$soak_nodes" --no-updates --kills 0 --leaves 0 \
      --soak "$soak" --fault "dup=5,delay=0-2000" --tag soakfault --out "$raw/meshd"
    peer soak $((soak + 30)) "memberlist fast soak, N=$soak_nodes, ${soak}s at 5 % loss" "$raw/ml-fast-soak5" \
      bench/peers/memberlist/run.sh --nodes "$soak_nodes" --profile fast --soak "$soak" --loss 5
  fi
  # meshd written from 4 nodes at once (one synchronous client per node): the sweep
  # without the single client's round trip as the ceiling
  phase w4 90 "meshd, N=$soak_nodes, 4 writer nodes: rate sweep" \
    bench/cluster/run.sh --nodes "$soak_nodes" --writers 4 "${qa[@]}" --kills 0 --leaves 0 \
    --sweep "1000 3000 6000 10000" --tag w4 --out "$raw/meshd"
  timers tight --probe-interval-ms 5 --probe-timeout-ms 2 --suspicion-mult 2  # 10 ms suspicion
  timers mid --probe-interval-ms 5 --probe-timeout-ms 3 --suspicion-mult 3    # 15 ms
}
steps          # plan: count the phases and their expected lengths
plan=0
steps

report "$raw" "bench/results/$stamp-$(hostname -s)"
