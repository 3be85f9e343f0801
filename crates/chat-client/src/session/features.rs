//! The calls of contract version 2: direct conversations, replies, edits,
//! deletes, reactions, read markers, search, topics, roles and the
//! moderation log. Each is one call; the session keeps no state for them.

use chat_api::{
    Emoji, MessageId, MessageText, Role, RoomId, RoomTopic, SearchQuery, UserName,
    rpc::{
        ChatApiClient, DirectChat, EditMessageResult, JoinRoomResult, ModerationLogResult, MyRoom, SearchResult,
        SendMessageResult,
    },
};

use super::Session;
use crate::CallError;

impl Session {
    /// Sends a message that answers `reply_to`, a message of the same room.
    pub async fn send_reply(
        &self,
        room: &RoomId,
        text: &MessageText,
        reply_to: MessageId,
    ) -> Result<SendMessageResult, CallError> {
        Ok(self.client()?.send_message(room.clone(), text.clone(), Some(reply_to)).await?)
    }

    /// Opens (creating if needed) the direct conversation with `user`; with
    /// `since`, `recent_messages` holds what came after it.
    /// The session remembers the conversation from here on, so that a
    /// reconnect catches up on it.
    pub async fn open_direct(&self, user: &UserName, since: Option<MessageId>) -> Result<JoinRoomResult, CallError> {
        let answer = self.client()?.open_direct(user.clone(), since).await?;
        self.shared.rooms.lock().deliver_recovered(&answer.room_id, answer.recent_messages.clone());
        Ok(answer)
    }

    /// This user's direct conversations, most recent activity first.
    pub async fn list_direct(&self) -> Result<Vec<DirectChat>, CallError> {
        Ok(self.client()?.list_direct().await?.chats)
    }

    /// Stops `user` from writing to this user directly.
    pub async fn block_user(&self, user: &UserName) -> Result<(), CallError> {
        Ok(self.client()?.block_user(user.clone()).await?)
    }

    /// Lifts a block.
    pub async fn unblock_user(&self, user: &UserName) -> Result<(), CallError> {
        Ok(self.client()?.unblock_user(user.clone()).await?)
    }

    /// The users this user blocked.
    pub async fn list_blocked(&self) -> Result<Vec<UserName>, CallError> {
        Ok(self.client()?.list_blocked().await?.usernames)
    }

    /// Replaces the text of one of this user's messages.
    pub async fn edit_message(&self, message: MessageId, text: &MessageText) -> Result<EditMessageResult, CallError> {
        Ok(self.client()?.edit_message(message, text.clone()).await?)
    }

    /// Erases a message.
    pub async fn delete_message(&self, message: MessageId) -> Result<(), CallError> {
        Ok(self.client()?.delete_message(message).await?)
    }

    /// Reacts to a message.
    pub async fn add_reaction(&self, message: MessageId, emoji: &Emoji) -> Result<(), CallError> {
        Ok(self.client()?.add_reaction(message, emoji.clone()).await?)
    }

    /// Takes a reaction back.
    pub async fn remove_reaction(&self, message: MessageId, emoji: &Emoji) -> Result<(), CallError> {
        Ok(self.client()?.remove_reaction(message, emoji.clone()).await?)
    }

    /// The rooms this user joined and has not left, with unread counts.
    pub async fn my_rooms(&self) -> Result<Vec<MyRoom>, CallError> {
        Ok(self.client()?.my_rooms().await?.rooms)
    }

    /// Marks everything up to `message` in `room` read.
    pub async fn mark_read(&self, room: &RoomId, message: MessageId) -> Result<(), CallError> {
        Ok(self.client()?.mark_read(room.clone(), message).await?)
    }

    /// Full-text search, newest first; `room` narrows it to one room.
    pub async fn search_messages(
        &self,
        query: &SearchQuery,
        room: Option<&RoomId>,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<SearchResult, CallError> {
        Ok(self.client()?.search_messages(query.clone(), room.cloned(), before, limit).await?)
    }

    /// Sets or (empty) clears a room's topic.
    pub async fn set_room_topic(&self, room: &RoomId, topic: &RoomTopic) -> Result<(), CallError> {
        Ok(self.client()?.set_room_topic(room.clone(), topic.clone()).await?)
    }

    /// Changes a user's role (admins).
    pub async fn set_role(&self, user: &UserName, role: Role) -> Result<(), CallError> {
        Ok(self.client()?.set_role(user.clone(), role).await?)
    }

    /// One page of the moderation log, newest first (moderators).
    pub async fn moderation_log(
        &self,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<ModerationLogResult, CallError> {
        Ok(self.client()?.get_moderation_log(before, limit).await?)
    }
}
