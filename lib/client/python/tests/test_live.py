"""meshclient against live nodes: MESH_SOCKS names the control sockets of three nodes of
one cluster, MESH_SOCK_OWNER and MESH_PID_OWNER a fourth node that OwnerTest kills with
SIGKILL (tests/integration/test_client_py.sh starts them). A check whose server side the
node does not announce in hello's features is skipped (reported as a TAP SKIP). Run with
python3 -m unittest discover -s lib/client/python/tests -v"""
import asyncio
import errno
import os
import signal
import time
import unittest

from meshclient import AsyncClient, Client, MeshError

SOCKS = os.environ.get("MESH_SOCKS", "").split(":")
SOCK_OWNER = os.environ.get("MESH_SOCK_OWNER", "")
PID_OWNER = int(os.environ.get("MESH_PID_OWNER", "0") or 0)
BIN_KEY = b"worker:\x00\xff\x01\n bin"
BIN_VALUE = bytes(range(256)) * 3
HELLO = None
OWNER_DEAD_EVENT = None  # set by OwnerTest's kill: the DEAD MemberEvent seen, or a reason


def setUpModule():
    global HELLO
    if len(SOCKS) != 3:
        raise RuntimeError("MESH_SOCKS must name 3 control sockets "
                           "(run through tests/integration/test_client_py.sh)")
    with Client(SOCKS[0]) as c:
        HELLO = c.hello()
    figure(f"hello: version {HELLO.version} features {sorted(HELLO.features)}")


