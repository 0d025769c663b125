//! The connection: callers send numbered requests; one reader task owns the receive side,
//! hands each reply to the caller waiting for its id and routes events to their
//! subscription's `Watch`. A subscribe reply registers its Watch in the reader before the
//! caller resumes, so no event of a new subscription arrives unrouted. Each Watch's
//! channel is bounded: when it is full the event is dropped and counted into that
//! subscription's next Event, as are values whose parts arrived with a gap. Membership
//! watches are routed the same way to a `MemberWatch`. `connect` says hello (version 2)
//! and keeps the node's answer; a version 1 node that refuses hello still serves v1 calls.
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::proto::{self, request::Op, response};
use crate::seqpacket::SeqPacket;
use crate::{
    ClusterState, Error, ErrorCode, Event, KeysPage, Member, MemberEvent, MemberEventKind, Result,
    Stat, Value, MAX_MSG, MAX_VALUE, PART,
};

const WATCH_QUEUE: usize = 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Ops in one BatchReq when the node did not say (a version 1 node has no batch).
const DEFAULT_MAX_BATCH: usize = 256;
/// Room left in a batch message for the Request's own framing.
const BATCH_SLACK: usize = 64;

type Reply = oneshot::Sender<Result<proto::Response>>;

/// Where a subscription's events go.
enum Sink {
    Events(mpsc::Sender<Event>),
    Members(mpsc::Sender<MemberEvent>),
}

enum Waiter {
    Reply(Reply),
    Subscribe(Reply, Sink),
}

/// One subscription as the reader sees it.
struct Route {
    tx: Sink,
    lost: u64,
    part: Option<(proto::Event, Vec<u8>)>, // a value arriving in parts
}

#[derive(Default)]
struct State {
    pending: HashMap<u64, Waiter>,
    routes: HashMap<u64, Route>,
    closed: bool,
}

struct Inner {
    sock: Arc<SeqPacket>,
    state: Arc<Mutex<State>>,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    hello: Mutex<Option<Hello>>,
}

/// What a node said to hello: its protocol version, features and limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub version: u32,
    /// "batch", "watch", "members_watch", "owned", "metadata", "cluster".
    pub features: Vec<String>,
    /// The node's name.
    pub node: String,
    /// The node's life: a watch's resume point is only valid within one generation.
    pub generation: u64,
    pub max_message: u32,
    pub max_batch: u32,
}

impl Hello {
    pub fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

/// One op of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOp {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
        owned: bool,
    },
    Delete(Vec<u8>),
    Get(Vec<u8>),
}

impl BatchOp {
    pub fn put(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> BatchOp {
        BatchOp::Put {
            key: key.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
            owned: false,
        }
    }
    pub fn put_owned(key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> BatchOp {
        BatchOp::Put {
            key: key.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
            owned: true,
        }
    }
    pub fn delete(key: impl AsRef<[u8]>) -> BatchOp {
        BatchOp::Delete(key.as_ref().to_vec())
    }
    pub fn get(key: impl AsRef<[u8]>) -> BatchOp {
        BatchOp::Get(key.as_ref().to_vec())
    }

    fn into_proto(self) -> proto::BatchOp {
        use proto::batch_op::Kind;
        match self {
            BatchOp::Put { key, value, owned } => proto::BatchOp {
                kind: Kind::Put as i32,
                key,
                value,
                owned,
            },
            BatchOp::Delete(key) => proto::BatchOp {
                kind: Kind::Delete as i32,
                key,
                ..Default::default()
            },
            BatchOp::Get(key) => proto::BatchOp {
                kind: Kind::Get as i32,
                key,
                ..Default::default()
            },
        }
    }
}

/// The result of one batch op: Ok (with the value for a GET that found one) or the refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchResult {
    /// 0 or a negative errno.
    pub status: i32,
    pub code: ErrorCode,
    /// GET: the value, if the key holds one.
    pub value: Option<Value>,
}

impl BatchResult {
    pub fn is_ok(&self) -> bool {
        self.status == 0
    }
}

/// Where a version 2 watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFrom {
    /// Changes from now on.
    Now,
    /// The current value of every key under the prefix first, then changes.
    Snapshot,
    /// Every change after (generation, seq) of an earlier watch of this node; when the
    /// node cannot (another life, collected tombstones), `Watch::missed` and a snapshot.
    Resume { generation: u64, seq: u64 },
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A connection to one node. Clones share it; calls may run from many tasks at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    timeout: Duration,
}

