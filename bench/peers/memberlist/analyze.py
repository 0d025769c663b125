#!/usr/bin/env python3
"""analyze.py: summarise one memberlist peer run (bench/peers/memberlist/run.sh).

    analyze.py DIR [--quiet]
    analyze.py --combine OUTDIR DIR [DIR...]     (repeats of one configuration)

Reads DIR/meta.json and DIR/n<i>.jsonl (written by memberlist-peer), prints a markdown
table and writes DIR/summary.md and DIR/summary.json (machine-readable, for the
side-by-side harness). With --combine, also pools the repeats: latencies and
per-survivor detection samples are pooled, delivered % is total applies / total
expected, idle CPU is the mean over all nodes of all repeats; written to
OUTDIR/combined.md and OUTDIR/combined.json. Python 3 standard library only.

Metrics
- dissemination, per (update, receiver): apply_ns - origin_ns on every non-origin node
  that applied the update; p50/p90/p99/max over all such pairs.
- dissemination to all (anchors.md §7 definition): per update, the time until the LAST
  other node applied it; only updates that reached every other node count.
- delivered % = applies / (updates sent x (N - 1)); receivers that were SIGKILLed later
  still count (the kill happens after the update phase and its drain).
- detection: per survivor, first "dead" event for the victim minus the kill time
  (CLOCK_REALTIME); median/max over survivors, plus first (any survivor) and last (all).
- idle CPU per node: (user+sys CPU between marks 0 and 1) / wall time of that window,
  in % of one core (getrusage RUSAGE_SELF in the peer, all threads).
- update-phase CPU: same between marks 2 and 3, summed over nodes, also per update.
- false positives: "dead" events for any node other than the victim before stop_ns.
Percentiles are nearest-rank.
"""
import glob
import json
import math
import os
import re
import sys


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def median(vals):
    s = sorted(vals)
    if not s:
        return None
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def load(path):
    evs = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                evs.append(json.loads(line))
            except ValueError:
                pass  # a truncated last line after SIGKILL
    return evs


def fmt_ms(ns, digits=1):
    return "–" if ns is None else f"{ns / 1e6:.{digits}f}"


def fmt_s_or_ms(ns):
    if ns is None:
        return "–"
    return f"{ns / 1e9:.2f} s" if ns >= 1e9 else f"{ns / 1e6:.0f} ms"