def figure(line):
    """A measured figure: to MESH_PY_FIGURES (the script prints it as a TAP comment)."""
    path = os.environ.get("MESH_PY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def need(feature):
    if feature not in HELLO.features:
        raise unittest.SkipTest(f"node does not announce {feature!r} in hello")


def until(cond, timeout, step=0.05):
    """cond() once it is true, else its last value after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class SyncTest(unittest.TestCase):
    def setUp(self):
        self.c = [Client(s, timeout=10) for s in SOCKS]

    def tearDown(self):
        for c in self.c:
            c.close()

    def test_put_get_delete_binary(self):
        c = self.c[0]
        c.put(BIN_KEY, BIN_VALUE)
        v = c.get(BIN_KEY)
        self.assertIsNotNone(v)
        self.assertEqual(v.value, BIN_VALUE)
        self.assertGreater(v.timestamp, 0)
        c.delete(BIN_KEY)
        self.assertIsNone(c.get(BIN_KEY))
        self.assertIsNone(c.get(b"worker:never-written"))

    def test_large_value_one_message(self):
        big = os.urandom(200_000)
        self.c[0].put(b"config:py-big", big)
        self.assertEqual(self.c[0].get(b"config:py-big").value, big)

    def test_refusals_carry_the_node_reason(self):
        with self.assertRaises(MeshError) as e:
            self.c[0].put(b"nope:x", b"1")
        self.assertEqual(e.exception.errno, errno.ENXIO)
        self.assertTrue(e.exception.message)
        with self.assertRaises(MeshError) as e:
            self.c[0].put(b"td:x", b"1")  # a stream namespace takes publish only
        self.assertEqual(e.exception.errno, errno.EPROTOTYPE)
        self.c[0].put(b"worker:after-refusal", b"ok")  # the connection still serves
        self.assertEqual(self.c[0].get(b"worker:after-refusal").value, b"ok")

    def test_keys_in_order_with_pages(self):
        c = self.c[0]
        want = [b"config:pyk-%02d" % i for i in range(30)]
        for k in reversed(want):
            c.put(k, b"v")
        self.assertEqual(c.keys(b"config:pyk-"), want)
        page, more = c.keys_page(b"config:pyk-", b"", 10)
        self.assertEqual((page, more), (want[:10], True))
        page, more = c.keys_page(b"config:pyk-", want[24], 10)
        self.assertEqual((page, more), (want[25:], False))

    def test_watch_sees_a_put_and_delete_on_another_node(self):
        sub = self.c[2].subscribe(b"worker:pyw-")
        self.c[0].put(b"worker:pyw-1", b"\x00one")
        ev = self.c[2].next_event(10, sub)
        self.assertIsNotNone(ev, "no event on n3 for a put on n1")
        self.assertEqual((ev.key, ev.value, ev.tombstone), (b"worker:pyw-1", b"\x00one", False))
        self.assertGreater(ev.origin_ns, 0)
        self.c[0].delete(b"worker:pyw-1")
        ev = self.c[2].next_event(10, sub)
        self.assertIsNotNone(ev)
        self.assertEqual((ev.key, ev.tombstone), (b"worker:pyw-1", True))
        self.c[2].unsubscribe(sub)
        self.c[0].put(b"worker:pyw-2", b"after")
        self.assertIsNone(self.c[2].next_event(1, sub))

    def test_large_multipart_value_reaches_another_node(self):
        big = os.urandom(1_000_000)  # 8 parts of 128 KiB each way
        sub = self.c[2].subscribe(b"td:pybig")
        self.c[0].publish(b"td:pybig", big)
        ev = self.c[2].next_event(20, sub)
        self.assertIsNotNone(ev, "no event on n3 for a publish on n1")
        self.assertEqual(ev.key, b"td:pybig")
        self.assertEqual(len(ev.value), len(big))
        self.assertEqual(ev.value, big)
        self.assertEqual(ev.dropped, 0)

    def test_watch_generator(self):
        w = self.c[1].watch(b"config:pyg-", timeout=10)
        self.c[1].subscribe(b"config:pyg-")  # a second subscription: its events stay queued
        self.c[0].put(b"config:pyg-1", b"1")
        ev = next(w, None)
        self.assertIsNotNone(ev)
        self.assertEqual((ev.key, ev.value), (b"config:pyg-1", b"1"))
        w.close()
        other = self.c[1].next_event(10)
        self.assertIsNotNone(other, "the other subscription's event was lost")
        self.assertNotEqual(other.subscription, ev.subscription)
        self.assertEqual(other.key, b"config:pyg-1")

    def test_members_and_stats(self):
        ms = self.c[1].members()  # n4 (OwnerTest's node) may be alive or dead by now
        self.assertEqual(sorted((m.name, m.status) for m in ms if m.name != "n4"),
                         [("n1", "alive"), ("n2", "alive"), ("n3", "alive")])
        self.c[1].put(b"worker:stats", b"x")
        self.assertGreaterEqual(self.c[1].stats("crdt")["crdt.crdt_put"], 1)
        with self.assertRaises(MeshError) as e:
            self.c[1].stats("no-such-group")
        self.assertEqual(e.exception.errno, errno.ENOENT)


class AsyncTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.c = [await AsyncClient.connect(s, timeout=10) for s in SOCKS]

    async def asyncTearDown(self):
        for c in self.c:
            await c.close()

    async def test_put_get_delete_binary(self):
        c = self.c[0]
        await c.put(BIN_KEY + b"a", BIN_VALUE)
        self.assertEqual((await c.get(BIN_KEY + b"a")).value, BIN_VALUE)
        await c.delete(BIN_KEY + b"a")
        self.assertIsNone(await c.get(BIN_KEY + b"a"))
        with self.assertRaises(MeshError) as e:
            await c.delete(b"rl:x")
        self.assertEqual(e.exception.errno, errno.EOPNOTSUPP)

    async def test_many_in_flight(self):
        c = self.c[1]
        keys = [b"config:pya-%03d" % i for i in range(100)]
        await asyncio.gather(*(c.put(k, k[::-1]) for k in keys))
        got = await asyncio.gather(*(c.get(k) for k in keys))
        self.assertEqual([v.value for v in got], [k[::-1] for k in keys])
        self.assertEqual(await c.keys(b"config:pya-"), keys)

    async def test_watch_sees_a_put_on_another_node(self):
        async with await self.c[2].watch(b"worker:pyaw-") as w:
            await self.c[0].put(b"worker:pyaw-1", b"one")
            ev = await w.next(10)
            self.assertIsNotNone(ev, "no event on n3 for a put on n1")
            self.assertEqual((ev.key, ev.value, ev.tombstone),
                             (b"worker:pyaw-1", b"one", False))
            big = os.urandom(300_000)
            await self.c[0].put(b"worker:pyaw-2", b"two")
            ev = await w.next(10)
            self.assertEqual((ev.key, ev.value), (b"worker:pyaw-2", b"two"))
        async with await self.c[2].watch(b"td:pyabig") as w:
            await self.c[0].publish(b"td:pyabig", big)
            ev = await w.next(20)
            self.assertIsNotNone(ev)
            self.assertEqual(ev.value, big)

    async def test_members(self):
        ms = [m for m in await self.c[0].members() if m.name != "n4"]
        self.assertEqual(sorted(m.name for m in ms), ["n1", "n2", "n3"])
        self.assertTrue(all(m.status == "alive" for m in ms))

    async def test_pipelined_puts(self):
        c, n = self.c[0], 2000
        keys = [b"worker:pyp-%05d" % i for i in range(n)]
        t0 = time.monotonic()
        tasks = [asyncio.ensure_future(c.put(k, k)) for k in keys]
        peak = 0
        while not all(t.done() for t in tasks):
            peak = max(peak, len(c._pending))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        dt = time.monotonic() - t0
        figure(f"python async: {n} pipelined puts in {dt:.3f} s ({n / dt:.0f}/s), "
              f"peak {peak} in flight")
        self.assertGreater(peak, 10, "puts were not in flight together")
        self.assertEqual(await c.keys(b"worker:pyp-"), keys)
        got = await asyncio.gather(*(c.get(k) for k in keys[::97]))
        self.assertEqual([v.value for v in got], keys[::97])

    async def test_batch_async_large_split(self):
        need("batch")
        c = self.c[1]
        h = await c.hello()
        n = h.max_batch + 100  # more ops than one message may carry
        ops = [("put", b"config:pyab-%05d" % i, b"%d" % i) for i in range(n)]
        ops += [("put", b"config:pyabig-%02d" % i, os.urandom(20_000)) for i in range(20)]
        res = await c.batch(ops)
        self.assertEqual(len(res), len(ops))
        self.assertTrue(all(r.ok for r in res), [r for r in res if not r.ok][:3])
        self.assertEqual(len(await c.keys(b"config:pyab-")), n)
        self.assertEqual((await c.get(ops[-1][1])).value, ops[-1][2])
        got = await c.batch([("get", b"config:pyab-00007"), ("get", b"config:pyab-none")])
        self.assertEqual([(r.found, r.value) for r in got], [(True, b"7"), (False, b"")])

    async def test_members_watch_snapshot_async(self):
        need("members_watch")
        async with await self.c[2].members_watch(snapshot=True) as mw:
            evs = [await mw.next(10) for _ in range(4)]  # n4 lives until XOwnerTest
            self.assertNotIn(None, evs)
            self.assertEqual([e.kind for e in evs], ["JOIN"] * 4)
            self.assertEqual(evs[0].member.name, "n3")  # self first
            self.assertEqual({e.member.name for e in evs}, {"n1", "n2", "n3", "n4"})
            self.assertEqual(mw.subscription, evs[0].subscription)

    async def test_watch_snapshot_async(self):
        need("watch")
        c = self.c[2]
        for i in range(3):
            await c.put(b"config:pyas-%d" % i, b"%d" % i)
        w = await c.watch(b"config:pyas-", snapshot=True)
        snap = []
        while True:
            ev = await w.next(10)
            self.assertIsNotNone(ev, "snapshot did not end")
            self.assertTrue(ev.snapshot)
            snap.append(ev.key)
            if ev.snapshot_end:
                break
        self.assertEqual(sorted(snap), [b"config:pyas-%d" % i for i in range(3)])
        await c.put(b"config:pyas-9", b"9")
        ev = await w.next(10)
        self.assertEqual((ev.key, ev.snapshot), (b"config:pyas-9", False))
        self.assertEqual(w.seq, ev.seq)
        await w.close()


class V2Test(unittest.TestCase):
    """Version 2 of the protocol through the sync client (the async one shares the codec)."""

    def setUp(self):
        self.c = [Client(s, timeout=10) for s in SOCKS]

    def tearDown(self):
        for c in self.c:
            c.close()

    def test_hello(self):
        h = self.c[0].hello()
        if h.version < 2:
            self.skipTest("node predates hello (version 1)")
        self.assertEqual(h.node, "n1")
        self.assertGreater(h.generation, 0)
        self.assertGreater(h.max_batch, 0)
        self.assertGreater(h.max_message, 0)

    def test_error_code_names(self):
        with self.assertRaises(MeshError) as e:
            self.c[0].put(b"nope:x", b"1")
        self.assertEqual((e.exception.code, e.exception.errno), ("NO_NAMESPACE", errno.ENXIO))
        with self.assertRaises(MeshError) as e:
            self.c[0].delete(b"worker:pyerr-never")
        self.assertEqual(e.exception.code, "NOT_FOUND")

    def test_batch_gets_past_one_reply(self):
        need("batch")
        big = [("put", b"worker:pybig-%d" % i, bytes([65 + i]) * 100_000) for i in range(4)]
        self.assertTrue(all(r.ok for r in self.c[0].batch(big)))
        res = self.c[0].batch([("get", op[1]) for op in big])  # 400 kB: over one reply
        self.assertEqual([(r.found, r.value) for r in res], [(True, op[2]) for op in big])

    def test_batch_mixed_results(self):
        need("batch")
        res = self.c[0].batch([
            ("put", b"worker:pyb-1", b"one"),
            ("put", b"nope:x", b"1"),
            ("get", b"worker:pyb-1"),
            ("get", b"worker:pyb-none"),
            ("put", b"td:x", b"1"),
            ("delete", b"rl:x"),
            ("delete", b"worker:pyb-never"),
            ("delete", b"worker:pyb-1"),
            ("get", b"worker:pyb-1"),
        ])
        self.assertEqual([r.code for r in res],
                         ["OK", "NO_NAMESPACE", "OK", "OK", "WRONG_KIND", "UNSUPPORTED",
                          "NOT_FOUND", "OK", "OK"])
        self.assertEqual([r.status for r in res][:2], [0, -errno.ENXIO])
        self.assertEqual((res[2].found, res[2].value), (True, b"one"))
        self.assertGreater(res[2].timestamp, 0)
        self.assertFalse(res[3].found)
        self.assertFalse(res[8].found)
        self.assertIsNone(self.c[0].get(b"worker:pyb-1"))

    def test_watch_resume(self):
        need("watch")
        c, pre = self.c[0], b"config:pyr-"
        for i in range(3):
            c.put(pre + b"%d" % i, b"v%d" % i)
        w = c.watch(pre, snapshot=True)
        snap = {}
        while True:
            ev = w.next(10)
            self.assertIsNotNone(ev, "snapshot did not end")
            snap[ev.key] = ev.value
            if ev.snapshot_end:
                break
        self.assertEqual(snap, {pre + b"%d" % i: b"v%d" % i for i in range(3)})
        c.put(pre + b"3", b"v3")
        ev = w.next(10)
        self.assertEqual((ev.key, ev.snapshot), (pre + b"3", False))
        point = w.resume_point
        self.assertEqual(point, (w.generation, ev.seq))
        w.close()
        c.put(pre + b"1", b"new")    # changed while no watch was open
        c.delete(pre + b"2")
        c.put(pre + b"4", b"v4")
        self.c[1].put(b"config:pyq-other", b"x")  # outside the prefix
        w = c.watch(pre, resume=point)
        self.assertTrue(w.resumed)
        self.assertFalse(w.missed)
        got = {}
        while True:
            ev = w.next(1.5)
            if ev is None:
                break
            got[ev.key] = None if ev.tombstone else ev.value
            self.assertGreater(ev.seq, point[1])
        self.assertEqual(got, {pre + b"1": b"new", pre + b"2": None, pre + b"4": b"v4"})
        w.close()
        w = c.watch(pre, resume=(point[0] + 12345, point[1]))  # another life
        self.assertTrue(w.missed)
        self.assertFalse(w.resumed)
        keys = set()
        while True:
            ev = w.next(10)
            self.assertIsNotNone(ev, "no snapshot after a missed resume")
            self.assertTrue(ev.snapshot)
            keys.add(ev.key)
            if ev.snapshot_end:
                break
        self.assertEqual(keys, {pre + b"0", pre + b"1", pre + b"3", pre + b"4"})
        w.close()

    def test_cluster(self):
        need("cluster")
        cl = self.c[1].cluster()
        self.assertGreaterEqual(cl.known, 3)
        self.assertGreaterEqual(cl.reachable, 3)
        self.assertTrue(0 < cl.reachable_fraction <= 1)
        self.assertTrue(cl.should_serve)

    def test_metadata_seen_on_another_node(self):
        need("metadata")
        md = b"zone=a\x00\xffpy"
        mw = self.c[1].members_watch() if "members_watch" in HELLO.features else None
        self.c[0].set_metadata(md)

        def seen():
            return [m for m in self.c[1].members() if m.name == "n1" and m.metadata == md]
        self.assertTrue(until(seen, 10), "n2 does not show n1's metadata")
        if mw is not None:
            deadline = time.monotonic() + 10
            ev = None
            while time.monotonic() < deadline:
                ev = mw.next(1)
                if ev is not None and ev.kind == "METADATA" and ev.member.name == "n1":
                    break
            self.assertIsNotNone(ev)
            self.assertEqual((ev.kind, ev.member.metadata), ("METADATA", md))
            self.c[1].unsubscribe(mw.subscription, members=True)  # raises if refused
        self.c[0].set_metadata(b"")


class XOwnerTest(unittest.TestCase):
    """Runs last (unittest sorts classes by name): kills the fourth node."""

    def test_1_owned_keys_vanish_when_owner_killed(self):
        global OWNER_DEAD_EVENT
        need("owned")
        if not SOCK_OWNER or not PID_OWNER:
            self.skipTest("MESH_SOCK_OWNER / MESH_PID_OWNER not set")
        c1, c2 = Client(SOCKS[0], timeout=10), Client(SOCKS[1], timeout=10)
        mw = None
        if "members_watch" in HELLO.features:
            mw = c1.members_watch(snapshot=True)
            first = mw.next(10)
            self.assertEqual((first.kind, first.member.name), ("JOIN", "n1"))
        keys = [b"worker:pyown-%02d" % i for i in range(20)]
        with Client(SOCK_OWNER, timeout=10) as o:
            for k in keys:
                o.put(k, b"owned by n4", owned=True)
            o.put(b"worker:pyown-plain", b"plain")
        for c in (c1, c2):
            self.assertTrue(until(lambda: len(c.keys(b"worker:pyown-")) == 21, 10),
                            "owned keys did not reach the survivors")
        t0 = time.monotonic()
        os.kill(PID_OWNER, signal.SIGKILL)
        for c in (c1, c2):
            gone = until(lambda: c.keys(b"worker:pyown-") == [b"worker:pyown-plain"], 20)
            self.assertTrue(gone, f"owned keys still there: {c.keys(b'worker:pyown-')[:3]}")
        figure(f"python: owned keys gone on both survivors {time.monotonic() - t0:.2f} s after kill -9")
        self.assertEqual(c1.get(b"worker:pyown-plain").value, b"plain")
        if mw is not None:
            OWNER_DEAD_EVENT = "no DEAD event for n4 within 20 s"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                ev = mw.next(1)
                if ev is not None and ev.kind == "DEAD" and ev.member.name == "n4":
                    OWNER_DEAD_EVENT = ev
                    break
            mw.close()
        c1.close()
        c2.close()

    def test_2_members_watch_sees_owner_dead(self):
        need("members_watch")
        if OWNER_DEAD_EVENT is None:
            self.skipTest("the owner was not killed (previous test skipped)")
        self.assertNotIsInstance(OWNER_DEAD_EVENT, str, OWNER_DEAD_EVENT)
        self.assertEqual(OWNER_DEAD_EVENT.member.status, "dead")


if __name__ == "__main__":
    unittest.main()
