//! Frames shared by every recipient, in the two wire encodings.
//!
//! JSON-RPC connections get a notification serialized once per event. Text
//! connections (`/ws/text`) get a plain line rendered once per event, on
//! first use, and shared by every text recipient. Events a text client has
//! no use for (typing, room list changes, call replies) have no text form.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use chat_api::{Message, ServerEvent, Timestamp, UserId, notifications::Kicked};
use serde::Serialize;

/// Which encoding a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// JSON-RPC 2.0 (`/ws`).
    JsonRpc,
    /// Plain text lines (`/ws/text`).
    Text,
}

/// One outgoing frame, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Frame(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    rpc: Option<Utf8Bytes>,
    source: Source,
    text: OnceLock<Option<Utf8Bytes>>,
}

#[derive(Debug)]
enum Source {
    /// A notification; `sender` is set for messages (text clients see it).
    Event { event: ServerEvent, sender: Option<UserId> },
    /// A JSON-RPC reply: nothing for text clients.
    Reply,
    /// A line for text clients only.
    System(String),
}

impl Frame {
    /// A notification.
    pub(crate) fn event(event: &ServerEvent) -> Self {
        Self::from_event(event.clone(), None)
    }

    /// A `message_received` notification for a stored message.
    pub(crate) fn message(message: &Message, sender: UserId) -> Self {
        Self::from_event(ServerEvent::MessageReceived(message.clone()), Some(sender))
    }

    fn from_event(event: ServerEvent, sender: Option<UserId>) -> Self {
        let rpc = match event.to_frame() {
            Ok(text) => Some(text.into()),
            // Our payload types always serialize; if one ever did not, a
            // logged error beats a panic on the delivery path.
            Err(e) => {
                tracing::error!(method = event.method(), error = %e, "could not serialize notification");
                None
            }
        };
        Self(Arc::new(Inner { rpc, source: Source::Event { event, sender }, text: OnceLock::new() }))
    }

    /// The notification this frame carries, unless it is a stored message
    /// (those reach other nodes through the message log) or a reply.
    pub(crate) fn notification(&self) -> Option<&ServerEvent> {
        match &self.0.source {
            Source::Event { event, sender: None } => Some(event),
            _ => None,
        }
    }

    /// A complete JSON-RPC response.
    pub(crate) fn reply(text: String) -> Self {
        Self(Arc::new(Inner { rpc: Some(text.into()), source: Source::Reply, text: OnceLock::new() }))
    }

    /// A `system:` line for text clients only (JSON-RPC clients skip it).
    pub(crate) fn system(message: impl Into<String>) -> Self {
        Self(Arc::new(Inner { rpc: None, source: Source::System(message.into()), text: OnceLock::new() }))
    }

    /// The bytes for a connection of the given encoding, if it gets this
    /// frame at all.
    pub(crate) fn encoded(&self, encoding: Encoding) -> Option<Utf8Bytes> {
        match encoding {
            Encoding::JsonRpc => self.0.rpc.clone(),
            Encoding::Text => self.0.text.get_or_init(|| render_text(&self.0.source).map(Utf8Bytes::from)).clone(),
        }
    }
}

#[derive(Serialize)]
struct TextMessage<'a> {
    user_id: UserId,
    username: &'a str,
    message: &'a str,
    timestamp: i64,
}

#[derive(Serialize)]
struct SystemLine<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<&'a str>,
    timestamp: i64,
}

fn system_line(message: &str, level: Option<&str>) -> Option<String> {
    let line = SystemLine { message, level, timestamp: Timestamp::now().unix_seconds() };
    serde_json::to_string(&line).ok().map(|json| format!("system:{json}"))
}

