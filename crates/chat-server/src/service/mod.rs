//! Use cases. Each public method is one thing a client can ask for; it
//! checks the rules (via [`crate::domain`]), persists first through the
//! [`Store`], then publishes through the [`Hub`]. Nothing here knows HTTP,
//! WebSocket or JSON-RPC; errors are [`ServiceError`] and [`AuthError`],
//! mapped to wire errors in `transport`.
//!
//! Files: [`accounts`] (register, login, logout, token checks),
//! `revocations` (tokens ended by a logout), `account_deletions` (closing
//! the sessions of accounts deleted by the operator tool), [`rooms`],
//! `room_expiry` (deleting rooms left empty), `conversation` (rooms and
//! direct conversations behind one `room_id`), [`messages`] (send,
//! history, typing), `editing` (edits, deletes, reactions), `direct`
//! (direct conversations, blocking) and `direct_typing`, `reading` (the
//! user's rooms, read markers, search), [`profiles`], [`moderation`],
//! [`limits`] (rate limits and connection caps), `fairness` (per-user turns
//! at the read pool), [`seed`] (first-start accounts and rooms).

mod account_deletions;
pub(crate) mod accounts;
mod conversation;
mod direct;
mod direct_typing;
mod editing;
mod error;
mod fairness;
pub(crate) mod limits;
mod messages;
mod moderation;
mod profiles;
mod reading;
mod revocations;
mod room_expiry;
mod rooms;
pub(crate) mod seed;

use std::sync::Arc;

pub(crate) use accounts::{Accounts, AuthError};
pub(crate) use error::ServiceError;
pub(crate) use limits::RateLimits;

use crate::{config::ChatConfig, hub::Hub, store::Store};

/// The chat use cases, shared by every connection.
#[derive(Debug)]
pub(crate) struct ChatService {
    store: Arc<Store>,
    send_seconds: metrics::Histogram,
    stored: metrics::Counter,
    hub: Arc<Hub>,
    limits: Arc<RateLimits>,
    /// Per-user turns at the read pool, so one user cannot queue ahead of all.
    reads: fairness::ReadGate,
    /// Typing indicators in direct conversations.
    direct_typing: direct_typing::DirectTyping,
    settings: ChatConfig,
}

impl ChatService {
    /// Builds the service over its collaborators.
    pub(crate) fn new(store: Arc<Store>, hub: Arc<Hub>, limits: Arc<RateLimits>, settings: ChatConfig) -> Self {
        Self {
            store,
            direct_typing: direct_typing::DirectTyping::new(Arc::clone(&hub)),
            hub,
            limits,
            reads: fairness::ReadGate::default(),
            settings,
            send_seconds: metrics::histogram!(crate::metrics::SEND_LATENCY),
            stored: metrics::counter!(crate::metrics::MESSAGES_IN),
        }
    }
}
