#!/usr/bin/env python3
"""converge_report.py RESULTS_JSON OUT: tables (OUT.md) and a plot (OUT.png, gnuplot) of
one bench/cluster/converge.sh run: each figure next to issue 13's target, with the ratio
figure / target (<= 1 meets it)."""
import json
import os
import subprocess
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ms(x):
    return "n/a (timed out)" if x is None else f"{x:,.0f} ms"


def main(src, out):
    r = rows(src)
    figs = []  # (label, measured ms or value, target, unit)
    lines = ["# Convergence benchmark (issue 13)", "",
             f"Raw results: `{os.path.relpath(src)}`. Three meshd nodes in network namespaces "
             "(net_af_packet on veth, backoff polling) on one 2-CPU machine shared with other "
             "work: times include that load.", "",
             "| phase | figure | target | ratio |", "|---|---|---|---|"]
    for x in r:
        p = x["phase"]
        if p == "catchup":
            t = 1000 if x["keys"] <= 100000 else 5000
            v = x["from_start"]["digest_ms"]
            f = x["from_start"]
            j = f.get("member_ms")
            lbl = (f"catch-up, {x['keys'] // 1000} k keys loaded ({x['store_keys']:,} in store): "
                   f"restarted node's start to equal digests {ms(v)} (all keys "
                   f"{ms(f['keys_ms'])}; telemetry up {ms(f['up_ms'])}; first member seen "
                   f"{ms(j)}); from that first member to equal digests")
            d = None if v is None or j is None else v - j
            figs.append((f"catch-up {x['store_keys'] // 1000}k", d, t))
            lines.append(f"| {lbl} | {ms(d)} | {t} ms | "
                         + (f"{d / t:.2f} |" if d is not None else "- |"))
        elif p == "partition":
            v = x["from_heal"]["digest_ms"]
            figs.append(("partition repair", v, 2000))
            lines.append(f"| {x['seconds']} s partition, {x['div_keys_per_side']:,} divergent keys "
                         f"per side: heal to equal digests (every node sees all alive: "
                         f"{ms(x['from_heal']['joined_ms'])}; all keys: "
                         f"{ms(x['from_heal']['keys_ms'])}) | {ms(v)} | 2000 ms | "
                         + (f"{v / 2000:.2f} |" if v else "- |"))
        elif p == "rest":
            cpu = max(x["cpu_pct"])
            fr = max(x["frames_per_s_per_peer"])
            ae = max(x["ae_digests_sent_per_s_per_peer"])
            lines.append(f"| at rest, {x['seconds']:.0f} s: meshd CPU per node (whole process, "
                         f"{', '.join(f'{c:.2f}' for c in x['cpu_pct'])} %) | {cpu:.2f} % | 1 % | "
                         f"{cpu:.2f} |")
            lines.append(f"| at rest: anti-entropy digests sent per peer and second (max) | "
                         f"{ae:.2f} | 1 | {ae:.2f} |")
            lines.append(f"| at rest: all frames sent per peer and second (SWIM included; "
                         f"max) | {fr:.2f} | - | - |")
        elif p == "tombs":
            v = x["after_delete"]["all_gone_ms"]
            figs.append(("tombstone GC - grace", None if v is None else v - 300000, 2000))
            lines.append(f"| {x['keys']:,} deletes: tombstones gone from every node after the "
                         f"delete (grace 300 s) | {ms(v)} | 302000 ms | "
                         + (f"{v / 302000:.3f} |" if v else "- |"))
        elif p in ("load", "delete"):
            lines.append(f"| {p} {x['keys']:,} keys on n1 (client API, "
                         f"{x['load']['ops_per_s']:,.0f} ops/s), replicated to all | "
                         f"{ms(x['replicated']['digest_ms'])} | - | - |")
    lines += ["", "Counters after the partition (per node):", "", "```"]
    lines += [json.dumps(x) for x in r if x["phase"] == "counters"]
    lines += ["```", ""]
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines))
    dat = out + ".dat"
    with open(dat, "w") as f:
        for i, (lbl, v, t) in enumerate(figs):
            f.write(f'{i} "{lbl}" {v if v is not None else "NaN"} {t}\n')
    try:
        subprocess.run(["gnuplot"], check=True, input=f"""
set terminal png size 1100,600
set output "{out}.png"
set title "meshd convergence (3 nodes, one shared 2-CPU host): measured vs issue 13 target"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "ms"
set logscale y
set yrange [1:*]
set grid ytics
set xtics rotate by -20
plot "{dat}" using 3:xtic(2) title "measured", "" using 4 title "target"
""".encode())
        print(f"plot: {out}.png", file=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"no plot ({e})", file=sys.stderr)
    os.remove(dat)
    print(f"results: {out}.md", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
