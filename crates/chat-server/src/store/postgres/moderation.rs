//! moderation (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn audit(&self, _entry: AuditEntry) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("audit: not built yet".to_owned()))
    }

    pub(in crate::store) async fn ban(
        &self,
        _user: UserId,
        _ban: BanRecord,
        _entry: AuditEntry,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("ban: not built yet".to_owned()))
    }

    pub(in crate::store) async fn unban(&self, _user: UserId, _entry: AuditEntry) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("unban: not built yet".to_owned()))
    }

    pub(in crate::store) async fn active_ban(
        &self,
        _user: UserId,
        _now: Timestamp,
    ) -> Result<Option<BanRecord>, StoreError> {
        Err(StoreError::Unavailable("active_ban: not built yet".to_owned()))
    }

    pub(in crate::store) async fn account_standing(
        &self,
        _user: UserId,
        _now: Timestamp,
    ) -> Result<Option<(UserRecord, Option<BanRecord>)>, StoreError> {
        Err(StoreError::Unavailable("account_standing: not built yet".to_owned()))
    }

    pub(in crate::store) async fn moderation_log(
        &self,
        _before: Option<i64>,
        _limit: u32,
    ) -> Result<(Vec<ModerationEntry>, bool), StoreError> {
        Err(StoreError::Unavailable("moderation_log: not built yet".to_owned()))
    }

    pub(in crate::store) async fn audit_count(&self, _action: AuditAction) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable("audit_count: not built yet".to_owned()))
    }
}
