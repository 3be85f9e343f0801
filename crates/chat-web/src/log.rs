//! One room's messages as the page holds them, by id.
//!
//! A deleted message keeps its place as a tombstone, so the conversation
//! around it still reads in order. Edits and reactions are applied
//! idempotently: the page applies its own change as soon as the server
//! accepts it, and again when the server's notification of it arrives.

use std::collections::BTreeMap;

use chat_api::{Emoji, Message, MessageId, MessageText, Reaction, Timestamp, UserName};

/// A message, or where one was before it was deleted.
pub(crate) enum Entry {
    Message(Message),
    Deleted,
}

#[derive(Default)]
pub(crate) struct RoomLog {
    entries: BTreeMap<MessageId, Entry>,
    /// Whether older messages may exist before the first one held.
    pub(crate) has_more: bool,
}

impl RoomLog {
    /// An empty log; `has_more` says whether older messages may exist.
    pub(crate) fn new(has_more: bool) -> Self {
        Self { entries: BTreeMap::new(), has_more }
    }

    /// Adds or refreshes a message; true when it was not held before. A
    /// deleted message stays deleted.
    pub(crate) fn insert(&mut self, message: Message) -> bool {
        match self.entries.get_mut(&message.message_id) {
            None => {
                self.entries.insert(message.message_id, Entry::Message(message));
                true
            }
            // A later copy (history, catch-up) carries the current text and
            // reactions.
            Some(entry @ Entry::Message(_)) => {
                *entry = Entry::Message(message);
                false
            }
            Some(Entry::Deleted) => false,
        }
    }

