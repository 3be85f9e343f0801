//! sessions (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn revoke_token(&self, _token: RevokedToken, _now: i64) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("revoke_token: not built yet".to_owned()))
    }

    pub(in crate::store) async fn revoked_tokens(&self, _now: i64) -> Result<Vec<RevokedToken>, StoreError> {
        Err(StoreError::Unavailable("revoked_tokens: not built yet".to_owned()))
    }

    pub(in crate::store) async fn last_account_deletion(&self) -> Result<i64, StoreError> {
        Err(StoreError::Unavailable("last_account_deletion: not built yet".to_owned()))
    }

    pub(in crate::store) async fn account_deletions_after(
        &self,
        _after: i64,
        _limit: usize,
    ) -> Result<Vec<AccountDeletion>, StoreError> {
        Err(StoreError::Unavailable("account_deletions_after: not built yet".to_owned()))
    }
}
