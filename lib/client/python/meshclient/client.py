"""The synchronous client: one connection, one caller at a time.

Each call numbers its Request, sends it as one SOCK_SEQPACKET message and reads Responses
until the one with its id arrives; a reply with another id (late, after a timeout) is
skipped, and subscription events read meanwhile are queued (bounded: the oldest is
dropped and counted into its subscription's next Event). Matching by id rather than by
order is what lets the same code carry many requests in flight once the protocol allows it.
"""
import collections
import errno
import socket
import time

from . import _proto as p


class Client:
    """Client(path, timeout=5.0): a connection to one node's control socket.

    Keys, prefixes and values are bytes (str is encoded as UTF-8). A refused request
    raises MeshError with the node's reason; a timeout raises TimeoutError; a node that
    goes away raises ConnectionError.
    """

    def __init__(self, path, timeout=5.0):
        self.timeout = timeout
        self._next_id = 1
        self._events = collections.deque()
        self._asm = p.Assembler()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
        except BaseException:
            self._sock.close()
            raise

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self._sock.fileno()

    # ---- transport

    def _recv(self, deadline):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError("meshd did not answer in time")
        self._sock.settimeout(left)
        try:
            msg = self._sock.recv(p.MAX_MSG)
        except socket.timeout:
            raise TimeoutError("meshd did not answer in time") from None
        if not msg:
            raise ConnectionError("meshd closed the connection")
        return p.decode(msg)

    def _queue_event(self, r):
        if len(self._events) >= p.EVENT_QUEUE:
            self._asm.lose(self._events.popleft().subscription)
        self._events.append(r.event)

    def _call(self, req):
        req.id = self._next_id
        self._next_id += 1
        data = req.SerializeToString()
        if len(data) > p.MAX_MSG:
            raise p.MeshError(-errno.EMSGSIZE, f"request of {len(data)} bytes exceeds {p.MAX_MSG}")
        self._sock.settimeout(self.timeout)
        self._sock.send(data)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            r = self._recv(deadline)
            if p.is_event(r):
                self._queue_event(r)
            elif r.id == req.id:
                return p.check(r)

    # ---- the store

    def put(self, key, value):
        self._call(p.put_req(key, value))

    def get(self, key):
        """Value(value, timestamp, replica), or None when the key is absent."""
        return p.get_result(self._call(p.get_req(key)))

    def delete(self, key):
        self._call(p.delete_req(key))

    def keys_page(self, prefix=b"", after=b"", limit=0):
        """(keys, more): at most limit keys under prefix after `after`, in byte order."""
        return p.keys_result(self._call(p.keys_req(prefix, after, limit)))

    def keys(self, prefix=b""):
        """Every key under prefix, in byte order, following all pages."""
        out, after = [], b""
        while True:
            page, more = self.keys_page(prefix, after)
            out += page
            if not more or not page:
                return out
            after = page[-1]

    # ---- the cluster

    def members(self):
        return p.members_result(self._call(p.members_req()))

    def stats(self, group=""):
        """{"group.name": value} of one counter group, or all of them."""
        return p.stats_result(self._call(p.stats_req(group)))

    def publish(self, key, value, target=None):
        """A stream message: broadcast, or to the node named target. Large values are
        sent in parts; the node publishes the value with the last one."""
        for req in p.publish_reqs(key, value, target):
            self._call(req)

    # ---- subscriptions

    def subscribe(self, prefix=b""):
        """A subscription id; its events arrive through next_event()."""
        return p.subscribe_result(self._call(p.subscribe_req(prefix)))

    def unsubscribe(self, subscription):
        self._call(p.unsubscribe_req(subscription))
        self._events = collections.deque(
            e for e in self._events if e.subscription != subscription)
        self._asm.forget(subscription)

    def next_event(self, timeout=None, subscription=None):
        """The next Event (of one subscription, if given), or None after timeout seconds
        (None waits for ever). Large values come whole, reassembled from their parts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for i, e in enumerate(self._events):
                if subscription is None or e.subscription == subscription:
                    del self._events[i]
                    ev = self._asm.feed(e)
                    break
            else:
                try:
                    r = self._recv(deadline)
                except TimeoutError:
                    return None
                if p.is_event(r):
                    self._queue_event(r)
                continue
            if ev is not None:
                return ev

    def watch(self, prefix=b"", timeout=None):
        """Subscribes now and returns a generator of the events under prefix; closing it
        unsubscribes. With a timeout, it ends after that many seconds without an event."""
        return self._watch_events(self.subscribe(prefix), timeout)

    def _watch_events(self, sub, timeout):
        try:
            while True:
                ev = self.next_event(timeout, sub)
                if ev is None:
                    return
                yield ev
        finally:
            try:
                self.unsubscribe(sub)
            except (OSError, p.MeshError):
                pass
