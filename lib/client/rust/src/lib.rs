//! meshclient: async (tokio) client of a local meshd node over its control socket
//! (AF_UNIX SOCK_SEQPACKET, one protobuf `Request`/`Response` per message;
//! proto/client.proto, doc/client-api.md).
//!
//! ```no_run
//! # async fn demo() -> meshclient::Result<()> {
//! let c = meshclient::Client::connect("/run/meshd/n1.sock").await?;
//! c.put(b"worker:a", b"alpha").await?;
//! assert_eq!(c.get(b"worker:a").await?.unwrap().value, b"alpha");
//! c.put_owned(b"worker:b", b"beta").await?; // gone cluster-wide when this node dies
//! let res = c
//!     .batch(vec![meshclient::BatchOp::put("worker:c", "1"), meshclient::BatchOp::get("worker:a")])
//!     .await?; // one BatchResult per op
//! assert!(res.iter().all(|r| r.is_ok()));
//! let mut w = c.watch_from(b"worker:", meshclient::WatchFrom::Snapshot).await?;
//! while let Some(ev) = w.next().await {
//!     println!("{:?} -> {:?} (seq {})", ev.key, ev.value, ev.seq);
//! }
//! let resume = w.resume_point(); // after a reconnect: c.watch_from(b"worker:", resume)
//! # Ok(()) }
//! ```
//!
//! Every request carries an id and its reply is matched by id, so a `Client` (cheap to
//! clone, usable from many tasks) keeps many requests in flight on one connection.
use std::fmt;
use std::io;

mod client;
mod seqpacket;

/// The generated client protocol (prost, from proto/client.proto).
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/mesh.client.rs"));
}

pub use client::{BatchOp, BatchResult, Client, Hello, MemberWatch, Watch, WatchFrom};
pub use proto::member_event::Kind as MemberEventKind;
pub use proto::ClusterResp as ClusterState;
pub use proto::Error as ErrorCode;
pub use proto::{Member, Stat};

/// Largest request or reply: one socket message.
pub const MAX_MSG: usize = 256 * 1024;
/// Stream values above this travel in parts of this size (publish and events).
pub const PART: usize = 128 * 1024;
/// Largest value reassembled from parts.
pub const MAX_VALUE: u64 = 64 * 1024 * 1024;

/// A stored value as `get` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub value: Vec<u8>,
    /// Lamport timestamp of the winning write.
    pub timestamp: u64,
    /// Replica id of the winning write.
    pub replica: u64,
}

/// One page of `keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysPage {
    pub keys: Vec<Vec<u8>>,
    /// More keys follow the last one.
    pub more: bool,
}

/// A change seen by a subscription (values sent in parts arrive whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub subscription: u64,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub tombstone: bool,
    /// Events this subscription lost since the previous one (node or client side).
    pub dropped: u64,
    /// Wall clock (ns since the epoch) at which the origin node accepted it; 0 if unknown.
    pub origin_ns: u64,
    /// Version 2 watch: the node's change sequence of this change (0 for a plain watch).
    pub seq: u64,
    /// Part of a watch's initial snapshot.
    pub snapshot: bool,
    /// The snapshot's last event (alone, without a key, when the snapshot was empty).
    pub snapshot_end: bool,
}

/// A change of membership seen by a `MemberWatch`.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberEvent {
    pub kind: MemberEventKind,
    pub member: Member,
    /// Membership events this subscription lost before this one.
    pub dropped: u64,
}

/// What a call can fail with.
#[derive(Debug)]
pub enum Error {
    /// The node refused the request: a negative errno, its Error code (version 2 nodes;
    /// derived from the errno for version 1 ones) and its reason.
    Node {
        status: i32,
        code: ErrorCode,
        message: String,
    },
    /// The socket failed.
    Io(io::Error),
    /// No reply within the client's timeout.
    Timeout,
    /// The connection is closed (the node went away, or the client was dropped).
    Closed,
    /// A request larger than one socket message.
    TooLarge(usize),
    /// The node sent something this client does not understand.
    Protocol(String),
}

impl Error {
    /// The positive errno of a refusal.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Node { status, .. } => Some(-status),
            _ => None,
        }
    }

    /// The Error code of a refusal (e.g. `ErrorCode::NoNamespace`).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Node { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Node {
                status,
                code,
                message,
            } => write!(f, "{} ({:?}, errno {})", message, code, -status),
            Error::Io(e) => write!(f, "control socket: {}", e),
            Error::Timeout => write!(f, "meshd did not answer in time"),
            Error::Closed => write!(f, "connection to meshd closed"),
            Error::TooLarge(n) => write!(f, "request of {} bytes exceeds {}", n, MAX_MSG),
            Error::Protocol(s) => write!(f, "protocol: {}", s),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
