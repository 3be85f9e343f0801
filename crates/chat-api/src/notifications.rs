//! Server → client notifications: plain JSON-RPC notifications
//! `{"jsonrpc":"2.0","method":<NAME>,"params":<payload>}` with no
//! subscription step.

use serde::{Deserialize, Serialize};

use crate::{Message, Reason, RoomId, RoomInfo, RoomName, Timestamp, UserName};

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
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MessageId, MessageText};

    #[test]
    fn frames_are_plain_notifications_that_parse_back() {
        let event = ServerEvent::MessageReceived(Message {
            message_id: MessageId(7),
            room_id: RoomId::general(),
            username: UserName::parse("alice").unwrap(),
            text: MessageText::parse("hi").unwrap(),
            timestamp: Timestamp::from_unix_millis(0),
        });
        let frame = event.to_frame().unwrap();
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["jsonrpc"], "2.0");
        assert_eq!(value["method"], "message_received");
        assert_eq!(value["params"]["message_id"], 7);
        assert!(value.get("id").is_none());

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
