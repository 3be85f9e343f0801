//! The messages this chat has shown, per conversation, kept as they are
//! now (edited, reacted to, deleted).
//!
//! The terminal cannot redraw a line once it has scrolled up, so edits,
//! deletes and reactions are printed as new lines that name the message;
//! this is what lets them say whose message and what it said, lets a reply
//! quote what it answers, and lets `/edit` and `/delete` default to the
//! user's own last message. It also tells a message already shown from a
//! new one, whichever way it arrived.
//!
//! Bounded: each conversation keeps its newest [`KEPT_PER_ROOM`] messages.

use std::collections::{BTreeSet, HashMap, VecDeque};

use chat_api::{
    Message, MessageId, Reaction, RoomId, UserName,
    notifications::{MessageDeleted, MessageEdited, ReactionChange},
};

/// Messages remembered per conversation.
pub(crate) const KEPT_PER_ROOM: usize = 500;
/// Deleted ids remembered (so a reply to one says it was deleted).
const KEPT_DELETED: usize = 1000;

#[derive(Debug, Default)]
struct RoomLog {
    /// Oldest first.
    messages: VecDeque<Message>,
    /// Remembered but not printed yet: unread messages of a room joined
    /// without showing it, printed when the user goes there.
    unshown: BTreeSet<MessageId>,
}

impl RoomLog {
    fn position(&self, id: MessageId) -> Option<usize> {
        self.messages.binary_search_by_key(&id, |m| m.message_id).ok()
    }
}

/// What the chat knows about messages.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    rooms: HashMap<RoomId, RoomLog>,
    deleted: VecDeque<MessageId>,
}

impl Ledger {
    /// Remembers a message; false when it was already known (shown).
    pub(crate) fn record(&mut self, message: &Message) -> bool {
        if self.deleted.contains(&message.message_id) {
            return false;
        }
        let log = self.rooms.entry(message.room_id.clone()).or_default();
        match log.messages.binary_search_by_key(&message.message_id, |m| m.message_id) {
            Ok(_) => false,
            Err(at) => {
                log.messages.insert(at, message.clone());
                if log.messages.len() > KEPT_PER_ROOM {
                    log.messages.pop_front();
                }
                true
            }
        }
    }

    /// Remembers a message without printing it; false when already known.
    pub(crate) fn record_unshown(&mut self, message: &Message) -> bool {
        if !self.record(message) {
            return false;
        }
        if let Some(log) = self.rooms.get_mut(&message.room_id) {
            log.unshown.insert(message.message_id);
            // Bounded with the messages themselves.
            while log.unshown.len() > KEPT_PER_ROOM {
                log.unshown.pop_first();
            }
        }
        true
    }

    /// The messages of `room` remembered but not printed, oldest first;
    /// from now on they count as printed.
    pub(crate) fn take_unshown(&mut self, room: &RoomId) -> Vec<Message> {
        let Some(log) = self.rooms.get_mut(room) else { return Vec::new() };
        let ids = std::mem::take(&mut log.unshown);
        log.messages.iter().filter(|m| ids.contains(&m.message_id)).cloned().collect()
    }

    /// Read elsewhere (another device moved the read marker): what is
    /// older than `upto` no longer waits to be shown.
    pub(crate) fn read_elsewhere(&mut self, room: &RoomId, upto: MessageId) {
        if let Some(log) = self.rooms.get_mut(room) {
            log.unshown.retain(|id| *id > upto);
        }
    }

    /// A remembered message, in any conversation (ids are unique).
    pub(crate) fn get(&self, id: MessageId) -> Option<&Message> {
        self.rooms.values().find_map(|log| log.position(id).map(|at| &log.messages[at]))
    }

    /// Whether `id` was deleted while this chat watched.
    pub(crate) fn was_deleted(&self, id: MessageId) -> bool {
        self.deleted.contains(&id)
    }

    /// The newest message of `room` written by `me`.
    pub(crate) fn last_own(&self, room: &RoomId, me: &UserName) -> Option<&Message> {
        self.rooms.get(room)?.messages.iter().rev().find(|m| m.username.key() == me.key())
    }

    /// The newest message remembered in `room`.
    pub(crate) fn newest(&self, room: &RoomId) -> Option<MessageId> {
        self.rooms.get(room)?.messages.back().map(|m| m.message_id)
    }

    /// Applies an edit; returns the message as it was, when known.
    pub(crate) fn edit(&mut self, edit: &MessageEdited) -> Option<Message> {
        let log = self.rooms.get_mut(&edit.room_id)?;
        let at = log.position(edit.message_id)?;
        let message = &mut log.messages[at];
        let before = message.clone();
        message.text = edit.text.clone();
        message.edited_at = Some(edit.edited_at);
        Some(before)
    }

    /// Forgets a deleted message; returns it, when known.
    pub(crate) fn delete(&mut self, deleted: &MessageDeleted) -> Option<Message> {
        if !self.deleted.contains(&deleted.message_id) {
            self.deleted.push_back(deleted.message_id);
            if self.deleted.len() > KEPT_DELETED {
                self.deleted.pop_front();
            }
        }
        let log = self.rooms.get_mut(&deleted.room_id)?;
        let at = log.position(deleted.message_id)?;
        log.messages.remove(at)
    }

