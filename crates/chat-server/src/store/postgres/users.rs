//! users (PostgreSQL).

#![allow(unused_imports)]

use chat_api::{MessageId, Role, RoomId, RoomName, RoomTopic, Timestamp, UserId, UserName, rpc::ModerationEntry};

use super::PgStore;
use crate::store::*;

impl PgStore {
    pub(in crate::store) async fn create_user(&self, _user: NewUser) -> Result<UserRecord, StoreError> {
        Err(StoreError::Unavailable("create_user: not built yet".to_owned()))
    }

    pub(in crate::store) async fn seed_users(&self, _users: Vec<NewUser>) -> Result<usize, StoreError> {
        Err(StoreError::Unavailable("seed_users: not built yet".to_owned()))
    }

    pub(in crate::store) async fn has_users(&self) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("has_users: not built yet".to_owned()))
    }

    pub(in crate::store) async fn user_by_name(&self, _name: &UserName) -> Result<Option<UserRecord>, StoreError> {
        Err(StoreError::Unavailable("user_by_name: not built yet".to_owned()))
    }

    pub(in crate::store) async fn users_named(
        &self,
        _names: Vec<UserName>,
    ) -> Result<Vec<(UserId, UserName)>, StoreError> {
        Err(StoreError::Unavailable("users_named: not built yet".to_owned()))
    }

    pub(in crate::store) async fn user_by_id(&self, _id: UserId) -> Result<Option<UserRecord>, StoreError> {
        Err(StoreError::Unavailable("user_by_id: not built yet".to_owned()))
    }

    pub(in crate::store) async fn update_profile(
        &self,
        _id: UserId,
        _change: ProfileChange,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(StoreError::Unavailable("update_profile: not built yet".to_owned()))
    }

    pub(in crate::store) async fn touch_last_seen(&self, _id: UserId) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("touch_last_seen: not built yet".to_owned()))
    }

    pub(in crate::store) async fn set_role(&self, _name: &UserName, _role: Role) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("set_role: not built yet".to_owned()))
    }

    pub(in crate::store) async fn set_password_hash(
        &self,
        _name: &UserName,
        _password_hash: String,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("set_password_hash: not built yet".to_owned()))
    }

    pub(in crate::store) async fn delete_user(&self, _name: &UserName) -> Result<bool, StoreError> {
        Err(StoreError::Unavailable("delete_user: not built yet".to_owned()))
    }
}
