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


class Watch:
    """One subscription's events: `async for ev in watch`, or `await watch.next(timeout)`.
    Iteration ends when the connection closes; `await watch.close()` unsubscribes."""

    def __init__(self, client, subscription=0):
        self.client = client
        self.subscription = subscription
        self._q = asyncio.Queue(WATCH_QUEUE)
        self._ended = False

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
        return ev

    def __aiter__(self):
        return self

    async def __anext__(self):
        ev = await self.next()
        if ev is None:
            raise StopAsyncIteration
        return ev

    async def close(self):
        await self.client.unsubscribe(self.subscription)

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

    def __init__(self, sock, timeout):
        self.timeout = timeout
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._next_id = 1
        self._pending = {}   # id -> (future, Watch or None)
        self._watches = {}   # subscription -> Watch
        self._asm = p.Assembler()
        self._closed = None  # the exception that ended the connection
        self._reader = self._loop.create_task(self._read_loop())

    @classmethod
    async def connect(cls, path, timeout=5.0):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, path),
                                   timeout)
        except BaseException:
            sock.close()
            raise
        return cls(sock, timeout)

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
        for w in self._watches.values():
            w._end()
        self._watches.clear()

    def _event(self, e):
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
                if p.is_event(r):
                    self._event(r.event)
                    continue
                fut, watch = self._pending.pop(r.id, (None, None))
                if fut is None or fut.done():
                    continue  # a reply to a call that timed out
                if watch is not None and r.status == 0:
                    try:
                        watch.subscription = p.subscribe_result(r)
                        self._watches[watch.subscription] = watch
                    except p.MeshError as e:
                        fut.set_exception(e)
                        continue
                fut.set_result(r)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the socket failed or the node sent garbage
            self._shutdown(e if isinstance(e, OSError) else ConnectionError(str(e)))

    async def _call(self, req, watch=None):
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
        return p.check(r)

    # ---- the store

    async def put(self, key, value):
        await self._call(p.put_req(key, value))

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

    async def publish(self, key, value, target=None):
        for req in p.publish_reqs(key, value, target):
            await self._call(req)

    # ---- subscriptions

    async def watch(self, prefix=b""):
        """A Watch of the changes under prefix, subscribed before this returns."""
        w = Watch(self)
        await self._call(p.subscribe_req(prefix), w)
        return w

    async def unsubscribe(self, subscription):
        self._watches.pop(subscription, None)
        self._asm.forget(subscription)
        await self._call(p.unsubscribe_req(subscription))
