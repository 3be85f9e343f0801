//! Server → client notifications: plain JSON-RPC notifications
//! `{"jsonrpc":"2.0","method":<NAME>,"params":<payload>}` with no
//! subscription step.

use serde::{Deserialize, Serialize};

use crate::{Emoji, Message, MessageId, MessageText, Reason, RoomId, RoomInfo, RoomName, Timestamp, UserName};

/// Method name of [`ServerEvent::MessageReceived`].
pub const MESSAGE_RECEIVED: &str = "message_received";
/// Method name of [`ServerEvent::UserJoined`].
pub const USER_JOINED: &str = "user_joined";
/// Method name of [`ServerEvent::UserLeft`].
pub const USER_LEFT: &str = "user_left";
/// Method name of [`ServerEvent::SystemAnnouncement`].
pub const SYSTEM_ANNOUNCEMENT: &str = "system_announcement";
/// Method name of [`ServerEvent::UserKicked`].
pub const USER_KICKED: &str = "user_kicked";
/// Method name of [`ServerEvent::RoomCreated`].
pub const ROOM_CREATED: &str = "room_created";
/// Method name of [`ServerEvent::RoomDeleted`].
pub const ROOM_DELETED: &str = "room_deleted";
/// Method name of [`ServerEvent::UserStartedTyping`].
pub const USER_STARTED_TYPING: &str = "user_started_typing";
/// Method name of [`ServerEvent::UserStoppedTyping`].
pub const USER_STOPPED_TYPING: &str = "user_stopped_typing";

/// Method name of [`ServerEvent::MessageEdited`] (version 2).
pub const MESSAGE_EDITED: &str = "message_edited";
/// Method name of [`ServerEvent::MessageDeleted`] (version 2).
pub const MESSAGE_DELETED: &str = "message_deleted";
/// Method name of [`ServerEvent::ReactionAdded`] (version 2).
pub const REACTION_ADDED: &str = "reaction_added";
/// Method name of [`ServerEvent::ReactionRemoved`] (version 2).
pub const REACTION_REMOVED: &str = "reaction_removed";
/// Method name of [`ServerEvent::ReadMarkerUpdated`] (version 2).
pub const READ_MARKER_UPDATED: &str = "read_marker_updated";
/// Method name of [`ServerEvent::Mentioned`] (version 2).
pub const MENTIONED: &str = "mentioned";
/// Method name of [`ServerEvent::RoomUpdated`] (version 2).
pub const ROOM_UPDATED: &str = "room_updated";

/// Every notification method name.
pub const ALL: &[&str] = &[
    MESSAGE_RECEIVED,
    USER_JOINED,
    USER_LEFT,
    SYSTEM_ANNOUNCEMENT,
    USER_KICKED,
    ROOM_CREATED,
    ROOM_DELETED,
    USER_STARTED_TYPING,
    USER_STOPPED_TYPING,
    MESSAGE_EDITED,
    MESSAGE_DELETED,
    REACTION_ADDED,
    REACTION_REMOVED,
    READ_MARKER_UPDATED,
    MENTIONED,
    ROOM_UPDATED,
];

/// Params of `user_joined` and `user_left`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceChange {
    /// The room.
    pub room_id: RoomId,
    /// Who joined or left.
    pub username: UserName,
    /// Distinct users in the room after the change.
    pub user_count: usize,
}

/// Severity of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementLevel {
    /// `"info"`
    Info,
    /// `"warning"`
    Warning,
    /// `"error"`
    Error,
}

impl AnnouncementLevel {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementLevel::Info => "info",
            AnnouncementLevel::Warning => "warning",
            AnnouncementLevel::Error => "error",
        }
    }
}

impl std::str::FromStr for AnnouncementLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Self::Info),
            "warning" => Ok(Self::Warning),
            "error" => Ok(Self::Error),
            other => Err(format!("unknown level {other:?}; one of: info, warning, error")),
        }
    }
}

/// Params of `system_announcement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The text.
    pub message: String,
    /// Its severity.
    pub level: AnnouncementLevel,
    /// When it was sent.
    pub timestamp: Timestamp,
}

/// Params of `user_kicked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kicked {
    /// Who was kicked.
    pub username: UserName,
    /// The moderator's reason.
    pub reason: Reason,
    /// `null` when sent to the kicked user's own connections; otherwise the
    /// room whose members are told.
    pub room_id: Option<RoomId>,
}

