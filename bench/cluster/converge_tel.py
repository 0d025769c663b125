#!/usr/bin/env python3
"""converge_tel.py: fast telemetry polls for bench/cluster/converge.sh.

Talks to each meshd's DPDK telemetry socket directly (one connection per node, kept open;
a query costs well under a millisecond, where dpdk-telemetry.py costs a Python start).
A node is named by its EAL --file-prefix. Times are printed in ms after T0, a
CLOCK_REALTIME stamp in ns (`date +%s%N` in the caller).

  converge_tel.py equal T0 TIMEOUT_S KEYS [--log FILE] PREFIX...
      wait until every node holds KEYS live keys (all namespaces) and all digests are
      equal; prints {"up_ms": .., "joined_ms": .., "keys_ms": .., "digest_ms": ..} (null
      on timeout): every node answering, every node seeing all of them alive, all keys
      everywhere, equal digests. /mesh/kv/stats counts keys live; its digest is
      republished every 100 ms, so digest_ms is up to 100 ms late. With --log (a node's
      log), also "member_ms": when that node first logged a member alive (it has
      joined), independent of when its telemetry answers.
  converge_tel.py tombs T0 TIMEOUT_S PREFIX...
      wait until no node holds a tombstone (all in the same poll, every 50 ms: a node
      restarted meanwhile holds none for a while, which alone does not count); prints
      {"all_gone_ms": ..} (null on timeout).
  converge_tel.py stats PREFIX
      /mesh/stats and /mesh/kv/stats of one node as one JSON object.
"""
import json
import os
import socket
import sys
import time


class Tel:
    def __init__(self, prefix):
        self.prefix = prefix
        self.sock = None

    def query(self, cmd):
        try:
            if self.sock is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2")
                info = json.loads(s.recv(65536).decode())
                self.max = info.get("max_output_len", 65536)
                self.sock = s
            self.sock.send(cmd.encode())
            reply = json.loads(self.sock.recv(self.max + 1024).decode())
            return next(iter(reply.values()))
        except (OSError, ValueError, StopIteration):
            if self.sock is not None:
                self.sock.close()
            self.sock = None
            return None


def kv(t):
    """(live keys, tombstones, digest) of one node, or None."""
    d = t.query("/mesh/kv/stats")
    if not isinstance(d, dict):
        return None
    keys = tombs = 0
    for v in d.values():
        if isinstance(v, dict):
            keys += v.get("keys", 0)
            tombs += v.get("tombstones", 0)
    return keys, tombs, d.get("digest")


def ms_since(t0_ns):
    return round((time.time_ns() - t0_ns) / 1e6, 1)


def equal(t0_ns, timeout_s, want_keys, prefixes, log=None):
    tels = [Tel(p) for p in prefixes]
    deadline = time.monotonic() + timeout_s
    up_ms = joined_ms = keys_ms = digest_ms = member_ms = None
    while time.monotonic() < deadline:
        if log is not None and member_ms is None:
            try:
                with open(log, errors="replace") as f:
                    if "): alive" in f.read():
                        member_ms = ms_since(t0_ns)
            except OSError:
                pass
        st = [kv(t) for t in tels]
        if up_ms is None and all(s is not None for s in st):
            up_ms = ms_since(t0_ns)
        if up_ms is not None and joined_ms is None:
            m = [t.query("/mesh/members") for t in tels]
            if all(isinstance(x, dict) and x.get("alive") == len(tels) for x in m):
                joined_ms = ms_since(t0_ns)
        if all(s is not None for s in st):
            if keys_ms is None and all(s[0] >= want_keys for s in st):
                keys_ms = ms_since(t0_ns)
            if keys_ms is not None and len({s[2] for s in st}) == 1:
                digest_ms = ms_since(t0_ns)
                break
        time.sleep(0.002)
    out = {"up_ms": up_ms, "joined_ms": joined_ms, "keys_ms": keys_ms, "digest_ms": digest_ms}
    if log is not None:
        out["member_ms"] = member_ms
    print(json.dumps(out))
    return 0 if digest_ms is not None else 1


def tombs(t0_ns, timeout_s, prefixes):
    tels = [Tel(p) for p in prefixes]
    deadline = time.monotonic() + timeout_s
    gone = None
    while time.monotonic() < deadline and gone is None:
        st = [kv(t) for t in tels]
        if all(s is not None and s[1] == 0 for s in st):
            gone = ms_since(t0_ns)
        time.sleep(0.05)
    print(json.dumps({"all_gone_ms": gone}))
    return 0 if gone is not None else 1


def stats(prefix):
    t = Tel(prefix)
    print(json.dumps({"stats": t.query("/mesh/stats"), "kv": t.query("/mesh/kv/stats")}))
    return 0


def main(a):
    if len(a) >= 7 and a[0] == "equal" and a[4] == "--log":
        return equal(int(a[1]), float(a[2]), int(a[3]), a[6:], a[5])
    if len(a) >= 5 and a[0] == "equal":
        return equal(int(a[1]), float(a[2]), int(a[3]), a[4:])
    if len(a) >= 4 and a[0] == "tombs":
        return tombs(int(a[1]), float(a[2]), a[3:])
    if len(a) == 2 and a[0] == "stats":
        return stats(a[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
