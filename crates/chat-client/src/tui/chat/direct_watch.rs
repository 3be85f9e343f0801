//! What the chat knows of direct conversations: their other participant,
//! which were opened with `/dm`, and the newest message shown in each.
//!
//! Live direct messages arrive as session events like any room's. What
//! came in while the user was away does not: the chat asks `list_direct`
//! once when it starts, says what waits unread, and takes what exists then
//! as its starting point. Messages are de-duplicated by id (the ledger),
//! so one fetched with a conversation's history and also delivered live is
//! shown once.

use std::{collections::HashMap, time::Duration};

use chat_api::{MessageId, RoomId, UserName};
use tokio::time::Instant;

/// How long after a failed first look `list_direct` is asked again.
pub(crate) const POLL_EVERY: Duration = Duration::from_secs(3);

/// The direct conversations this chat knows.
#[derive(Debug)]
pub(crate) struct DirectWatch {
    /// The other participant of each conversation, by id.
    peers: HashMap<RoomId, UserName>,
    /// Conversations whose messages were printed on `/dm` (later visits
    /// print only what is new).
    opened: Vec<RoomId>,
    /// The newest message id shown per conversation; `None` until the first
    /// poll set the starting point.
    shown: Option<HashMap<RoomId, MessageId>>,
    next_poll: Instant,
    /// The server has no direct conversations (a version-1 server).
    unsupported: bool,
}

impl Default for DirectWatch {
    fn default() -> Self {
        Self { peers: HashMap::new(), opened: Vec::new(), shown: None, next_poll: Instant::now(), unsupported: false }
    }
}

/// What a poll found for one conversation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing new.
    Nothing,
    /// Messages after this id (or all recent ones, `None`) are new.
    NewAfter(Option<MessageId>),
}

impl DirectWatch {
    /// When to poll next.
    pub(crate) fn poll_at(&self) -> Instant {
        self.next_poll
    }

    /// Whether a look at `list_direct` is still due: until one succeeded
    /// (live messages cover the rest), and only on a server that has it.
    pub(crate) fn enabled(&self) -> bool {
        !self.unsupported && !self.started()
    }

    /// The server does not know `list_direct`: stop asking.
    pub(crate) fn unsupported(&mut self) {
        self.unsupported = true;
    }

    /// A poll starts now; the next is [`POLL_EVERY`] later.
    pub(crate) fn polled(&mut self, now: Instant) {
        self.next_poll = now + POLL_EVERY;
    }

    /// Whether a first poll has set the starting point.
    pub(crate) fn started(&self) -> bool {
        self.shown.is_some()
    }

    /// The starting point: what exists now counts as known (it is counted
    /// as unread, not printed).
    pub(crate) fn start(&mut self, newest: impl IntoIterator<Item = (RoomId, MessageId)>) {
        self.shown = Some(newest.into_iter().collect());
    }

    /// Learns who the other participant of `room` is.
    pub(crate) fn peer(&mut self, room: &RoomId, user: &UserName) {
        self.peers.entry(room.clone()).or_insert_with(|| user.clone());
    }

    /// The other participant, when known.
    pub(crate) fn peer_of(&self, room: &RoomId) -> Option<&UserName> {
        self.peers.get(room)
    }

    /// A message of `room` was shown.
    pub(crate) fn shown(&mut self, room: &RoomId, id: MessageId) {
        if let Some(shown) = &mut self.shown {
            let entry = shown.entry(room.clone()).or_insert(id);
            *entry = (*entry).max(id);
        }
    }

    /// Compares a conversation's newest message with what was shown.
    pub(crate) fn check(&self, room: &RoomId, newest: Option<MessageId>) -> Found {
        let Some(newest) = newest else { return Found::Nothing };
        let shown = self.shown.as_ref().and_then(|shown| shown.get(room)).copied();
        match shown {
            Some(shown) if shown >= newest => Found::Nothing,
            shown => Found::NewAfter(shown),
        }
    }

    /// Marks `room` as opened with `/dm`; false when it already was.
    pub(crate) fn open(&mut self, room: &RoomId) -> bool {
        if self.opened.contains(room) {
            return false;
        }
        self.opened.push(room.clone());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dm() -> RoomId {
        RoomId::parse("dm:alice:bob").unwrap()
    }

    #[test]
    fn only_messages_newer_than_those_shown_are_new() {
        let mut watch = DirectWatch::default();
        assert!(!watch.started());
        watch.start([(dm(), MessageId(5))]);
        assert_eq!(watch.check(&dm(), Some(MessageId(5))), Found::Nothing);
        assert_eq!(watch.check(&dm(), Some(MessageId(7))), Found::NewAfter(Some(MessageId(5))));
        watch.shown(&dm(), MessageId(7));
        assert_eq!(watch.check(&dm(), Some(MessageId(7))), Found::Nothing);
        let other = RoomId::parse("dm:alice:carol").unwrap();
        assert_eq!(watch.check(&other, Some(MessageId(9))), Found::NewAfter(None));
        assert_eq!(watch.check(&other, None), Found::Nothing);
    }

    #[test]
    fn a_conversation_is_opened_once() {
        let mut watch = DirectWatch::default();
        assert!(watch.open(&dm()));
        assert!(!watch.open(&dm()));
    }
}
