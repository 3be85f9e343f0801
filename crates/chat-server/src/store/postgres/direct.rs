//! direct (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn open_direct(
        &self,
        _one: (UserId, UserName),
        _other: (UserId, UserName),
    ) -> Result<DirectRecord, StoreError> {
        Err(StoreError::Unavailable("open_direct: not built yet".to_owned()))
    }

    pub(in crate::store) async fn direct(&self, _room: RoomId) -> Result<Option<DirectRecord>, StoreError> {
        Err(StoreError::Unavailable("direct: not built yet".to_owned()))
    }

    pub(in crate::store) async fn directs_of(&self, _user: UserId) -> Result<Vec<DirectRecord>, StoreError> {
        Err(StoreError::Unavailable("directs_of: not built yet".to_owned()))
    }

    pub(in crate::store) async fn block(&self, _blocker: UserId, _blocked: UserId) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("block: not built yet".to_owned()))
    }

    pub(in crate::store) async fn unblock(&self, _blocker: UserId, _blocked: UserId) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("unblock: not built yet".to_owned()))
    }

    pub(in crate::store) async fn blocks(&self, _blocker: UserId, _blocked: UserId) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("blocks: not built yet".to_owned()))
    }

    pub(in crate::store) async fn blocked_by(&self, _blocker: UserId) -> Result<Vec<UserName>, StoreError> {
        Err(StoreError::Unavailable("blocked_by: not built yet".to_owned()))
    }
}
