#!/usr/bin/env python3
"""analyze.py: summarise one tarantool SWIM peer run (bench/peers/tarantool/run.sh).

    analyze.py DIR [--quiet]
    analyze.py --combine OUTDIR DIR [DIR...]     (repeats of one configuration)

peer.lua writes the memberlist peer's event format (apply / member / cpu / writer_done /
summary lines), so the per-run numbers come from bench/peers/memberlist/analyze.py's
analyze() and mean the same thing; see that file for the definitions (dissemination per
receiver and to all, delivered %, detection, idle and update-phase CPU, false dead).
This file adds what is specific to SWIM payloads and tarantool's failure detector, and
writes DIR/summary.json (same keys as memberlist's, "peer": "tarantool") and
DIR/summary.md. Python 3 standard library only.

What "delivered" means here: SWIM keeps one payload per member (last writer wins); a
receiver only ever sees the newest payload when news about the writer reaches it, so
payload updates that are overwritten before they travel are never observed. delivered %
= observed (update, receiver) pairs / (updates sent x (N - 1)); it measures how much of a
fast update stream SWIM payloads can carry, not a loss of the final state. The final
state is reported separately: last_update_delivered_pct = receivers whose highest
observed sequence number is the last one sent.

Tarantool-specific additions:
- skipped_seq: sequence numbers jumped over by receivers (overwritten in transit);
- suspect_ms: SIGKILL -> first "suspected" per survivor (tarantool marks a member
  suspected after one missed ack, dead after NO_ACKS_TO_DEAD = 3);
- false_suspected: "suspected" events about live nodes before the stop;
- detection_ms / false_dead: recomputed so that only "dead" at or after the kill counts
  as detection (a false "dead" of the victim before the kill is a false positive);
- detection_ms.never: true when no survivor declared the victim dead within the kill wait
  (detection_ms.median is then null, detection_ms.waited_s says how long was waited);
- leave_ms: SIGTERM of the leaver (peer.lua runs swim:quit(), which sends "left") until
  each other live peer reports it "left"; median/max over those peers.
"""
import importlib.util
import json
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "memberlist_analyze", os.path.join(_here, "..", "memberlist", "analyze.py"))
ml = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ml)
pct, median, load = ml.pct, ml.median, ml.load


