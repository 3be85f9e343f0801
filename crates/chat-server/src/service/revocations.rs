//! The revocation list: tokens ended by a logout before their expiry.
//!
//! Kept in memory for the checks made at connect and per call (a read
//! lock and a hash look-up), and in SQLite so that it survives a restart.
//! Only this server revokes tokens, so memory and database stay in step:
//! an entry is written to the database first, then added here. Entries
//! leave both once the token would have expired anyway.

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::{
    auth::{TokenId, still_valid},
    store::{RevokedToken, Store, StoreError},
};

/// Revoked token ids with their expiry (Unix seconds).
#[derive(Debug, Default)]
pub(super) struct Revocations {
    revoked: RwLock<HashMap<TokenId, i64>>,
}

impl Revocations {
    /// The list as stored, without what expired by `now`.
    pub(super) async fn load(store: &Store, now: i64) -> Result<Self, StoreError> {
        let revoked = store
            .revoked_tokens(now)
            .await?
            .into_iter()
            .map(|t| (TokenId::from_stored(t.token_id), t.expires_at))
            .collect();
        Ok(Self { revoked: RwLock::new(revoked) })
    }

    /// Whether the token was revoked.
    pub(super) fn is_revoked(&self, id: &TokenId) -> bool {
        let revoked = self.revoked.read();
        !revoked.is_empty() && revoked.contains_key(id)
    }

    /// Adds a token another node revoked (and stored) to memory.
    pub(super) fn note(&self, id: TokenId, expires_at: i64) {
        self.revoked.write().insert(id, expires_at);
    }

    /// Revokes a token: stored first, then in memory; prunes what expired.
    pub(super) async fn revoke(&self, store: &Store, id: TokenId, expires_at: i64, now: i64) -> Result<(), StoreError> {
        store.revoke_token(RevokedToken { token_id: id.as_str().to_owned(), expires_at }, now).await?;
        let mut revoked = self.revoked.write();
        revoked.retain(|_, exp| still_valid(*exp, now));
        revoked.insert(id, expires_at);
        Ok(())
    }
}
