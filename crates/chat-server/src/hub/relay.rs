//! What the hub tells other nodes, in cluster mode.
//!
//! The hub delivers to this node's connections; whatever it delivers that
//! users on other nodes must also see goes to the [`Relay`] too, when one
//! is set (`crate::cluster`). What comes back from other nodes enters
//! through the hub's `*_local` and `remote_*` methods, which deliver here
//! only, so nothing bounces between nodes. Stored messages take another
//! path, in id order, through the message log.

use std::sync::{Arc, OnceLock};

use chat_api::{RoomId, ServerEvent, UserId, UserName};
use serde::{Deserialize, Serialize};

/// The other nodes, as the hub sees them.
pub(crate) trait Relay: Send + Sync + std::fmt::Debug {
    /// Every connection everywhere gets `event`.
    fn everyone(&self, event: &ServerEvent);
    /// Every connection in `room` gets `event`, except `except`'s.
    fn room(&self, room: &RoomId, event: &ServerEvent, except: Option<UserId>);
    /// Every JSON-RPC connection of `user` gets `event`.
    fn user(&self, user: UserId, event: &ServerEvent);
    /// `user` became present in `room` on this node (or stopped being).
    fn presence(&self, room: &RoomId, user: UserId, username: &UserName, present: bool);
    /// Every connection of a user is to be closed; resolves to whether any
    /// other node had one (as far as the nodes answer in time).
    fn evict(&self, eviction: &Eviction) -> futures_util::future::BoxFuture<'static, bool>;
    /// A user's ban was lifted.
    fn unbanned(&self, user: UserId);
    /// A token was revoked (logout): connections it opened are to close,
    /// and it is refused from now on.
    fn session_ended(&self, ended: &EndedSession);
}

/// A revoked token, as another node needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EndedSession {
    /// Whose.
    pub user: UserId,
    /// The token's id (`TokenId::as_str`).
    pub token_id: String,
    /// When it would have expired (Unix seconds).
    pub expires_at: i64,
}

/// Where the relay is plugged in; shared by the hub and its rooms.
pub(crate) type RelaySlot = Arc<OnceLock<Arc<dyn Relay>>>;

/// Closing every connection of a user (kick, ban, account deleted),
/// described so that another node can do the same.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Eviction {
    /// Whose connections.
    pub user: UserId,
    /// What they and their rooms are told first.
    pub notice: EvictionNotice,
    /// The close code's number.
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

/// What an eviction tells before closing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum EvictionNotice {
    /// Nothing.
    Silent,
    /// `user_kicked` to the user and in each of their rooms.
    Kicked { username: UserName, reason: chat_api::Reason },
    /// A line for text clients (the contract has no ban notification).
    Banned { line: String, until: Option<chat_api::Timestamp> },
}
