#!/usr/bin/env python3
"""bench/report.py RAW OUT N...: turn one scripts/bench.sh run into OUT.md plus gnuplot data
(OUT-*.dat) for the plots. RAW holds meshd/meshd-N<n>.json (bench/cluster/run.sh), meshd soak
runs (meshd/meshd-N<n>-soak*.json), ml-<profile>-n<n>/summary.json (bench/peers/memberlist)
and tnt-<profile>-n<n>/summary.json (bench/peers/tarantool). Missing pieces are left out of
the tables, never invented."""
import colorsys
import glob
import json
import os
import platform
import subprocess
import sys

raw, out, ns = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]


def load(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None


def f(x, d=2):
    return "–" if x is None else f"{x:.{d}f}"


def g(d, *path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


PEERS = [("memberlist", "ml", ("lan", "fast")), ("tarantool", "tnt", ("default", "fast", "fastest"))]
rows = []  # (label, n, p50, p99, delivered, detection, idle cpu, leave, doc)
MESHD_VARIANTS = [("", "meshd (fast profile)"),
                  ("-tight", "meshd (fast, probe 5 ms / ack 2 ms / suspicion x2)"),
                  ("-mid", "meshd (fast, probe 5 ms / ack 3 ms / suspicion x3)"),
                  ("-w4", "meshd (fast, 4 writer nodes)")]
for n in ns:
    for tag, label in MESHD_VARIANTS:
        m = load(f"{raw}/meshd/meshd-N{n}{tag}.json")
        if not m:
            continue
        lww = next((r for r in m.get("runs", []) if r["kind"] == "lww"), None) or {}
        rows.append((label, n, g(lww, "to_all_ms", "p50"), g(lww, "to_all_ms", "p99"),
                     lww.get("delivered_pct"), m.get("detection_ms_median"), m.get("idle_cpu_pct_mean"),
                     m.get("leave_ms_median"), m))
    for name, short, profiles in PEERS:
        for prof in profiles:
            s = load(f"{raw}/{short}-{prof}-n{n}/summary.json")
            if s:
                rows.append((f"{name} ({prof})", n, g(s, "dissemination_to_all_ms", "p50"),
                             g(s, "dissemination_to_all_ms", "p99"), s.get("delivered_pct"),
                             g(s, "detection_ms", "median"), s.get("idle_cpu_pct_node_mean"),
                             g(s, "leave_ms", "median"), s))

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
L = [f"# meshd vs memberlist (and tarantool SWIM), {os.path.basename(out)}", "",
     f"Machine: {os.cpu_count()} vCPU ({cpu}), {platform.release()}; all nodes of a run share it.",
     "Topology: one network namespace per node, veth into a bridge (scripts/netns-lib.sh).",
     "Dissemination = time until every other node has an update (client-API events for meshd,",
     "delegate callbacks for memberlist, member-payload events for tarantool); detection = SIGKILL",
     "until every survivor reports dead; leave = graceful leave until every survivor reports left.", "",
     "| peer | N | dissemination p50 / p99 (ms) | delivered | detection median (ms) | leave median (ms) | idle CPU/node |",
     "|---|---|---|---|---|---|---|"]
for r in rows:
    L.append(f"| {r[0]} | {r[1]} | {f(r[2])} / {f(r[3])} | {f(r[4], 1)} % | {f(r[5], 0)} | {f(r[7], 1)} | {f(r[6])} % |")

L += ["", "Ratios meshd / peer (lower is better):", "",
      "| N | vs | p50 | p99 | detection | leave |", "|---|---|---|---|---|---|"]
for n in ns:
    m = next((r for r in rows if r[0] == MESHD_VARIANTS[0][1] and r[1] == n), None)
    for o in (r for r in rows if not r[0].startswith("meshd") and r[1] == n):
        if m is None:
            continue
        rat = [f"{a / b:.3f}" if a is not None and b else "–" for a, b in
               ((m[2], o[2]), (m[3], o[3]), (m[5], o[5]), (m[7], o[7]))]
        L.append(f"| {n} | {o[0]} | " + " | ".join(rat) + " |")

L += ["", "meshd per update kind: to all nodes through client events, and meshd's own",
      "origin-to-apply histogram (/mesh/latency, every receiving node; ms):", "",
      "| meshd | N | kind | to-all p50 | p90 | p99 | max | delivered | apply p50 | apply p99 | apply max |",
      "|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    if r[0].startswith("meshd"):
        variant = r[0][len("meshd ("):-1]
        for k in r[8].get("runs", []):
            t, a = k["to_all_ms"], r[8].get("apply_latency_ms", {}).get(k["kind"], {})
            L.append(f"| {variant} | {r[1]} | {k['kind']} | {t['p50']:.3f} | {t['p90']:.3f} | {t['p99']:.3f} | "
                     f"{t['max']:.3f} | {k['delivered_pct']:.1f} % | {f(a.get('p50_ms'), 3)} | "
                     f"{f(a.get('p99_ms'), 3)} | {f(a.get('max_ms'), 3)} |")

sweeps = [(r[0], r[1], r[8].get("sweep"), r[8].get("max_rate_p99_under_ms")) for r in rows if r[8].get("sweep")]
if sweeps:
    L += ["", "Sustained lww updates from one client, or one per writer node where named (CPU per",
          "update = CPU of all nodes over the run minus their idle baseline, over the updates):", "",
          "| peer | N | rate asked | achieved /s | delivered | p50 (ms) | p99 (ms) | CPU per update (µs) |",
          "|---|---|---|---|---|---|---|---|"]
    for name, n, sw, _ in sweeps:
        for s in sw:
            L.append(f"| {name} | {n} | {s.get('rate')} | {f(s.get('achieved'), 0)} | {f(s.get('delivered_pct'), 1)} % | "
                     f"{f(s.get('p50_ms'))} | {f(s.get('p99_ms'))} | {f(s.get('cpu_us_per_update'), 1)} |")
    L += [""] + [f"- {name}, N = {n}: highest rate with p99 under {mx.get('bound_ms')} ms and ≥ 99 % delivered: "
                 f"{mx.get('rate') if mx.get('rate') is not None else 'none of the rates'}"
                 for name, n, _, mx in sweeps if mx]

soaks = []
for p in sorted(glob.glob(f"{raw}/meshd/meshd-N*-soak*.json")):
    s = load(p)
    if s and s.get("soak"):
        extra = s.get("extra_args", "")
        soaks.append((f"meshd {extra}".strip(), s["nodes"], s["soak"]))
for p in sorted(glob.glob(f"{raw}/ml-*-soak*/summary.json")):
    s = load(p)
    if s and s.get("soak"):
        soaks.append((f"memberlist ({s.get('profile')})", s.get("nodes"), s["soak"]))
if soaks:
    L += ["", "False positives: soak with no failure (every dead is false; suspicions are refuted):", "",
          "| peer | N | seconds | loss | faults | false dead | suspicions | refutations |",
          "|---|---|---|---|---|---|---|---|"]
    for name, n, s in soaks:
        L.append(f"| {name} | {n} | {s.get('seconds')} | {s.get('loss_pct')} % | {s.get('fault') or '–'} | "
                 f"{s.get('false_dead')} | {s.get('suspect_events')} | {s.get('refutes', s.get('refutations', '–'))} |")

if soaks:
    L += ["", "meshd counts a suspicion once on every node that holds it (`swim_suspect` summed over",
          "nodes); memberlist counts the suspicions its nodes started (log lines), so the two",
          "columns differ by up to a factor of N - 1 in meshd's disfavour."]
L += ["", "Plots: `" + os.path.basename(out) + "-cdf.png` (dissemination CDFs), `" +
      os.path.basename(out) + "-detect.png` (detection and leave times)."]
open(out + ".md", "w").write("\n".join(L) + "\n")

# ---- plot data: one CDF file per series, detection points
series = []
for n in ns:
    p = f"{raw}/meshd/samples-N{n}-lww.txt"
    if os.path.exists(p):
        series.append((f"meshd N={n}", p))
    p = f"{raw}/meshd/apply-cdf-N{n}-lww.txt"  # meshd's own histogram, already a CDF
    if os.path.exists(p):
        series.append((f"meshd apply (own histogram) N={n}", "cdf:" + p))
    for name, short, profiles in PEERS:
        for prof in profiles:
            p = f"{raw}/{short}-{prof}-n{n}/latency_to_all_ms.txt"
            if os.path.exists(p):
                series.append((f"{name} {prof} N={n}", p))
# hue and saturation by peer; the shade (dark for the smallest N, light for the largest)
# and the dash pattern by N, so every (peer, N) series has a colour of its own
HUES = [("meshd apply", 30, 1.0), ("meshd", 355, 0.85), ("memberlist lan", 215, 0.8),
        ("memberlist fast", 180, 0.9), ("tarantool default", 0, 0.0), ("tarantool fast", 120, 0.7)]


def style(label):
    """gnuplot style of a CDF series: hue by peer, shade and dash pattern by N."""
    hue, sat = next(((h, s) for k, h, s in HUES if label.startswith(k)), (280, 0.6))
    n = label.split()[-1]
    k = ns.index(int(n[2:])) if n[2:].isdigit() and int(n[2:]) in ns else 0
    r, gr, b = colorsys.hls_to_rgb(hue / 360, 0.28 + 0.40 * k / max(1, len(ns) - 1), sat)
    return f'lc rgb "#{round(r * 255):02x}{round(gr * 255):02x}{round(b * 255):02x}" dt {(1, 2, 4, 5, 3)[k % 5]}'


with open(out + "-cdf.series", "w") as fs:
    for i, (label, p) in enumerate(series):
        dat = f"{out}-cdf-{i}.dat"
        if p.startswith("cdf:"):
            lines = open(p[4:]).read().strip()
            if not lines:
                continue
            open(dat, "w").write(lines + "\n")
        else:
            vals = sorted(float(x) for x in open(p).read().split() if float(x) > 0)
            if not vals:
                continue
            with open(dat, "w") as d:
                for j, v in enumerate(vals):
                    d.write(f"{v} {(j + 1) / len(vals)}\n")
        fs.write(f"{dat}\t{label}\t{style(label)}\n")
def short(label):
    return (label.replace("meshd (fast profile)", "meshd")
            .replace("meshd (fast, probe 5 ms / ack 2 ms / suspicion x2)", "meshd tight")
            .replace("meshd (fast, probe 5 ms / ack 3 ms / suspicion x3)", "meshd mid")
            .replace("meshd (fast, 4 writer nodes)", "meshd 4 writers"))


with open(out + "-detect.labels", "w") as d:
    for i, r in enumerate(rows):
        d.write(f'{i} "{short(r[0])} N={r[1]}"\n')
with open(out + "-detect.dat", "w") as d:
    for i, r in enumerate(rows):
        det, lv = g(r[8], "detection_ms"), g(r[8], "leave_ms")
        det = det.get("samples", [det.get("median")]) if isinstance(det, dict) else det or []
        lv = lv.get("samples", [lv.get("median")]) if isinstance(lv, dict) else lv or []
        for v in det:
            if v is not None and v >= 0:
                d.write(f"{i} {v} det\n")
        for v in lv:
            if v is not None and v >= 0:
                d.write(f"{i} {v} leave\n")
print("\n".join(L))