    /// Applies a reaction added or taken back; returns the message as it is
    /// now, when known.
    pub(crate) fn react(&mut self, change: &ReactionChange, added: bool) -> Option<&Message> {
        let log = self.rooms.get_mut(&change.room_id)?;
        let at = log.position(change.message_id)?;
        let reactions = &mut log.messages[at].reactions;
        let existing = reactions.iter().position(|r| r.emoji == change.emoji);
        let who = change.username.key();
        match (existing, added) {
            (Some(i), true) => {
                let reaction = &mut reactions[i];
                if !reaction.usernames.iter().any(|u| u.key() == who) {
                    reaction.usernames.push(change.username.clone());
                    reaction.count = reaction.usernames.len();
                }
            }
            (None, true) => reactions.push(Reaction {
                emoji: change.emoji.clone(),
                count: 1,
                usernames: vec![change.username.clone()],
            }),
            (Some(i), false) => {
                let reaction = &mut reactions[i];
                reaction.usernames.retain(|u| u.key() != who);
                reaction.count = reaction.usernames.len();
                if reaction.count == 0 {
                    reactions.remove(i);
                }
            }
            (None, false) => {}
        }
        Some(&log.messages[at])
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{Emoji, MessageText, Timestamp};

    use super::*;

    fn user(name: &str) -> UserName {
        UserName::parse(name).unwrap()
    }

    fn msg(room: &str, id: i64, from: &str) -> Message {
        Message::plain(
            MessageId(id),
            RoomId::parse(room).unwrap(),
            user(from),
            MessageText::parse("hello").unwrap(),
            Timestamp::from_unix_millis(0),
        )
    }

    fn change(id: i64, from: &str, emoji: &str) -> ReactionChange {
        ReactionChange {
            message_id: MessageId(id),
            room_id: RoomId::general(),
            username: user(from),
            emoji: Emoji::parse(emoji).unwrap(),
        }
    }

    #[test]
    fn a_message_is_new_once() {
        let mut ledger = Ledger::default();
        assert!(ledger.record(&msg("general", 2, "bob")));
        assert!(ledger.record(&msg("general", 1, "alice")));
        assert!(!ledger.record(&msg("general", 2, "bob")));
        assert_eq!(ledger.newest(&RoomId::general()), Some(MessageId(2)));
        assert_eq!(ledger.last_own(&RoomId::general(), &user("ALICE")).map(|m| m.message_id), Some(MessageId(1)));
        assert_eq!(ledger.last_own(&RoomId::parse("rust").unwrap(), &user("alice")), None);
    }

    #[test]
    fn edits_and_deletes_change_what_is_remembered() {
        let mut ledger = Ledger::default();
        ledger.record(&msg("general", 1, "bob"));
        let edit = MessageEdited {
            message_id: MessageId(1),
            room_id: RoomId::general(),
            text: MessageText::parse("hello, world").unwrap(),
            edited_at: Timestamp::from_unix_millis(5),
        };
        assert_eq!(ledger.edit(&edit).unwrap().text.as_str(), "hello");
        assert_eq!(ledger.get(MessageId(1)).unwrap().text.as_str(), "hello, world");
        let deleted = MessageDeleted { message_id: MessageId(1), room_id: RoomId::general() };
        assert_eq!(ledger.delete(&deleted).unwrap().username, user("bob"));
        assert!(ledger.get(MessageId(1)).is_none());
        assert!(ledger.was_deleted(MessageId(1)));
        // A late copy of a deleted message is not shown again.
        assert!(!ledger.record(&msg("general", 1, "bob")));
    }

    #[test]
    fn reactions_count_each_user_once() {
        let mut ledger = Ledger::default();
        ledger.record(&msg("general", 1, "bob"));
        ledger.react(&change(1, "alice", "👍"), true);
        ledger.react(&change(1, "alice", "👍"), true);
        ledger.react(&change(1, "carol", "👍"), true);
        let now = ledger.react(&change(1, "carol", "+1"), true).unwrap();
        assert_eq!(now.reactions.len(), 2);
        assert_eq!(now.reactions[0].count, 2);
        ledger.react(&change(1, "alice", "👍"), false);
        let now = ledger.react(&change(1, "carol", "👍"), false).unwrap();
        assert_eq!(now.reactions.len(), 1);
        assert_eq!(now.reactions[0].emoji.as_str(), "+1");
        assert!(ledger.react(&change(9, "carol", "👍"), true).is_none());
    }

    #[test]
    fn unshown_messages_wait_until_taken_or_read_elsewhere() {
        let mut ledger = Ledger::default();
        let rust = RoomId::parse("rust").unwrap();
        for id in 1..=4 {
            ledger.record_unshown(&msg("rust", id, "bob"));
        }
        ledger.read_elsewhere(&rust, MessageId(2));
        let ids: Vec<i64> = ledger.take_unshown(&rust).iter().map(|m| m.message_id.0).collect();
        assert_eq!(ids, [3, 4]);
        assert!(ledger.take_unshown(&rust).is_empty());
    }

    #[test]
    fn each_conversation_is_bounded() {
        let mut ledger = Ledger::default();
        for id in 1..=(KEPT_PER_ROOM as i64 + 10) {
            ledger.record(&msg("general", id, "bob"));
        }
        assert!(ledger.get(MessageId(1)).is_none());
        assert!(ledger.get(MessageId(KEPT_PER_ROOM as i64 + 10)).is_some());
    }
}