def analyze(d):
    s = ml.analyze(d)
    meta = s["meta"]
    s.pop("memberlist_version", None)
    s["peer"] = "tarantool"
    s["tarantool_version"] = meta.get("tarantool_version")
    s["tarantool_deb"] = meta.get("tarantool_deb")

    nodes = {}
    for name in (f"n{i}" for i in range(1, meta["nodes"] + 1)):
        p = os.path.join(d, f"{name}.jsonl")
        nodes[name] = load(p) if os.path.exists(p) else []
    writer = meta.get("writer", "n1")
    victim = meta.get("victim") or None
    kill_ns = meta.get("kill_ns") or 0
    stop_ns = meta.get("stop_ns") or 0
    sent = s["updates_sent"]

    skipped = 0
    last_ok = 0
    receivers = 0
    for name, evs in nodes.items():
        if name == writer:
            continue
        receivers += 1
        hi = None
        for e in evs:
            if e.get("ev") == "apply" and e.get("origin") == writer:
                skipped += e.get("skipped", 0)
                hi = e["seq"] if hi is None else max(hi, e["seq"])
        if sent and hi == sent - 1:
            last_ok += 1
    s["skipped_seq"] = skipped
    s["last_update_delivered_pct"] = 100.0 * last_ok / receivers if receivers else None

    # Detection and false "dead", recomputed: memberlist's analyze() takes the victim's
    # first "dead" even when it precedes the kill (a false positive that later refuted);
    # here only "dead" at or after the kill counts as detection, earlier ones are false.
    det, false_dead = {}, []
    for name, evs in nodes.items():
        for e in evs:
            if e.get("ev") != "member" or e.get("state") != "dead":
                continue
            t = e.get("t_ns", 0)
            if stop_ns and t >= stop_ns:
                continue
            if victim and e["node"] == victim and kill_ns and t >= kill_ns:
                if name != victim and name not in det:
                    det[name] = t - kill_ns
            else:
                false_dead.append({"observer": name, "node": e["node"], "t_ns": t})
    dv = sorted(det.values())
    s["false_dead"], s["false_dead_events"] = len(false_dead), false_dead[:20]
    s["_raw"]["det_ns"] = dv
    if victim:
        s["detection_ms"] = {
            "victim": victim, "survivors": meta["nodes"] - 1, "detected": len(dv),
            "median": median(dv) / 1e6 if dv else None,
            "first": dv[0] / 1e6 if dv else None, "max": dv[-1] / 1e6 if dv else None,
            "all_detected": len(dv) == meta["nodes"] - 1,
            "per_node": {k: v / 1e6 for k, v in sorted(det.items())},
        }

    susp = {}
    false_susp = []
    leaver, leave_ns = meta.get("leaver") or None, meta.get("leave_ns") or 0
    left = {}
    for name, evs in nodes.items():
        for e in evs:
            if e.get("ev") != "member":
                continue
            st, t = e.get("state"), e.get("t_ns", 0)
            if stop_ns and t >= stop_ns:
                continue
            if st == "left" and leaver and e["node"] == leaver and leave_ns and t >= leave_ns:
                left.setdefault(name, t - leave_ns)
            if st != "suspected":
                continue
            if victim and e["node"] == victim and kill_ns and t >= kill_ns:
                if name != victim and name not in susp:
                    susp[name] = t - kill_ns
            else:
                false_susp.append({"observer": name, "node": e["node"], "t_ns": t})
    sv = sorted(susp.values())
    s["suspect_ms"] = ({"median": median(sv) / 1e6, "first": sv[0] / 1e6, "max": sv[-1] / 1e6,
                        "survivors": len(sv)} if sv else None)
    s["false_suspected"] = len(false_susp)
    s["false_suspected_events"] = false_susp[:20]
    lv = sorted(left.values())
    observers = meta["nodes"] - 1 - (1 if victim else 0)
    s["leave_ms"] = ({"leaver": leaver, "observers": observers, "seen": len(lv),
                      "median": median(lv) / 1e6 if lv else None,
                      "max": lv[-1] / 1e6 if lv else None,
                      "per_node": {k: v / 1e6 for k, v in sorted(left.items())}}
                     if leaver else None)
    det = s.get("detection_ms")
    if det is not None:
        det["waited_s"] = meta.get("kill_wait_s")
        det["never"] = det["detected"] == 0
    start = next((e for e in nodes.get(writer, []) if e.get("ev") == "start"), {})
    s["config"] = start.get("config", {})
    return s


