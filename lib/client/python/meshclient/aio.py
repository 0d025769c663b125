"""The asyncio client: many requests in flight on one connection, matched by id.

A reader task owns the socket's receive side: it resolves the future waiting for each
reply id and routes events to their subscription's Watch. A subscribe request is answered
by registering its Watch in the reader before the caller resumes, so no event of a new
subscription can arrive unrouted. Each Watch's queue is bounded; when full, the event is
dropped and counted into that subscription's next Event.
"""
import asyncio
import errno
import socket

from . import _proto as p

WATCH_QUEUE = 1024
# requests in flight per connection at most: the node queues at most 1024 replies for a
# client whose socket is full and disconnects one that goes beyond (doc/client-api.md)
MAX_IN_FLIGHT = 256


class Watch(p.WatchState):
    """One subscription's events: `async for ev in watch`, or `await watch.next(timeout)`.
    Iteration ends when the connection closes; `await watch.close()` unsubscribes.
    generation, seq, resumed, missed and resume_point: see WatchState."""

    def __init__(self, client, snapshot=False, resume=None, members=False):
        self.client = client
        self.subscription = 0
        self.members = members
        self.generation, self.seq, self.resumed, self.missed = 0, 0, False, False
        self._snapshot, self._resume = snapshot, resume
        self._q = asyncio.Queue(WATCH_QUEUE)
        self._ended = False
        self._lost = 0

    def _end(self):
        self._ended = True
        if not self._q.full():
            self._q.put_nowait(None)

    def _push(self, ev):
        try:
            self._q.put_nowait(ev)
            return True
        except asyncio.QueueFull:
            return False

    async def next(self, timeout=None):
        """The next Event, None after timeout seconds, or None once the connection closed."""
        if self._ended and self._q.empty():
            return None
        try:
            ev = await asyncio.wait_for(self._q.get(), timeout)
        except asyncio.TimeoutError:
            return None
        return self._seen(ev)

    def __aiter__(self):
        return self

    async def __anext__(self):
        ev = await self.next()
        if ev is None:
            raise StopAsyncIteration
        return ev

    async def close(self):
        await self.client.unsubscribe(self.subscription, self.members)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        try:
            await self.close()
        except (OSError, p.MeshError):
            pass