/// The Error code of a negative errno (what a version 1 node does not send).
fn code_of_errno(status: i32) -> ErrorCode {
    match -status {
        0 => ErrorCode::Ok,
        libc::ENOENT => ErrorCode::NotFound,
        libc::ENXIO => ErrorCode::NoNamespace,
        libc::EPROTOTYPE => ErrorCode::WrongKind,
        libc::EINVAL => ErrorCode::Invalid,
        libc::EMSGSIZE => ErrorCode::TooLarge,
        libc::ENOSPC => ErrorCode::NoSpace,
        libc::EDQUOT => ErrorCode::Quota,
        libc::EBUSY => ErrorCode::Busy,
        libc::EBADMSG => ErrorCode::BadMessage,
        libc::EHOSTUNREACH => ErrorCode::Unreachable,
        libc::EOPNOTSUPP => ErrorCode::Unsupported,
        libc::EFBIG => ErrorCode::ValueTooBig,
        libc::ENOBUFS => ErrorCode::NoBuffers,
        libc::EPERM => ErrorCode::Reserved,
        libc::ESTALE => ErrorCode::Stale,
        _ => ErrorCode::Internal,
    }
}

fn code_of(status: i32, code: i32) -> ErrorCode {
    match ErrorCode::from_i32(code) {
        Some(ErrorCode::Ok) | None => code_of_errno(status),
        Some(c) => c,
    }
}

fn node_error(r: &proto::Response) -> Error {
    let status = if r.status < 0 {
        r.status
    } else {
        -libc::EPROTO
    };
    Error::Node {
        status,
        code: code_of(status, r.code),
        message: r.error.clone(),
    }
}

fn batch_results(r: proto::Response, want: usize) -> Result<Vec<BatchResult>> {
    let res = match r.result {
        Some(response::Result::Batch(b)) => b.results,
        _ => Vec::new(),
    };
    if res.len() != want {
        return Err(Error::Protocol(format!(
            "batch of {} ops answered with {} results",
            want,
            res.len()
        )));
    }
    Ok(res
        .into_iter()
        .map(|b| BatchResult {
            status: b.status,
            code: code_of(b.status, b.code),
            value: if b.found {
                Some(Value {
                    value: b.value,
                    timestamp: b.timestamp,
                    replica: b.replica,
                })
            } else {
                None
            },
        })
        .collect())
}