def fv(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def fms(v):
    if v is None:
        return "–"
    return f"{v / 1e3:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def profile_label(s):
    cfg = s.get("config") or {}
    lab = s["profile"]
    if cfg:
        lab += (f" (heartbeat {cfg.get('heartbeat_rate_ms'):g} ms, ack {cfg.get('ack_timeout_ms'):g} ms"
                f"{', library defaults' if cfg.get('library_defaults') else ''})")
    if s.get("peer_args"):
        lab += f" [{s['peer_args']}]"
    return lab


def det_text(det):
    if not det:
        return "–"
    if det.get("never"):
        return f"never (0/{det['survivors']} in {det.get('waited_s')} s)"
    t = fms(det["median"])
    if not det.get("all_detected"):
        t += f" ({det['detected']}/{det['survivors']} survivors)"
    return t


def leave_row(lv):
    if not lv:
        return "| graceful leave (SIGTERM → \"left\") | not measured |"
    return (f"| graceful leave (SIGTERM {lv['leaver']} → \"left\") median / max | {fms(lv['median'])} / "
            f"{fms(lv['max'])} ({lv['seen']}/{lv['observers']} peers) |")


def markdown(s):
    d, a, det = s["dissemination_ms"], s["dissemination_to_all_ms"], s["detection_ms"]
    prof = profile_label(s)
    lines = [f"### tarantool {s.get('tarantool_version')} SWIM — {prof}, N = {s['nodes']}, "
             f"loss {s['loss_pct']} %, {s['updates_sent']} payload updates at {s['rate_per_s']}/s", "",
             "| metric | value |", "|---|---|",
             f"| dissemination per receiver p50 / p90 / p99 / max | {fv(d['p50'], 2)} / {fv(d['p90'], 2)} / "
             f"{fv(d['p99'], 2)} / {fv(d['max'], 2)} ms ({d['count']} observed) |",
             f"| dissemination to all p50 / p90 / p99 / max | {fv(a['p50'], 2)} / {fv(a['p90'], 2)} / "
             f"{fv(a['p99'], 2)} / {fv(a['max'], 2)} ms ({a['count']} updates seen by every node) |",
             f"| delivered (observed update × receiver pairs; payloads overwrite each other) | "
             f"{fv(s['delivered_pct'], 2)} %; {fv(s['updates_complete_pct'], 1)} % of updates seen by every node; "
             f"{s['skipped_seq']} sequence numbers skipped |",
             f"| last update reached | {fv(s['last_update_delivered_pct'], 1)} % of receivers |"]
    if det:
        lines.append(f"| detection (SIGKILL {det['victim']} → dead) median / first / max | "
                     f"{det_text(det)} / {fms(det['first'])} / {fms(det['max'])} "
                     f"({det['detected']}/{det['survivors']} survivors, waited ≤ {det.get('waited_s')} s) |")
        su = s.get("suspect_ms")
        lines.append(f"| SIGKILL → suspected median / max | "
                     f"{fms(su['median']) if su else '–'} / {fms(su['max']) if su else '–'} |")
    else:
        lines.append("| detection | not measured (no --kill) |")
    lines += [f"| false \"dead\" / \"suspected\" (live nodes) | {s['false_dead']} / {s['false_suspected']} |",
              f"| idle CPU per node mean / max | {fv(s['idle_cpu_pct_node_mean'], 3)} / "
              f"{fv(s['idle_cpu_pct_node_max'], 3)} % of a core ({s['idle_window_s']} s window) |"]
    up = s["update_phase"]
    lines += [f"| update phase CPU, all nodes | {fv(up['cpu_pct_all_nodes'], 1)} % of a core over "
              f"{fv(up['wall_s'], 1)} s; {fv(up['cpu_us_per_update_all_nodes'], 0)} µs/update total, "
              f"{fv(up['cpu_us_per_update_above_idle'], 0)} µs/update above idle |",
              leave_row(s.get("leave_ms")), "",
              f"host load average at start / end: {s['meta'].get('loadavg_start', '?')} / "
              f"{s['meta'].get('loadavg_end', '?')} ({s['meta'].get('cpus')} CPUs)", "",
              "idle CPU % per node: " + ", ".join(f"{k} {v:.3f}" for k, v in s["idle_cpu_pct_per_node"].items())]
    if det and det.get("per_node"):
        lines += ["", "detection per survivor: " + ", ".join(f"{k} {fms(v)}" for k, v in det["per_node"].items())]
    lines += ["", "Row for the side-by-side table (dissemination to all p50 / p99, delivered, "
              "detection median, idle CPU/node):", "",
              "| peer, config | N | dissemination p50 / p99 | delivered | detection median | CPU/node idle |",
              "|---|---|---|---|---|---|",
              f"| tarantool SWIM, {prof} | {s['nodes']} | {fv(a['p50'], 1)} / {fv(a['p99'], 1)} ms | "
              f"{fv(s['delivered_pct'], 1)} % | {det_text(det)} | {fv(s['idle_cpu_pct_node_mean'], 2)} % |"]
    return "\n".join(lines) + "\n"


def combine(outdir, sums):
    """Pool repeats of one configuration: latencies and per-survivor detection samples
    pooled, delivered % = total observed / total expected, idle CPU = mean over all nodes."""
    first = sums[0]
    to_all = sorted(x for s in sums for x in s["_raw"]["to_all_ns"])
    det = sorted(x for s in sums for x in s["_raw"]["det_ns"])
    kills = [s["detection_ms"] for s in sums if s.get("detection_ms")]
    applies = sum(s["_raw"]["applies"] for s in sums)
    expected = sum(s["_raw"]["expected"] for s in sums)
    idle = [x for s in sums for x in s["_raw"]["idle"]]

    def q(p):
        return pct(to_all, p) / 1e6 if to_all else None

    c = {
        "peer": "tarantool", "tarantool_version": first.get("tarantool_version"),
        "profile": first["profile"], "peer_args": first.get("peer_args", ""),
        "config": first.get("config", {}), "nodes": first["nodes"], "loss_pct": first["loss_pct"],
        "repeats": len(sums), "runs": [s["meta"].get("run_dir") for s in sums],
        "updates_sent": sum(s["updates_sent"] for s in sums), "rate_per_s": first.get("rate_per_s"),
        "dissemination_to_all_ms": {
            "count": len(to_all), "p50": q(50), "p90": q(90), "p99": q(99),
            "max": to_all[-1] / 1e6 if to_all else None,
            "p50_per_run": [s["dissemination_to_all_ms"]["p50"] for s in sums],
            "p99_per_run": [s["dissemination_to_all_ms"]["p99"] for s in sums],
        },
        "delivered_pct": 100.0 * applies / expected if expected else None,
        "delivered_pct_per_run": [s["delivered_pct"] for s in sums],
        "last_update_delivered_pct_per_run": [s["last_update_delivered_pct"] for s in sums],
        "detection_ms": {
            "samples": len(det), "kills": len(kills),
            "median": median(det) / 1e6 if det else None, "max": det[-1] / 1e6 if det else None,
            "median_per_kill": [k["median"] for k in kills],
            "never": all(k.get("never") for k in kills),
        } if kills else None,
        "false_dead": sum(s["false_dead"] for s in sums),
        "false_suspected": sum(s["false_suspected"] for s in sums),
        "idle_cpu_pct_node_mean": sum(idle) / len(idle) if idle else None,
        "idle_cpu_pct_node_max": max(idle) if idle else None,
    }
    a, dc = c["dissemination_to_all_ms"], c["detection_ms"]
    dtxt = "–"
    if dc:
        dtxt = "never" if dc["never"] else f"{fms(dc['median'])} ({fms(dc['max'])})"
    md = [f"### tarantool {c['tarantool_version']} SWIM — {profile_label(c)}, N = {c['nodes']}, "
          f"loss {c['loss_pct']} %, {c['repeats']} repeats pooled", "",
          "| peer, config | N | dissemination p50 / p99 | delivered | detection median (max) | CPU/node idle | false dead / suspected |",
          "|---|---|---|---|---|---|---|",
          f"| tarantool SWIM, {profile_label(c)} | {c['nodes']} | {fv(a['p50'])} / {fv(a['p99'])} ms | "
          f"{fv(c['delivered_pct'])} % | {dtxt} | {fv(c['idle_cpu_pct_node_mean'], 2)} % | "
          f"{c['false_dead']} / {c['false_suspected']} |", "",
          "per run p50 / p99 (ms): " + ", ".join(f"{fv(x)} / {fv(y)}" for x, y in zip(a["p50_per_run"], a["p99_per_run"])),
          "per run delivered (%): " + ", ".join(fv(x, 2) for x in c["delivered_pct_per_run"])]
    if dc:
        md.append("per kill detection median: " + ", ".join(fms(x) for x in dc["median_per_kill"]))
    md = "\n".join(md) + "\n"
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "combined.json"), "w") as fh:
        json.dump(c, fh, indent=1, sort_keys=True)
        fh.write("\n")
    with open(os.path.join(outdir, "combined.md"), "w") as fh:
        fh.write(md)
    return md


def write_run(d, s):
    ml.write_summary(d, s)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(markdown(s))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    quiet = "--quiet" in argv
    if argv[1] == "--combine":
        if len(argv) < 4:
            print(__doc__)
            return 2
        outdir, dirs = argv[2], [x for x in argv[3:] if x != "--quiet"]
        sums = []
        for d in dirs:
            s = analyze(d)
            s["meta"]["run_dir"] = d
            write_run(d, s)
            sums.append(s)
        md = combine(outdir, sums)
        if not quiet:
            sys.stdout.write(md + f"\n(written: {outdir}/combined.md, {outdir}/combined.json)\n")
        return 0
    d = argv[1]
    s = analyze(d)
    write_run(d, s)
    if not quiet:
        sys.stdout.write(markdown(s) + f"\n(written: {d}/summary.md, {d}/summary.json)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