/// The `/ws/text` form of a frame, or `None` when text clients skip it.
fn render_text(source: &Source) -> Option<String> {
    let event = match source {
        Source::Reply => return None,
        Source::System(message) => return system_line(message, None),
        Source::Event { event, sender } => {
            if let (ServerEvent::MessageReceived(m), Some(sender)) = (event, sender) {
                let line = TextMessage {
                    user_id: *sender,
                    username: m.username.as_str(),
                    message: m.text.as_str(),
                    timestamp: m.timestamp.unix_seconds(),
                };
                return serde_json::to_string(&line).ok();
            }
            event
        }
    };
    match event {
        ServerEvent::UserJoined(p) => system_line(&format!("{} has joined the chat.", p.username), None),
        ServerEvent::UserLeft(p) => system_line(&format!("{} has left the chat.", p.username), None),
        ServerEvent::SystemAnnouncement(a) => system_line(&a.message, Some(a.level.as_str())),
        ServerEvent::UserKicked(Kicked { username, reason, room_id }) => {
            let because = if reason.as_str().is_empty() { String::new() } else { format!(": {reason}") };
            let text = match room_id {
                None => format!("You have been kicked{because}"),
                Some(_) => format!("{username} was kicked{because}"),
            };
            system_line(&text, None)
        }
        ServerEvent::RoomDeleted(d) => system_line(&format!("Room {} has been deleted.", d.room_name), None),
        // Text clients have no way to show these; they see messages as
        // they were sent.
        ServerEvent::MessageReceived(_)
        | ServerEvent::RoomCreated(_)
        | ServerEvent::UserStartedTyping(_)
        | ServerEvent::UserStoppedTyping(_)
        | ServerEvent::MessageEdited(_)
        | ServerEvent::MessageDeleted(_)
        | ServerEvent::ReactionAdded(_)
        | ServerEvent::ReactionRemoved(_)
        | ServerEvent::ReadMarkerUpdated(_)
        | ServerEvent::Mentioned(_)
        | ServerEvent::RoomUpdated(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{
        MessageId, MessageText, RoomId, UserName,
        notifications::{Announcement, AnnouncementLevel, PresenceChange, Typing},
    };
    use serde_json::{Value, json};

    use super::*;

    fn text_of(frame: &Frame) -> Option<String> {
        frame.encoded(Encoding::Text).map(|t| t.as_str().to_owned())
    }

    fn system_json(line: &str) -> Value {
        serde_json::from_str(line.strip_prefix("system:").unwrap()).unwrap()
    }

    #[test]
    fn messages_reach_text_clients_with_the_sender_id_and_unix_seconds() {
        let message = Message::plain(
            MessageId(3),
            RoomId::general(),
            UserName::parse("alice").unwrap(),
            MessageText::parse("hi \"there\"").unwrap(),
            Timestamp::from_unix_millis(1_700_000_000_900),
        );
        let frame = Frame::message(&message, UserId(7));
        let line: Value = serde_json::from_str(&text_of(&frame).unwrap()).unwrap();
        assert_eq!(
            line,
            json!({"user_id": 7, "username": "alice", "message": "hi \"there\"", "timestamp": 1_700_000_000})
        );
        assert!(frame.encoded(Encoding::JsonRpc).unwrap().as_str().contains("\"method\":\"message_received\""));
    }

    #[test]
    fn presence_and_announcements_become_system_lines() {
        let change =
            PresenceChange { room_id: RoomId::general(), username: UserName::parse("bob").unwrap(), user_count: 1 };
        let joined = text_of(&Frame::event(&ServerEvent::UserJoined(change.clone()))).unwrap();
        assert_eq!(system_json(&joined)["message"], "bob has joined the chat.");
        assert!(system_json(&joined)["timestamp"].is_i64());
        let left = text_of(&Frame::event(&ServerEvent::UserLeft(change))).unwrap();
        assert_eq!(system_json(&left)["message"], "bob has left the chat.");
        let announcement = ServerEvent::SystemAnnouncement(Announcement {
            message: "maintenance at noon".into(),
            level: AnnouncementLevel::Warning,
            timestamp: Timestamp::now(),
        });
        let line = system_json(&text_of(&Frame::event(&announcement)).unwrap());
        assert_eq!(line["message"], "maintenance at noon");
        assert_eq!(line["level"], "warning");
    }

    #[test]
    fn text_clients_skip_typing_and_replies_and_rpc_clients_skip_system_lines() {
        let typing = ServerEvent::UserStartedTyping(Typing {
            room_id: RoomId::general(),
            username: UserName::parse("bob").unwrap(),
        });
        assert_eq!(text_of(&Frame::event(&typing)), None);
        assert_eq!(text_of(&Frame::reply("{}".into())), None);
        assert!(Frame::system("hello").encoded(Encoding::JsonRpc).is_none());
    }
}
