#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of test_nemesis.sh (standard library only; run as root where noted).

  nemesis.py schedule --seed N --seconds S --nodes 5
        the fault schedule, one event a line: "T_MS ACTION ARGS..." (deterministic in
        seed and seconds), and "0 rxfault I SPEC" lines for the nodes' --fault-inject
  nemesis.py client --id C --seed N --seconds S --ctl MESHCTL --sock TEMPLATE
                    --live FILE --log FILE --tmp DIR
        one client: lww puts (some 100 KiB), deletes and epoch_max rl-sets to random live
        nodes through meshctl; every attempt is logged as one JSON line
  nemesis.py preload --lib LIBMESHCLIENT --socks S1,S2,.. --count N [--conns K]
        N small keys worker:pre-NNNNNN through libmeshclient (ctypes), K connections a node
  nemesis.py count --ctl MESHCTL --socks S1,S2,.. --prefix P   keys under P on each node
  nemesis.py capture --ports p1,p2,.. --ms T --out FILE [--max N]    (switch namespace)
        raw AF_PACKET capture of meshd UDP frames entering the bridge ports
  nemesis.py flood --pool DIR --targets IP=MAC,... --count N --rate PPS --seed N
                   [--iface eth0]                                     (spare namespace)
        junk, truncations, bit flips, header-prefixed junk, replays of captured frames to
        their receiver and to other nodes ("rebind"), from this namespace's own MAC
  nemesis.py tel --prefixes P1,P2,.. CMD         one telemetry command on each node
  nemesis.py converge --prefixes .. --timeout S  wait until every node's /mesh/kv/stats
        digest is the same; prints the seconds it took (exit 1 on timeout)
  nemesis.py members --prefixes .. --want N --timeout S
  nemesis.py diag --prefixes ..                  counters that explain a stall
  nemesis.py check --logs DIR --events FILE --ctl MESHCTL --sock TEMPLATE --nodes 5
                   [--selftest]
        verify every acknowledged write against the final state of every node (writes
        acked.tsv, violations.txt, summary.json into DIR); --selftest: add fabricated
        lost writes to three keys and succeed only if the check reports each
Sockets are given as a template with % for the node number (/tmp/x-%.sock).

The check, per key (each key has one writer, which waits for every ack):
  lww      every node holds the same version; a value we wrote, byte-exact, at the version
           the acking node reported; >= the version of every put acked by a node that was
           not killed afterwards ("durable"); absent only if a delete was attempted (or no
           put was durable); a durable acked delete (issued only when that node held the
           highest acked version, so its tombstone beats every put) leaves it absent.
  epoch_max  a value we wrote, >= every durable acked value.
