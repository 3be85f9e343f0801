//! The JSON-RPC methods, as one jsonrpsee trait.
//!
//! Parameters travel by name (`{"room_id": "general"}`); the server also
//! accepts positional arrays in declaration order. Every parameter type is
//! validated while it is deserialized, so a bad value is answered with
//! -32602 before any handler runs.
//!
//! With the `server` feature the macro generates `ChatApiServer`, whose
//! methods additionally receive the connection's `Extensions` (the server
//! stores the caller's identity there). With `client` it generates
//! `ChatApiClient`, implemented for every jsonrpsee client.

// The client half of the macro rewrites `RpcResult` into its own result
// type, so without the server half the import looks unused.
#[cfg_attr(not(feature = "server"), allow(unused_imports))]
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use crate::{
    Avatar, DisplayName, Emoji, Message, MessageId, MessageText, Profile, Reason, Role, RoomId, RoomInfo, RoomName,
    RoomTopic, SearchQuery, Timestamp, UserName, notifications::AnnouncementLevel,
};

/// Result of `join_room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRoomResult {
    /// Canonical id of the room.
    pub room_id: RoomId,
    /// The room's name as first spelled.
    pub room_name: RoomName,
    /// Distinct users in the room, the caller included.
    pub user_count: usize,
    /// Usernames of everyone in the room, the caller included, sorted.
    pub existing_users: Vec<UserName>,
    /// The newest messages (up to 50), or with `since_message_id` the newest
    /// messages after it (up to 200); oldest first.
    pub recent_messages: Vec<Message>,
}

/// Result of `send_message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessageResult {
    /// The stored message's id.
    pub message_id: MessageId,
    /// When it was accepted.
    pub timestamp: Timestamp,
}

/// Result of `list_rooms`: one page of rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRoomsResult {
    /// Rooms sorted by id, starting after `after_room_id` (from the first
    /// room without it), at most `limit` of them.
    pub rooms: Vec<RoomInfo>,
    /// Whether rooms exist after the last one returned; ask for them with
    /// that room's id as `after_room_id`. Servers that do not page leave
    /// it out, which reads as `false`.
    #[serde(default)]
    pub has_more: bool,
}

/// Result of `list_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUsersResult {
    /// Usernames of the users in the room now, sorted.
    pub users: Vec<UserName>,
}

/// Result of `get_history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryResult {
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether older messages exist before the first one returned.
    pub has_more: bool,
}

/// Result of `get_profile` and `update_profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileResult {
    /// The profile.
    pub profile: Profile,
}

/// Result of `edit_message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMessageResult {
    /// The edited message.
    pub message_id: MessageId,
    /// When the edit was stored.
    pub edited_at: Timestamp,
}

/// One direct conversation in `list_direct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectChat {
    /// `dm:<a>:<b>`.
    pub room_id: RoomId,
    /// The other participant.
    pub username: UserName,
    /// The newest message, if any.
    pub last_message: Option<Message>,
    /// Messages from the other user after the caller's read marker.
    pub unread_count: u64,
}

/// Result of `list_direct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDirectResult {
    /// The caller's direct conversations, most recent activity first.
    pub chats: Vec<DirectChat>,
}

/// Result of `list_blocked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListBlockedResult {
    /// Users the caller blocked, sorted.
    pub usernames: Vec<UserName>,
}

/// One of the caller's rooms in `my_rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoom {
    /// Canonical id.
    pub room_id: RoomId,
    /// The spelling of the first join.
    pub room_name: RoomName,
    /// Distinct users in the room now.
    pub user_count: usize,
    /// The room's newest message id, if it has messages.
    pub last_message_id: Option<MessageId>,
    /// The caller's read marker, if they marked anything read.
    pub last_read_message_id: Option<MessageId>,
    /// Messages after the marker not written by the caller.
    pub unread_count: u64,
    /// Those of them that mention the caller.
    pub mention_count: u64,
}

/// Result of `my_rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRoomsResult {
    /// The rooms the caller joined and has not left, by id.
    pub rooms: Vec<MyRoom>,
}

/// Result of `search_messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Matching messages, newest first.
    pub messages: Vec<Message>,
    /// Whether older matches exist after the last one returned.
    pub has_more: bool,
}

/// What a moderation log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    /// `kick_user`
    Kick,
    /// `ban_user`
    Ban,
    /// `unban_user`
    Unban,
    /// `broadcast_announcement`
    Announce,
    /// `delete_room`
    DeleteRoom,
    /// `delete_message` of another user's message
    DeleteMessage,
    /// `set_role`
    SetRole,
}

impl ModerationAction {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationAction::Kick => "kick",
            ModerationAction::Ban => "ban",
            ModerationAction::Unban => "unban",
            ModerationAction::Announce => "announce",
            ModerationAction::DeleteRoom => "delete_room",
            ModerationAction::DeleteMessage => "delete_message",
            ModerationAction::SetRole => "set_role",
        }
    }

    /// Every action, in a fixed order.
    pub const ALL: &'static [ModerationAction] = &[
        ModerationAction::Kick,
        ModerationAction::Ban,
        ModerationAction::Unban,
        ModerationAction::Announce,
        ModerationAction::DeleteRoom,
        ModerationAction::DeleteMessage,
        ModerationAction::SetRole,
    ];
}

