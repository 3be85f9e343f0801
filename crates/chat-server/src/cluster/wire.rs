//! What nodes say to each other over NATS: one JSON envelope per NATS
//! message, naming the node it comes from.

use chat_api::{Message, RoomId, ServerEvent, UserId, UserName};
use serde::{Deserialize, Serialize};

use crate::{hub::Eviction, store::Appended};

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
/// writes and parses.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Notification(Box<serde_json::value::RawValue>);

impl Notification {
    pub(super) fn of(event: &ServerEvent) -> Option<Self> {
        let frame = event.to_frame().ok()?;
        serde_json::value::RawValue::from_string(frame).ok().map(Self)
    }

    pub(super) fn parse(&self) -> Option<ServerEvent> {
        #[derive(Deserialize)]
        struct Frame<'a> {
            method: &'a str,
            #[serde(borrow)]
            params: &'a serde_json::value::RawValue,
        }
        let frame: Frame<'_> = serde_json::from_str(self.0.get()).ok()?;
        ServerEvent::from_method_and_params(frame.method, frame.params)?.ok()
    }
}
