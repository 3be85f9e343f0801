//! A room's newest messages, kept in memory so that joining a room rarely
//! reads storage.
//!
//! The cache holds a contiguous tail of the room's history: every message
//! of the room with an id above `complete_after`, oldest first. It can
//! therefore answer "the newest N after id X" exactly whenever the answer
//! lies inside that tail, and says so; otherwise the caller reads storage.

use std::collections::{HashMap, VecDeque};

use chat_api::{Message, MessageId, RoomId, rpc::JOIN_RECENT_MESSAGES};

// Edits, deletes and reactions change kept messages in place, in commit
// order, so the cache always holds them as storage does.

/// Most messages kept per room: what a plain join returns.
const MAX_MESSAGES: usize = JOIN_RECENT_MESSAGES as usize;

/// Most text bytes kept per room, so that rooms of long messages stay small.
const MAX_TEXT_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(in crate::store) struct RecentMessages {
    /// Every message of the room with a greater id is in `messages`.
    complete_after: MessageId,
    messages: VecDeque<Message>,
    text_bytes: usize,
}

impl RecentMessages {
    /// An empty cache for a room whose messages up to `complete_after` (if
    /// any) are only in storage.
    pub(in crate::store) fn new(complete_after: MessageId) -> Self {
        Self { complete_after, messages: VecDeque::new(), text_bytes: 0 }
    }

    /// Adds the room's newest message (ids only grow), dropping the oldest
    /// beyond the limits.
    pub(in crate::store) fn push(&mut self, message: Message) {
        self.text_bytes += message.text.as_str().len();
        self.messages.push_back(message);
        while self.messages.len() > MAX_MESSAGES || (self.text_bytes > MAX_TEXT_BYTES && self.messages.len() > 1) {
            let Some(oldest) = self.messages.pop_front() else { break };
            self.text_bytes -= oldest.text.as_str().len();
            self.complete_after = oldest.message_id;
        }
    }

    /// The newest `limit` messages with `after < id <= upto`, oldest first,
    /// or `None` when some of them may be older than what is kept.
    pub(in crate::store) fn newest_after(
        &self,
        after: MessageId,
        upto: MessageId,
        limit: usize,
    ) -> Option<Vec<Message>> {
        let first_after = self.messages.partition_point(|m| m.message_id <= after);
        let end = self.messages.partition_point(|m| m.message_id <= upto).max(first_after);
        let kept = end - first_after;
        if kept < limit && after < self.complete_after {
            // Fewer than asked for are kept, and older ones may exist.
            return None;
        }
        let from = end - kept.min(limit);
        Some(self.messages.range(from..end).cloned().collect())
    }

    /// Changes a kept message in place.
    pub(in crate::store) fn update(&mut self, id: MessageId, change: impl FnOnce(&mut Message)) {
        if let Ok(index) = self.messages.binary_search_by_key(&id, |m| m.message_id) {
            let message = &mut self.messages[index];
            self.text_bytes -= message.text.as_str().len();
            change(message);
            self.text_bytes += message.text.as_str().len();
        }
    }

    /// Forgets a deleted message.
    pub(in crate::store) fn remove(&mut self, id: MessageId) {
        if let Ok(index) = self.messages.binary_search_by_key(&id, |m| m.message_id)
            && let Some(message) = self.messages.remove(index)
        {
            self.text_bytes -= message.text.as_str().len();
        }
    }
}