def analyze(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    files = sorted(glob.glob(os.path.join(d, "n*.jsonl")),
                   key=lambda p: int(re.sub(r"\D", "", os.path.basename(p)) or 0))
    nodes = {}
    for p in files:
        name = os.path.basename(p)[:-len(".jsonl")]
        nodes[name] = load(p)
    n = meta["nodes"]
    writer = meta.get("writer", "n1")
    victim = meta.get("victim") or None
    stop_ns = meta.get("stop_ns") or 0

    # sent updates
    sent = 0
    for e in nodes.get(writer, []):
        if e.get("ev") == "writer_done":
            sent = e.get("sent", 0)
    if not sent:
        for e in nodes.get(writer, []):
            if e.get("ev") == "summary":
                sent = e.get("sent", 0)

    # dissemination
    lat = []  # per (update, receiver)
    per_update = {}  # seq -> list of latencies
    applies = 0
    for name, evs in nodes.items():
        if name == writer:
            continue
        for e in evs:
            if e.get("ev") != "apply" or e.get("origin") != writer:
                continue
            dt = e["apply_ns"] - e["origin_ns"]
            lat.append(dt)
            per_update.setdefault(e["seq"], []).append(dt)
            applies += 1
    lat.sort()
    receivers = n - 1
    to_all = sorted(max(v) for v in per_update.values() if len(v) >= receivers)
    expected = sent * receivers
    delivered = 100.0 * applies / expected if expected else None
    complete_updates = len(to_all)

    # detection
    det = {}
    false_pos = []
    for name, evs in nodes.items():
        for e in evs:
            if e.get("ev") != "member" or e.get("state") != "dead":
                continue
            if stop_ns and e["t_ns"] >= stop_ns:
                continue
            if victim and e["node"] == victim and meta.get("kill_ns"):
                if name != victim and name not in det:
                    det[name] = e["t_ns"] - meta["kill_ns"]
            else:
                false_pos.append({"observer": name, "node": e["node"], "t_ns": e["t_ns"]})
    det_vals = sorted(det.values())
    survivors = n - 1 if victim else 0

    # CPU marks
    def marks(evs):
        return {e["mark"]: e for e in evs if e.get("ev") == "cpu"}

    idle = {}
    upd_cpu_ns = 0
    upd_wall_ns = None
    for name, evs in nodes.items():
        m = marks(evs)
        if 0 in m and 1 in m:
            c = (m[1]["utime_ns"] + m[1]["stime_ns"]) - (m[0]["utime_ns"] + m[0]["stime_ns"])
            w = m[1]["t_ns"] - m[0]["t_ns"]
            if w > 0:
                idle[name] = 100.0 * c / w
        if 2 in m and 3 in m:
            upd_cpu_ns += (m[3]["utime_ns"] + m[3]["stime_ns"]) - (m[2]["utime_ns"] + m[2]["stime_ns"])
            w = m[3]["t_ns"] - m[2]["t_ns"]
            upd_wall_ns = w if upd_wall_ns is None else max(upd_wall_ns, w)
    idle_vals = list(idle.values())
    idle_total_pct = sum(idle_vals)
    upd_cpu_pct_total = 100.0 * upd_cpu_ns / upd_wall_ns if upd_wall_ns else None
    # CPU attributable to updates: update-phase CPU minus the idle rate over the same wall time
    extra_ns = None
    if upd_wall_ns and idle_vals:
        extra_ns = upd_cpu_ns - idle_total_pct / 100.0 * upd_wall_ns

    dups = sum(e.get("dups", 0) for evs in nodes.values() for e in evs if e.get("ev") == "summary")
    start = next((e for e in nodes.get(writer, []) if e.get("ev") == "start"), {})

    summary = {
        "peer": "memberlist",
        "memberlist_version": meta.get("memberlist_version"),
        "profile": meta["profile"],
        "peer_args": meta.get("peer_args", ""),
        "config": start.get("config", {}),
        "nodes": n,
        "loss_pct": meta.get("loss_pct", 0),
        "updates_sent": sent,
        "rate_per_s": meta.get("rate"),
        "value_size": meta.get("value_size"),
        "dissemination_ms": {
            "count": len(lat),
            "p50": lat and pct(lat, 50) / 1e6, "p90": lat and pct(lat, 90) / 1e6,
            "p99": lat and pct(lat, 99) / 1e6, "max": lat and lat[-1] / 1e6,
        },
        "dissemination_to_all_ms": {
            "count": complete_updates,
            "p50": to_all and pct(to_all, 50) / 1e6, "p90": to_all and pct(to_all, 90) / 1e6,
            "p99": to_all and pct(to_all, 99) / 1e6, "max": to_all and to_all[-1] / 1e6,
        },
        "delivered_pct": delivered,
        "updates_complete_pct": 100.0 * complete_updates / sent if sent else None,
        "duplicate_receipts": dups,
        "detection_ms": None,
        "false_dead": len(false_pos),
        "false_dead_events": false_pos[:20],
        "idle_cpu_pct_per_node": {k: round(v, 3) for k, v in idle.items()},
        "idle_cpu_pct_node_mean": (sum(idle_vals) / len(idle_vals)) if idle_vals else None,
        "idle_cpu_pct_node_max": max(idle_vals) if idle_vals else None,
        "idle_window_s": meta.get("idle_s"),
        "update_phase": {
            "wall_s": upd_wall_ns / 1e9 if upd_wall_ns else None,
            "cpu_s_all_nodes": upd_cpu_ns / 1e9,
            "cpu_pct_all_nodes": upd_cpu_pct_total,
            "cpu_us_per_update_all_nodes": (upd_cpu_ns / sent / 1e3) if sent else None,
            "cpu_us_per_update_above_idle": (extra_ns / sent / 1e3) if (sent and extra_ns is not None) else None,
        },
        "meta": meta,
        "_raw": {"to_all_ns": to_all, "det_ns": det_vals, "applies": applies,
                 "expected": expected, "complete": complete_updates, "idle": idle_vals,
                 "upd_cpu_ns": upd_cpu_ns, "upd_extra_ns": extra_ns},
    }
    if victim:
        summary["detection_ms"] = {
            "victim": victim, "survivors": survivors, "detected": len(det_vals),
            "median": median(det_vals) / 1e6 if det_vals else None,
            "first": det_vals[0] / 1e6 if det_vals else None,
            "max": det_vals[-1] / 1e6 if det_vals else None,
            "all_detected": len(det_vals) == survivors,
            "per_node": {k: v / 1e6 for k, v in sorted(det.items())},
        }
    for k in ("dissemination_ms", "dissemination_to_all_ms"):
        for q in ("p50", "p90", "p99", "max"):
            if summary[k][q] == []:
                summary[k][q] = None
    return summary


def markdown(s):
    d, a, det = s["dissemination_ms"], s["dissemination_to_all_ms"], s["detection_ms"]
    cfg = s.get("config", {})
    prof = s["profile"]
    if cfg:
        prof += (f" (probe {cfg.get('ProbeInterval_ms'):g}/{cfg.get('ProbeTimeout_ms'):g} ms, "
                 f"gossip {cfg.get('GossipInterval_ms'):g} ms)")
    if s.get("peer_args"):
        prof += f" [{s['peer_args']}]"

    def f(v, digits=1):
        return "–" if v is None else f"{v:.{digits}f}"

    def fms(v):
        if v is None:
            return "–"
        return f"{v / 1e3:.2f} s" if v >= 1000 else f"{v:.0f} ms"

    lines = []
    lines.append(f"### memberlist {s.get('memberlist_version')} — {prof}, N = {s['nodes']}, "
                 f"loss {s['loss_pct']} %, {s['updates_sent']} updates at {s['rate_per_s']}/s")
    lines.append("")
    lines.append("| metric | value |")
    lines.append("|---|---|")
    lines.append(f"| dissemination per receiver p50 / p90 / p99 / max | {f(d['p50'], 2)} / {f(d['p90'], 2)} / "
                 f"{f(d['p99'], 2)} / {f(d['max'], 2)} ms ({d['count']} samples) |")
    lines.append(f"| dissemination to all p50 / p90 / p99 / max | {f(a['p50'], 2)} / {f(a['p90'], 2)} / "
                 f"{f(a['p99'], 2)} / {f(a['max'], 2)} ms ({a['count']} updates reached all) |")
    lines.append(f"| delivered | {f(s['delivered_pct'], 2)} % of updates × receivers; "
                 f"{f(s['updates_complete_pct'], 1)} % of updates reached every node |")
    if det:
        lines.append(f"| detection (SIGKILL {det['victim']} → dead) median / first / max | "
                     f"{fms(det['median'])} / {fms(det['first'])} / {fms(det['max'])} "
                     f"({det['detected']}/{det['survivors']} survivors) |")
    else:
        lines.append("| detection | not measured (no --kill) |")
    lines.append(f"| false \"dead\" (live nodes) | {s['false_dead']} |")
    lines.append(f"| idle CPU per node mean / max | {f(s['idle_cpu_pct_node_mean'], 2)} / "
                 f"{f(s['idle_cpu_pct_node_max'], 2)} % of a core ({s['idle_window_s']} s window) |")
    up = s["update_phase"]
    lines.append(f"| update phase CPU, all nodes | {f(up['cpu_pct_all_nodes'], 1)} % of a core over "
                 f"{f(up['wall_s'], 1)} s; {f(up['cpu_us_per_update_all_nodes'], 0)} µs/update total, "
                 f"{f(up['cpu_us_per_update_above_idle'], 0)} µs/update above idle |")
    lines.append(f"| duplicate receipts (all nodes) | {s['duplicate_receipts']} |")
    lines.append("")
    lines.append("idle CPU % per node: " + ", ".join(f"{k} {v:.2f}" for k, v in s["idle_cpu_pct_per_node"].items()))
    if det and det.get("per_node"):
        lines.append("")
        lines.append("detection per survivor: " + ", ".join(f"{k} {fms(v)}" for k, v in det["per_node"].items()))
    lines.append("")
    lines.append("Row for the side-by-side table (dissemination to all p50 / p99, delivered, "
                 "detection median, idle CPU/node):")
    lines.append("")
    lines.append("| peer, config | N | dissemination p50 / p99 | delivered | detection median | CPU/node idle |")
    lines.append("|---|---|---|---|---|---|")
    lines.append(f"| memberlist, {prof} | {s['nodes']} | {f(a['p50'], 1)} / {f(a['p99'], 1)} ms | "
                 f"{f(s['delivered_pct'], 1)} % | {fms(det['median']) if det else '–'} | "
                 f"{f(s['idle_cpu_pct_node_mean'], 2)} % |")
    return "\n".join(lines) + "\n"


def combine(outdir, sums):
    """Pool several runs of one configuration (see module doc)."""
    first = sums[0]
    to_all = sorted(x for s in sums for x in s["_raw"]["to_all_ns"])
    det = sorted(x for s in sums for x in s["_raw"]["det_ns"])
    kill_medians = sorted(s["detection_ms"]["median"] for s in sums
                          if s.get("detection_ms") and s["detection_ms"]["median"] is not None)
    applies = sum(s["_raw"]["applies"] for s in sums)
    expected = sum(s["_raw"]["expected"] for s in sums)
    sent = sum(s["updates_sent"] for s in sums)
    complete = sum(s["_raw"]["complete"] for s in sums)
    idle = [x for s in sums for x in s["_raw"]["idle"]]
    extra = [s["_raw"]["upd_extra_ns"] for s in sums if s["_raw"]["upd_extra_ns"] is not None]
    c = {
        "peer": "memberlist", "memberlist_version": first.get("memberlist_version"),
        "profile": first["profile"], "peer_args": first.get("peer_args", ""),
        "config": first.get("config", {}), "nodes": first["nodes"], "loss_pct": first["loss_pct"],
        "repeats": len(sums), "runs": [s["meta"].get("run_dir") for s in sums],
        "updates_sent": sent, "rate_per_s": first.get("rate_per_s"),
        "dissemination_to_all_ms": {
            "count": len(to_all),
            "p50": pct(to_all, 50) / 1e6 if to_all else None, "p90": pct(to_all, 90) / 1e6 if to_all else None,
            "p99": pct(to_all, 99) / 1e6 if to_all else None, "max": to_all[-1] / 1e6 if to_all else None,
            "p50_per_run": [s["dissemination_to_all_ms"]["p50"] for s in sums],
            "p99_per_run": [s["dissemination_to_all_ms"]["p99"] for s in sums],
        },
        "delivered_pct": 100.0 * applies / expected if expected else None,
        "delivered_pct_per_run": [s["delivered_pct"] for s in sums],
        "updates_complete_pct": 100.0 * complete / sent if sent else None,
        "detection_ms": {
            "samples": len(det), "kills": len(kill_medians),
            "median": median(det) / 1e6 if det else None,
            "max": det[-1] / 1e6 if det else None,
            "median_per_kill": kill_medians,
        } if kill_medians else None,
        "false_dead": sum(s["false_dead"] for s in sums),
        "idle_cpu_pct_node_mean": sum(idle) / len(idle) if idle else None,
        "idle_cpu_pct_node_max": max(idle) if idle else None,
        "cpu_us_per_update_above_idle": (sum(extra) / sent / 1e3) if (extra and sent) else None,
    }
    a, det_c = c["dissemination_to_all_ms"], c["detection_ms"]
    cfg = c["config"]
    prof = c["profile"]
    if cfg:
        prof += (f" (probe {cfg.get('ProbeInterval_ms'):g}/{cfg.get('ProbeTimeout_ms'):g} ms, "
                 f"gossip {cfg.get('GossipInterval_ms'):g} ms)")
    if c["peer_args"]:
        prof += f" [{c['peer_args']}]"

    def f(v, digits=1):
        return "–" if v is None else f"{v:.{digits}f}"

    def fms(v):
        if v is None:
            return "–"
        return f"{v / 1e3:.2f} s" if v >= 1000 else f"{v:.0f} ms"

    md = [f"### memberlist {c['memberlist_version']} — {prof}, N = {c['nodes']}, loss {c['loss_pct']} %, "
          f"{c['repeats']} repeats pooled", "",
          "| peer, config | N | dissemination p50 / p99 | delivered | detection median (max) | CPU/node idle | false dead |",
          "|---|---|---|---|---|---|---|",
          f"| memberlist, {prof} | {c['nodes']} | {f(a['p50'])} / {f(a['p99'])} ms | {f(c['delivered_pct'])} % | "
          f"{fms(det_c['median']) if det_c else '–'} ({fms(det_c['max']) if det_c else '–'}) | "
          f"{f(c['idle_cpu_pct_node_mean'], 2)} % | {c['false_dead']} |", "",
          "per run p50 / p99 (ms): " + ", ".join(f"{f(x)} / {f(y)}" for x, y in zip(a["p50_per_run"], a["p99_per_run"])),
          "per run delivered (%): " + ", ".join(f(x, 2) for x in c["delivered_pct_per_run"])]
    if det_c:
        md.append("per kill detection median: " + ", ".join(fms(x) for x in det_c["median_per_kill"]))
    md = "\n".join(md) + "\n"
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "combined.json"), "w") as fh:
        json.dump(c, fh, indent=1, sort_keys=True)
        fh.write("\n")
    with open(os.path.join(outdir, "combined.md"), "w") as fh:
        fh.write(md)
    return md


def write_summary(d, s):
    s = dict(s)
    s.pop("_raw", None)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(s, f, indent=1, sort_keys=True)
        f.write("\n")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    if argv[1] == "--combine":
        if len(argv) < 4:
            print(__doc__)
            return 2
        outdir, dirs = argv[2], [x for x in argv[3:] if x != "--quiet"]
        sums = []
        for d in dirs:
            s = analyze(d)
            s["meta"]["run_dir"] = d
            write_summary(d, s)
            with open(os.path.join(d, "summary.md"), "w") as f:
                f.write(markdown(s))
            sums.append(s)
        md = combine(outdir, sums)
        if "--quiet" not in argv:
            sys.stdout.write(md)
            sys.stdout.write(f"\n(written: {outdir}/combined.md, {outdir}/combined.json)\n")
        return 0
    d = argv[1]
    s = analyze(d)
    md = markdown(s)
    write_summary(d, s)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(md)
    if "--quiet" not in argv:
        sys.stdout.write(md)
        sys.stdout.write(f"\n(written: {d}/summary.md, {d}/summary.json)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