    /// Every entry, oldest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (MessageId, &Entry)> {
        self.entries.iter().map(|(id, entry)| (*id, entry))
    }

    pub(crate) fn entry(&self, id: MessageId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    pub(crate) fn get(&self, id: MessageId) -> Option<&Message> {
        match self.entries.get(&id)? {
            Entry::Message(message) => Some(message),
            Entry::Deleted => None,
        }
    }

    fn get_mut(&mut self, id: MessageId) -> Option<&mut Message> {
        match self.entries.get_mut(&id)? {
            Entry::Message(message) => Some(message),
            Entry::Deleted => None,
        }
    }

    pub(crate) fn oldest(&self) -> Option<MessageId> {
        self.entries.keys().next().copied()
    }

    pub(crate) fn newest(&self) -> Option<MessageId> {
        self.entries.keys().next_back().copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Replaces a message's text; true when something changed.
    pub(crate) fn edit(&mut self, id: MessageId, text: &MessageText, at: Timestamp) -> bool {
        let Some(message) = self.get_mut(id) else { return false };
        if message.edited_at.is_some_and(|seen| seen > at) || (&message.text == text && message.edited_at == Some(at)) {
            return false;
        }
        message.text = text.clone();
        message.edited_at = Some(at);
        // The notification does not say whom the new text mentions: keep
        // those of the old text that it still names (a name added by the
        // edit shows as text until the message is loaded again).
        message.mentions.retain(|user| crate::mentions::names(text.as_str(), user));
        true
    }

    /// Turns a message into a tombstone; true when it was not one already.
    pub(crate) fn delete(&mut self, id: MessageId) -> bool {
        let previous = self.entries.insert(id, Entry::Deleted);
        !matches!(previous, Some(Entry::Deleted))
    }

    /// Adds or takes back `user`'s `emoji`; true when something changed.
    pub(crate) fn react(&mut self, id: MessageId, user: &UserName, emoji: &Emoji, added: bool) -> bool {
        let Some(message) = self.get_mut(id) else { return false };
        let reactions = &mut message.reactions;
        let position = reactions.iter().position(|r| &r.emoji == emoji);
        let has = |r: &Reaction| r.usernames.iter().any(|u| u.key() == user.key());
        match (position, added) {
            (Some(i), true) if !has(&reactions[i]) => {
                reactions[i].usernames.push(user.clone());
                reactions[i].count = reactions[i].usernames.len();
            }
            (None, true) => {
                reactions.push(Reaction { emoji: emoji.clone(), count: 1, usernames: vec![user.clone()] });
            }
            (Some(i), false) if has(&reactions[i]) => {
                reactions[i].usernames.retain(|u| u.key() != user.key());
                reactions[i].count = reactions[i].usernames.len();
                if reactions[i].count == 0 {
                    reactions.remove(i);
                }
            }
            _ => return false,
        }
        true
    }

    /// Messages after `marker` not written by `me`, and those of them that
    /// mention `me`; `None` when the log does not reach back to the marker,
    /// so it cannot tell.
    pub(crate) fn unread_after(&self, marker: MessageId, me: &str) -> Option<(u64, u64)> {
        if self.has_more && self.oldest().is_none_or(|oldest| oldest > marker) {
            return None;
        }
        let mut counts = (0, 0);
        for (_, entry) in self.entries.range(MessageId(marker.0 + 1)..) {
            if let Entry::Message(message) = entry
                && !message.username.as_str().eq_ignore_ascii_case(me)
            {
                counts.0 += 1;
                if mentions(message, me) {
                    counts.1 += 1;
                }
            }
        }
        Some(counts)
    }
}

/// Whether `message` mentions `user`.
pub(crate) fn mentions(message: &Message, user: &str) -> bool {
    message.mentions.iter().any(|m| m.as_str().eq_ignore_ascii_case(user))
}

#[cfg(test)]
mod tests {
    use chat_api::RoomId;

    use super::*;

    fn msg(id: i64, from: &str, text: &str) -> Message {
        Message::plain(
            MessageId(id),
            RoomId::general(),
            UserName::parse(from).unwrap(),
            MessageText::parse(text).unwrap(),
            Timestamp::from_unix_millis(id),
        )
    }

    #[test]
    fn a_deleted_message_stays_deleted_in_its_place() {
        let mut log = RoomLog::default();
        assert!(log.insert(msg(1, "bob", "a")));
        assert!(log.insert(msg(2, "bob", "b")));
        assert!(log.delete(MessageId(1)));
        assert!(!log.delete(MessageId(1)));
        assert!(!log.insert(msg(1, "bob", "a")));
        assert!(log.get(MessageId(1)).is_none());
        assert!(matches!(log.entry(MessageId(1)), Some(Entry::Deleted)));
        assert_eq!(log.oldest(), Some(MessageId(1)));
    }

    #[test]
    fn reactions_are_idempotent_and_vanish_at_zero() {
        let mut log = RoomLog::default();
        log.insert(msg(1, "bob", "a"));
        let (alice, up) = (UserName::parse("alice").unwrap(), Emoji::parse("👍").unwrap());
        assert!(log.react(MessageId(1), &alice, &up, true));
        assert!(!log.react(MessageId(1), &alice, &up, true));
        assert_eq!(log.get(MessageId(1)).unwrap().reactions[0].count, 1);
        assert!(log.react(MessageId(1), &alice, &up, false));
        assert!(!log.react(MessageId(1), &alice, &up, false));
        assert!(log.get(MessageId(1)).unwrap().reactions.is_empty());
    }

    #[test]
    fn an_older_edit_does_not_undo_a_newer_one() {
        let mut log = RoomLog::default();
        log.insert(msg(1, "bob", "a"));
        let (new, old) = (MessageText::parse("new").unwrap(), MessageText::parse("old").unwrap());
        assert!(log.edit(MessageId(1), &new, Timestamp::from_unix_millis(20)));
        assert!(!log.edit(MessageId(1), &new, Timestamp::from_unix_millis(20)));
        assert!(!log.edit(MessageId(1), &old, Timestamp::from_unix_millis(10)));
        assert_eq!(log.get(MessageId(1)).unwrap().text.as_str(), "new");
    }

    #[test]
    fn an_edit_keeps_only_the_mentions_its_text_still_names() {
        let mut log = RoomLog::default();
        let mut message = msg(1, "bob", "@alice and @carol");
        message.mentions = vec![UserName::parse("alice").unwrap(), UserName::parse("carol").unwrap()];
        log.insert(message);
        let text = MessageText::parse("just @Carol").unwrap();
        log.edit(MessageId(1), &text, Timestamp::from_unix_millis(5));
        assert_eq!(log.get(MessageId(1)).unwrap().mentions, [UserName::parse("carol").unwrap()]);
    }

    #[test]
    fn unread_counts_skip_own_messages_and_need_the_marker_in_reach() {
        let mut log = RoomLog::new(true);
        log.insert(msg(5, "bob", "x"));
        let mut mention = msg(6, "bob", "@alice hi");
        mention.mentions = vec![UserName::parse("alice").unwrap()];
        log.insert(mention);
        log.insert(msg(7, "alice", "mine"));
        assert_eq!(log.unread_after(MessageId(5), "alice"), Some((1, 1)));
        assert_eq!(log.unread_after(MessageId(7), "alice"), Some((0, 0)));
        assert_eq!(log.unread_after(MessageId(2), "alice"), None);
        log.has_more = false;
        assert_eq!(log.unread_after(MessageId(2), "alice"), Some((2, 1)));
    }
}