impl Route {
    fn deliver(&mut self, e: proto::Event, value: Vec<u8>) -> bool {
        let ev = Event {
            subscription: e.subscription,
            key: e.key,
            value,
            tombstone: e.tombstone,
            dropped: e.dropped + self.lost,
            origin_ns: e.origin_ns,
            seq: e.seq,
            snapshot: e.snapshot,
            snapshot_end: e.snapshot_end,
        };
        let tx = match &self.tx {
            Sink::Events(tx) => tx,
            Sink::Members(_) => return true,
        };
        match tx.try_send(ev) {
            Ok(()) => {
                self.lost = 0;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lost += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// One membership event; false when the MemberWatch is gone.
    fn feed_member(&mut self, e: proto::MemberEvent) -> bool {
        let tx = match &self.tx {
            Sink::Members(tx) => tx,
            Sink::Events(_) => return true,
        };
        let ev = MemberEvent {
            kind: MemberEventKind::from_i32(e.kind).unwrap_or(MemberEventKind::Join),
            member: e.member.unwrap_or_default(),
            dropped: e.dropped + self.lost,
        };
        match tx.try_send(ev) {
            Ok(()) => {
                self.lost = 0;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lost += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// One event message; false when the Watch is gone.
    fn feed(&mut self, mut e: proto::Event) -> bool {
        if e.total_len == 0 {
            let v = std::mem::take(&mut e.value);
            return self.deliver(e, v);
        }
        if e.offset == 0 {
            if self.part.take().is_some() {
                self.lost += 1;
            }
            if e.total_len > MAX_VALUE {
                self.lost += 1;
                return true;
            }
            let mut buf = Vec::with_capacity(e.total_len as usize);
            buf.append(&mut e.value);
            self.part = Some((e, buf));
        } else {
            let fits = match &self.part {
                Some((first, buf)) => {
                    first.total_len == e.total_len
                        && buf.len() as u64 == e.offset
                        && first.key == e.key
                }
                None => false,
            };
            if !fits {
                if self.part.take().is_some() {
                    self.lost += 1;
                }
                return true;
            }
            if let Some((_, buf)) = self.part.as_mut() {
                buf.append(&mut e.value);
            }
        }
        let done = match &self.part {
            Some((first, buf)) => buf.len() as u64 >= first.total_len,
            None => false,
        };
        if !done {
            return true;
        }
        let (first, buf) = self.part.take().expect("a value in parts");
        if buf.len() as u64 != first.total_len {
            self.lost += 1;
            return true;
        }
        self.deliver(first, buf)
    }
}

fn dispatch(state: &Mutex<State>, r: proto::Response) {
    let mut st = state.lock().unwrap();
    if r.id == 0 {
        let (sub, alive) = match r.result {
            Some(response::Result::Event(e)) => {
                let sub = e.subscription;
                match st.routes.get_mut(&sub) {
                    Some(route) => (sub, route.feed(e)),
                    None => (sub, true), // a subscription closed meanwhile
                }
            }
            Some(response::Result::MemberEvent(e)) => {
                let sub = e.subscription;
                match st.routes.get_mut(&sub) {
                    Some(route) => (sub, route.feed_member(e)),
                    None => (sub, true),
                }
            }
            _ => return,
        };
        if !alive {
            st.routes.remove(&sub);
        }
        return;
    }
    match st.pending.remove(&r.id) {
        Some(Waiter::Reply(tx)) => {
            let _ = tx.send(Ok(r));
        }
        Some(Waiter::Subscribe(tx, events)) => {
            if r.status == 0 {
                let sub = match &r.result {
                    Some(response::Result::Subscribe(s)) => s.subscription,
                    Some(response::Result::Watch(w)) => w.subscription,
                    _ => 0,
                };
                match sub {
                    sub if sub != 0 => {
                        st.routes.insert(
                            sub,
                            Route {
                                tx: events,
                                lost: 0,
                                part: None,
                            },
                        );
                    }
                    _ => {
                        let _ =
                            tx.send(Err(Error::Protocol("subscribe reply without an id".into())));
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(r));
        }
        None => {} // a reply to a call that timed out or was dropped
    }
}

async fn read_loop(sock: Arc<SeqPacket>, state: Arc<Mutex<State>>) {
    let mut buf = vec![0u8; MAX_MSG];
    loop {
        let n = match sock.recv(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match proto::Response::decode(&buf[..n]) {
            Ok(r) => dispatch(&state, r),
            Err(_) => break, // not the protocol we speak: give up the connection
        }
    }
    let mut st = state.lock().unwrap();
    st.closed = true;
    for (_, w) in st.pending.drain() {
        let tx = match w {
            Waiter::Reply(tx) | Waiter::Subscribe(tx, _) => tx,
        };
        let _ = tx.send(Err(Error::Closed));
    }
    st.routes.clear(); // each Watch then ends
}

impl Client {
    /// Connects to a node's control socket (e.g. /run/meshd/n1.sock). Needs a tokio
    /// runtime: the connection's reader is a task on it.
    pub async fn connect<P: AsRef<Path>>(path: P) -> Result<Client> {
        let sock = Arc::new(SeqPacket::connect(path.as_ref())?);
        let state = Arc::new(Mutex::new(State::default()));
        let reader = tokio::spawn(read_loop(sock.clone(), state.clone()));
        let c = Client {
            inner: Arc::new(Inner {
                sock,
                state,
                next_id: AtomicU64::new(1),
                reader,
                hello: Mutex::new(None),
            }),
            timeout: DEFAULT_TIMEOUT,
        };
        match c.hello().await {
            Ok(_) | Err(Error::Node { .. }) => Ok(c), // a version 1 node refuses hello
            Err(e) => Err(e),
        }
    }

    /// Says hello (version 2) and returns the node's answer; `connect` already did.
    pub async fn hello(&self) -> Result<Hello> {
        let op = Op::Hello(proto::HelloReq {
            version: 2,
            client: concat!("meshclient-rust/", env!("CARGO_PKG_VERSION")).into(),
            features: vec![],
        });
        let h = match self.call(op).await?.result {
            Some(response::Result::Hello(h)) => Hello {
                version: h.version,
                features: h.features,
                node: h.node,
                generation: h.generation,
                max_message: h.max_message,
                max_batch: h.max_batch,
            },
            _ => return Err(Error::Protocol("hello reply without hello".into())),
        };
        *self.inner.hello.lock().unwrap() = Some(h.clone());
        Ok(h)
    }

    /// What the node said to hello at connect; None for a version 1 node.
    pub fn node_info(&self) -> Option<Hello> {
        self.inner.hello.lock().unwrap().clone()
    }

    /// This handle with another reply timeout (5 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    async fn call_as(&self, op: Op, events: Option<Sink>) -> Result<proto::Response> {
        self.call_full(op, events, None).await
    }

    async fn call_sent(
        &self,
        op: Op,
        sent: Option<oneshot::Sender<()>>,
    ) -> Result<proto::Response> {
        self.call_full(op, None, sent).await
    }

    async fn call_full(
        &self,
        op: Op,
        events: Option<Sink>,
        sent: Option<oneshot::Sender<()>>,
    ) -> Result<proto::Response> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let msg = proto::Request { id, op: Some(op) }.encode_to_vec();
        if msg.len() > MAX_MSG {
            return Err(Error::TooLarge(msg.len()));
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.inner.state.lock().unwrap();
            if st.closed {
                return Err(Error::Closed);
            }
            let w = match events {
                Some(ev) => Waiter::Subscribe(tx, ev),
                None => Waiter::Reply(tx),
            };
            st.pending.insert(id, w);
        }
        let forget = |e: Error| {
            self.inner.state.lock().unwrap().pending.remove(&id);
            e
        };
        self.inner
            .sock
            .send(&msg)
            .await
            .map_err(|e| forget(Error::Io(e)))?;
        if let Some(sent) = sent {
            let _ = sent.send(());
        }
        let r = match tokio::time::timeout(self.timeout, rx).await {
            Err(_) => return Err(forget(Error::Timeout)),
            Ok(Err(_)) => return Err(Error::Closed),
            Ok(Ok(r)) => r?,
        };
        if r.status != 0 {
            return Err(node_error(&r));
        }
        Ok(r)
    }

    async fn call(&self, op: Op) -> Result<proto::Response> {
        self.call_as(op, None).await
    }

    /// Writes @value under @key (a last-writer-wins or epoch_max namespace).
    pub async fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.put_opt(key, value, false).await
    }

    /// A put bound to this node's life: when the cluster declares the node dead or left,
    /// every node deletes the key (unless a later write replaced it).
    pub async fn put_owned(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.put_opt(key, value, true).await
    }

    async fn put_opt(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        owned: bool,
    ) -> Result<()> {
        let op = Op::Put(proto::PutReq {
            key: key.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
            owned,
        });
        self.call(op).await.map(|_| ())
    }

    /// Many puts, deletes and gets; one result per op, in order. The ops go in BatchReqs
    /// of at most the node's max_batch ops and one socket message each, all in flight at
    /// once (the node answers each BatchReq as one burst of the merge core). A refused op
    /// does not stop the others; GETs the node refused because the reply had no room left
    /// for their values (TOO_LARGE per op) are asked again in a batch of their own; a
    /// BatchReq refused whole for its reply's size (a version 1 node) is split in halves and
    /// sent again; any other refusal fails the call.
    pub async fn batch(&self, ops: Vec<BatchOp>) -> Result<Vec<BatchResult>> {
        let (max_ops, max_msg) = match self.node_info() {
            Some(h) if h.max_batch > 0 => (
                h.max_batch as usize,
                if h.max_message > 0 {
                    h.max_message as usize
                } else {
                    MAX_MSG
                },
            ),
            _ => (DEFAULT_MAX_BATCH, MAX_MSG),
        };
        let room = max_msg.min(MAX_MSG).saturating_sub(BATCH_SLACK);
        let mut chunks: Vec<Vec<proto::BatchOp>> = Vec::new();
        let mut cur: Vec<proto::BatchOp> = Vec::new();
        let mut size = 0usize;
        for op in ops {
            let op = op.into_proto();
            let n = op.encoded_len();
            let n = n + prost::length_delimiter_len(n) + 1;
            if !cur.is_empty() && (cur.len() >= max_ops || size + n > room) {
                chunks.push(std::mem::take(&mut cur));
                size = 0;
            }
            size += n;
            cur.push(op);
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        let mut calls = Vec::with_capacity(chunks.len());
        for ops in chunks {
            // a chunk with GETs may be refused for its reply's size: keep it to split
            let keep = ops
                .iter()
                .any(|o| o.kind == proto::batch_op::Kind::Get as i32)
                .then(|| ops.clone());
            let c = self.clone();
            // spawned in order: each sends before the next, so the node applies them in order
            let (sent_tx, sent_rx) = oneshot::channel();
            let want = ops.len();
            calls.push((
                want,
                keep,
                tokio::spawn(async move {
                    c.call_sent(Op::Batch(proto::BatchReq { ops }), Some(sent_tx))
                        .await
                }),
            ));
            let _ = sent_rx.await;
        }
        let mut out = Vec::new();
        for (want, keep, t) in calls {
            match t.await.map_err(|_| Error::Closed)? {
                Ok(r) => {
                    let mut res = batch_results(r, want)?;
                    if let Some(k) = &keep {
                        self.refetch(k, &mut res).await?;
                    }
                    out.extend(res)
                }
                Err(Error::Node {
                    code: ErrorCode::TooLarge,
                    ..
                }) if keep.as_ref().map_or(false, |k| k.len() > 1) => {
                    out.extend(self.batch_split(keep.unwrap_or_default()).await?)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// A chunk whose reply would not fit one message (large GET values): halves, one
    /// after the other, until each reply fits.
    async fn batch_split(&self, ops: Vec<proto::BatchOp>) -> Result<Vec<BatchResult>> {
        let mut todo = vec![ops];
        let mut out = Vec::new();
        while let Some(mut ops) = todo.pop() {
            let want = ops.len();
            match self
                .call(Op::Batch(proto::BatchReq { ops: ops.clone() }))
                .await
            {
                Ok(r) => {
                    let mut res = batch_results(r, want)?;
                    self.refetch(&ops, &mut res).await?;
                    out.extend(res)
                }
                Err(Error::Node {
                    code: ErrorCode::TooLarge,
                    ..
                }) if want > 1 => {
                    let back = ops.split_off(want / 2);
                    todo.push(back);
                    todo.push(ops);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// GETs of @ops that the node refused alone (TOO_LARGE) because their values no
    /// longer fitted the reply after those before them: asked again in batches of their
    /// own until each is answered. The first GET of a batch is refused only when its
    /// value alone overflows a reply, so that one keeps its TOO_LARGE and every round
    /// settles at least one.
    async fn refetch(&self, ops: &[proto::BatchOp], res: &mut [BatchResult]) -> Result<()> {
        let get = proto::batch_op::Kind::Get as i32;
        let mut left: Vec<usize> = (1..ops.len())
            .filter(|&i| ops[i].kind == get && res[i].code == ErrorCode::TooLarge)
            .collect();
        while !left.is_empty() {
            let again = left.iter().map(|&i| ops[i].clone()).collect();
            let r = self.call(Op::Batch(proto::BatchReq { ops: again })).await?;
            let mut still = Vec::new();
            for (k, (got, &i)) in batch_results(r, left.len())?
                .into_iter()
                .zip(&left)
                .enumerate()
            {
                if k > 0 && got.code == ErrorCode::TooLarge {
                    still.push(i);
                } else {
                    res[i] = got;
                }
            }
            left = still;
        }
        Ok(())
    }

    /// The value under @key, or None.
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>> {
        let r = self
            .call(Op::Get(proto::GetReq {
                key: key.as_ref().to_vec(),
            }))
            .await?;
        Ok(match r.result {
            Some(response::Result::Get(g)) if g.found => Some(Value {
                value: g.value,
                timestamp: g.timestamp,
                replica: g.replica,
            }),
            _ => None,
        })
    }

    /// Deletes @key (a tombstone, replicated like a write).
    pub async fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.call(Op::Del(proto::DeleteReq {
            key: key.as_ref().to_vec(),
        }))
        .await
        .map(|_| ())
    }

    /// At most @limit keys (0: the node's default) under @prefix after @after, in byte order.
    pub async fn keys(
        &self,
        prefix: impl AsRef<[u8]>,
        after: impl AsRef<[u8]>,
        limit: u32,
    ) -> Result<KeysPage> {
        let op = Op::Keys(proto::KeysReq {
            prefix: prefix.as_ref().to_vec(),
            after: after.as_ref().to_vec(),
            limit,
        });
        Ok(match self.call(op).await?.result {
            Some(response::Result::Keys(k)) => KeysPage {
                keys: k.keys,
                more: k.more,
            },
            _ => KeysPage {
                keys: Vec::new(),
                more: false,
            },
        })
    }

    /// Every key under @prefix, following all pages.
    pub async fn keys_all(&self, prefix: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        loop {
            let after = out.last().cloned().unwrap_or_default();
            let page = self.keys(prefix.as_ref(), after, 0).await?;
            let n = page.keys.len();
            out.extend(page.keys);
            if !page.more || n == 0 {
                return Ok(out);
            }
        }
    }

    /// The cluster's members as this node sees them.
    pub async fn members(&self) -> Result<Vec<Member>> {
        Ok(
            match self.call(Op::Members(proto::MembersReq {})).await?.result {
                Some(response::Result::Members(m)) => m.members,
                _ => Vec::new(),
            },
        )
    }

    /// Sets this node's metadata (at most 512 bytes; empty clears it), replicated to every
    /// member and shown in `Member::metadata`.
    pub async fn set_metadata(&self, metadata: impl AsRef<[u8]>) -> Result<()> {
        let op = Op::SetMetadata(proto::SetMetadataReq {
            metadata: metadata.as_ref().to_vec(),
        });
        self.call(op).await.map(|_| ())
    }

    /// How much of the cluster this node reaches, and the should_serve hint.
    pub async fn cluster(&self) -> Result<ClusterState> {
        match self.call(Op::Cluster(proto::ClusterReq {})).await?.result {
            Some(response::Result::Cluster(c)) => Ok(c),
            _ => Err(Error::Protocol("cluster reply without cluster".into())),
        }
    }

    /// Membership events (join, alive, suspect, dead, left, metadata); with @snapshot,
    /// first one Join per member already known (this node first).
    pub async fn members_watch(&self, snapshot: bool) -> Result<MemberWatch> {
        let (tx, rx) = mpsc::channel(WATCH_QUEUE);
        let op = Op::MembersWatch(proto::MembersWatchReq { snapshot });
        let r = self.call_as(op, Some(Sink::Members(tx))).await?;
        let id = match r.result {
            Some(response::Result::Subscribe(s)) => s.subscription,
            _ => 0,
        };
        Ok(MemberWatch {
            id,
            rx,
            client: self.clone(),
            done: false,
        })
    }

    /// The counters of one group ("" = all groups).
    pub async fn stats(&self, group: &str) -> Result<Vec<Stat>> {
        Ok(
            match self
                .call(Op::Stats(proto::StatsReq {
                    group: group.to_string(),
                }))
                .await?
                .result
            {
                Some(response::Result::Stats(s)) => s.stats,
                _ => Vec::new(),
            },
        )
    }

    /// A stream message: broadcast (@target None) or to one node. Values above PART go
    /// in parts; the node publishes the value with the last one.
    pub async fn publish(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        target: Option<&str>,
    ) -> Result<()> {
        let (key, value) = (key.as_ref(), value.as_ref());
        let target = target.unwrap_or("").to_string();
        if value.len() <= PART {
            let op = Op::Publish(proto::PublishReq {
                key: key.to_vec(),
                value: value.to_vec(),
                target,
                total_len: 0,
                offset: 0,
            });
            return self.call(op).await.map(|_| ());
        }
        for (i, chunk) in value.chunks(PART).enumerate() {
            let op = Op::Publish(proto::PublishReq {
                key: key.to_vec(),
                value: chunk.to_vec(),
                target: target.clone(),
                total_len: value.len() as u64,
                offset: (i * PART) as u64,
            });
            self.call(op).await?;
        }
        Ok(())
    }

    /// Subscribes to the changes under @prefix; events arrive through the Watch.
    pub async fn watch(&self, prefix: impl AsRef<[u8]>) -> Result<Watch> {
        let (tx, rx) = mpsc::channel(WATCH_QUEUE);
        let op = Op::Subscribe(proto::SubscribeReq {
            prefix: prefix.as_ref().to_vec(),
        });
        let r = self.call_as(op, Some(Sink::Events(tx))).await?;
        let id = match r.result {
            Some(response::Result::Subscribe(s)) => s.subscription,
            _ => 0,
        };
        Ok(Watch {
            id,
            rx,
            client: self.clone(),
            done: false,
            generation: 0,
            last_seq: 0,
            resumed: false,
            missed: false,
        })
    }

    /// A version 2 watch of @prefix starting @from: events carry the node's change seq,
    /// and `Watch::resume_point` tells where a later `WatchFrom::Resume` picks up.
    pub async fn watch_from(&self, prefix: impl AsRef<[u8]>, from: WatchFrom) -> Result<Watch> {
        let (tx, rx) = mpsc::channel(WATCH_QUEUE);
        let mut req = proto::WatchReq {
            prefix: prefix.as_ref().to_vec(),
            ..Default::default()
        };
        match from {
            WatchFrom::Now => {}
            WatchFrom::Snapshot => req.snapshot = true,
            WatchFrom::Resume { generation, seq } => {
                req.resume = true;
                req.resume_generation = generation;
                req.resume_seq = seq;
            }
        }
        let r = self.call_as(Op::Watch(req), Some(Sink::Events(tx))).await?;
        let w = match r.result {
            Some(response::Result::Watch(w)) => w,
            _ => return Err(Error::Protocol("watch reply without watch".into())),
        };
        // resumed: nothing after the old seq is missing, so that stays the resume point
        // until an event moves it; otherwise the node's seq when the watch began
        let last_seq = match from {
            WatchFrom::Resume { seq, .. } if w.resumed => seq,
            _ => w.seq,
        };
        Ok(Watch {
            id: w.subscription,
            rx,
            client: self.clone(),
            done: false,
            generation: w.generation,
            last_seq,
            resumed: w.resumed,
            missed: w.missed,
        })
    }

    async fn unsubscribe(&self, id: u64) -> Result<()> {
        self.inner.state.lock().unwrap().routes.remove(&id);
        let op = Op::Unsubscribe(proto::UnsubscribeReq { subscription: id });
        self.call(op).await.map(|_| ())
    }
}

/// One subscription's events. Dropping it unsubscribes (in a spawned task).
pub struct Watch {
    id: u64,
    rx: mpsc::Receiver<Event>,
    client: Client,
    done: bool,
    generation: u64,
    last_seq: u64,
    resumed: bool,
    missed: bool,
}

impl Watch {
    /// The subscription id the node gave.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next event; None once the connection closed.
    pub async fn next(&mut self) -> Option<Event> {
        let ev = self.rx.recv().await;
        if let Some(e) = &ev {
            if e.seq > self.last_seq {
                self.last_seq = e.seq;
            }
        }
        ev
    }

    /// The node's life this watch runs in (0 for a plain `watch`).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The highest change seq this watch has returned (or where it began).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Where a new watch resumes without missing what this one did not return yet.
    pub fn resume_point(&self) -> WatchFrom {
        WatchFrom::Resume {
            generation: self.generation,
            seq: self.last_seq,
        }
    }

    /// The node honoured the resume: nothing after the resume seq is missing.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// The node could not resume (another life, collected tombstones): a snapshot follows.
    pub fn missed(&self) -> bool {
        self.missed
    }

    /// Ends the subscription and waits for the node to confirm it.
    pub async fn unsubscribe(mut self) -> Result<()> {
        self.done = true;
        self.client.unsubscribe(self.id).await
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.client
            .inner
            .state
            .lock()
            .unwrap()
            .routes
            .remove(&self.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (client, id) = (self.client.clone(), self.id);
            rt.spawn(async move {
                let _ = client.unsubscribe(id).await;
            });
        }
    }
}

/// Membership events of one subscription. Dropping it unsubscribes (in a spawned task).
pub struct MemberWatch {
    id: u64,
    rx: mpsc::Receiver<MemberEvent>,
    client: Client,
    done: bool,
}

impl MemberWatch {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next membership event; None once the connection closed.
    pub async fn next(&mut self) -> Option<MemberEvent> {
        self.rx.recv().await
    }

    /// Ends the subscription and waits for the node to confirm it.
    pub async fn unsubscribe(mut self) -> Result<()> {
        self.done = true;
        self.client.unsubscribe(self.id).await
    }
}

impl Drop for MemberWatch {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.client
            .inner
            .state
            .lock()
            .unwrap()
            .routes
            .remove(&self.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (client, id) = (self.client.clone(), self.id);
            rt.spawn(async move {
                let _ = client.unsubscribe(id).await;
            });
        }
    }
}
