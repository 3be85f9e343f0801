//! Profiles.

use chat_api::{Avatar, DisplayName, Profile, Timestamp, UserName};

use super::{ChatService, ServiceError};
use crate::{
    hub::Connection,
    store::{ProfileChange, UserRecord},
};

impl ChatService {
    /// `get_profile`.
    pub(crate) async fn profile(&self, caller: &Connection, name: &UserName) -> Result<Profile, ServiceError> {
        let _turn = self.reads.enter(caller.user_id()).await;
        let user = self.store.user_by_name(name).await?.ok_or_else(|| ServiceError::user_not_found(name))?;
        Ok(self.to_profile(user))
    }

    /// `update_profile`: changes the caller's own display name and/or
    /// avatar; with neither, returns the profile unchanged.
    pub(crate) async fn update_profile(
        &self,
        conn: &Connection,
        display_name: Option<DisplayName>,
        avatar: Option<Avatar>,
    ) -> Result<Profile, ServiceError> {
        let change = ProfileChange { display_name, avatar };
        let user = self.store.update_profile(conn.user_id(), change).await?.ok_or(ServiceError::NotAuthenticated)?;
        Ok(self.to_profile(user))
    }

    fn to_profile(&self, user: UserRecord) -> Profile {
        let last_seen = if self.hub.is_online(user.id) { Timestamp::now() } else { user.last_seen };
        Profile {
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            avatar: user.avatar,
            created_at: user.created_at,
            last_seen,
        }
    }

    /// The caller's account as stored now. Privileged calls use this, not
    /// the role from connect time, so a demotion bites at once.
    pub(super) async fn current_account(&self, conn: &Connection) -> Result<UserRecord, ServiceError> {
        let _turn = self.reads.enter(conn.user_id()).await;
        self.store.user_by_id(conn.user_id()).await?.ok_or(ServiceError::NotAuthenticated)
    }

    /// Records that a user's last connection closed.
    pub(crate) async fn disconnected(&self, conn: &Connection) {
        if let Err(e) = self.store.touch_last_seen(conn.user_id()).await {
            tracing::warn!(error = %e, "could not record last_seen");
        }
    }
}
