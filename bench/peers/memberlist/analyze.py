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
- false positives: "dead" events for a live node before stop_ns (for the victim: before
  the kill; the leaver's events after its leave are the leave measurement).
- leave_ms (--leave): per survivor, the first NotifyLeave (state left or dead) for the
  leaver after its Leave() call (the peer's leave_start event); one sample per leave =
  the time until every survivor has seen it (median/max over samples; pooled by
  --combine). Which state each survivor recorded is kept (states, per_node).
- soak (--soak): inside the soak window, NotifyLeave events for live nodes (false_dead),
  "Suspect X has failed" log lines (suspect_events: suspicions started by a failed
  probe, summed over observers), refutations, and rejoins (alive after dead/left on the
  same observer).
- sweep (--sweep): per writer stage (rate), achieved origination rate, delivered %,
  to-all p50/p99, CPU of all nodes between the stage's marks minus the idle rate over
  the same wall time, per update; max_rate_p99_under_ms = highest rate with to-all p99
  under the bound and >= 99 % delivered.
Sample files (for CDFs): latency_to_all_ms.txt (update phase, one line per update that
reached all), detection_ms.txt (per kill, until every survivor reported dead),
leave_ms.txt (per leave), sweep_<rate>_latency_to_all_ms.txt.
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


# The helpers from here on are also used by bench/peers/tarantool/analyze.py, which imports
# this file (its peer writes the same events).


def fv(v, digits=1):
    """A number for the markdown tables ("–" for None)."""
    return "–" if v is None else f"{v:.{digits}f}"


def fms(v):
    """A duration in ms for the markdown tables: "850 ms", "1.25 s" ("–" for None)."""
    if v is None:
        return "–"
    return f"{v / 1e3:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def first_state_since(nodes, state, node, since_ns, stop_ns, keep=None):
    """Scan every observer's "member" events with the given state, up to stop_ns.
    Returns ({observer: ns after since_ns of its first such event about node at or after
    since_ns}, [the other such events, as {"observer", "node", "t_ns"}]); keep(observer,
    event, t_ns), if given, says which of the other events to list."""
    first, others = {}, []
    for name, evs in nodes.items():
        for e in evs:
            if e.get("ev") != "member" or e.get("state") != state:
                continue
            t = e.get("t_ns", 0)
            if stop_ns and t >= stop_ns:
                continue
            if node and e["node"] == node and since_ns and t >= since_ns:
                if name != node and name not in first:
                    first[name] = t - since_ns
            elif keep is None or keep(name, e, t):
                others.append({"observer": name, "node": e["node"], "t_ns": t})
    return first, others


def detection_summary(victim, survivors, det, until_all=True):
    """summary.json's detection_ms from {survivor: ns from the kill to its first "dead"}."""
    vals = sorted(det.values())
    out = {
        "victim": victim, "survivors": survivors, "detected": len(vals),
        "median": median(vals) / 1e6 if vals else None,
        "first": vals[0] / 1e6 if vals else None,
        "max": vals[-1] / 1e6 if vals else None,
        "all_detected": len(vals) == survivors,
        "per_node": {k: v / 1e6 for k, v in sorted(det.items())},
    }
    if until_all:
        out["until_all_ms"] = vals[-1] / 1e6 if (vals and len(vals) == survivors) else None
    return out


def profile_label(s, describe):
    """The profile, what describe(config) says about the peer's timers, and the extra
    peer arguments, for the markdown headings and rows."""
    cfg = s.get("config") or {}
    lab = s["profile"]
    if cfg:
        lab += describe(cfg)
    if s.get("peer_args"):
        lab += f" [{s['peer_args']}]"
    return lab


def memberlist_config(cfg):
    return (f" (probe {cfg.get('ProbeInterval_ms'):g}/{cfg.get('ProbeTimeout_ms'):g} ms, "
            f"gossip {cfg.get('GossipInterval_ms'):g} ms)")


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

    kill_ns = meta.get("kill_ns") or 0
    leaver = meta.get("leaver") or None
    writer_evs = nodes.get(writer, [])

    def stage_done(k):
        """The writer's writer_done event of stage k (old peers: no "stage" = stage 0)."""
        for e in writer_evs:
            if e.get("ev") == "writer_done" and e.get("stage", 0) == k:
                return e
        return None

    # sent updates (stage 0 = the update phase)
    sent, seq_lo = 0, 0
    d0 = stage_done(0)
    if d0:
        sent, seq_lo = d0.get("sent", 0), d0.get("seq_first", 0)
    elif not any(e.get("ev") == "writer_start" for e in writer_evs):
        for e in writer_evs:
            if e.get("ev") == "summary":
                sent = e.get("sent", 0)

    receivers = n - 1

    def dissemination(lo, cnt):
        """Applies of the writer's updates with seq in [lo, lo+cnt) on the other nodes:
        (per-receiver latencies sorted, {seq: to-all latency} for updates that reached
        every other node, applies)."""
        lat, per_update, applies = [], {}, 0
        for name, evs in nodes.items():
            if name == writer:
                continue
            for e in evs:
                if e.get("ev") != "apply" or e.get("origin") != writer:
                    continue
                if not lo <= e["seq"] < lo + cnt:
                    continue
                dt = e["apply_ns"] - e["origin_ns"]
                lat.append(dt)
                per_update.setdefault(e["seq"], []).append(dt)
                applies += 1
        lat.sort()
        to_all = {q: max(v) for q, v in per_update.items() if len(v) >= receivers}
        return lat, to_all, applies

    # dissemination
    lat, to_all_by_seq, applies = dissemination(seq_lo, sent)
    to_all = sorted(to_all_by_seq.values())
    expected = sent * receivers
    delivered = 100.0 * applies / expected if expected else None
    complete_updates = len(to_all)

    # detection (only "dead" after the kill counts; one before it is a false positive;
    # the leaver's after its leave are counted by the leave measurement)
    det, false_pos = first_state_since(
        nodes, "dead", victim, kill_ns, stop_ns,
        keep=lambda name, e, t: not (leaver and e["node"] == leaver and t >= meta.get("leave_ns", 0))
        and name != e["node"])
    det_vals = sorted(det.values())
    survivors = n - 1 if victim else 0

    # graceful leave: per survivor, the first NotifyLeave (left or dead) for the leaver
    # after the Leave() call (the peer's leave_start; the driver's SIGHUP time if absent)
    leave = None
    if leaver:
        ls = next((e for e in nodes.get(leaver, []) if e.get("ev") == "leave_start"), None)
        ld = next((e for e in nodes.get(leaver, []) if e.get("ev") == "leave_done"), None)
        t0 = ls["t_ns"] if ls else meta.get("leave_ns", 0)
        obs = {}
        for name, evs in nodes.items():
            if name in (leaver, victim):
                continue
            for e in evs:
                if (e.get("ev") == "member" and e.get("node") == leaver and e.get("state") in ("left", "dead")
                        and e["t_ns"] >= meta.get("leave_ns", 0)):
                    obs[name] = (e["t_ns"] - t0, e["state"])
                    break
        lsurv = n - 1 - (1 if victim else 0)
        vals = sorted(v for v, _ in obs.values())
        complete = len(obs) == lsurv
        leave = {
            "leaver": leaver, "survivors": lsurv, "observed": len(obs),
            "all_observed": complete,
            "all_left": complete and all(st == "left" for _, st in obs.values()),
            "states": {"left": sum(1 for _, st in obs.values() if st == "left"),
                       "dead": sum(1 for _, st in obs.values() if st == "dead")},
            "until_all_ms": vals[-1] / 1e6 if complete else None,
            "first_ms": vals[0] / 1e6 if vals else None,
            "survivor_median_ms": median(vals) / 1e6 if vals else None,
            "per_node": {k: {"ms": v / 1e6, "state": st} for k, (v, st) in sorted(obs.items())},
            "leave_call_ms": ld["leave_ns"] / 1e6 if ld else None,
            "leave_call_ok": ld.get("ok") if ld else None,
            "leave_call_err": ld.get("err") if ld else None,
        }
        samples = [leave["until_all_ms"]] if complete else []
        leave.update({"samples": samples, "median": median(samples), "max": max(samples) if samples else None})

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

    def window_cpu(m0, m1):
        """(CPU ns summed over nodes, max wall ns) between marks m0 and m1."""
        cpu, wall = 0, None
        for evs in nodes.values():
            m = marks(evs)
            if m0 in m and m1 in m:
                cpu += (m[m1]["utime_ns"] + m[m1]["stime_ns"]) - (m[m0]["utime_ns"] + m[m0]["stime_ns"])
                w = m[m1]["t_ns"] - m[m0]["t_ns"]
                wall = w if wall is None else max(wall, w)
        return cpu, wall

    # sweep: one writer stage per rate
    sweep, sweep_raw = [], []
    for st in meta.get("sweep") or []:
        dk = stage_done(st["stage"])
        ssent = dk.get("sent", 0) if dk else 0
        slat, sto_all, sapp = dissemination(dk.get("seq_first", 0) if dk else 0, ssent)
        sv = sorted(sto_all.values())
        achieved = None
        if dk and ssent > 1 and dk["last_ns"] > dk["first_ns"]:
            achieved = (ssent - 1) / ((dk["last_ns"] - dk["first_ns"]) / 1e9)
        cpu, wall = window_cpu(st["mark_start"], st["mark_end"])
        above = cpu - idle_total_pct / 100.0 * wall if (wall and idle_vals) else None
        sexp = ssent * receivers
        sweep.append({
            "rate": st["rate"], "updates": ssent, "achieved": achieved,
            "delivered_pct": 100.0 * sapp / sexp if sexp else None,
            "complete_pct": 100.0 * len(sv) / ssent if ssent else None,
            "p50_ms": pct(sv, 50) / 1e6 if sv else None, "p99_ms": pct(sv, 99) / 1e6 if sv else None,
            "max_ms": sv[-1] / 1e6 if sv else None,
            "cpu_us_per_update": above / ssent / 1e3 if (above is not None and ssent) else None,
            "cpu_us_per_update_total": cpu / ssent / 1e3 if ssent else None,
            "cpu_pct_all_nodes": 100.0 * cpu / wall if wall else None,
            "window_s": wall / 1e9 if wall else None,
        })
        sweep_raw.append({"rate": st["rate"], "to_all_ns": [sto_all[q] for q in sorted(sto_all)],
                          "applies": sapp, "expected": sexp, "sent": ssent, "cpu_ns": cpu,
                          "above_ns": above, "achieved": achieved})
    bound = meta.get("sweep_bound_ms", 50)
    max_rate = None
    if sweep:
        ok = [x["rate"] for x in sweep if x["p99_ms"] is not None and x["p99_ms"] < bound
              and (x["delivered_pct"] or 0) >= 99.0]
        max_rate = {"bound_ms": bound, "rate": max(ok) if ok else None}

    # soak: false positives, suspicions, refutations and rejoins inside the window
    soak = None
    sk = meta.get("soak")
    if sk:
        a, b = sk["start_ns"], sk["end_ns"]
        fd, sus, ref, rej, fd_nodes = [], 0, 0, 0, set()
        for name, evs in nodes.items():
            gone = set()  # nodes this observer has seen dead/left so far
            for e in evs:
                ev = e.get("ev")
                t = e.get("t_ns", 0)
                if ev == "member" and e["node"] != name:
                    if e["state"] in ("dead", "left"):
                        gone.add(e["node"])
                        if a <= t <= b:
                            fd.append({"observer": name, "node": e["node"], "state": e["state"], "t_ns": t})
                            fd_nodes.add(e["node"])
                    elif e["state"] == "alive" and e["node"] in gone:
                        gone.discard(e["node"])
                        if a <= t <= b:
                            rej += 1
                elif ev == "suspect" and a <= t <= b:
                    sus += 1
                elif ev == "refute" and a <= t <= b:
                    ref += 1
        cpu, wall = window_cpu(sk["mark_start"], sk["mark_end"])
        soak = {"seconds": sk["seconds"], "loss_pct": meta.get("loss_pct", 0), "false_dead": len(fd),
                "suspect_events": sus, "rejoins": rej,
                "false_dead_nodes": sorted(fd_nodes), "refutations": ref,
                "false_dead_events": fd[:20], "load_rate": sk.get("rate", 0),
                "cpu_pct_node_mean": (100.0 * cpu / wall / n) if wall else None}
        if sk.get("stage", -1) >= 0:
            dk = stage_done(sk["stage"])
            ssent = dk.get("sent", 0) if dk else 0
            _, sto_all, sapp = dissemination(dk.get("seq_first", 0) if dk else 0, ssent)
            sv = sorted(sto_all.values())
            soak["load"] = {"updates": ssent,
                            "delivered_pct": 100.0 * sapp / (ssent * receivers) if ssent else None,
                            "p50_ms": pct(sv, 50) / 1e6 if sv else None,
                            "p99_ms": pct(sv, 99) / 1e6 if sv else None}

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
        "leave_ms": leave,
        "soak": soak,
        "sweep": sweep or None,
        "max_rate_p99_under_ms": max_rate,
        "meta": meta,
        "_raw": {"to_all_ns": to_all, "det_ns": det_vals, "applies": applies,
                 "expected": expected, "complete": complete_updates, "idle": idle_vals,
                 "upd_cpu_ns": upd_cpu_ns, "upd_extra_ns": extra_ns,
                 "to_all_seq_ns": [to_all_by_seq[q] for q in sorted(to_all_by_seq)],
                 "sweep": sweep_raw},
    }
    if victim:
        summary["detection_ms"] = detection_summary(victim, survivors, det)
    for k in ("dissemination_ms", "dissemination_to_all_ms"):
        for q in ("p50", "p90", "p99", "max"):
            if summary[k][q] == []:
                summary[k][q] = None
    return summary


def update_phase_row(s):
    """summary.md's row for the CPU of all nodes during the update phase."""
    up = s["update_phase"]
    return (f"| update phase CPU, all nodes | {fv(up['cpu_pct_all_nodes'], 1)} % of a core over "
            f"{fv(up['wall_s'], 1)} s; {fv(up['cpu_us_per_update_all_nodes'], 0)} µs/update total, "
            f"{fv(up['cpu_us_per_update_above_idle'], 0)} µs/update above idle |")


def closing_lines(s, label, det_text, idle_digits):
    """The end of summary.md: idle CPU per node, detection per survivor, and the peer's
    row (label) for the side-by-side table."""
    a, det = s["dissemination_to_all_ms"], s["detection_ms"]
    lines = ["idle CPU % per node: " + ", ".join(f"{k} {v:.{idle_digits}f}"
                                               for k, v in s["idle_cpu_pct_per_node"].items())]
    if det and det.get("per_node"):
        lines += ["", "detection per survivor: " + ", ".join(f"{k} {fms(v)}" for k, v in det["per_node"].items())]
    lines += ["", "Row for the side-by-side table (dissemination to all p50 / p99, delivered, "
              "detection median, idle CPU/node):", "",
              "| peer, config | N | dissemination p50 / p99 | delivered | detection median | CPU/node idle |",
              "|---|---|---|---|---|---|",
              f"| {label} | {s['nodes']} | {fv(a['p50'], 1)} / {fv(a['p99'], 1)} ms | "
              f"{fv(s['delivered_pct'], 1)} % | {det_text} | {fv(s['idle_cpu_pct_node_mean'], 2)} % |"]
    return lines


def markdown(s):
    d, a, det = s["dissemination_ms"], s["dissemination_to_all_ms"], s["detection_ms"]
    prof = profile_label(s, memberlist_config)
    lines = []
    lines.append(f"### memberlist {s.get('memberlist_version')} — {prof}, N = {s['nodes']}, "
                 f"loss {s['loss_pct']} %, {s['updates_sent']} updates at {s['rate_per_s']}/s")
    lines.append("")
    lines.append("| metric | value |")
    lines.append("|---|---|")
    lines.append(f"| dissemination per receiver p50 / p90 / p99 / max | {fv(d['p50'], 2)} / {fv(d['p90'], 2)} / "
                 f"{fv(d['p99'], 2)} / {fv(d['max'], 2)} ms ({d['count']} samples) |")
    lines.append(f"| dissemination to all p50 / p90 / p99 / max | {fv(a['p50'], 2)} / {fv(a['p90'], 2)} / "
                 f"{fv(a['p99'], 2)} / {fv(a['max'], 2)} ms ({a['count']} updates reached all) |")
    lines.append(f"| delivered | {fv(s['delivered_pct'], 2)} % of updates × receivers; "
                 f"{fv(s['updates_complete_pct'], 1)} % of updates reached every node |")
    if det:
        lines.append(f"| detection (SIGKILL {det['victim']} → dead) median / first / max | "
                     f"{fms(det['median'])} / {fms(det['first'])} / {fms(det['max'])} "
                     f"({det['detected']}/{det['survivors']} survivors) |")
    else:
        lines.append("| detection | not measured (no --kill) |")
    lines.append(f"| false \"dead\" (live nodes) | {s['false_dead']} |")
    lines.append(f"| idle CPU per node mean / max | {fv(s['idle_cpu_pct_node_mean'], 2)} / "
                 f"{fv(s['idle_cpu_pct_node_max'], 2)} % of a core ({s['idle_window_s']} s window) |")
    lines.append(update_phase_row(s))
    lines.append(f"| duplicate receipts (all nodes) | {s['duplicate_receipts']} |")
    lv = s.get("leave_ms")
    if lv:
        lines.append(f"| graceful leave ({lv['leaver']}: Leave + Shutdown) until all / first / survivor median | "
                     f"{fms(lv['until_all_ms'])} / {fms(lv['first_ms'])} / {fms(lv['survivor_median_ms'])} "
                     f"({lv['observed']}/{lv['survivors']} survivors; left {lv['states']['left']}, "
                     f"dead {lv['states']['dead']}; Leave() took {fms(lv['leave_call_ms'])}) |")
    sk = s.get("soak")
    if sk:
        ld = sk.get("load")
        load = (f"; load {sk['load_rate']}/s: {fv(ld['delivered_pct'], 2)} % delivered, to all p50/p99 "
                f"{fv(ld['p50_ms'], 1)} / {fv(ld['p99_ms'], 1)} ms") if ld else ""
        lines.append(f"| soak {sk['seconds']} s at {sk['loss_pct']} % loss: false dead / suspicions / "
                     f"refutations / rejoins | {sk['false_dead']} / {sk['suspect_events']} / "
                     f"{sk['refutations']} / {sk['rejoins']} (CPU/node {fv(sk['cpu_pct_node_mean'], 2)} %{load}) |")
    lines.append("")
    if s.get("sweep"):
        mr = s["max_rate_p99_under_ms"]
        lines.append(f"Sweep (one writer, {s['meta'].get('sweep_secs')} s per rate + {s['meta'].get('drain_s')} s drain; "
                     f"highest rate with to-all p99 < {mr['bound_ms']} ms and ≥ 99 % delivered: "
                     f"{mr['rate'] if mr['rate'] is not None else 'none'}/s):")
        lines.append("")
        lines.append("| rate /s | achieved /s | delivered % | complete % | to all p50 / p99 / max ms | "
                     "CPU µs/update above idle (total) | CPU all nodes % |")
        lines.append("|---|---|---|---|---|---|---|")
        for x in s["sweep"]:
            lines.append(f"| {x['rate']} | {fv(x['achieved'], 0)} | {fv(x['delivered_pct'], 2)} | {fv(x['complete_pct'], 1)} | "
                         f"{fv(x['p50_ms'], 2)} / {fv(x['p99_ms'], 2)} / {fv(x['max_ms'], 1)} | "
                         f"{fv(x['cpu_us_per_update'], 0)} ({fv(x['cpu_us_per_update_total'], 0)}) | "
                         f"{fv(x['cpu_pct_all_nodes'], 0)} |")
        lines.append("")
    lines += closing_lines(s, f"memberlist, {prof}", fms(det["median"]) if det else "–", 2)
    return "\n".join(lines) + "\n"


def pool(sums, peer, version_key):
    """What both peers' combined.json hold: the configuration (from the first run), the
    to-all latencies of all runs pooled, delivered % = total applies / total expected,
    false dead summed, idle CPU over all nodes of all runs."""
    first = sums[0]
    to_all = sorted(x for s in sums for x in s["_raw"]["to_all_ns"])
    applies = sum(s["_raw"]["applies"] for s in sums)
    expected = sum(s["_raw"]["expected"] for s in sums)
    idle = [x for s in sums for x in s["_raw"]["idle"]]

    def q(p):
        return pct(to_all, p) / 1e6 if to_all else None

    return {
        "peer": peer, version_key: first.get(version_key),
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
        "false_dead": sum(s["false_dead"] for s in sums),
        "idle_cpu_pct_node_mean": sum(idle) / len(idle) if idle else None,
        "idle_cpu_pct_node_max": max(idle) if idle else None,
    }


def pool_detection(sums, kill_medians):
    """combined.json's detection_ms: every run's per-survivor detection samples pooled,
    plus the given per-kill medians."""
    det = sorted(x for s in sums for x in s["_raw"]["det_ns"])
    return {"samples": len(det), "kills": len(kill_medians),
            "median": median(det) / 1e6 if det else None,
            "max": det[-1] / 1e6 if det else None,
            "median_per_kill": kill_medians}


def pooled_lines(c):
    """combined.md's per-run lines: to-all p50 / p99, delivered, detection median."""
    a, det = c["dissemination_to_all_ms"], c["detection_ms"]
    lines = ["per run p50 / p99 (ms): " + ", ".join(f"{fv(x)} / {fv(y)}"
                                                  for x, y in zip(a["p50_per_run"], a["p99_per_run"])),
             "per run delivered (%): " + ", ".join(fv(x, 2) for x in c["delivered_pct_per_run"])]
    if det:
        lines.append("per kill detection median: " + ", ".join(fms(x) for x in det["median_per_kill"]))
    return lines


def write_combined(outdir, c, md_lines):
    """Write OUTDIR/combined.json and OUTDIR/combined.md; returns the markdown."""
    md = "\n".join(md_lines) + "\n"
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "combined.json"), "w") as fh:
        json.dump(c, fh, indent=1, sort_keys=True)
        fh.write("\n")
    with open(os.path.join(outdir, "combined.md"), "w") as fh:
        fh.write(md)
    return md


