#!/usr/bin/env bash
# Side-by-side benchmark: meshd vs HashiCorp memberlist on the same topology (one network
# namespace per node on this machine, veth + bridge), same N, same workload shape (updates
# from node 1 at a fixed rate; SIGKILL of one node; an idle window).
#   sudo ./scripts/bench.sh [--quick] [--nodes "3 5 8"]
# Writes bench/results/<date>-<host>.md (tables with meshd/memberlist ratios), a PNG plot
# next to it, and keeps the raw JSON under build-bench/. Never part of the test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
nodes_list="3 5 8"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; nodes_list="3 8" ;;
    --nodes) nodes_list=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "bench: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 2; }
./scripts/install-deps.sh --bench >/dev/null || exit 1
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build app/meshd/meshd app/meshctl/meshctl bench/cluster/mesh_bench | tail -n 1
bench/peers/memberlist/build.sh >/dev/null || exit 1

stamp=$(date -u +%Y-%m-%d)
raw=build-bench/run-$stamp-$$
mkdir -p "$raw" bench/results
qa=(); [ "$quick" = 1 ] && qa=(--quick)
for n in $nodes_list; do
  echo "== meshd, N=$n" >&2
  bench/cluster/run.sh --nodes "$n" "${qa[@]}" --out "$raw/meshd" >/dev/null
  for prof in lan fast; do
    echo "== memberlist $prof, N=$n" >&2
    bench/peers/memberlist/run.sh --nodes "$n" --profile "$prof" --kill "${qa[@]}" \
      --out "$raw/ml-$prof-n$n" >/dev/null 2>"$raw/ml-$prof-n$n.err" ||
      echo "   (memberlist run failed, see $raw/ml-$prof-n$n.err)" >&2
  done
done

out=bench/results/$stamp-$(hostname -s)
python3 - "$raw" "$out" $nodes_list <<'PY'
import json, os, platform, subprocess, sys
raw, out, ns = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return None
rows = []
for n in ns:
    m = load(f"{raw}/meshd/meshd-N{n}.json")
    lww = next((r for r in (m or {}).get("runs", []) if r["kind"] == "lww"), None)
    if m and lww:
        rows.append(("meshd (fast profile)", n, lww["to_all_ms"]["p50"], lww["to_all_ms"]["p99"],
                     lww["delivered_pct"], m["detection_ms_median"], m["idle_cpu_pct_mean"], m))
    for prof in ("lan", "fast"):
        s = load(f"{raw}/ml-{prof}-n{n}/summary.json")
        if s:
            d = s.get("dissemination_to_all_ms", {})
            rows.append((f"memberlist ({prof})", n, d.get("p50"), d.get("p99"),
                         s.get("delivered_pct"), (s.get("detection_ms") or {}).get("median"),
                         s.get("idle_cpu_pct_node_mean"), s))
def f(x, d=2):
    return "–" if x is None else f"{x:.{d}f}"
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
lines = [f"# meshd vs memberlist, {os.path.basename(out)}", "",
         f"Machine: {os.cpu_count()} vCPU ({cpu}), {platform.release()}; all nodes of a run share it.",
         "Topology: one network namespace per node, veth into a bridge (scripts/netns-lib.sh).",
         "Dissemination = time until every other node has an update (client-API events for meshd,",
         "delegate callbacks for memberlist); detection = SIGKILL until every survivor reports dead.", "",
         "| peer | N | dissemination p50 / p99 (ms) | delivered | detection median (ms) | idle CPU/node |",
         "|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r[0]} | {r[1]} | {f(r[2])} / {f(r[3])} | {f(r[4],1)} % | {f(r[5],0)} | {f(r[6])} % |")
lines += ["", "Ratios meshd / memberlist (lower is better):", "",
          "| N | vs | p50 | p99 | detection |", "|---|---|---|---|---|"]
for n in ns:
    m = next((r for r in rows if r[0].startswith("meshd") and r[1] == n), None)
    for prof in ("lan", "fast"):
        o = next((r for r in rows if r[0] == f"memberlist ({prof})" and r[1] == n), None)
        if m and o and o[2] and o[3] and o[5]:
            lines.append(f"| {n} | memberlist {prof} | {m[2]/o[2]:.3f} | {m[3]/o[3]:.3f} | {m[5]/o[5]:.3f} |")
lines += ["", "meshd per update kind (to all nodes, ms):", "",
          "| N | kind | p50 | p90 | p99 | max | delivered |", "|---|---|---|---|---|---|---|"]
for r in rows:
    if r[0].startswith("meshd"):
        for k in r[7]["runs"]:
            t = k["to_all_ms"]
            lines.append(f"| {r[1]} | {k['kind']} | {t['p50']:.3f} | {t['p90']:.3f} | {t['p99']:.3f} | {t['max']:.3f} | {k['delivered_pct']:.1f} % |")
open(out + ".md", "w").write("\n".join(lines) + "\n")
with open(out + ".dat", "w") as d:
    for i, r in enumerate(rows):
        if r[2] is not None:
            d.write(f'{i} "{r[0].split()[0]}-{r[0].split("(")[1][:-1]}-N{r[1]}" {r[2]} {r[3]}\n')
print("\n".join(lines))
PY
if command -v gnuplot >/dev/null && [ -s "$out.dat" ]; then
  gnuplot <<GP
set terminal png size 1000,500
set output "$out.png"
set title "Dissemination to all nodes (ms, log scale): p50 and p99"
set logscale y
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8
set xtics rotate by -30
set ylabel "ms"
plot "$out.dat" using 3:xtic(2) title "p50", "" using 4 title "p99"
GP
  echo "plot: $out.png" >&2
fi
rm -f "$out.dat"
echo "results: $out.md" >&2
