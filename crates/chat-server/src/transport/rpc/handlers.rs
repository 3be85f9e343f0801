//! `ChatApiServer`: takes the caller's connection from the call's
//! extensions and hands each method to the service. No rules live here.

use std::sync::Arc;

use chat_api::{
    Avatar, DisplayName, ErrorCode, MessageId, MessageText, Reason, RoomId, RoomName, UserName,
    notifications::AnnouncementLevel,
    rpc::{
        ChatApiServer, HistoryResult, JoinRoomResult, ListRoomsResult, ListUsersResult, ProfileResult,
        SendMessageResult,
    },
};
use jsonrpsee::{
    Extensions,
    core::{RpcResult, async_trait},
};

use super::errors::error_object;
use crate::{hub::Connection, service::ChatService};

/// The JSON-RPC methods, bound to the chat service.
#[derive(Debug)]
pub struct RpcHandlers {
    chat: Arc<ChatService>,
}

impl RpcHandlers {
    /// Handlers over the service.
    pub fn new(chat: Arc<ChatService>) -> Self {
        Self { chat }
    }
}

/// The connection a call came in on. The session always inserts it; its
/// absence would be a wiring bug, reported as an internal error.
fn caller(ext: &Extensions) -> RpcResult<&Arc<Connection>> {
    ext.get::<Arc<Connection>>().ok_or_else(|| error_object(ErrorCode::Internal, "no connection for call"))
}

#[async_trait]
impl ChatApiServer for RpcHandlers {
    async fn join_room(
        &self,
        ext: &Extensions,
        room_name: RoomName,
        since_message_id: Option<MessageId>,
    ) -> RpcResult<JoinRoomResult> {
        Ok(self.chat.join_room(caller(ext)?, room_name, since_message_id).await?)
    }

    async fn leave_room(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<()> {
        Ok(self.chat.leave_room(caller(ext)?, &room_id)?)
    }

    async fn send_message(&self, ext: &Extensions, room_id: RoomId, text: MessageText) -> RpcResult<SendMessageResult> {
        Ok(self.chat.send_message(caller(ext)?, room_id, text).await?)
    }

    async fn list_rooms(
        &self,
        ext: &Extensions,
        after_room_id: Option<RoomId>,
        limit: Option<u32>,
    ) -> RpcResult<ListRoomsResult> {
        caller(ext)?;
        Ok(self.chat.list_rooms(after_room_id.as_ref(), limit)?)
    }

    async fn list_users(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<ListUsersResult> {
        caller(ext)?;
        Ok(ListUsersResult { users: self.chat.list_users(&room_id)? })
    }

    async fn get_history(
        &self,
        ext: &Extensions,
        room_id: RoomId,
        before_message_id: Option<MessageId>,
        limit: Option<u32>,
    ) -> RpcResult<HistoryResult> {
        Ok(self.chat.history(caller(ext)?, room_id, before_message_id, limit).await?)
    }

    async fn start_typing(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<()> {
        Ok(self.chat.start_typing(caller(ext)?, &room_id)?)
    }

    async fn stop_typing(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<()> {
        Ok(self.chat.stop_typing(caller(ext)?, &room_id)?)
    }

    async fn get_profile(&self, ext: &Extensions, username: UserName) -> RpcResult<ProfileResult> {
        Ok(ProfileResult { profile: self.chat.profile(caller(ext)?, &username).await? })
    }

    async fn update_profile(
        &self,
        ext: &Extensions,
        display_name: Option<DisplayName>,
        avatar: Option<Avatar>,
    ) -> RpcResult<ProfileResult> {
        Ok(ProfileResult { profile: self.chat.update_profile(caller(ext)?, display_name, avatar).await? })
    }

    async fn kick_user(&self, ext: &Extensions, target_username: UserName, reason: Reason) -> RpcResult<bool> {
        Ok(self.chat.kick(caller(ext)?, target_username, reason).await?)
    }

    async fn ban_user(
        &self,
        ext: &Extensions,
        target_username: UserName,
        reason: Reason,
        duration_seconds: Option<u64>,
    ) -> RpcResult<bool> {
        Ok(self.chat.ban(caller(ext)?, target_username, reason, duration_seconds).await?)
    }

    async fn unban_user(&self, ext: &Extensions, target_username: UserName) -> RpcResult<bool> {
        Ok(self.chat.unban(caller(ext)?, target_username).await?)
    }

    async fn broadcast_announcement(
        &self,
        ext: &Extensions,
        message: MessageText,
        level: AnnouncementLevel,
    ) -> RpcResult<()> {
        Ok(self.chat.announce(caller(ext)?, message, level).await?)
    }

    async fn delete_room(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<()> {
        Ok(self.chat.delete_room(caller(ext)?, room_id).await?)
    }
}