def combine(outdir, sums):
    """Pool several runs of one configuration (see module doc)."""
    kill_medians = sorted(s["detection_ms"]["median"] for s in sums
                          if s.get("detection_ms") and s["detection_ms"]["median"] is not None)
    complete = sum(s["_raw"]["complete"] for s in sums)
    extra = [s["_raw"]["upd_extra_ns"] for s in sums if s["_raw"]["upd_extra_ns"] is not None]
    c = pool(sums, "memberlist", "memberlist_version")
    sent = c["updates_sent"]
    c["updates_complete_pct"] = 100.0 * complete / sent if sent else None
    c["detection_ms"] = pool_detection(sums, kill_medians) if kill_medians else None
    c["cpu_us_per_update_above_idle"] = (sum(extra) / sent / 1e3) if (extra and sent) else None
    leaves = [s["leave_ms"] for s in sums if s.get("leave_ms")]
    if leaves:
        ls = sorted(x for lv in leaves for x in lv["samples"])
        c["leave_ms"] = {"samples": ls, "median": median(ls), "max": ls[-1] if ls else None,
                         "leaves": len(leaves), "incomplete": sum(1 for lv in leaves if not lv["all_observed"]),
                         "states": {k: sum(lv["states"][k] for lv in leaves) for k in ("left", "dead")}}
    soaks = [s["soak"] for s in sums if s.get("soak")]
    if soaks:
        c["soak"] = {"seconds": sum(x["seconds"] for x in soaks), "loss_pct": soaks[0]["loss_pct"],
                     "false_dead": sum(x["false_dead"] for x in soaks),
                     "suspect_events": sum(x["suspect_events"] for x in soaks),
                     "rejoins": sum(x["rejoins"] for x in soaks),
                     "refutations": sum(x["refutations"] for x in soaks), "runs": len(soaks)}
    rates = {}
    for s in sums:
        for r in s["_raw"]["sweep"]:
            rates.setdefault(r["rate"], []).append(r)
    if rates:
        sw = []
        for rate in sorted(rates):
            rs = rates[rate]
            v = sorted(x for r in rs for x in r["to_all_ns"])
            exp_ = sum(r["expected"] for r in rs)
            snt = sum(r["sent"] for r in rs)
            ach = [r["achieved"] for r in rs if r["achieved"] is not None]
            above = [r["above_ns"] for r in rs if r["above_ns"] is not None]
            sw.append({"rate": rate, "achieved": sum(ach) / len(ach) if ach else None,
                       "delivered_pct": 100.0 * sum(r["applies"] for r in rs) / exp_ if exp_ else None,
                       "p50_ms": pct(v, 50) / 1e6 if v else None, "p99_ms": pct(v, 99) / 1e6 if v else None,
                       "cpu_us_per_update": sum(above) / snt / 1e3 if (above and snt) else None,
                       "runs": len(rs)})
        bound = sums[0]["meta"].get("sweep_bound_ms", 50)
        ok = [x["rate"] for x in sw if x["p99_ms"] is not None and x["p99_ms"] < bound
              and (x["delivered_pct"] or 0) >= 99.0]
        c["sweep"] = sw
        c["max_rate_p99_under_ms"] = {"bound_ms": bound, "rate": max(ok) if ok else None}
    a, det_c = c["dissemination_to_all_ms"], c["detection_ms"]
    prof = profile_label(c, memberlist_config)
    md = [f"### memberlist {c['memberlist_version']} — {prof}, N = {c['nodes']}, loss {c['loss_pct']} %, "
          f"{c['repeats']} repeats pooled", "",
          "| peer, config | N | dissemination p50 / p99 | delivered | detection median (max) | CPU/node idle | false dead |",
          "|---|---|---|---|---|---|---|",
          f"| memberlist, {prof} | {c['nodes']} | {fv(a['p50'])} / {fv(a['p99'])} ms | {fv(c['delivered_pct'])} % | "
          f"{fms(det_c['median']) if det_c else '–'} ({fms(det_c['max']) if det_c else '–'}) | "
          f"{fv(c['idle_cpu_pct_node_mean'], 2)} % | {c['false_dead']} |", ""] + pooled_lines(c)
    if c.get("leave_ms"):
        lv = c["leave_ms"]
        md.append(f"graceful leave until all survivors: median {fms(lv['median'])}, max {fms(lv['max'])} "
                  f"over {len(lv['samples'])} complete leaves of {lv['leaves']} (survivor observations: "
                  f"left {lv['states']['left']}, dead {lv['states']['dead']})")
    if c.get("soak"):
        sk = c["soak"]
        md.append(f"soak {sk['seconds']} s at {sk['loss_pct']} % loss: false dead {sk['false_dead']}, "
                  f"suspicions {sk['suspect_events']}, refutations {sk['refutations']}, rejoins {sk['rejoins']}")
    if c.get("sweep"):
        md.append("sweep (rate: achieved, delivered %, to all p50 / p99 ms, CPU µs/update above idle): " +
                  "; ".join(f"{x['rate']}/s: {fv(x['achieved'], 0)}, {fv(x['delivered_pct'], 2)}, "
                            f"{fv(x['p50_ms'], 2)} / {fv(x['p99_ms'], 2)}, {fv(x['cpu_us_per_update'], 0)}"
                            for x in c["sweep"]))
        md.append(f"highest rate with p99 < {c['max_rate_p99_under_ms']['bound_ms']} ms and ≥ 99 % delivered: "
                  f"{c['max_rate_p99_under_ms']['rate']}")
    md = write_combined(outdir, c, md)
    write_lines(os.path.join(outdir, "latency_to_all_ms.txt"),
                [x / 1e6 for s in sums for x in s["_raw"]["to_all_seq_ns"]])
    write_lines(os.path.join(outdir, "detection_ms.txt"),
                [s["detection_ms"]["until_all_ms"] for s in sums
                 if s.get("detection_ms") and s["detection_ms"]["until_all_ms"] is not None])
    write_lines(os.path.join(outdir, "leave_ms.txt"), (c.get("leave_ms") or {}).get("samples", []))
    return md