impl std::str::FromStr for ModerationAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|a| a.as_str() == s).ok_or_else(|| format!("unknown moderation action {s:?}"))
    }
}

/// One entry of the moderation log. Fields that do not apply are null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationEntry {
    /// Increasing with time; page with `before_id`.
    pub id: i64,
    /// What was done.
    pub action: ModerationAction,
    /// Who did it.
    pub actor: UserName,
    /// To whom: the user kicked, banned, unbanned, whose role changed or
    /// whose message was deleted.
    pub target: Option<UserName>,
    /// The room concerned (`delete_room`, `delete_message`).
    pub room_id: Option<RoomId>,
    /// The stated reason (`kick`, `ban`), or the new role (`set_role`), or
    /// the announcement's text (`announce`).
    pub reason: Option<String>,
    /// When a ban ends; null for a permanent one.
    pub until: Option<Timestamp>,
    /// When it was done.
    pub timestamp: Timestamp,
}

/// Result of `get_moderation_log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationLogResult {
    /// Entries, newest first.
    pub entries: Vec<ModerationEntry>,
    /// Whether older entries exist.
    pub has_more: bool,
}

/// Most messages `get_history` returns in one page.
pub const MAX_HISTORY_LIMIT: u32 = 200;
/// Messages per page when `limit` is absent.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// Most rooms `list_rooms` returns in one page.
pub const MAX_ROOMS_LIMIT: u32 = 1000;
/// Rooms per page when `list_rooms` has no `limit`: a version-1 client,
/// which sends no params, gets this many.
pub const DEFAULT_ROOMS_LIMIT: u32 = 500;
/// Results of `search_messages` when `limit` is absent.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Most results `search_messages` returns in one page.
pub const MAX_SEARCH_LIMIT: u32 = 100;
/// Entries of `get_moderation_log` when `limit` is absent.
pub const DEFAULT_LOG_LIMIT: u32 = 50;
/// Most entries `get_moderation_log` returns in one page.
pub const MAX_LOG_LIMIT: u32 = 200;
/// Messages `join_room` returns without `since_message_id`.
pub const JOIN_RECENT_MESSAGES: u32 = 50;
/// Most messages `join_room` returns with `since_message_id`.
pub const JOIN_CATCH_UP_LIMIT: u32 = 200;

/// Every method of the contract. Method names are the wire names.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server))]
#[cfg_attr(all(not(feature = "server"), feature = "client"), rpc(client))]
pub trait ChatApi {
    /// Joins (creating if needed) a room. Joining a room the connection is
    /// already in notifies nobody and just returns the room again.
    #[method(name = "join_room", param_kind = map, with_extensions)]
    async fn join_room(&self, room_name: RoomName, since_message_id: Option<MessageId>) -> RpcResult<JoinRoomResult>;

    /// Leaves a room on this connection.
    #[method(name = "leave_room", param_kind = map, with_extensions)]
    async fn leave_room(&self, room_id: RoomId) -> RpcResult<()>;

    /// Sends a message, optionally as a reply to another message of the
    /// same room; answered once it is durably stored.
    #[method(name = "send_message", param_kind = map, with_extensions)]
    async fn send_message(
        &self,
        room_id: RoomId,
        text: MessageText,
        reply_to: Option<MessageId>,
    ) -> RpcResult<SendMessageResult>;

    /// Lists rooms by id, one page at a time: those after `after_room_id`
    /// (from the first without it), at most `limit` (default
    /// [`DEFAULT_ROOMS_LIMIT`], at most [`MAX_ROOMS_LIMIT`]).
    #[method(name = "list_rooms", param_kind = map, with_extensions)]
    async fn list_rooms(&self, after_room_id: Option<RoomId>, limit: Option<u32>) -> RpcResult<ListRoomsResult>;

    /// Lists the users in a room.
    #[method(name = "list_users", param_kind = map, with_extensions)]
    async fn list_users(&self, room_id: RoomId) -> RpcResult<ListUsersResult>;

    /// Pages backwards through a room's history.
    #[method(name = "get_history", param_kind = map, with_extensions)]
    async fn get_history(
        &self,
        room_id: RoomId,
        before_message_id: Option<MessageId>,
        limit: Option<u32>,
    ) -> RpcResult<HistoryResult>;

    /// Tells the room's other members the caller is typing (expires after 5 s).
    #[method(name = "start_typing", param_kind = map, with_extensions)]
    async fn start_typing(&self, room_id: RoomId) -> RpcResult<()>;

    /// Tells the room's other members the caller stopped typing.
    #[method(name = "stop_typing", param_kind = map, with_extensions)]
    async fn stop_typing(&self, room_id: RoomId) -> RpcResult<()>;

    /// Reads any user's profile.
    #[method(name = "get_profile", param_kind = map, with_extensions)]
    async fn get_profile(&self, username: UserName) -> RpcResult<ProfileResult>;

