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
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "memberlist_analyze", os.path.join(_here, "..", "memberlist", "analyze.py"))
ml = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ml)
median, load, fv, fms = ml.median, ml.load, ml.fv, ml.fms


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
    det, false_dead = ml.first_state_since(nodes, "dead", victim, kill_ns, stop_ns)
    s["false_dead"], s["false_dead_events"] = len(false_dead), false_dead[:20]
    s["_raw"]["det_ns"] = sorted(det.values())
    if victim:
        # no until_all_ms here, as before (ml.write_samples then leaves detection_ms.txt empty)
        s["detection_ms"] = ml.detection_summary(victim, meta["nodes"] - 1, det, until_all=False)

    susp, false_susp = ml.first_state_since(nodes, "suspected", victim, kill_ns, stop_ns)
    leaver, leave_ns = meta.get("leaver") or None, meta.get("leave_ns") or 0
    left, _ = ml.first_state_since(nodes, "left", leaver, leave_ns, stop_ns)
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


def tarantool_config(cfg):
    return (f" (heartbeat {cfg.get('heartbeat_rate_ms'):g} ms, ack {cfg.get('ack_timeout_ms'):g} ms"
            f"{', library defaults' if cfg.get('library_defaults') else ''})")


def profile_label(s):
    return ml.profile_label(s, tarantool_config)


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
    lines += [ml.update_phase_row(s), leave_row(s.get("leave_ms")), "",
              f"host load average at start / end: {s['meta'].get('loadavg_start', '?')} / "
              f"{s['meta'].get('loadavg_end', '?')} ({s['meta'].get('cpus')} CPUs)", ""]
    lines += ml.closing_lines(s, f"tarantool SWIM, {prof}", det_text(det), 3)
    return "\n".join(lines) + "\n"


def combine(outdir, sums):
    """Pool repeats of one configuration: latencies and per-survivor detection samples
    pooled, delivered % = total observed / total expected, idle CPU = mean over all nodes."""
    kills = [s["detection_ms"] for s in sums if s.get("detection_ms")]
    c = ml.pool(sums, "tarantool", "tarantool_version")
    c["last_update_delivered_pct_per_run"] = [s["last_update_delivered_pct"] for s in sums]
    c["detection_ms"] = None
    if kills:
        c["detection_ms"] = ml.pool_detection(sums, [k["median"] for k in kills])
        c["detection_ms"]["never"] = all(k.get("never") for k in kills)
    c["false_suspected"] = sum(s["false_suspected"] for s in sums)
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
          f"{c['false_dead']} / {c['false_suspected']} |", ""] + ml.pooled_lines(c)
    return ml.write_combined(outdir, c, md)


def main(argv):
    return ml.cli(argv, __doc__, analyze, markdown, combine)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
