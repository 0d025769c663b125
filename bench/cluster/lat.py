#!/usr/bin/env python3
"""lat.py: read meshd's own origin-to-apply latency histograms (/mesh/latency,KIND) from
every node's DPDK telemetry socket, and turn two snapshots into figures.

  lat.py snap OUT.json PREFIX...        snapshot lww/delete/epoch buckets of each node
                                        (PREFIX = the node's EAL --file-prefix)
  lat.py diff BEFORE.json AFTER.json KIND [--cdf FILE]
                                        what the nodes recorded between the snapshots,
                                        merged over nodes: one JSON object on stdout
                                        (count, p50/p90/p99/p999/max in ms); --cdf writes
                                        "ms cumulative_fraction" lines for plotting

The telemetry protocol is DPDK's v2 socket (SOCK_SEQPACKET, JSON replies), the same one
dpdk-telemetry.py speaks; talking to it directly keeps a snapshot of 8 nodes under 50 ms.
"""
import json
import os
import socket
import sys

KINDS = ("lww", "delete", "epoch", "stream")
RUNDIR = os.environ.get("DPDK_RUNDIR", "/var/run/dpdk")


def query(prefix, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(os.path.join(RUNDIR, prefix, "dpdk_telemetry.v2"))
    s.recv(1024 * 16)  # greeting
    s.send(cmd.encode())
    reply = json.loads(s.recv(1024 * 64).decode())
    s.close()
    return reply[cmd.split(",")[0]]


def snap(out, prefixes):
    nodes = {}
    for p in prefixes:
        try:
            nodes[p] = {k: query(p, f"/mesh/latency,{k}") for k in KINDS}
        except (OSError, ValueError, KeyError) as e:
            print(f"lat.py: {p}: {e}", file=sys.stderr)
    json.dump(nodes, open(out, "w"))


def buckets(h):
    return dict(zip(h.get("bucket_low_ns", []), h.get("bucket_count", [])))


def upper(lows, i):
    # a bucket's upper bound is the next bucket's low - 1 (16 sub-buckets per octave)
    lo = lows[i]
    if lo < 16:
        return lo
    e = lo.bit_length() - 1
    return lo + (1 << (e - 4)) - 1


def diff(before, after, kind, cdf=None):
    b, a = json.load(open(before)), json.load(open(after))
    merged, mx = {}, 0
    for node, snap_a in a.items():
        ha = snap_a.get(kind, {})
        hb = b.get(node, {}).get(kind, {})
        cb = buckets(hb)
        for lo, c in buckets(ha).items():
            d = c - cb.get(lo, 0)
            if d > 0:
                merged[lo] = merged.get(lo, 0) + d
        if ha.get("count", 0) > hb.get("count", 0):
            mx = max(mx, ha.get("max_ns", 0))
    lows = sorted(merged)
    total = sum(merged.values())
    out = {"kind": kind, "count": total, "nodes": len(a)}

    def q(p):
        want, run = max(1, int(p * total + 0.999999)), 0
        for i, lo in enumerate(lows):
            run += merged[lo]
            if run >= want:
                return min(upper(lows, i), mx) / 1e6
        return mx / 1e6

    if total:
        out.update({"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99),
                    "p999_ms": q(0.999), "max_ms": mx / 1e6})
    if cdf:
        with open(cdf, "w") as f:
            run = 0
            for i, lo in enumerate(lows):
                run += merged[lo]
                f.write(f"{upper(lows, i) / 1e6:.6f} {run / total:.6f}\n")
    print(json.dumps(out))


def main(argv):
    if len(argv) >= 3 and argv[1] == "snap":
        snap(argv[2], argv[3:])
    elif len(argv) >= 5 and argv[1] == "diff":
        cdf = argv[argv.index("--cdf") + 1] if "--cdf" in argv else None
        diff(argv[2], argv[3], argv[4], cdf)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