/// Params of `room_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCreated {
    /// The new room.
    pub room_info: RoomInfo,
}

/// Params of `room_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDeleted {
    /// Id of the deleted room.
    pub room_id: RoomId,
    /// Its name.
    pub room_name: RoomName,
}

/// Params of `user_started_typing` and `user_stopped_typing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    /// The room.
    pub room_id: RoomId,
    /// Who is (or stopped) typing.
    pub username: UserName,
}

/// Params of `message_edited`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdited {
    /// The edited message.
    pub message_id: MessageId,
    /// Its room.
    pub room_id: RoomId,
    /// Its text now.
    pub text: MessageText,
    /// When it was edited.
    pub edited_at: Timestamp,
}

/// Params of `message_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeleted {
    /// The deleted message.
    pub message_id: MessageId,
    /// Its room.
    pub room_id: RoomId,
}

/// Params of `reaction_added` and `reaction_removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    /// The message reacted to.
    pub message_id: MessageId,
    /// Its room.
    pub room_id: RoomId,
    /// Who reacted.
    pub username: UserName,
    /// With what.
    pub emoji: Emoji,
}

/// Params of `read_marker_updated`, sent to the user's other connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarker {
    /// The room (or direct conversation).
    pub room_id: RoomId,
    /// Everything up to this id is read.
    pub message_id: MessageId,
}

/// Params of `mentioned`, sent to a mentioned user's connections that are
/// not in the message's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mentioned {
    /// The message that mentions them.
    pub message: Message,
}

/// Params of `room_updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomUpdated {
    /// The room as it is now.
    pub room_info: RoomInfo,
}

/// Any notification the server sends, with its params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// `message_received`
    MessageReceived(Message),
    /// `user_joined`
    UserJoined(PresenceChange),
    /// `user_left`
    UserLeft(PresenceChange),
    /// `system_announcement`
    SystemAnnouncement(Announcement),
    /// `user_kicked`
    UserKicked(Kicked),
    /// `room_created`
    RoomCreated(RoomCreated),
    /// `room_deleted`
    RoomDeleted(RoomDeleted),
    /// `user_started_typing`
    UserStartedTyping(Typing),
    /// `user_stopped_typing`
    UserStoppedTyping(Typing),
    /// `message_edited`
    MessageEdited(MessageEdited),
    /// `message_deleted`
    MessageDeleted(MessageDeleted),
    /// `reaction_added`
    ReactionAdded(ReactionChange),
    /// `reaction_removed`
    ReactionRemoved(ReactionChange),
    /// `read_marker_updated`
    ReadMarkerUpdated(ReadMarker),
    /// `mentioned`
    Mentioned(Mentioned),
    /// `room_updated`
    RoomUpdated(RoomUpdated),
}

