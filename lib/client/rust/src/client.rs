//! The connection: callers send numbered requests; one reader task owns the receive side,
//! hands each reply to the caller waiting for its id and routes events to their
//! subscription's `Watch`. A subscribe reply registers its Watch in the reader before the
//! caller resumes, so no event of a new subscription arrives unrouted. Each Watch's
//! channel is bounded: when it is full the event is dropped and counted into that
//! subscription's next Event, as are values whose parts arrived with a gap.
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
use crate::{Error, Event, KeysPage, Member, Result, Stat, Value, MAX_MSG, MAX_VALUE, PART};

const WATCH_QUEUE: usize = 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<proto::Response>>;

enum Waiter {
    Reply(Reply),
    Subscribe(Reply, mpsc::Sender<Event>),
}

/// One subscription as the reader sees it.
struct Route {
    tx: mpsc::Sender<Event>,
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

fn node_error(r: &proto::Response) -> Error {
    Error::Node {
        status: if r.status < 0 {
            r.status
        } else {
            -libc::EPROTO
        },
        message: r.error.clone(),
    }
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
        };
        match self.tx.try_send(ev) {
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
        if let Some(response::Result::Event(e)) = r.result {
            let sub = e.subscription;
            let alive = match st.routes.get_mut(&sub) {
                Some(route) => route.feed(e),
                None => true, // an event of a subscription closed meanwhile
            };
            if !alive {
                st.routes.remove(&sub);
            }
        }
        return;
    }
    match st.pending.remove(&r.id) {
        Some(Waiter::Reply(tx)) => {
            let _ = tx.send(Ok(r));
        }
        Some(Waiter::Subscribe(tx, events)) => {
            if r.status == 0 {
                match &r.result {
                    Some(response::Result::Subscribe(s)) if s.subscription != 0 => {
                        st.routes.insert(
                            s.subscription,
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
        Ok(Client {
            inner: Arc::new(Inner {
                sock,
                state,
                next_id: AtomicU64::new(1),
                reader,
            }),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// This handle with another reply timeout (5 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    async fn call_as(
        &self,
        op: Op,
        events: Option<mpsc::Sender<Event>>,
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
        let op = Op::Put(proto::PutReq {
            key: key.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
        });
        self.call(op).await.map(|_| ())
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
        let r = self.call_as(op, Some(tx)).await?;
        let id = match r.result {
            Some(response::Result::Subscribe(s)) => s.subscription,
            _ => 0,
        };
        Ok(Watch {
            id,
            rx,
            client: self.clone(),
            done: false,
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
}

impl Watch {
    /// The subscription id the node gave.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next event; None once the connection closed.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
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