def write_lines(path, vals):
    with open(path, "w") as fh:
        for v in vals:
            fh.write(f"{v:.3f}\n")


def write_samples(d, s):
    """Per-sample files for CDF plots: every complete update's to-all latency (update
    phase, in seq order), one detection time per kill (until every survivor reported
    it dead; absent if some never did), one leave time per leave (until every survivor
    saw it go), and the to-all latencies of each sweep rate."""
    write_lines(os.path.join(d, "latency_to_all_ms.txt"), [x / 1e6 for x in s["_raw"]["to_all_seq_ns"]])
    det = s.get("detection_ms") or {}
    write_lines(os.path.join(d, "detection_ms.txt"),
                [det["until_all_ms"]] if det.get("until_all_ms") is not None else [])
    write_lines(os.path.join(d, "leave_ms.txt"), (s.get("leave_ms") or {}).get("samples", []))
    for r in s["_raw"]["sweep"]:
        write_lines(os.path.join(d, f"sweep_{r['rate']}_latency_to_all_ms.txt"), [x / 1e6 for x in r["to_all_ns"]])


def write_summary(d, s):
    write_samples(d, s)
    s = dict(s)
    s.pop("_raw", None)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(s, f, indent=1, sort_keys=True)
        f.write("\n")


def write_run(d, s, markdown):
    """Write one run's sample files, DIR/summary.json and DIR/summary.md; returns the markdown."""
    md = markdown(s)
    write_summary(d, s)
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write(md)
    return md


def cli(argv, doc, analyze, markdown, combine):
    """The command line of both peers' analyze.py (usage in doc)."""
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(doc)
        return 2
    quiet = "--quiet" in argv
    if argv[1] == "--combine":
        if len(argv) < 4:
            print(doc)
            return 2
        outdir, dirs = argv[2], [x for x in argv[3:] if x != "--quiet"]
        sums = []
        for d in dirs:
            s = analyze(d)
            s["meta"]["run_dir"] = d
            write_run(d, s, markdown)
            sums.append(s)
        md = combine(outdir, sums)
        if not quiet:
            sys.stdout.write(md + f"\n(written: {outdir}/combined.md, {outdir}/combined.json)\n")
        return 0
    d = argv[1]
    md = write_run(d, analyze(d), markdown)
    if not quiet:
        sys.stdout.write(md + f"\n(written: {d}/summary.md, {d}/summary.json)\n")
    return 0


def main(argv):
    return cli(argv, __doc__, analyze, markdown, combine)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
