"""meshclient against live nodes: MESH_SOCKS names the control sockets of three nodes of
one cluster (tests/integration/test_client_py.sh starts them). Run with
python3 -m unittest discover -s lib/client/python/tests -v"""
import asyncio
import errno
import os
import unittest

from meshclient import AsyncClient, Client, MeshError

SOCKS = os.environ.get("MESH_SOCKS", "").split(":")
BIN_KEY = b"worker:\x00\xff\x01\n bin"
BIN_VALUE = bytes(range(256)) * 3


def setUpModule():
    if len(SOCKS) != 3:
        raise RuntimeError("MESH_SOCKS must name 3 control sockets "
                           "(run through tests/integration/test_client_py.sh)")


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
        ms = self.c[1].members()
        self.assertEqual(sorted((m.name, m.status) for m in ms),
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
        ms = await self.c[0].members()
        self.assertEqual(sorted(m.name for m in ms), ["n1", "n2", "n3"])
        self.assertTrue(all(m.status == "alive" for m in ms))


if __name__ == "__main__":
    unittest.main()