impl ServerEvent {
    /// The notification's method name.
    pub fn method(&self) -> &'static str {
        match self {
            ServerEvent::MessageReceived(_) => MESSAGE_RECEIVED,
            ServerEvent::UserJoined(_) => USER_JOINED,
            ServerEvent::UserLeft(_) => USER_LEFT,
            ServerEvent::SystemAnnouncement(_) => SYSTEM_ANNOUNCEMENT,
            ServerEvent::UserKicked(_) => USER_KICKED,
            ServerEvent::RoomCreated(_) => ROOM_CREATED,
            ServerEvent::RoomDeleted(_) => ROOM_DELETED,
            ServerEvent::UserStartedTyping(_) => USER_STARTED_TYPING,
            ServerEvent::UserStoppedTyping(_) => USER_STOPPED_TYPING,
            ServerEvent::MessageEdited(_) => MESSAGE_EDITED,
            ServerEvent::MessageDeleted(_) => MESSAGE_DELETED,
            ServerEvent::ReactionAdded(_) => REACTION_ADDED,
            ServerEvent::ReactionRemoved(_) => REACTION_REMOVED,
            ServerEvent::ReadMarkerUpdated(_) => READ_MARKER_UPDATED,
            ServerEvent::Mentioned(_) => MENTIONED,
            ServerEvent::RoomUpdated(_) => ROOM_UPDATED,
        }
    }

    /// Serializes the complete notification frame,
    /// `{"jsonrpc":"2.0","method":…,"params":…}`.
    pub fn to_frame(&self) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Frame<'a, P> {
            jsonrpc: &'static str,
            method: &'static str,
            params: &'a P,
        }
        fn frame<P: Serialize>(method: &'static str, params: &P) -> Result<String, serde_json::Error> {
            serde_json::to_string(&Frame { jsonrpc: "2.0", method, params })
        }
        let method = self.method();
        match self {
            ServerEvent::MessageReceived(p) => frame(method, p),
            ServerEvent::UserJoined(p) | ServerEvent::UserLeft(p) => frame(method, p),
            ServerEvent::SystemAnnouncement(p) => frame(method, p),
            ServerEvent::UserKicked(p) => frame(method, p),
            ServerEvent::RoomCreated(p) => frame(method, p),
            ServerEvent::RoomDeleted(p) => frame(method, p),
            ServerEvent::UserStartedTyping(p) | ServerEvent::UserStoppedTyping(p) => frame(method, p),
            ServerEvent::MessageEdited(p) => frame(method, p),
            ServerEvent::MessageDeleted(p) => frame(method, p),
            ServerEvent::ReactionAdded(p) | ServerEvent::ReactionRemoved(p) => frame(method, p),
            ServerEvent::ReadMarkerUpdated(p) => frame(method, p),
            ServerEvent::Mentioned(p) => frame(method, p),
            ServerEvent::RoomUpdated(p) => frame(method, p),
        }
    }

    /// Parses the params of a notification named `method`. `None` for a
    /// method that is not a notification of this contract.
    pub fn from_method_and_params(
        method: &str,
        params: &serde_json::value::RawValue,
    ) -> Option<Result<Self, serde_json::Error>> {
        fn parse<T: for<'de> Deserialize<'de>>(
            params: &serde_json::value::RawValue,
            wrap: fn(T) -> ServerEvent,
        ) -> Result<ServerEvent, serde_json::Error> {
            serde_json::from_str(params.get()).map(wrap)
        }
        Some(match method {
            MESSAGE_RECEIVED => parse(params, ServerEvent::MessageReceived),
            USER_JOINED => parse(params, ServerEvent::UserJoined),
            USER_LEFT => parse(params, ServerEvent::UserLeft),
            SYSTEM_ANNOUNCEMENT => parse(params, ServerEvent::SystemAnnouncement),
            USER_KICKED => parse(params, ServerEvent::UserKicked),
            ROOM_CREATED => parse(params, ServerEvent::RoomCreated),
            ROOM_DELETED => parse(params, ServerEvent::RoomDeleted),
            USER_STARTED_TYPING => parse(params, ServerEvent::UserStartedTyping),
            USER_STOPPED_TYPING => parse(params, ServerEvent::UserStoppedTyping),
            MESSAGE_EDITED => parse(params, ServerEvent::MessageEdited),
            MESSAGE_DELETED => parse(params, ServerEvent::MessageDeleted),
            REACTION_ADDED => parse(params, ServerEvent::ReactionAdded),
            REACTION_REMOVED => parse(params, ServerEvent::ReactionRemoved),
            READ_MARKER_UPDATED => parse(params, ServerEvent::ReadMarkerUpdated),
            MENTIONED => parse(params, ServerEvent::Mentioned),
            ROOM_UPDATED => parse(params, ServerEvent::RoomUpdated),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_plain_notifications_that_parse_back() {
        let event = ServerEvent::MessageReceived(Message::plain(
            MessageId(7),
            RoomId::general(),
            UserName::parse("alice").unwrap(),
            MessageText::parse("hi").unwrap(),
            Timestamp::from_unix_millis(0),
        ));
        let frame = event.to_frame().unwrap();
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["jsonrpc"], "2.0");
        assert_eq!(value["method"], "message_received");
        assert_eq!(value["params"]["message_id"], 7);
        assert!(value.get("id").is_none());
        // A version-2 message with nothing of version 2 looks as in version 1.
        let fields: Vec<&String> = value["params"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["message_id", "room_id", "text", "timestamp", "username"]);

        let params = serde_json::value::to_raw_value(&value["params"]).unwrap();
        let back = ServerEvent::from_method_and_params("message_received", &params).unwrap().unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn kicked_to_the_user_has_a_null_room() {
        let event = ServerEvent::UserKicked(Kicked {
            username: UserName::parse("bob").unwrap(),
            reason: Reason::parse("spam").unwrap(),
            room_id: None,
        });
        let value: serde_json::Value = serde_json::from_str(&event.to_frame().unwrap()).unwrap();
        assert_eq!(value["params"]["room_id"], serde_json::Value::Null);
    }
}
