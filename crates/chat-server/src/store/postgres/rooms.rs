//! rooms (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn create_room(&self, _name: RoomName) -> Result<(RoomRecord, bool), StoreError> {
        Err(StoreError::Unavailable("create_room: not built yet".to_owned()))
    }

    pub(in crate::store) async fn create_room_within(
        &self,
        _name: RoomName,
        _max_rooms: usize,
        _creator: UserId,
    ) -> Result<RoomCreation, StoreError> {
        Err(StoreError::Unavailable("create_room_within: not built yet".to_owned()))
    }

    pub(in crate::store) async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        Err(StoreError::Unavailable("rooms: not built yet".to_owned()))
    }

    pub(in crate::store) async fn set_topic(
        &self,
        _id: RoomId,
        _topic: RoomTopic,
    ) -> Result<Option<RoomRecord>, StoreError> {
        Err(StoreError::Unavailable("set_topic: not built yet".to_owned()))
    }

    pub(in crate::store) async fn room_has_messages(&self, _id: RoomId) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("room_has_messages: not built yet".to_owned()))
    }

    pub(in crate::store) async fn delete_room_if_silent(&self, _id: RoomId) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("delete_room_if_silent: not built yet".to_owned()))
    }

    pub(in crate::store) async fn delete_room(&self, _id: RoomId) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("delete_room: not built yet".to_owned()))
    }
}