/// The newest `limit` messages of `room` with `after < id <= upto` from a
/// log's caches, when memory holds all of them. A room without a cache had
/// no message after `started_after` (the log has seen every one since).
pub(in crate::store) fn newest_in(
    caches: &HashMap<RoomId, RecentMessages>,
    room: &RoomId,
    started_after: MessageId,
    (after, upto, limit): (MessageId, MessageId, usize),
) -> Option<Vec<Message>> {
    match caches.get(room) {
        Some(cache) => cache.newest_after(after, upto, limit),
        None => RecentMessages::new(started_after).newest_after(after, upto, limit),
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{MessageText, RoomId, Timestamp, UserName};

    use super::*;

    fn message(id: i64, text: &str) -> Message {
        Message::plain(
            MessageId(id),
            RoomId::parse("general").unwrap(),
            UserName::parse("alice").unwrap(),
            MessageText::parse(text).unwrap(),
            Timestamp::from_unix_millis(0),
        )
    }

    const ALL: MessageId = MessageId(i64::MAX);

    fn ids(messages: Option<Vec<Message>>) -> Option<Vec<i64>> {
        messages.map(|m| m.iter().map(|m| m.message_id.0).collect())
    }

    #[test]
    fn a_new_room_answers_everything_from_memory() {
        let mut recent = RecentMessages::new(MessageId(0));
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 50)), Some(vec![]));
        for id in [3, 7, 9] {
            recent.push(message(id, "hi"));
        }
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 50)), Some(vec![3, 7, 9]));
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 2)), Some(vec![7, 9]));
        assert_eq!(ids(recent.newest_after(MessageId(7), ALL, 50)), Some(vec![9]));
        assert_eq!(ids(recent.newest_after(MessageId(9), ALL, 50)), Some(vec![]));
    }

    #[test]
    fn history_from_before_the_server_started_is_left_to_storage() {
        let mut recent = RecentMessages::new(MessageId(100));
        recent.push(message(101, "a"));
        recent.push(message(105, "b"));
        // Older messages of this room may exist at or below 100.
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 50)), None);
        assert_eq!(ids(recent.newest_after(MessageId(99), ALL, 50)), None);
        // Enough kept to answer without them, or nothing older wanted.
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 2)), Some(vec![101, 105]));
        assert_eq!(ids(recent.newest_after(MessageId(100), ALL, 50)), Some(vec![101, 105]));
        assert_eq!(ids(recent.newest_after(MessageId(101), ALL, 50)), Some(vec![105]));
    }

    #[test]
    fn the_oldest_go_beyond_the_count_limit_and_storage_answers_for_them() {
        let mut recent = RecentMessages::new(MessageId(0));
        for id in 1..=(MAX_MESSAGES as i64 + 10) {
            recent.push(message(id, "x"));
        }
        let newest = ids(recent.newest_after(MessageId(0), ALL, MAX_MESSAGES)).unwrap();
        assert_eq!(newest.len(), MAX_MESSAGES);
        assert_eq!(newest.first(), Some(&11));
        // 200 after id 0 would need messages 1..=10, which are gone.
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 200)), None);
        assert_eq!(ids(recent.newest_after(MessageId(10), ALL, 200)).map(|v| v.len()), Some(MAX_MESSAGES));
    }

    #[test]
    fn messages_above_upto_are_not_given_out_and_changes_apply_in_place() {
        let mut recent = RecentMessages::new(MessageId(0));
        for id in [1, 2, 3] {
            recent.push(message(id, "hi"));
        }
        assert_eq!(ids(recent.newest_after(MessageId(0), MessageId(2), 50)), Some(vec![1, 2]));
        assert_eq!(ids(recent.newest_after(MessageId(2), MessageId(2), 50)), Some(vec![]));
        recent.update(MessageId(2), |m| m.text = MessageText::parse("longer text").unwrap());
        recent.remove(MessageId(1));
        let kept = recent.newest_after(MessageId(0), ALL, 50).unwrap();
        assert_eq!(kept.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["longer text", "hi"]);
        assert_eq!(recent.text_bytes, "longer text".len() + 2);
    }

    #[test]
    fn long_texts_are_bounded_by_bytes() {
        let mut recent = RecentMessages::new(MessageId(0));
        let long = "x".repeat(10_000);
        for id in 1..=10 {
            recent.push(message(id, &long));
        }
        assert!(recent.text_bytes <= MAX_TEXT_BYTES);
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 50)), None);
        assert_eq!(ids(recent.newest_after(MessageId(0), ALL, 6)), Some((5..=10).collect()));
    }
}
