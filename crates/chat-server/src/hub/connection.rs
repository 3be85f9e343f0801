//! The hub's handle on one live WebSocket connection.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use chat_api::{CloseCode, Role, RoomId, UserId, UserName};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use axum::extract::ws::Utf8Bytes;

use super::{Encoding, Frame};

/// Identifies a connection for its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Why the server is closing a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code.
    pub code: CloseCode,
    /// The close frame's reason text (at most 123 bytes on the wire).
    pub reason: String,
}

/// Who is on the other end, as established when the connection opened.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Account id.
    pub user_id: UserId,
    /// Username.
    pub username: UserName,
    /// Role when the connection opened; privileged calls re-read it.
    pub role: Role,
    /// When the token that opened the connection expires, Unix seconds.
    pub token_expires_at: i64,
}

/// How much may wait in one connection's outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxLimits {
    /// Most frames queued.
    pub frames: usize,
    /// Most bytes queued.
    pub bytes: usize,
}

/// A live connection as the rest of the server sees it: a bounded outbox,
/// a close signal and the rooms it has joined.
#[derive(Debug)]
pub struct Connection {
    id: ConnId,
    identity: Identity,
    encoding: Encoding,
    outbox: mpsc::Sender<Utf8Bytes>,
    /// Bytes pushed and not yet written; bounded by `max_queued_bytes`.
    queued_bytes: AtomicUsize,
    max_queued_bytes: usize,
    closing: CancellationToken,
    close_reason: OnceLock<CloseReason>,
    rooms: Mutex<BTreeSet<RoomId>>,
}

impl Connection {
    /// A connection and the receiving end of its outbox, which the socket
    /// writer drains.
    pub fn new(
        id: ConnId,
        identity: Identity,
        encoding: Encoding,
        limits: OutboxLimits,
    ) -> (Arc<Self>, mpsc::Receiver<Utf8Bytes>) {
        let (outbox, rx) = mpsc::channel(limits.frames);
        let conn = Self {
            id,
            identity,
            encoding,
            outbox,
            queued_bytes: AtomicUsize::new(0),
            max_queued_bytes: limits.bytes,
            closing: CancellationToken::new(),
            close_reason: OnceLock::new(),
            rooms: Mutex::default(),
        };
        (Arc::new(conn), rx)
    }

    /// Its id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Who it belongs to.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The encoding it speaks.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Its user's id.
    pub fn user_id(&self) -> UserId {
        self.identity.user_id
    }

    /// Its user's name.
    pub fn username(&self) -> &UserName {
        &self.identity.username
    }

    /// Queues a frame without waiting. A full queue means the client reads
    /// slower than it is sent to; it is closed with 4008 rather than let it
    /// hold up the sender or grow memory. Returns whether the frame was
    /// queued.
    pub fn push(&self, frame: &Frame) -> bool {
        // Frames this connection's encoding has no form for are skipped.
        let Some(bytes) = frame.encoded(self.encoding) else { return true };
        let len = bytes.len();
        let queued = self.queued_bytes.fetch_add(len, Ordering::Relaxed) + len;
        // A single frame over the budget may go out when nothing else waits.
        let over_budget = queued > self.max_queued_bytes && queued != len;
        let sent = if over_budget { Err(mpsc::error::TrySendError::Full(bytes)) } else { self.outbox.try_send(bytes) };
        match sent {
            Ok(()) => {
                super::stats::frames_queued(1);
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                self.close(CloseCode::TooSlow, "too slow: send queue overflowed");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                false
            }
        }
    }

    /// Records that the writer has handed `bytes` to the socket.
    pub fn written(&self, bytes: usize) {
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Asks the connection to close. The first reason given wins.
    pub fn close(&self, code: CloseCode, reason: &str) {
        let first = self.close_reason.set(CloseReason { code, reason: reason.to_owned() }).is_ok();
        if first && code == CloseCode::TooSlow {
            super::stats::slow_closed();
        }
        self.closing.cancel();
    }

    /// Why it is closing, once [`close`](Self::close) was called.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.get()
    }

    /// Whether it is closing.
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Resolves when the connection is asked to close.
    pub fn closed(&self) -> WaitForCancellationFuture<'_> {
        self.closing.cancelled()
    }

    /// Whether it has joined `room`.
    pub fn in_room(&self, room: &RoomId) -> bool {
        self.rooms.lock().contains(room)
    }

    /// The rooms it has joined.
    pub fn rooms(&self) -> Vec<RoomId> {
        self.rooms.lock().iter().cloned().collect()
    }

    pub(super) fn add_room(&self, room: RoomId) -> bool {
        self.rooms.lock().insert(room)
    }

    pub(super) fn remove_room(&self, room: &RoomId) -> bool {
        self.rooms.lock().remove(room)
    }
}