    /// Changes the caller's own display name and/or avatar.
    #[method(name = "update_profile", param_kind = map, with_extensions)]
    async fn update_profile(
        &self,
        display_name: Option<DisplayName>,
        avatar: Option<Avatar>,
    ) -> RpcResult<ProfileResult>;

    /// Disconnects every connection of a user (close 4001). `true` if any
    /// connection was kicked, `false` if the user was offline.
    #[method(name = "kick_user", param_kind = map, with_extensions)]
    async fn kick_user(&self, target_username: UserName, reason: Reason) -> RpcResult<bool>;

    /// Bans a user, for `duration_seconds` or permanently when absent.
    #[method(name = "ban_user", param_kind = map, with_extensions)]
    async fn ban_user(
        &self,
        target_username: UserName,
        reason: Reason,
        duration_seconds: Option<u64>,
    ) -> RpcResult<bool>;

    /// Lifts a ban. `true` also when the user was not banned.
    #[method(name = "unban_user", param_kind = map, with_extensions)]
    async fn unban_user(&self, target_username: UserName) -> RpcResult<bool>;

    /// Sends a `system_announcement` to every connected client.
    #[method(name = "broadcast_announcement", param_kind = map, with_extensions)]
    async fn broadcast_announcement(&self, message: MessageText, level: AnnouncementLevel) -> RpcResult<()>;

    /// Deletes a room and its history. `general` cannot be deleted.
    #[method(name = "delete_room", param_kind = map, with_extensions)]
    async fn delete_room(&self, room_id: RoomId) -> RpcResult<()>;

    /// Opens (creating if needed) the direct conversation with a user;
    /// answers like `join_room`.
    #[method(name = "open_direct", param_kind = map, with_extensions)]
    async fn open_direct(&self, username: UserName, since_message_id: Option<MessageId>) -> RpcResult<JoinRoomResult>;

    /// The caller's direct conversations, most recent activity first.
    #[method(name = "list_direct", param_kind = map, with_extensions)]
    async fn list_direct(&self) -> RpcResult<ListDirectResult>;

    /// Stops a user from opening or writing to a direct conversation with
    /// the caller.
    #[method(name = "block_user", param_kind = map, with_extensions)]
    async fn block_user(&self, username: UserName) -> RpcResult<()>;

    /// Lifts a block.
    #[method(name = "unblock_user", param_kind = map, with_extensions)]
    async fn unblock_user(&self, username: UserName) -> RpcResult<()>;

    /// The users the caller blocked.
    #[method(name = "list_blocked", param_kind = map, with_extensions)]
    async fn list_blocked(&self) -> RpcResult<ListBlockedResult>;

    /// Replaces the text of one of the caller's own messages.
    #[method(name = "edit_message", param_kind = map, with_extensions)]
    async fn edit_message(&self, message_id: MessageId, text: MessageText) -> RpcResult<EditMessageResult>;

    /// Erases a message (the author's own, or any in a room for moderators).
    #[method(name = "delete_message", param_kind = map, with_extensions)]
    async fn delete_message(&self, message_id: MessageId) -> RpcResult<()>;

    /// Reacts to a message.
    #[method(name = "add_reaction", param_kind = map, with_extensions)]
    async fn add_reaction(&self, message_id: MessageId, emoji: Emoji) -> RpcResult<()>;

    /// Takes a reaction back.
    #[method(name = "remove_reaction", param_kind = map, with_extensions)]
    async fn remove_reaction(&self, message_id: MessageId, emoji: Emoji) -> RpcResult<()>;

    /// The rooms the caller joined and has not left, with read markers and
    /// unread and mention counts.
    #[method(name = "my_rooms", param_kind = map, with_extensions)]
    async fn my_rooms(&self) -> RpcResult<MyRoomsResult>;

    /// Moves the caller's read marker in a room forward.
    #[method(name = "mark_read", param_kind = map, with_extensions)]
    async fn mark_read(&self, room_id: RoomId, message_id: MessageId) -> RpcResult<()>;

    /// Full-text search over the rooms anyone can join and the caller's own
    /// direct conversations, newest first.
    #[method(name = "search_messages", param_kind = map, with_extensions)]
    async fn search_messages(
        &self,
        query: SearchQuery,
        room_id: Option<RoomId>,
        before_message_id: Option<MessageId>,
        limit: Option<u32>,
    ) -> RpcResult<SearchResult>;

    /// Sets (or with an empty topic clears) a room's topic.
    #[method(name = "set_room_topic", param_kind = map, with_extensions)]
    async fn set_room_topic(&self, room_id: RoomId, topic: RoomTopic) -> RpcResult<()>;

    /// Changes a user's role (admins; not their own).
    #[method(name = "set_role", param_kind = map, with_extensions)]
    async fn set_role(&self, username: UserName, role: Role) -> RpcResult<()>;

    /// Pages backwards through the moderation log (moderators).
    #[method(name = "get_moderation_log", param_kind = map, with_extensions)]
    async fn get_moderation_log(&self, before_id: Option<i64>, limit: Option<u32>) -> RpcResult<ModerationLogResult>;
}
