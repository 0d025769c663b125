"""The synchronous client: one connection, one caller at a time.

Each call numbers its Request, sends it as one SOCK_SEQPACKET message and reads Responses
until the one with its id arrives; a reply with another id (late, after a timeout) is
skipped, and subscription events read meanwhile are queued (bounded: the oldest is
dropped and counted into its subscription's next Event). Matching by id lets one call
keep several requests in flight: batch() sends its messages (and, on a version 1 node,
its single requests) pipelined, a window at a time, and retries BUSY refusals.
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
        self._hello = None
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

    def _queue_event(self, e):
        if len(self._events) >= p.EVENT_QUEUE:
            old = self._events.popleft()
            if not p.is_member_event(old):
                self._asm.lose(old.subscription)
        self._events.append(e)

    def _send(self, req):
        req.id = self._next_id
        self._next_id += 1
        data = req.SerializeToString()
        if len(data) > p.MAX_MSG:
            raise p.MeshError(-errno.EMSGSIZE, f"request of {len(data)} bytes exceeds {p.MAX_MSG}")
        self._sock.settimeout(self.timeout)
        self._sock.send(data)
        return req.id

    def _replies(self, ids, deadline):
        """The Responses to ids (sent), in that order; events read meanwhile are queued."""
        want, got = set(ids), {}
        while want:
            r = self._recv(deadline)
            e = p.is_event(r)
            if e is not None:
                self._queue_event(e)
            elif r.id in want:
                want.discard(r.id)
                got[r.id] = r
        return [got[i] for i in ids]

    def _call_many(self, reqs, window=32):
        """Responses of reqs, up to window in flight; a BUSY refusal (the merge core's
        queue full) is retried until the timeout."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out = [None] * len(reqs)
        todo = list(range(len(reqs)))
        pause = 0.001
        while todo:
            retry = []
            for at in range(0, len(todo), window):
                chunk = todo[at:at + window]
                ids = [self._send(reqs[i]) for i in chunk]
                for i, r in zip(chunk, self._replies(ids, deadline)):
                    if r.status in (-errno.EBUSY, -errno.ENOBUFS):
                        retry.append(i)
                    out[i] = r
            todo = retry
            if todo:
                if deadline is not None and time.monotonic() + pause > deadline:
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        return out

    def _call(self, req):
        return p.check(self._call_many([req])[0])

    # ---- the store

    def put(self, key, value, owned=False):
        """owned: bind the key to this node's life (deleted cluster-wide when it dies)."""
        self._call(p.put_req(key, value, owned))

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

    def hello(self):
        """Hello(version, node, generation, features, max_message, max_batch) of the
        node (version 1 and no features for a node that predates hello); cached."""
        if self._hello is None:
            try:
                self._hello = p.hello_result(self._call(p.hello_req()))
            except p.MeshError as e:
                if not p.is_v1_refusal(e):
                    raise
                self._hello = p.V1_HELLO
        return self._hello

    def batch(self, ops):
        """One BatchResult per op, in order: ops are ("put", key, value[, owned]),
        ("delete", key) or ("get", key). Split into messages of at most max_batch ops
        and ~200 KiB; a refused op does not stop the others. On a node without batch
        the ops go as single requests, pipelined."""
        ops = list(ops)
        h = self.hello()
        if "batch" not in h.features or h.max_batch == 0:
            return [p.single_result(r) for r in self._call_many(p.single_reqs(ops))]
        reqs = p.batch_reqs(ops, h.max_batch)
        out = []
        for req, r in zip(reqs, self._call_many(reqs, window=8)):
            out += p.batch_results(p.check(r), len(req.batch.ops))
        idx = p.reask_indices(ops, out)
        for i, r in zip(idx, self.batch([ops[i] for i in idx]) if idx else []):
            out[i] = r
        return out

    def cluster(self):
        """Cluster(alive, suspect, dead, left, known, reachable, reachable_fraction,
        quorum, should_serve)."""
        return p.cluster_result(self._call(p.cluster_req()))

    def set_metadata(self, metadata):
        """This node's metadata (<= 512 bytes, b"" clears it), seen in members()."""
        self._call(p.set_metadata_req(metadata))

    def publish(self, key, value, target=None):
        """A stream message: broadcast, or to the node named target. Large values are
        sent in parts; the node publishes the value with the last one."""
        for req in p.publish_reqs(key, value, target):
            self._call(req)

    # ---- subscriptions

    def subscribe(self, prefix=b""):
        """A subscription id; its events arrive through next_event()."""
        return p.subscribe_result(self._call(p.subscribe_req(prefix)))

    def unsubscribe(self, subscription, members=False):
        self._call(p.unsubscribe_req(subscription))
        self._events = collections.deque(
            e for e in self._events
            if e.subscription != subscription or p.is_member_event(e) != members)
        if not members:
            self._asm.forget(subscription)

    def _next(self, timeout, subscription, members):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            ev = None
            for i, e in enumerate(self._events):
                if p.is_member_event(e) != members:
                    continue
                if subscription is None or e.subscription == subscription:
                    del self._events[i]
                    ev = p.member_event(e) if members else self._asm.feed(e)
                    break
            else:
                try:
                    r = self._recv(deadline)
                except TimeoutError:
                    return None
                e = p.is_event(r)
                if e is not None:
                    self._queue_event(e)
                continue
            if ev is not None:
                return ev

    def next_event(self, timeout=None, subscription=None):
        """The next Event (of one subscription, if given), or None after timeout seconds
        (None waits for ever). Large values come whole, reassembled from their parts."""
        return self._next(timeout, subscription, False)

    def watch(self, prefix=b"", timeout=None, snapshot=False, resume=None):
        """A SyncWatch of the changes under prefix, subscribed before this returns:
        iterate it (with a timeout, iteration ends after that many seconds without an
        event) or call next(timeout); close() unsubscribes. Neither snapshot nor resume:
        a plain subscription (stream messages too). snapshot: the current keys first
        (Event.snapshot, the last with snapshot_end). resume=(generation, seq) from an
        earlier watch's resume_point: every key changed since, or .missed and a snapshot."""
        if snapshot or resume is not None:
            r = self._call(p.watch_req(prefix, snapshot, resume))
            return SyncWatch(self, r, timeout, snapshot, resume, None)
        r = self._call(p.subscribe_req(prefix))
        return SyncWatch(self, r, timeout, False, None, self._hello)

    def members_watch(self, snapshot=False, timeout=None):
        """A SyncWatch of membership events: MemberEvent(subscription, kind, member,
        dropped); with snapshot, first one JOIN per known member."""
        r = self._call(p.members_watch_req(snapshot))
        w = SyncWatch(self, r, timeout, snapshot, None, None, members=True)
        return w


class SyncWatch(p.WatchState):
    """One watch or subscription of a Client (see Client.watch)."""

    def __init__(self, client, r, timeout, snapshot, resume, hello, members=False):
        self.client, self.timeout, self._snapshot = client, timeout, snapshot
        self._closed = False
        self._setup(r, members, resume, hello)

    def next(self, timeout=None):
        """The next event, or None after timeout seconds (None: wait for ever)."""
        return self._seen(self.client._next(timeout, self.subscription, self.members))

    def __iter__(self):
        return self

    def __next__(self):
        ev = self.next(self.timeout)
        if ev is None:
            raise StopIteration
        return ev

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            self.client.unsubscribe(self.subscription, self.members)
        except (OSError, p.MeshError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
