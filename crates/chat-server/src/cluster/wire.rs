//! What nodes say to each other over NATS: one JSON envelope per NATS
//! message, naming the node it comes from.

use chat_api::{Message, RoomId, ServerEvent, UserId, UserName};
use serde::{Deserialize, Serialize};

use crate::{
    hub::{EndedSession, Eviction},
    store::Appended,
};

/// One NATS message.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Envelope {
    /// The sending node; a node skips its own.
    pub(super) from: String,
    pub(super) body: Body,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Body {
    /// Messages the sender committed, in id order (a doorbell: the
    /// receiver still checks PostgreSQL for holes).
    Commits { messages: Vec<Committed> },
    /// A notification for everyone.
    Everyone { event: Notification },
    /// A notification for a room's members, except one user.
    Room { room_id: RoomId, event: Notification, except: Option<UserId> },
    /// A notification for every JSON-RPC connection of a user.
    User { user: UserId, event: Notification },
    /// A user became present in a room through the sender, or stopped.
    Presence { room_id: RoomId, user: UserId, username: UserName, present: bool },
    /// Close every connection of a user.
    Evict { eviction: Eviction },
    /// A user's ban was lifted.
    Unbanned { user: UserId },
    /// A token was revoked.
    SessionEnded { ended: EndedSession },
    /// The sender is alive.
    Heartbeat,
    /// The sender (re)joined: everyone answers with a snapshot.
    Hello,
    /// Everyone present through the sender, replacing what was known.
    Snapshot { present: Vec<(RoomId, UserId, UserName)> },
    /// The sender is stopping.
    Bye,
}

/// A committed message as a doorbell carries it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Committed {
    message: Message,
    mentioned: Vec<UserId>,
    author: UserId,
}

impl From<&Appended> for Committed {
    fn from(a: &Appended) -> Self {
        Self { message: a.message.clone(), mentioned: a.mentioned.clone(), author: a.author }
    }
}

impl From<Committed> for Appended {
    fn from(c: Committed) -> Self {
        Appended { message: c.message, mentioned: c.mentioned, author: c.author }
    }
}

/// A notification as its JSON-RPC frame, which the contract crate both
/// writes and parses. (A string, not raw JSON: the envelope's tagged enum
/// cannot carry raw values.)
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Notification(String);

impl Notification {
    pub(super) fn of(event: &ServerEvent) -> Option<Self> {
        event.to_frame().ok().map(Self)
    }

    pub(super) fn parse(&self) -> Option<ServerEvent> {
        #[derive(Deserialize)]
        struct Frame<'a> {
            method: &'a str,
            #[serde(borrow)]
            params: &'a serde_json::value::RawValue,
        }
        let frame: Frame<'_> = serde_json::from_str(&self.0).ok()?;
        ServerEvent::from_method_and_params(frame.method, frame.params)?.ok()
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{
        MessageText, Timestamp,
        notifications::{PresenceChange, Typing},
    };

    use super::*;

    fn round_trip(body: Body) -> Body {
        let bytes = serde_json::to_vec(&Envelope { from: "n1".to_owned(), body }).unwrap();
        let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(envelope.from, "n1");
        envelope.body
    }

    #[test]
    fn notifications_survive_the_envelope() {
        let room = RoomId::parse("lobby").unwrap();
        let bob = UserName::parse("bob").unwrap();
        let events = [
            ServerEvent::UserStartedTyping(Typing { room_id: room.clone(), username: bob.clone() }),
            ServerEvent::UserJoined(PresenceChange { room_id: room.clone(), username: bob.clone(), user_count: 3 }),
        ];
        for event in events {
            let body = Body::Room { room_id: room.clone(), event: Notification::of(&event).unwrap(), except: None };
            let Body::Room { event: back, .. } = round_trip(body) else { panic!("another kind came back") };
            assert_eq!(back.parse(), Some(event));
        }
    }

    #[test]
    fn commits_keep_their_author_and_mentions() {
        let message = Message::plain(
            chat_api::MessageId(7),
            RoomId::parse("lobby").unwrap(),
            UserName::parse("alice").unwrap(),
            MessageText::parse("hi @bob").unwrap(),
            Timestamp::from_unix_millis(1),
        );
        let appended = Appended { message, mentioned: vec![UserId(2)], author: UserId(1) };
        let Body::Commits { mut messages } = round_trip(Body::Commits { messages: vec![Committed::from(&appended)] })
        else {
            panic!("another kind came back")
        };
        let back = Appended::from(messages.remove(0));
        assert_eq!(
            (back.message, back.mentioned, back.author),
            (appended.message, appended.mentioned, appended.author)
        );
    }

    #[test]
    fn every_kind_round_trips() {
        let kinds = [
            Body::Heartbeat,
            Body::Hello,
            Body::Bye,
            Body::Snapshot {
                present: vec![(RoomId::parse("a").unwrap(), UserId(1), UserName::parse("alice").unwrap())],
            },
            Body::Evict {
                eviction: Eviction {
                    user: UserId(1),
                    notice: crate::hub::EvictionNotice::Silent,
                    code: 4001,
                    reason: "x".to_owned(),
                },
            },
        ];
        for body in kinds {
            let before = format!("{body:?}");
            assert_eq!(format!("{:?}", round_trip(body)), before);
        }
    }
}
