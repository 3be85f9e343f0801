//! `ChatApiServer`: takes the caller's connection from the call's
//! extensions and hands each method to the service. No rules live here.

use std::sync::Arc;

use chat_api::{
    Avatar, DisplayName, Emoji, ErrorCode, MessageId, MessageText, Reason, Role, RoomId, RoomName, RoomTopic,
    SearchQuery, UserName,
    notifications::AnnouncementLevel,
    rpc::{
        ChatApiServer, EditMessageResult, HistoryResult, JoinRoomResult, ListBlockedResult, ListDirectResult,
        ListRoomsResult, ListUsersResult, ModerationLogResult, MyRoomsResult, ProfileResult, SearchResult,
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
pub(crate) struct RpcHandlers {
    chat: Arc<ChatService>,
}

impl RpcHandlers {
    /// Handlers over the service.
    pub(crate) fn new(chat: Arc<ChatService>) -> Self {
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
        Ok(self.chat.leave_room(caller(ext)?, &room_id).await?)
    }

    async fn send_message(
        &self,
        ext: &Extensions,
        room_id: RoomId,
        text: MessageText,
        reply_to: Option<MessageId>,
    ) -> RpcResult<SendMessageResult> {
        Ok(self.chat.send_message(caller(ext)?, room_id, text, reply_to).await?)
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
        Ok(ListUsersResult { users: self.chat.list_users(caller(ext)?, &room_id).await? })
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
        Ok(self.chat.start_typing(caller(ext)?, &room_id).await?)
    }

    async fn stop_typing(&self, ext: &Extensions, room_id: RoomId) -> RpcResult<()> {
        Ok(self.chat.stop_typing(caller(ext)?, &room_id).await?)
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

    async fn open_direct(
        &self,
        ext: &Extensions,
        username: UserName,
        since_message_id: Option<MessageId>,
    ) -> RpcResult<JoinRoomResult> {
        Ok(self.chat.open_direct(caller(ext)?, username, since_message_id).await?)
    }

    async fn list_direct(&self, ext: &Extensions) -> RpcResult<ListDirectResult> {
        Ok(ListDirectResult { chats: self.chat.list_direct(caller(ext)?).await? })
    }

    async fn block_user(&self, ext: &Extensions, username: UserName) -> RpcResult<()> {
        Ok(self.chat.set_blocked(caller(ext)?, username, true).await?)
    }

    async fn unblock_user(&self, ext: &Extensions, username: UserName) -> RpcResult<()> {
        Ok(self.chat.set_blocked(caller(ext)?, username, false).await?)
    }

    async fn list_blocked(&self, ext: &Extensions) -> RpcResult<ListBlockedResult> {
        Ok(ListBlockedResult { usernames: self.chat.list_blocked(caller(ext)?).await? })
    }

    async fn edit_message(
        &self,
        ext: &Extensions,
        message_id: MessageId,
        text: MessageText,
    ) -> RpcResult<EditMessageResult> {
        Ok(self.chat.edit_message(caller(ext)?, message_id, text).await?)
    }

    async fn delete_message(&self, ext: &Extensions, message_id: MessageId) -> RpcResult<()> {
        Ok(self.chat.delete_message(caller(ext)?, message_id).await?)
    }

    async fn add_reaction(&self, ext: &Extensions, message_id: MessageId, emoji: Emoji) -> RpcResult<()> {
        Ok(self.chat.react(caller(ext)?, message_id, emoji, true).await?)
    }

    async fn remove_reaction(&self, ext: &Extensions, message_id: MessageId, emoji: Emoji) -> RpcResult<()> {
        Ok(self.chat.react(caller(ext)?, message_id, emoji, false).await?)
    }

    async fn my_rooms(&self, ext: &Extensions) -> RpcResult<MyRoomsResult> {
        Ok(MyRoomsResult { rooms: self.chat.my_rooms(caller(ext)?).await? })
    }

    async fn mark_read(&self, ext: &Extensions, room_id: RoomId, message_id: MessageId) -> RpcResult<()> {
        Ok(self.chat.mark_read(caller(ext)?, room_id, message_id).await?)
    }

    async fn search_messages(
        &self,
        ext: &Extensions,
        query: SearchQuery,
        room_id: Option<RoomId>,
        before_message_id: Option<MessageId>,
        limit: Option<u32>,
    ) -> RpcResult<SearchResult> {
        Ok(self.chat.search(caller(ext)?, query, room_id, before_message_id, limit).await?)
    }

    async fn set_room_topic(&self, ext: &Extensions, room_id: RoomId, topic: RoomTopic) -> RpcResult<()> {
        Ok(self.chat.set_room_topic(caller(ext)?, room_id, topic).await?)
    }

    async fn set_role(&self, ext: &Extensions, username: UserName, role: Role) -> RpcResult<()> {
        Ok(self.chat.set_role(caller(ext)?, username, role).await?)
    }

    async fn get_moderation_log(
        &self,
        ext: &Extensions,
        before_id: Option<i64>,
        limit: Option<u32>,
    ) -> RpcResult<ModerationLogResult> {
        Ok(self.chat.moderation_log(caller(ext)?, before_id, limit).await?)
    }
}