class AsyncClient:
    """`client = await AsyncClient.connect(path)`; then the calls of Client, awaited.
    Safe to call from many tasks at once."""

    def __init__(self, sock, timeout, max_in_flight=MAX_IN_FLIGHT):
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._next_id = 1
        self._pending = {}   # id -> (future, Watch or None)
        self._watches = {}   # subscription -> Watch
        self._mwatches = {}  # membership subscription -> Watch
        self._hello = None
        self._asm = p.Assembler()
        self._closed = None  # the exception that ended the connection
        self._reader = self._loop.create_task(self._read_loop())

    @classmethod
    async def connect(cls, path, timeout=5.0, max_in_flight=MAX_IN_FLIGHT):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, path),
                                   timeout)
        except BaseException:
            sock.close()
            raise
        return cls(sock, timeout, max_in_flight)

    async def close(self):
        self._reader.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
        self._shutdown(ConnectionError("client closed"))
        self._sock.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    # ---- transport

    def _shutdown(self, exc):
        if self._closed is None:
            self._closed = exc
        for fut, _ in self._pending.values():
            if not fut.done():
                fut.set_exception(self._closed)
        self._pending.clear()
        for w in list(self._watches.values()) + list(self._mwatches.values()):
            w._end()
        self._watches.clear()
        self._mwatches.clear()

    def _event(self, e):
        if p.is_member_event(e):
            w = self._mwatches.get(e.subscription)
            if w is not None:
                ev = p.member_event(e)
                if w._push(ev._replace(dropped=ev.dropped + w._lost)):
                    w._lost = 0
                else:
                    w._lost += 1  # counted into this watch's next MemberEvent.dropped
            return
        w = self._watches.get(e.subscription)
        if w is None:
            return  # an event of a subscription closed meanwhile
        ev = self._asm.feed(e)
        if ev is not None and not w._push(ev):
            self._asm.lose(e.subscription)

    async def _read_loop(self):
        try:
            while True:
                msg = await self._loop.sock_recv(self._sock, p.MAX_MSG)
                if not msg:
                    raise ConnectionError("meshd closed the connection")
                r = p.decode(msg)
                e = p.is_event(r)
                if e is not None:
                    self._event(e)
                    continue
                fut, watch = self._pending.pop(r.id, (None, None))
                if fut is None or fut.done():
                    continue  # a reply to a call that timed out
                if watch is not None and r.status == 0:
                    try:
                        watch._setup(r, watch.members, watch._resume, self._hello)
                        (self._mwatches if watch.members
                         else self._watches)[watch.subscription] = watch
                    except p.MeshError as e:
                        fut.set_exception(e)
                        continue
                fut.set_result(r)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the socket failed or the node sent garbage
            self._shutdown(e if isinstance(e, OSError) else ConnectionError(str(e)))

    async def _call(self, req, watch=None):
        """The Response to req; a BUSY refusal (the merge core's queue full) is retried
        until the timeout."""
        deadline = None if self.timeout is None else self._loop.time() + self.timeout
        pause = 0.001
        while True:
            r = await self._call_once(req, watch)
            if r.status not in (-errno.EBUSY, -errno.ENOBUFS) or (
                    deadline is not None and self._loop.time() + pause > deadline):
                return p.check(r)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def _call_once(self, req, watch):
        async with self._slots:
            return await self._call_slot(req, watch)

    async def _call_slot(self, req, watch):
        if self._closed is not None:
            raise self._closed
        req.id = self._next_id
        self._next_id += 1
        data = req.SerializeToString()
        if len(data) > p.MAX_MSG:
            raise p.MeshError(-errno.EMSGSIZE,
                              f"request of {len(data)} bytes exceeds {p.MAX_MSG}")
        fut = self._loop.create_future()
        self._pending[req.id] = (fut, watch)
        try:
            await self._loop.sock_sendall(self._sock, data)
            r = await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            raise TimeoutError("meshd did not answer in time") from None
        finally:
            self._pending.pop(req.id, None)
        return r

    # ---- the store

    async def put(self, key, value, owned=False):
        """owned: bind the key to this node's life (deleted cluster-wide when it dies)."""
        await self._call(p.put_req(key, value, owned))

    async def get(self, key):
        """Value(value, timestamp, replica), or None when the key is absent."""
        return p.get_result(await self._call(p.get_req(key)))

    async def delete(self, key):
        await self._call(p.delete_req(key))

    async def keys_page(self, prefix=b"", after=b"", limit=0):
        return p.keys_result(await self._call(p.keys_req(prefix, after, limit)))

    async def keys(self, prefix=b""):
        out, after = [], b""
        while True:
            page, more = await self.keys_page(prefix, after)
            out += page
            if not more or not page:
                return out
            after = page[-1]

    # ---- the cluster

    async def members(self):
        return p.members_result(await self._call(p.members_req()))

    async def stats(self, group=""):
        return p.stats_result(await self._call(p.stats_req(group)))

    async def hello(self):
        """Hello(version, node, generation, features, max_message, max_batch); version 1
        and no features for a node that predates hello; cached."""
        if self._hello is None:
            try:
                self._hello = p.hello_result(await self._call(p.hello_req()))
            except p.MeshError as e:
                if not p.is_v1_refusal(e):
                    raise
                self._hello = p.V1_HELLO
        return self._hello

    async def _results(self, reqs):
        return await asyncio.gather(*(self._call_once_checked(r) for r in reqs))

    async def _call_once_checked(self, req):
        """The Response, refused or not (BUSY retried as in _call)."""
        try:
            return await self._call(req)
        except p.MeshError as e:
            r = p.pb.Response(status=e.status, error=e.message)
            r.code = p.pb.Error.Value(e.code) if e.code in p.pb.Error.keys() else 0
            return r

    async def batch(self, ops):
        """One BatchResult per op, in order (see Client.batch); the messages of a large
        batch are all in flight at once."""
        ops = list(ops)
        h = await self.hello()
        if "batch" not in h.features or h.max_batch == 0:
            return [p.single_result(r) for r in await self._results(p.single_reqs(ops))]
        reqs = p.batch_reqs(ops, h.max_batch)
        out = []
        for req, r in zip(reqs, await asyncio.gather(*(self._call(q) for q in reqs))):
            out += p.batch_results(r, len(req.batch.ops))
        idx = p.reask_indices(ops, out)
        for i, r in zip(idx, await self.batch([ops[i] for i in idx]) if idx else []):
            out[i] = r
        return out

    async def cluster(self):
        return p.cluster_result(await self._call(p.cluster_req()))

    async def set_metadata(self, metadata):
        await self._call(p.set_metadata_req(metadata))

    async def publish(self, key, value, target=None):
        for req in p.publish_reqs(key, value, target):
            await self._call(req)

    # ---- subscriptions

    async def watch(self, prefix=b"", snapshot=False, resume=None):
        """A Watch of the changes under prefix, subscribed before this returns (snapshot
        and resume as in Client.watch; neither: a plain subscription)."""
        w = Watch(self, snapshot, resume)
        if snapshot or resume is not None:
            await self._call(p.watch_req(prefix, snapshot, resume), w)
        else:
            await self._call(p.subscribe_req(prefix), w)
        return w

    async def members_watch(self, snapshot=False):
        """A Watch of MemberEvents (kind "JOIN", "ALIVE", "SUSPECT", "DEAD", "LEFT",
        "METADATA"; member a Member); with snapshot, first one JOIN per known member."""
        w = Watch(self, snapshot, members=True)
        await self._call(p.members_watch_req(snapshot), w)
        return w

    async def unsubscribe(self, subscription, members=False):
        if members:
            self._mwatches.pop(subscription, None)
        else:
            self._watches.pop(subscription, None)
            self._asm.forget(subscription)
        await self._call(p.unsubscribe_req(subscription))
