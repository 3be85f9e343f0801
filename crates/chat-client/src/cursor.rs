//! Reconnect bookkeeping: which messages of a room have been delivered, so
//! that catching up after a reconnect neither skips nor repeats any.
//!
//! Message ids are unique server-wide and strictly increasing, so a room's
//! position is "the highest id delivered". Live notifications may still
//! overlap a join's `recent_messages` or arrive slightly out of order, so a
//! cursor also remembers the last few hundred ids it delivered.

use std::collections::BTreeSet;

use chat_api::{Message, MessageId, rpc::HistoryResult};

/// How many delivered ids a cursor remembers for dropping repeats. Far more
/// than can be in flight between a join's answer and the live stream.
const REMEMBERED_IDS: usize = 512;

/// Most messages recovered for one room after one reconnect. Past this the
/// client reports a gap instead of holding an unbounded backlog in memory.
pub const MAX_CATCH_UP: usize = 5_000;

/// What a room has delivered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomCursor {
    recent: BTreeSet<MessageId>,
    last_seen: Option<MessageId>,
}

impl RoomCursor {
    /// A cursor that has delivered nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The highest id delivered, if any.
    pub fn last_seen(&self) -> Option<MessageId> {
        self.last_seen
    }

    /// The `since_message_id` for re-joining: everything after the last
    /// delivered message, or the whole room (id 0) when nothing was
    /// delivered, because then every message in the room is new to us.
    pub fn resume_point(&self) -> MessageId {
        self.last_seen.unwrap_or(MessageId(0))
    }

    /// Records `id` as delivered. Returns `true` when it is new (show it) and
    /// `false` when it was delivered before (drop it).
    pub fn observe(&mut self, id: MessageId) -> bool {
        if self.recent.contains(&id) {
            return false;
        }
        let window_is_full = self.recent.len() >= REMEMBERED_IDS;
        if window_is_full && self.recent.first().is_some_and(|oldest| id < *oldest) {
            // Older than everything remembered: it was dealt with long ago.
            return false;
        }
        self.recent.insert(id);
        while self.recent.len() > REMEMBERED_IDS {
            self.recent.pop_first();
        }
        self.last_seen = self.last_seen.max(Some(id));
        true
    }

    /// Sorts `messages` by id and keeps the ones not delivered yet, recording
    /// them as delivered.
    pub fn take_new(&mut self, mut messages: Vec<Message>) -> Vec<Message> {
        messages.sort_by_key(|m| m.message_id);
        messages.dedup_by_key(|m| m.message_id);
        messages.retain(|m| self.observe(m.message_id));
        messages
    }
}

/// Collects what a room missed while the client was away: the join answer
/// (the newest messages after `since`, capped by the server) and, when that
/// may not reach back to `since`, older pages from `get_history`.
#[derive(Debug, Clone)]
pub struct CatchUp {
    since: MessageId,
    /// Oldest first.
    collected: Vec<Message>,
    truncated: bool,
}

impl CatchUp {
    /// Starts catching up on everything after `since`.
    pub fn new(since: MessageId) -> Self {
        Self { since, collected: Vec::new(), truncated: false }
    }

    /// Adds the `recent_messages` of `join_room(since_message_id = since)`.
    /// Returns the `before_message_id` of the next `get_history` page, or
    /// `None` when nothing older can be missing.
    pub fn add_join_answer(&mut self, recent: Vec<Message>) -> Option<MessageId> {
        // The join answer's cap is the server's choice, so rather than guess
        // whether it was full, look one page further back whenever the answer
        // was not empty: that page ends the catch-up as soon as it shows an id
        // at or below `since`.
        self.prepend(recent, true)
    }

    /// Adds one page of `get_history(before_message_id = …)`. Returns the
    /// next page to fetch, or `None` when done.
    pub fn add_history_page(&mut self, page: HistoryResult) -> Option<MessageId> {
        self.prepend(page.messages, page.has_more)
    }

    fn prepend(&mut self, page: Vec<Message>, may_have_more: bool) -> Option<MessageId> {
        let reached_since = page.iter().any(|m| m.message_id <= self.since);
        let mut newer: Vec<Message> = page.into_iter().filter(|m| m.message_id > self.since).collect();
        // Pages never overlap in a well-behaved server, but be safe.
        if let Some(first_known) = self.collected.first().map(|m| m.message_id) {
            newer.retain(|m| m.message_id < first_known);
        }
        if newer.is_empty() {
            return None;
        }
        newer.sort_by_key(|m| m.message_id);
        let oldest = newer[0].message_id;
        newer.append(&mut self.collected);
        self.collected = newer;
        if self.collected.len() > MAX_CATCH_UP {
            let excess = self.collected.len() - MAX_CATCH_UP;
            self.collected.drain(..excess);
            self.truncated = true;
            return None;
        }
        (may_have_more && !reached_since).then_some(oldest)
    }