Real-time order is asserted for lww only with MESH_NEMESIS_STRICT_ORDER=1 (sound with
hybrid logical clocks on one host: a put acked before another began must lose to it);
otherwise such keys are listed as notes (Lamport versions order them either way).
"""
import argparse
import glob
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

MESH_PORT = 39527
STRICT_ORDER = os.environ.get("MESH_NEMESIS_STRICT_ORDER", "0") == "1"
BIG = 100 * 1024
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


# ---------------------------------------------------------------- schedule
def cmd_schedule(a):
    rng = random.Random(f"nemesis-schedule-{a.seed}")
    n = a.nodes
    end = a.seconds * 1000
    ev = []
    # a mild permanent rx fault on some nodes (same args on every restart)
    specs = ["", "", f"dup={rng.choice([5, 10, 20])}",
             f"delay={rng.choice([0, 50, 100])}-{rng.choice([300, 500, 800])}",
             f"loss={rng.choice([1, 2, 3])},dup={rng.choice([2, 5])}"]
    rng.shuffle(specs)
    for i in range(1, n + 1):
        if specs[i - 1]:
            ev.append((0, "rxfault", f"{i} {specs[i - 1]},seed={rng.randrange(1, 1 << 30)}"))
    # captures: one early, then every ~15 s (floods need a pool)
    t = 1000
    while t < end - 3000:
        ev.append((t, "capture", str(rng.randrange(1200, 2000))))
        t += rng.randrange(12000, 18000)
    down_until = {}  # node -> time it is back (killed or stopped)
    part_until = []  # end times of active partitions
    t = 3000
    pid = 0
    weights = [("isolate", 14), ("split", 14), ("loss", 14), ("kill", 14), ("stop", 12),
               ("flood", 22), ("dupstorm", 10)]
    total = sum(w for _, w in weights)
    while True:
        t += rng.randrange(600, 2600)
        if t >= end - 1500:
            break
        r = rng.randrange(total)
        for kind, w in weights:
            if r < w:
                break
            r -= w
        up = [i for i in range(1, n + 1) if down_until.get(i, 0) <= t]
        n_down = n - len(up)
        part_until = [x for x in part_until if x > t]
        dur = rng.randrange(2000, 8000)
        stop_t = min(t + dur, end)
        pid += 1
        if kind in ("isolate", "split"):
            if len(part_until) >= 2:
                kind = "flood"
            else:
                nodes = list(range(1, n + 1))
                rng.shuffle(nodes)
                k = 1 if kind == "isolate" else 2
                groups = ",".join(map(str, sorted(nodes[:k]))) + "|" + \
                    ",".join(map(str, sorted(nodes[k:])))
                ev.append((t, "part_on", f"{pid} {groups}"))
                ev.append((stop_t, "part_off", str(pid)))
                part_until.append(stop_t)
                continue
        if kind == "loss":
            port = rng.randrange(1, n + 1)
            pct = rng.choice([10, 30, 60, 95])
            ev.append((t, "loss_on", f"{pid} {port} {pct}"))
            ev.append((stop_t, "loss_off", str(pid)))
            continue
        if kind in ("kill", "stop"):
            if n_down >= 2:
                kind = "flood"
            else:
                i = rng.choice(up)
                if kind == "kill":
                    back = min(t + rng.randrange(1000, 5000), end)
                    ev.append((t, "kill", str(i)))
                    ev.append((back, "restart", str(i)))
                else:
                    back = min(t + rng.randrange(800, 4000), end)
                    ev.append((t, "stop", str(i)))
                    ev.append((back, "cont", str(i)))
                down_until[i] = back + 500
                continue
        if kind == "flood":
            ev.append((t, "flood", f"{rng.randrange(4000, 12000)} {rng.choice([10000, 20000])} "
                                   f"{rng.randrange(1, 1 << 30)} mixed"))
        elif kind == "dupstorm":  # replays only: late duplicates, old epochs, other receivers
            ev.append((t, "flood", f"{rng.randrange(2000, 6000)} {rng.choice([5000, 10000])} "
                                   f"{rng.randrange(1, 1 << 30)} replay"))
    ev.sort(key=lambda e: (e[0], e[1] not in ("rxfault",)))
    for t, act, args in ev:
        print(t, act, args)


# ---------------------------------------------------------------- client
def value_for(vid, size):
    if size <= len(vid) + 1:
        return vid
    fill = (vid + "#") * (size // (len(vid) + 1) + 1)
    return (vid + "|" + fill)[:size]


def run_ctl(argv, timeout=8):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace").strip()
    except subprocess.TimeoutExpired:
        return 124, "", "subprocess timeout"


def json_get(ctl, sock, key, timeout_ms=1500):
    rc, out, err = run_ctl([ctl, "-s", sock, "--json", "--timeout", str(timeout_ms), "get", key])
    if rc in (0, 1) and out.strip():
        try:
            doc = json.loads(out)
        except ValueError:
            return "bad", out[:80]
        if doc.get("found") is True and rc == 0:
            return "ok", doc
        if doc.get("found") is False:
            return "absent", None
    return "error", f"rc={rc} {err}"


def read_live(path, n):
    try:
        with open(path) as f:
            live = sorted(int(x) for x in f.read().split())
        return live or list(range(1, n + 1))
    except (OSError, ValueError):
        return list(range(1, n + 1))


def cmd_client(a):
    rng = random.Random(f"nemesis-client-{a.seed}-{a.id}")
    deadline = time.time() + a.seconds
    c = a.id
    log = open(a.log, "w", buffering=1)
    lww = {}   # key -> {"maxv": (ts, rep) of acked puts, "uncertain": bool}
    rl = {}    # key -> (epoch, count) highest attempted
    next_j = 0
    seq = 0
    ops = 0
    while time.time() < deadline:
        live = read_live(a.live, a.nodes)
        node = rng.choice(live)
        sock = a.sock.replace("%", str(node))
        base = [a.ctl, "-s", sock, "--timeout", "2000"]
        r = rng.random()
        if len(lww) < 10:
            r = 0.0
        rec = {"c": c, "node": node}
        if r < 0.58 or (r < 0.62 and len(lww) < 10):  # lww put (small)
            big = False
            kind = "put"
        elif r < 0.62:
            big, kind = True, "put"
        elif r < 0.72:
            kind = "del"
        else:
            kind = "rl"
        if kind == "put":
            if len(lww) < 14 and (rng.random() < 0.2 or len(lww) < 10):
                key = f"worker:nem-c{c}-k{next_j}"
                next_j += 1
                lww[key] = {"maxv": None, "uncertain": False, "puts": 0}
            else:
                key = rng.choice(sorted(lww))
            seq += 1
            vid = f"c{c}.s{seq}"
            size = BIG if big else rng.randrange(8, 300)
            val = value_for(vid, size)
            if big:
                path = os.path.join(a.tmp, f"big-c{c}")
                with open(path, "w") as f:
                    f.write(val)
                arg = "@" + path
            else:
                arg = val
            rec.update(op="put", key=key, vid=vid, size=size, t0=time.time())
            rc, _, err = run_ctl(base + ["put", key, arg])
            rec.update(t1=time.time(), rc=rc)
            st = lww[key]
            st["puts"] += 1
            if rc == 0:
                status, doc = json_get(a.ctl, sock, key)
                if status == "ok" and doc.get("value", "").split("|")[0] == vid:
                    rec.update(ts=doc["timestamp"], rep=doc["replica"])
                    v = (doc["timestamp"], int(doc["replica"], 16))
                    if st["maxv"] is None or v > st["maxv"]:
                        st["maxv"] = v
                else:
                    rec["post"] = status if status != "ok" else "other:" + \
                        str(doc.get("value", ""))[:40]
                    st["uncertain"] = True
            else:
                rec["err"] = err[:200]
                st["uncertain"] = True
        elif kind == "del":
            cands = sorted(k for k, s in lww.items() if not s["uncertain"] and s["maxv"])
            if not cands:
                continue
            key = rng.choice(cands)
            st = lww[key]
            status, doc = json_get(a.ctl, sock, key)
            have = (doc["timestamp"], int(doc["replica"], 16)) if status == "ok" else None
            if have != st["maxv"]:
                # this node has not seen our latest write yet: a delete here might lose
                rec.update(op="delskip", key=key, have=list(have) if have else status,
                           t0=time.time())
                log.write(json.dumps(rec) + "\n")
                time.sleep(0.01)
                continue
            rec.update(op="del", key=key, pre=list(have), t0=time.time())
            rc, _, err = run_ctl(base + ["del", key])
            rec.update(t1=time.time(), rc=rc)
            if rc != 0:
                rec["err"] = err[:200]
            del lww[key]  # a key is never written again after a delete attempt
        else:
            if len(rl) < 4 and (rng.random() < 0.3 or not rl):
                key = f"rl:nem-c{c}-k{len(rl)}"
                rl[key] = (1, 0)
                e, n = 1, rng.randrange(1, 10)
            else:
                key = rng.choice(sorted(rl))
                e0, n0 = rl[key]
                x = rng.random()
                if x < 0.7:
                    e, n = e0, n0 + rng.randrange(1, 6)
                elif x < 0.85:
                    e, n = e0 + 1, rng.randrange(0, 3)
                else:  # stale: must lose to what is there
                    e, n = (e0 - 1, n0 + 100) if e0 > 1 else (e0, max(0, n0 - 3))
            rl[key] = max(rl[key], (e, n))
            rec.update(op="rl", key=key, e=e, n=n, t0=time.time())
            rc, _, err = run_ctl(base + ["rl-set", key, str(e), str(n)])
            rec.update(t1=time.time(), rc=rc)
            if rc != 0:
                rec["err"] = err[:200]
        ops += 1
        log.write(json.dumps(rec) + "\n")
        time.sleep(0.01)
    log.close()


# ---------------------------------------------------------------- preload
def cmd_preload(a):
    """Write --count small keys worker:pre-<i> through libmeshclient, spread over the nodes'
    sockets, several connections at once (the nodes batch what arrives in one poll)."""
    import ctypes
    lib = ctypes.CDLL(a.lib)
    lib.mesh_client_connect.restype = ctypes.c_void_p
    lib.mesh_client_connect.argtypes = [ctypes.c_char_p]
    lib.mesh_client_put.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.c_size_t]
    lib.mesh_client_close.argtypes = [ctypes.c_void_p]
    socks = a.socks.split(",")
    conns = a.conns * len(socks)
    failed = [0] * conns

    def run(w):
        c = lib.mesh_client_connect(socks[w % len(socks)].encode())
        if not c:
            failed[w] = -1
            return
        for i in range(w, a.count, conns):
            k = b"worker:pre-%06d" % i
            v = b"preload-%06d-" % i + b"x" * 40
            if lib.mesh_client_put(c, k, len(k), v, len(v)) != 0:
                failed[w] += 1
        lib.mesh_client_close(c)

    t0 = time.time()
    with ThreadPoolExecutor(max_workers=conns) as ex:
        list(ex.map(run, range(conns)))
    bad = sum(f for f in failed if f > 0)
    print("preload %d keys in %.1f s, %d failed, %d connections refused" % (
        a.count, time.time() - t0, bad, sum(1 for f in failed if f < 0)))
    return 1 if bad or any(f < 0 for f in failed) else 0


def cmd_count(a):
    """Number of keys under --prefix on each socket (meshctl keys, all pages)."""
    out = []
    for s in a.socks.split(","):
        rc, o, err = run_ctl([a.ctl, "-s", s, "--json", "--timeout", "5000", "keys", a.prefix],
                             timeout=60)
        try:
            out.append(str(json.loads(o)["count"]) if rc == 0 else f"error:{err[:60]}")
        except (ValueError, KeyError):
            out.append("error")
    print(" ".join(out))


# ---------------------------------------------------------------- capture / flood
def parse_udp(frame):
    """(src_ip, dst_ip, sport, dport, payload) of an IPv4/UDP frame to or from meshd."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0f) * 4
    if frame[23] != 17 or len(frame) < 14 + ihl + 8:
        return None
    u = 14 + ihl
    sport, dport, ulen = struct.unpack("!HHH", frame[u:u + 6])
    if MESH_PORT not in (sport, dport) or ulen < 8:
        return None
    return frame[26:30], frame[30:34], sport, dport, frame[u + 8:u + ulen]


