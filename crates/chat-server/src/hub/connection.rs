//! The hub's handle on one live WebSocket connection.

use std::{
    collections::BTreeSet,
    sync::{Arc, OnceLock},
};

use chat_api::{CloseCode, RoomId, UserId, UserName};
use parking_lot::Mutex;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::{Encoding, Frame, Outbox, OutboxLimits};
use crate::auth::TokenId;

/// Identifies a connection for its lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConnId(pub u64);

/// Why the server is closing a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseReason {
    /// The WebSocket close code.
    pub code: CloseCode,
    /// The close frame's reason text (at most 123 bytes on the wire).
    pub reason: String,
}

/// Who is on the other end, as established when the connection opened.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// Account id.
    pub user_id: UserId,
    /// Username.
    pub username: UserName,
    /// When the token that opened the connection expires, Unix seconds:
    /// the connection closes then. (No role is kept here: every privileged
    /// call reads the account's current role from the database.)
    pub token_expires_at: i64,
    /// What revokes the token that opened the connection (a logout).
    pub token_id: TokenId,
}

/// Answers of one batch, counted against their connection's outbox byte
/// budget while the batch runs.
#[derive(Debug)]
pub(crate) struct HeldAnswers<'a> {
    outbox: &'a Outbox,
    bytes: usize,
    /// The largest answer so far: what the next one is expected to need.
    largest: usize,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl HeldAnswers<'_> {
    /// Whether the batch may run another request: waits until an answer as
    /// large as its largest so far fits in `connection.send_queue_bytes`
    /// beside what is queued and held; false when its own answers leave no
    /// room. A batch's answer thus stays within the budget when its answers
    /// are alike, and exceeds it by at most one answer otherwise.
    pub(crate) async fn has_room(&self) -> bool {
        self.outbox.room_for(self.largest).await
    }

    /// Counts another `bytes` of answer.
    pub(crate) fn add(&mut self, bytes: usize) {
        self.outbox.hold(bytes);
        self.bytes += bytes;
        self.largest = self.largest.max(bytes);
    }
}

impl Drop for HeldAnswers<'_> {
    fn drop(&mut self) {
        self.outbox.release(self.bytes);
    }
}

/// A live connection as the rest of the server sees it: a bounded outbox,
/// a close signal and the rooms it has joined.
#[derive(Debug)]
pub(crate) struct Connection {
    id: ConnId,
    identity: Identity,
    encoding: Encoding,
    outbox: Outbox,
    closing: CancellationToken,
    close_reason: OnceLock<CloseReason>,
    rooms: Mutex<BTreeSet<RoomId>>,
    /// Taken by a batch while it runs (see [`hold_answers`](Self::hold_answers)).
    batch_turn: tokio::sync::Mutex<()>,
}

impl Connection {
    /// A connection with an empty outbox, which its socket writer drains
    /// ([`outbox`](Self::outbox)).
    pub(crate) fn new(id: ConnId, identity: Identity, encoding: Encoding, limits: OutboxLimits) -> Arc<Self> {
        Arc::new(Self {
            id,
            identity,
            encoding,
            outbox: Outbox::new(limits),
            closing: CancellationToken::new(),
            close_reason: OnceLock::new(),
            rooms: Mutex::default(),
            batch_turn: tokio::sync::Mutex::const_new(()),
        })
    }

    /// Its id.
    pub(crate) fn id(&self) -> ConnId {
        self.id
    }

    /// Who it belongs to.
    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The encoding it speaks.
    pub(crate) fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Its user's id.
    pub(crate) fn user_id(&self) -> UserId {
        self.identity.user_id
    }

    /// Its user's name.
    pub(crate) fn username(&self) -> &UserName {
        &self.identity.username
    }

    /// Queues a frame without waiting. A full queue means the client reads
    /// slower than it is sent to; it is closed with 4008 rather than let it
    /// hold up the sender or grow memory. Returns whether the frame was
    /// queued.
    pub(crate) fn push(&self, frame: &Frame) -> bool {
        // Frames this connection's encoding has no form for are skipped.
        let Some(bytes) = frame.encoded(self.encoding) else { return true };
        if self.outbox.push(bytes).is_err() {
            self.close(CloseCode::TooSlow, "too slow: send queue overflowed");
            return false;
        }
        super::stats::frames_queued(1);
        true
    }

    /// Waits for the connection's previous batches to finish, then starts
    /// holding this batch's answers against the outbox's byte budget; they
    /// stop counting when the returned guard is dropped (the batch's frame
    /// is then queued, or the batch was abandoned). One batch at a time:
    /// concurrent batches would each start a request before any answer is
    /// held, `connection.max_in_flight` answers beyond the budget.
    pub(crate) async fn hold_answers(&self) -> HeldAnswers<'_> {
        let _turn = self.batch_turn.lock().await;
        HeldAnswers { outbox: &self.outbox, bytes: 0, largest: 0, _turn }
    }

    /// The frames waiting for the socket, for its writer.
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Asks the connection to close. The first reason given wins.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) {
        let first = self.close_reason.set(CloseReason { code, reason: reason.to_owned() }).is_ok();
        if first && code == CloseCode::TooSlow {
            super::stats::slow_closed();
        }
        self.closing.cancel();
        self.outbox.close();
    }

    /// Why it is closing, once [`close`](Self::close) was called.
    pub(crate) fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.get()
    }

    /// Whether it is closing.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Resolves when the connection is asked to close.
    pub(crate) fn closed(&self) -> WaitForCancellationFuture<'_> {
        self.closing.cancelled()
    }

    /// Whether it has joined `room`.
    pub(crate) fn in_room(&self, room: &RoomId) -> bool {
        self.rooms.lock().contains(room)
    }

    /// The rooms it has joined.
    pub(crate) fn rooms(&self) -> Vec<RoomId> {
        self.rooms.lock().iter().cloned().collect()
    }

    pub(super) fn add_room(&self, room: RoomId) -> bool {
        self.rooms.lock().insert(room)
    }

    pub(super) fn remove_room(&self, room: &RoomId) -> bool {
        self.rooms.lock().remove(room)
    }
}
