//! memberships (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn remember_room(
        &self,
        _user: UserId,
        _room: RoomId,
        _read_upto: MessageId,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("remember_room: not built yet".to_owned()))
    }

    pub(in crate::store) async fn forget_room(&self, _user: UserId, _room: RoomId) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("forget_room: not built yet".to_owned()))
    }

    pub(in crate::store) async fn mark_read(
        &self,
        _user: UserId,
        _room: RoomId,
        _upto: MessageId,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("mark_read: not built yet".to_owned()))
    }

    pub(in crate::store) async fn read_marker(
        &self,
        _user: UserId,
        _room: RoomId,
    ) -> Result<Option<MessageId>, StoreError> {
        Err(StoreError::Unavailable("read_marker: not built yet".to_owned()))
    }

    pub(in crate::store) async fn my_rooms(
        &self,
        _user: UserId,
    ) -> Result<Vec<(RoomName, MembershipRecord)>, StoreError> {
        Err(StoreError::Unavailable("my_rooms: not built yet".to_owned()))
    }

    pub(in crate::store) async fn room_counts(
        &self,
        _user: UserId,
        _room: RoomId,
    ) -> Result<MembershipRecord, StoreError> {
        Err(StoreError::Unavailable("room_counts: not built yet".to_owned()))
    }
}