def cmd_capture(a):
    socks = []
    for port in a.ports.split(","):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((port, 0))
        s.setblocking(False)
        socks.append(s)
    end = time.time() + a.ms / 1000.0
    got = []
    while time.time() < end and len(got) < a.max:
        r, _, _ = select.select(socks, [], [], max(0.0, end - time.time()))
        for s in r:
            while len(got) < a.max:
                try:
                    data, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                p = parse_udp(data)
                if p:
                    got.append(p)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        for src, dst, sp, dp, pl in got:
            f.write(struct.pack("!4s4sHHH", src, dst, sp, dp, len(pl)) + pl)
    os.rename(tmp, a.out)
    print(f"captured {len(got)} frames")


def load_pool(d):
    pool = []
    for path in sorted(glob.glob(os.path.join(d, "cap-*.bin"))):
        with open(path, "rb") as f:
            b = f.read()
        o = 0
        while o + 14 <= len(b):
            src, dst, sp, dp, ln = struct.unpack("!4s4sHHH", b[o:o + 14])
            pool.append((src, dst, sp, dp, b[o + 14:o + 14 + ln]))
            o += 14 + ln
    return pool


def ip_csum(h):
    s = sum(struct.unpack(f"!{len(h) // 2}H", h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def build(dst_mac, src_mac, src_ip, dst_ip, sport, dport, payload, ident):
    ulen = 8 + len(payload)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident & 0xffff, 0, 64, 17, 0,
                      src_ip, dst_ip)
    iph = iph[:10] + struct.pack("!H", ip_csum(iph)) + iph[12:]
    return dst_mac + src_mac + b"\x08\x00" + iph + struct.pack("!HHHH", sport, dport, ulen, 0) \
        + payload


def cmd_flood(a):
    rng = random.Random(f"nemesis-flood-{a.seed}")
    targets = []
    for t in a.targets.split(","):
        ip, mac = t.split("=")
        targets.append((socket.inet_aton(ip), bytes.fromhex(mac.replace(":", ""))))
    mac_of = dict(targets)
    pool = [p for p in load_pool(a.pool) if p[1] in mac_of and p[4]]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    with open(f"/sys/class/net/{a.iface}/address") as f:
        own = bytes.fromhex(f.read().strip().replace(":", ""))
    own_ip = socket.inet_aton(a.src_ip)
    counts = {}
    t0 = time.time()
    window = None
    sent = 0
    for k in range(a.count):
        mode = a.mode
        if mode == "mixed":
            mode = rng.choices(["replay", "rebind", "bitflip", "trunc", "hdrjunk", "junk"],
                               [30, 20, 15, 10, 15, 10])[0]
        if mode != "junk" and not pool:
            mode = "junk"
        if mode == "junk":
            dip, dmac = rng.choice(targets)
            pl = rng.randbytes(rng.randrange(1, 1400))
            fr = build(dmac, own, own_ip, dip, rng.randrange(1024, 65535), MESH_PORT, pl, k)
        else:
            # half the replays walk a window of the capture in order (an old channel's
            # sequence, late), half pick at random
            if window is None or window[1] == 0 or rng.random() < 0.02:
                window = [rng.randrange(len(pool)), rng.randrange(20, 200)]
            if rng.random() < 0.5:
                src, dst, sp, dp, pl = pool[window[0] % len(pool)]
                window[0] += 1
                window[1] -= 1
            else:
                src, dst, sp, dp, pl = rng.choice(pool)
            if mode == "rebind":  # a frame for one node, replayed to another
                others = [t for t in targets if t[0] != dst and t[0] != src]
                dst = rng.choice(others)[0] if others else dst
            elif mode == "bitflip":
                b = bytearray(pl)
                for _ in range(rng.randrange(1, 9)):
                    i = rng.randrange(len(b))
                    b[i] ^= 1 << rng.randrange(8)
                pl = bytes(b)
            elif mode == "trunc":
                pl = pl[:rng.randrange(len(pl))]
            elif mode == "hdrjunk":
                h = rng.randrange(8, min(64, len(pl)) + 1)
                pl = pl[:h] + rng.randbytes(rng.randrange(0, 1200))
            fr = build(mac_of[dst], own, src, dst, sp, dp, pl, k)
        try:
            s.send(fr)
            sent += 1
        except OSError:
            pass
        counts[mode] = counts.get(mode, 0) + 1
        # pace: never faster than --rate frames/s
        ahead = (k + 1) / a.rate - (time.time() - t0)
        if ahead > 0.002:
            time.sleep(ahead)
    print("flood sent=%d pool=%d %s" % (sent, len(pool),
                                         " ".join(f"{m}={n}" for m, n in sorted(counts.items()))))


# ---------------------------------------------------------------- telemetry
class Tel:
    def __init__(self, prefix):
        self.path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        self.s = None

    def query(self, cmd):
        for _ in range(2):
            try:
                if self.s is None:
                    self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                    self.s.settimeout(3)
                    self.s.connect(self.path)
                    info = json.loads(self.s.recv(1024).decode())
                    self.buflen = info.get("max_output_len", 16384)
                self.s.send(cmd.encode())
                reply = json.loads(self.s.recv(self.buflen).decode())
                return next(iter(reply.values()))
            except (OSError, ValueError, StopIteration):
                self.close()
        return None

    def close(self):
        if self.s is not None:
            self.s.close()
        self.s = None


def tels(a):
    return [(p, Tel(p)) for p in a.prefixes.split(",")]


def cmd_tel(a):
    for p, t in tels(a):
        print(p, json.dumps(t.query(a.cmd)))


def digests(ts):
    out = []
    for _, t in ts:
        r = t.query("/mesh/kv/stats")
        out.append(r.get("digest") if isinstance(r, dict) else None)
    return out


def cmd_converge(a):
    ts = tels(a)
    t0 = time.time()
    while True:
        d = digests(ts)
        if d[0] and all(x == d[0] for x in d):
            print("%.1f %s" % (time.time() - t0, d[0]))
            return 0
        if time.time() - t0 > a.timeout:
            print("timeout " + " ".join(str(x) for x in d))
            return 1
        time.sleep(0.25)


def cmd_members(a):
    ts = tels(a)
    t0 = time.time()
    while True:
        m = []
        for _, t in ts:
            r = t.query("/mesh/members")
            m.append(r.get("alive") if isinstance(r, dict) else None)
        if all(x == a.want for x in m):
            print("%.1f" % (time.time() - t0))
            return 0
        if time.time() - t0 > a.timeout:
            print("timeout alive=" + ",".join(str(x) for x in m))
            return 1
        time.sleep(0.2)


DIAG = {
    "stream": ["rx_crdt_stale_epoch", "rx_crdt_state_lost", "rx_crdt_wrong_receiver",
               "rx_ack_reset", "rx_ack_stale_epoch", "tx_crdt_drop_queue_full",
               "tx_crdt_requeued", "tx_crdt_retransmits", "rx_crdt_drop_window",
               "rx_crdt_apply_fail", "rx_crdt_apply_retry", "rx_crdt_frag_drop",
               "channel_up", "channel_down", "rx_crdt_ops", "rx_crdt_dup_ops", "tx_crdt_ops",
               "crdt_ops_acked", "rx_ack_failure"],
    "node": ["node_export_backpressure", "node_export_rewind", "node_ae_digests_sent",
             "node_ae_digests_rx", "node_ae_rounds_diverged", "node_ae_ops_pushed",
             "node_ae_backpressure", "node_gc_tombstones"],
    "net": ["rx_drop_frame_replayed", "rx_drop_frame_stale_seq", "rx_drop_frame_bad_auth",
            "rx_drop_frame_bad_checksum", "rx_drop_frame_bad_magic", "rx_frames",
            "fault_drop", "fault_dup", "fault_delay"],
    "swim": ["swim_suspect", "swim_dead", "swim_refute"],
    "crdt": ["crdt_apply_reject"],
}


def cmd_diag(a):
    for p, t in tels(a):
        kv = t.query("/mesh/kv/stats") or {}
        mem = t.query("/mesh/members") or {}
        line = [f"{p}: digest={kv.get('digest')}"]
        for ns in ("worker", "rl"):
            e = kv.get(ns) or {}
            line.append(f"{ns}.keys={e.get('keys')} {ns}.tombstones={e.get('tombstones')}")
        line.append("members alive=%s suspect=%s dead=%s" % (mem.get("alive"), mem.get("suspect"),
                                                             mem.get("dead")))
        print("# " + " ".join(line))
        ctr = []
        for g, names in DIAG.items():
            st = (t.query(f"/mesh/stats,{g}") or {}).get(g, {})
            for nm in names:
                v = st.get(nm, st.get(f"{g}_{nm}"))
                if v:
                    ctr.append(f"{g}.{nm}={v}")
        print("#   " + " ".join(ctr))
        peers = (t.query("/mesh/peers") or {}).get("peers") or {}
        for name, pr in sorted(peers.items()):
            if isinstance(pr, dict):
                print("#   peer %s up=%s in_flight=%s sent=%s acked=%s retx=%s drops=%s" % (
                    name, pr.get("up"), pr.get("in_flight"), pr.get("crdt_sent_seq"),
                    pr.get("crdt_acked_seq"), pr.get("retransmits"), pr.get("drops")))


# ---------------------------------------------------------------- check
def vkey(ts, rep):
    return (int(ts), int(rep, 16) if isinstance(rep, str) else int(rep))


def cmd_check(a):
    kills = {}  # node -> [times]: kill -9 by the test, or a crash (a failure of its own)
    last = {}   # node -> its last kill / crash / restart event
    with open(a.events) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[1] in ("kill", "crash"):
                kills.setdefault(int(p[2]), []).append(float(p[0]))
            if len(p) >= 3 and p[1] in ("kill", "crash", "restart"):
                last[int(p[2])] = p[1]

    def durable(r):
        """acked by a node that was not killed afterwards (pauses are not kills)"""
        return r.get("rc") == 0 and not any(k >= r["t0"] for k in kills.get(r["node"], []))

    ops = {}
    n_ops = {"attempted": 0, "acked": 0, "durable": 0, "acked_then_killed": 0}
    by_kind = {}
    for path in sorted(glob.glob(os.path.join(a.logs, "client-*.jsonl"))):
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a client killed mid-line
                if r["op"] == "delskip":
                    continue
                ops.setdefault(r["key"], []).append(r)
                n_ops["attempted"] += 1
                k = by_kind.setdefault(r["op"] + ("-big" if r.get("size", 0) >= BIG else ""),
                                       [0, 0])
                k[0] += 1
                if r.get("rc") == 0:
                    k[1] += 1
                    n_ops["acked"] += 1
                    if durable(r):
                        n_ops["durable"] += 1
                    else:
                        n_ops["acked_then_killed"] += 1

    nodes = [i for i in range(1, a.nodes + 1) if last.get(i) != "crash"]  # live ones

    def read(node_key):
        node, key = node_key
        sock = a.sock.replace("%", str(node))
        for _ in range(3):
            st, doc = json_get(a.ctl, sock, key, 5000)
            if st in ("ok", "absent"):
                return node_key, st, doc
            time.sleep(0.2)
        return node_key, st, doc

    def read_all(keys):
        final = {}
        with ThreadPoolExecutor(max_workers=4) as ex:
            for (node, key), st, doc in ex.map(read, [(n, k) for k in keys for n in nodes]):
                final[(node, key)] = (st, doc)
        return final

    def verify(ops, final):
        viol = []
        inversions = []

        def bad(kind, key, msg):
            viol.append((kind, key, msg))

        for key, rs in sorted(ops.items()):
            states = {}
            for node in nodes:
                st, doc = final[(node, key)]
                if st == "error" or st == "bad":
                    bad("unreadable", key, f"n{node}: {doc}")
                    continue
                if st == "absent":
                    states[node] = None
                elif key.startswith("rl:"):
                    v = doc.get("value") or {}
                    states[node] = ((v.get("epoch"), v.get("count")),
                                    vkey(doc["timestamp"], doc["replica"]))
                else:
                    val = doc.get("value", "")
                    states[node] = (val, vkey(doc["timestamp"], doc["replica"]))
            if len(set(map(str, states.values()))) > 1:
                desc = "; ".join(
                    f"n{n}=" + ("absent" if s is None else
                                f"{str(s[0]).split('|')[0][:30]}@{s[1][0]}/{s[1][1]:016x}")
                    for n, s in sorted(states.items()))
                bad("diverged", key, desc)
            if key.startswith("rl:"):
                attempted = {(r["e"], r["n"]) for r in rs}
                dur = [(r["e"], r["n"]) for r in rs if durable(r)]
                for node, s in sorted(states.items()):
                    if s is None:
                        if dur:
                            bad("lost", key, f"n{node}: absent, acked {max(dur)}")
                        continue
                    if s[0] not in attempted:
                        bad("unknown-value", key, f"n{node}: {s[0]} never written")
                    if dur and s[0] < max(dur):
                        w = max((r for r in rs if durable(r)), key=lambda r: (r["e"], r["n"]))
                        bad("stale", key, f"n{node}: holds {s[0]}, acked {max(dur)} by n{w['node']}")
                continue
            puts = {r["vid"]: r for r in rs if r["op"] == "put"}
            known = [r for r in rs if r["op"] == "put" and "ts" in r]
            dur_known = [r for r in known if durable(r)]
            dur_any = [r for r in rs if r["op"] == "put" and durable(r)]
            dels = [r for r in rs if r["op"] == "del"]
            dur_del = [r for r in dels if durable(r)]
            maxv = max((vkey(r["ts"], r["rep"]) for r in dur_known), default=None)
            for node, s in sorted(states.items()):
                if s is None:
                    if not dels and dur_any:
                        w = dur_any[-1]
                        bad("lost", key, f"n{node}: absent; {w['vid']} acked by n{w['node']} "
                            f"(ts {w.get('ts', '?')}), never deleted")
                    continue
                val, ver = s
                vid = val.split("|")[0]
                r = puts.get(vid)
                if r is None:
                    bad("unknown-value", key, f"n{node}: value {val[:40]!r} never written")
                    continue
                if val != value_for(vid, r["size"]):
                    bad("corrupt", key, f"n{node}: value of {vid} differs ({len(val)} bytes, "
                        f"wrote {r['size']})")
                if "ts" in r and vkey(r["ts"], r["rep"]) != ver:
                    bad("version", key, f"n{node}: {vid} at {ver}, written at {r['ts']}/{r['rep']}")
                if dur_del:
                    d = dur_del[-1]
                    bad("resurrected", key, f"n{node}: holds {vid}@{ver[0]} after a delete acked by "
                        f"n{d['node']} over version {d['pre'][0]}")
                if maxv and ver < maxv and not dur_del:  # after a delete: "resurrected" says it
                    w = max(dur_known, key=lambda x: vkey(x["ts"], x["rep"]))
                    why = ""
                    if dels:
                        why = ("; its delete was acked by n%d, killed later" % dels[-1]["node"]
                               if dels[-1].get("rc") == 0 else "; its delete was not acked")
                    bad("stale", key, f"n{node}: holds {vid}@{ver[0]}, acked {w['vid']}@{w['ts']} "
                        f"by n{w['node']} (never killed after){why}")
                # real-time order: a durable write started (5 ms margin: millisecond
                # clocks) after this acked one completed should have superseded it; a
                # note, or with MESH_NEMESIS_STRICT_ORDER=1 a violation
                later = [x for x in dur_any if r.get("rc") == 0 and x["vid"] != vid and
                         x["t0"] > r["t1"] + 0.005]
                if later and not dels:
                    if node == nodes[0]:
                        inversions.append((key, vid, ver, later[-1]))
                    if STRICT_ORDER:
                        w = later[-1]
                        bad("order", key, f"n{node}: holds {vid}@{ver[0]}, acked before "
                            f"{w['vid']}@{w.get('ts', '?')} (acked by n{w['node']}) began")
        return viol, inversions

    if a.selftest:
        return selftest(nodes[0], ops, read_all, verify)
    final = read_all(ops)
    viol, inversions = verify(ops, final)

    print("ops: attempted=%d acked=%d durable=%d acked_by_later_killed_node=%d" % (
        n_ops["attempted"], n_ops["acked"], n_ops["durable"], n_ops["acked_then_killed"]))
    print("ops by kind (attempted/acked): " + " ".join(
        f"{k}={v[0]}/{v[1]}" for k, v in sorted(by_kind.items())))
    print(f"keys checked: {len(ops)} on {len(nodes)} nodes")
    if inversions:
        print(f"note: {len(inversions)} key(s) hold a value that a durable write begun later "
              "in real time did not supersede (legal for Lamport versions; a violation with "
              "MESH_NEMESIS_STRICT_ORDER=1), e.g.:")
        for key, vid, ver, w in inversions[:5]:
            print(f"note:   {key}: holds {vid}@{ver[0]}; later {w['vid']}@{w.get('ts', '?')} "
                  f"acked by n{w['node']}")
    # one line per key and finding, the nodes that share it named together
    kinds = {}
    for k, key, msg in viol:
        node, _, rest = msg.partition(": ")
        if not (node.startswith("n") and node[1:].isdigit()):
            node, rest = "", msg
        grp = kinds.setdefault(k, {}).setdefault((key, rest), [])
        if node:
            grp.append(node)
    with open(os.path.join(a.logs, "violations.txt"), "w") as full:
        for k, g in sorted(kinds.items()):
            keys = {key for key, _ in g}
            print(f"VIOLATION {k}: {len(keys)} key(s)")
            for i, ((key, rest), nodes) in enumerate(g.items()):
                line = f"  {key}: {','.join(nodes) + ': ' if nodes else ''}{rest}"
                full.write(f"{k}{line}\n")
                if i < 10:
                    print(line)
            if len(g) > 10:
                print(f"  ... {len(g) - 10} more in violations.txt")
    # the ledger: every acknowledged write, the node that acked it and whether the test
    # killed that node afterwards
    with open(os.path.join(a.logs, "acked.tsv"), "w") as f:
        f.write("t_ack\tkey\top\tvalue\tnode\tversion\tkilled_after\n")
        for key, rs in sorted(ops.items()):
            for r in rs:
                if r.get("rc") != 0:
                    continue
                val = r.get("vid") or (f"{r['e']},{r['n']}" if r["op"] == "rl" else "-")
                ver = f"{r['ts']}/{r['rep']}" if "ts" in r else "-"
                f.write(f"{r['t1']:.3f}\t{key}\t{r['op']}\t{val}\tn{r['node']}\t{ver}\t"
                        f"{'no' if durable(r) else 'yes'}\n")
    with open(os.path.join(a.logs, "summary.json"), "w") as f:
        json.dump({"ops": n_ops, "by_kind": by_kind, "keys": len(ops),
                   "violations": {k: len({key for key, _ in v}) for k, v in kinds.items()},
                   "inversions": len(inversions)}, f)
    return 1 if viol else 0


def selftest(n0, ops, read_all, verify):
    """The checker must be able to fail: on one lww key, one epoch_max key and a second lww
    key that hold values, add (in memory) a durable acked put at a version above the final
    one, a durable acked rl-set above the final value, and a durable acked delete over the
    final version; each must be reported (stale, stale, resurrected)."""
    lww = sorted(k for k, rs in ops.items() if k.startswith("worker:") and
                 not any(r["op"] == "del" for r in rs))
    rl = sorted(k for k in ops if k.startswith("rl:"))
    final = read_all(lww[:6] + rl[:1])
    held = [k for k in lww[:6] if final[(n0, k)][0] == "ok"]
    if len(held) < 2 or not rl or final[(n0, rl[0])][0] != "ok":
        print("selftest: not enough keys with values")
        return 1
    now = time.time()
    fake = {"node": n0, "rc": 0, "t0": now, "t1": now, "c": 0}
    k1, k2, k3 = held[0], held[1], rl[0]
    d1 = final[(n0, k1)][1]
    sub = {k: list(ops[k]) for k in (k1, k2, k3)}
    sub[k1].append(dict(fake, op="put", key=k1, vid="c0.s1", size=5,
                        ts=d1["timestamp"] + 1000, rep="0000000000000001"))
    d2 = final[(n0, k2)][1]
    sub[k2].append(dict(fake, op="del", key=k2, pre=[d2["timestamp"], d2["replica"]]))
    sub[k3].append(dict(fake, op="rl", key=k3, e=1 << 40, n=1))
    viol, _ = verify(sub, final)
    got = {(kind, key) for kind, key, _ in viol}
    want = {("stale", k1), ("resurrected", k2), ("stale", k3)}
    print("selftest: fabricated violations reported: %s; missed: %s" % (
        sorted(got & want), sorted(want - got)))
    return 0 if want <= got else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("schedule")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--nodes", type=int, default=5)
    p = sub.add_parser("client")
    for x in ("--ctl", "--sock", "--live", "--log", "--tmp"):
        p.add_argument(x, required=True)
    p.add_argument("--id", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--nodes", type=int, default=5)
    p = sub.add_parser("preload")
    p.add_argument("--lib", required=True)
    p.add_argument("--socks", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--conns", type=int, default=4)
    p = sub.add_parser("count")
    p.add_argument("--ctl", required=True)
    p.add_argument("--socks", required=True)
    p.add_argument("--prefix", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--ports", required=True)
    p.add_argument("--ms", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max", type=int, default=4000)
    p = sub.add_parser("flood")
    p.add_argument("--pool", required=True)
    p.add_argument("--targets", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--mode", default="mixed")
    p.add_argument("--iface", default="eth0")
    p.add_argument("--src-ip", default="10.99.0.100")
    for name in ("tel", "converge", "members", "diag"):
        p = sub.add_parser(name)
        p.add_argument("--prefixes", required=True)
        if name == "tel":
            p.add_argument("cmd")
        if name in ("converge", "members"):
            p.add_argument("--timeout", type=float, required=True)
        if name == "members":
            p.add_argument("--want", type=int, required=True)
    p = sub.add_parser("check")
    for x in ("--logs", "--events", "--ctl", "--sock"):
        p.add_argument(x, required=True)
    p.add_argument("--nodes", type=int, default=5)
    p.add_argument("--selftest", action="store_true",
                   help="add fabricated acked writes the final state cannot satisfy to three "
                        "keys and exit 0 only if each is reported")
    a = ap.parse_args()
    fn = globals()["cmd_" + a.cmd]
    sys.exit(fn(a) or 0)


if __name__ == "__main__":
    main()