    /// The missed messages, oldest first, and whether older ones had to be
    /// left out because there were more than [`MAX_CATCH_UP`].
    pub fn finish(self) -> (Vec<Message>, bool) {
        (self.collected, self.truncated)
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{MessageText, RoomId, Timestamp, UserName};

    use super::*;

    fn msg(id: i64) -> Message {
        Message::plain(
            MessageId(id),
            RoomId::general(),
            UserName::parse("alice").unwrap(),
            MessageText::parse(&format!("message {id}")).unwrap(),
            Timestamp::from_unix_millis(id * 1000),
        )
    }

    fn ids(messages: &[Message]) -> Vec<i64> {
        messages.iter().map(|m| m.message_id.0).collect()
    }

    #[test]
    fn a_message_is_delivered_once() {
        let mut cursor = RoomCursor::new();
        assert!(cursor.observe(MessageId(5)));
        assert!(!cursor.observe(MessageId(5)));
        assert_eq!(cursor.last_seen(), Some(MessageId(5)));
    }

    #[test]
    fn a_late_message_below_the_high_mark_is_still_delivered() {
        let mut cursor = RoomCursor::new();
        assert!(cursor.observe(MessageId(7)));
        assert!(cursor.observe(MessageId(6)));
        assert!(!cursor.observe(MessageId(6)));
        assert_eq!(cursor.last_seen(), Some(MessageId(7)));
    }

    #[test]
    fn ids_older_than_the_remembered_window_count_as_seen() {
        let mut cursor = RoomCursor::new();
        for id in 1000..1000 + REMEMBERED_IDS as i64 {
            assert!(cursor.observe(MessageId(id)));
        }
        assert!(!cursor.observe(MessageId(3)));
        assert!(cursor.observe(MessageId(5000)));
    }

    #[test]
    fn an_empty_room_resumes_from_the_beginning() {
        assert_eq!(RoomCursor::new().resume_point(), MessageId(0));
        let mut cursor = RoomCursor::new();
        cursor.observe(MessageId(41));
        assert_eq!(cursor.resume_point(), MessageId(41));
    }

    #[test]
    fn join_answer_and_live_overlap_are_merged_in_order_without_repeats() {
        let mut cursor = RoomCursor::new();
        cursor.observe(MessageId(10));
        // Live notifications that raced the join answer, plus the answer.
        let batch = vec![msg(14), msg(12), msg(11), msg(12), msg(13), msg(10), msg(14)];
        let new = cursor.take_new(batch);
        assert_eq!(ids(&new), [11, 12, 13, 14]);
        assert!(cursor.take_new(vec![msg(13), msg(14)]).is_empty());
    }

    #[test]
    fn catch_up_stops_when_the_join_answer_reaches_back_to_since() {
        let mut catch_up = CatchUp::new(MessageId(10));
        // The server's answer holds ids after 10 only; one page further back
        // is still worth a look, since the answer may have been capped.
        assert_eq!(catch_up.add_join_answer(vec![msg(11), msg(15)]), Some(MessageId(11)));
        let page = HistoryResult { messages: vec![msg(8), msg(9), msg(10)], has_more: true };
        assert_eq!(catch_up.add_history_page(page), None);
        let (missed, truncated) = catch_up.finish();
        assert_eq!(ids(&missed), [11, 15]);
        assert!(!truncated);
    }

    #[test]
    fn catch_up_pages_backwards_through_a_capped_answer() {
        let mut catch_up = CatchUp::new(MessageId(100));
        let answer: Vec<Message> = (301..=500).map(msg).collect();
        assert_eq!(catch_up.add_join_answer(answer), Some(MessageId(301)));
        let page = HistoryResult { messages: (101..=300).map(msg).collect(), has_more: true };
        assert_eq!(catch_up.add_history_page(page), Some(MessageId(101)));
        let page = HistoryResult { messages: (1..=100).map(msg).collect(), has_more: false };
        assert_eq!(catch_up.add_history_page(page), None);
        let (missed, truncated) = catch_up.finish();
        assert_eq!(ids(&missed), (101..=500).collect::<Vec<_>>());
        assert!(!truncated);
    }

    #[test]
    fn nothing_missed_means_no_paging() {
        let mut catch_up = CatchUp::new(MessageId(9));
        assert_eq!(catch_up.add_join_answer(Vec::new()), None);
        assert!(catch_up.finish().0.is_empty());
    }

    #[test]
    fn an_enormous_backlog_is_cut_and_reported() {
        let mut catch_up = CatchUp::new(MessageId(0));
        let mut before = catch_up.add_join_answer((20_001..=20_200).map(msg).collect());
        while let Some(b) = before {
            let start = (b.0 - 200).max(1);
            let page = HistoryResult { messages: (start..b.0).map(msg).collect(), has_more: start > 1 };
            before = catch_up.add_history_page(page);
        }
        let (missed, truncated) = catch_up.finish();
        assert!(truncated);
        assert_eq!(missed.len(), MAX_CATCH_UP);
        assert_eq!(missed.last().map(|m| m.message_id), Some(MessageId(20_200)));
    }
}
