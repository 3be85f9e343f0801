//! Direct conversations and blocking.

use chat_api::{
    MessageId, RoomName, UserName,
    rpc::{DirectChat, JOIN_CATCH_UP_LIMIT, JOIN_RECENT_MESSAGES, JoinRoomResult},
};

use super::{ChatService, ServiceError};
use crate::hub::Connection;

/// Most conversations `list_direct` returns: the most recently active.
pub(super) const MAX_DIRECT_LISTED: usize = 500;

impl ChatService {
    /// `open_direct`: the conversation with `username`, created if needed,
    /// in the shape of a `join_room` answer.
    pub(crate) async fn open_direct(
        &self,
        conn: &Connection,
        username: UserName,
        since: Option<MessageId>,
    ) -> Result<JoinRoomResult, ServiceError> {
        let _turn = self.reads.enter(conn.user_id()).await;
        let other = self.store.user_by_name(&username).await?.ok_or_else(|| ServiceError::user_not_found(&username))?;
        if other.id == conn.user_id() {
            return Err(ServiceError::Invalid("a direct conversation needs another user".to_owned()));
        }
        if self.store.blocks(other.id, conn.user_id()).await? {
            return Err(ServiceError::Forbidden("you cannot write to this user".to_owned()));
        }
        // Opening is joining: it may create a conversation that shows in
        // the other user's list, so it draws on the same bucket.
        self.limits.check_join(conn.user_id()).map_err(ServiceError::RateLimited)?;
        let me = (conn.user_id(), conn.username().clone());
        let direct = self.store.open_direct(me, (other.id, other.username.clone())).await?;
        let room = direct.room_id.clone();
        let limit = if since.is_some() { JOIN_CATCH_UP_LIMIT } else { JOIN_RECENT_MESSAGES };
        let after = since.unwrap_or(MessageId(0));
        let log = self.store.log();
        // No live state orders a conversation's deliveries against this
        // read: what it returns may also arrive as `message_received`.
        let recent = match log.recent(&room, after, MessageId(i64::MAX), limit as usize) {
            Some(recent) => recent,
            None => log.range(room.clone(), since, log.last_message_id().await?, limit).await?,
        };
        let mut users = vec![conn.username().clone(), other.username.clone()];
        users.sort_by_key(UserName::key);
        Ok(JoinRoomResult {
            room_id: room,
            room_name: RoomName::parse(other.username.as_str())
                .map_err(|e| ServiceError::Storage(crate::store::StoreError::from(e)))?,
            user_count: 2,
            existing_users: users,
            recent_messages: recent,
        })
    }

    /// `list_direct`: the caller's conversations, most recent activity
    /// first, at most [`MAX_DIRECT_LISTED`].
    pub(crate) async fn list_direct(&self, conn: &Connection) -> Result<Vec<DirectChat>, ServiceError> {
        let me = conn.user_id();
        let _turn = self.reads.enter(me).await;
        let mut chats = Vec::new();
        for direct in self.store.directs_of(me).await?.into_iter().take(MAX_DIRECT_LISTED) {
            let Some(other) = self.store.user_by_id(direct.other(me)).await? else { continue };
            let counts = self.store.room_counts(me, direct.room_id.clone()).await?;
            let last_message = match counts.last_message_id {
                Some(_) => self.store.log().history(direct.room_id.clone(), None, 1).await?.0.pop(),
                None => None,
            };
            chats.push(DirectChat {
                room_id: direct.room_id,
                username: other.username,
                last_message,
                unread_count: counts.unread,
            });
        }
        Ok(chats)
    }

    /// `block_user` (`block = true`) and `unblock_user`.
    pub(crate) async fn set_blocked(
        &self,
        conn: &Connection,
        username: UserName,
        block: bool,
    ) -> Result<(), ServiceError> {
        let target = {
            let _turn = self.reads.enter(conn.user_id()).await;
            self.store.user_by_name(&username).await?.ok_or_else(|| ServiceError::user_not_found(&username))?
        };
        if target.id == conn.user_id() {
            return Err(ServiceError::Invalid("you cannot block yourself".to_owned()));
        }
        if block {
            self.store.block(conn.user_id(), target.id).await?;
        } else {
            self.store.unblock(conn.user_id(), target.id).await?;
        }
        Ok(())
    }

    /// `list_blocked`.
    pub(crate) async fn list_blocked(&self, conn: &Connection) -> Result<Vec<UserName>, ServiceError> {
        let _turn = self.reads.enter(conn.user_id()).await;
        Ok(self.store.blocked_by(conn.user_id()).await?)
    }
}
