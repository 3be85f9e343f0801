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
    Avatar, DisplayName, Message, MessageId, MessageText, Profile, Reason, RoomId, RoomInfo, RoomName, Timestamp,
    UserName, notifications::AnnouncementLevel,
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

/// Most messages `get_history` returns in one page.
pub const MAX_HISTORY_LIMIT: u32 = 200;
/// Messages per page when `limit` is absent.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// Most rooms `list_rooms` returns in one page.
pub const MAX_ROOMS_LIMIT: u32 = 1000;
/// Rooms per page when `list_rooms` has no `limit`: a version-1 client,
/// which sends no params, gets this many.
pub const DEFAULT_ROOMS_LIMIT: u32 = 500;
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

    /// Sends a message; answered once it is durably stored.
    #[method(name = "send_message", param_kind = map, with_extensions)]
    async fn send_message(&self, room_id: RoomId, text: MessageText) -> RpcResult<SendMessageResult>;

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
}
