//! The full-text index (SQLite FTS5) over message texts.
//!
//! The index follows the log the way filing by room does: new messages
//! are added inside the writer's commits, at most every [`INDEX_INTERVAL`],
//! a batch at a time, so FTS5 writes one segment per round instead of one
//! per commit (indexing in every commit made durable sends at 25k/s cost
//! half again as much CPU). When messages wait and nothing else is
//! written, the writer queues an empty job to carry the next round.
//! `message_search_upto` records how far it has read; it moves in the same
//! transaction as the entries. A search first has the writer index
//! whatever waits (at most about one interval's worth), so it finds every
//! message stored before it.
//!
//! Edits and deletes run on the same writer, so they know exactly whether
//! a message is in the index yet: [`replace`] takes the old text out
//! (FTS5 needs it, as the table keeps no copy) and puts the new one in.
//! The table's `secure-delete` option removes a deleted text's terms from
//! the index at once.

use std::time::{Duration, Instant};

use chat_api::{Message, MessageId, RoomId, SearchQuery, UserId};
use rusqlite::{Connection, params};

use super::{StoreError, messages::read_messages, room_index::Filing};
use crate::store::query_words::query_words;

/// Least time between two rounds of indexing.
pub(super) const INDEX_INTERVAL: Duration = Duration::from_millis(100);

/// Messages one round indexes at least, when that many wait; a round
/// indexes up to twice the messages its commit stores if that is more.
/// Large enough to work through an old database's backlog at some 10,000
/// messages a second after an upgrade.
const MIN_INDEXED_PER_ROUND: usize = 1000;

/// When the last round ran, and whether messages may still wait.
#[derive(Debug, Default)]
pub(super) struct SearchIndex {
    last_round: Option<Instant>,
    behind: bool,
}

impl SearchIndex {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Indexes what is due inside the caller's open transaction, for a
    /// commit storing `stored` messages. An error means SQLite rolled the
    /// transaction back; any other failure is logged and retried later.
    pub(super) fn index_within(
        &mut self,
        conn: &Connection,
        filing: Filing,
        stored: usize,
        now: Instant,
    ) -> rusqlite::Result<()> {
        if filing == Filing::Due && self.last_round.is_some_and(|at| now.saturating_duration_since(at) < INDEX_INTERVAL)
        {
            // This commit may have stored messages that now wait.
            self.behind = true;
            return Ok(());
        }
        self.last_round = Some(now);
        let budget = match filing {
            Filing::Due => MIN_INDEXED_PER_ROUND.max(2 * stored),
            Filing::All => usize::MAX,
        };
        match index(conn, budget) {
            Err(e) if conn.is_autocommit() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "indexing messages for search failed; retrying with a later commit");
                self.behind = true;
                Ok(())
            }
            Ok(indexed) => {
                self.behind = indexed == budget;
                Ok(())
            }
        }
    }

    /// Whether messages may be waiting for the next round: the writer then
    /// makes sure one comes even if nothing else is written.
    pub(super) fn behind(&self) -> bool {
        self.behind
    }
}

/// Indexes up to `budget` messages after the mark; returns how many.
fn index(conn: &Connection, budget: usize) -> rusqlite::Result<usize> {
    let budget = i64::try_from(budget).unwrap_or(i64::MAX);
    let from = mark(conn)?;
    let upto: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)")?
        .query_row(params![from, budget], |r| r.get(0))?;
    let Some(upto) = upto else { return Ok(0) };
    let indexed = conn
        .prepare_cached(
            "INSERT INTO message_search (rowid, text) SELECT id, text FROM messages WHERE id > ?1 AND id <= ?2",
        )?
        .execute(params![from, upto])?;
    conn.prepare_cached("UPDATE message_search_upto SET message_id = ?1")?.execute([upto])?;
    Ok(indexed)
}

fn mark(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT message_id FROM message_search_upto")?.query_row([], |r| r.get(0))
}

/// Indexes every message not indexed yet, inside the caller's write: a
/// search runs this first, so that it sees every message stored before it.
pub(super) fn catch_up(conn: &Connection) -> Result<(), StoreError> {
    index(conn, usize::MAX)?;
    Ok(())
}

/// Replaces message `id`'s entry, whose indexed text is `old`, with `new`
/// (or nothing). A message the index has not read yet needs nothing: the
/// index will read its text as it is then.
pub(super) fn replace(conn: &Connection, id: MessageId, old: &str, new: Option<&str>) -> Result<(), StoreError> {
    if id.0 > mark(conn)? {
        return Ok(());
    }
    conn.prepare_cached("INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', ?1, ?2)")?
        .execute(params![id.0, old])?;
    if let Some(new) = new {
        conn.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)")?.execute(params![id.0, new])?;
    }
    Ok(())
}

/// The FTS5 query for what a user typed: every word must appear, whole or
/// as the start of a longer word. Words are split as the index splits
/// them, so no FTS5 syntax can come through. `None` when there is no word.
fn match_expression(query: &SearchQuery) -> Option<String> {
    let words: Vec<String> = query_words(query)
        .iter()
        .map(|w| if w.prefix { format!("\"{}\"*", w.text) } else { format!("\"{}\"", w.text) })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Messages matching `query` below `before`, newest first, in rooms and in
/// `reader`'s own direct conversations (or only in `room`), and whether
/// more follow.
pub(super) fn find(
    conn: &Connection,
    query: &SearchQuery,
    reader: UserId,
    room: Option<&RoomId>,
    before: Option<MessageId>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let Some(expression) = match_expression(query) else { return Ok((Vec::new(), false)) };
    let mut messages = read_messages(
        conn,
        "SELECT m.id, m.room_id, m.username, m.text, m.created_at, m.reply_to, m.edited_at, m.mentions
           FROM message_search AS s JOIN messages AS m ON m.id = s.rowid
          WHERE message_search MATCH ?1 AND s.rowid < ?2
            AND (substr(m.room_id, 1, 3) <> 'dm:' OR EXISTS (
                 SELECT 1 FROM direct_chats AS d
                  WHERE d.room_id = m.room_id AND (d.user_a = ?3 OR d.user_b = ?3)))
            AND (?4 IS NULL OR m.room_id = ?4)
          ORDER BY s.rowid DESC LIMIT ?5",
        params![
            expression,
            before.map_or(i64::MAX, |id| id.0),
            reader.0,
            room.map(RoomId::as_str),
            i64::from(limit) + 1
        ],
    )?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok((messages, has_more))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(text: &str) -> Option<String> {
        match_expression(&SearchQuery::parse(text).unwrap())
    }

    #[test]
    fn every_word_is_a_quoted_prefix_and_syntax_is_dropped() {
        assert_eq!(expression("deploy friday").as_deref(), Some("\"deploy\"* \"friday\"*"));
        assert_eq!(expression("NEAR(a b) OR \"x\" -y").as_deref(), Some("\"NEAR\"* \"a\" \"b\" \"OR\"* \"x\" \"y\""));
        assert_eq!(expression("café").as_deref(), Some("\"café\"*"));
        assert_eq!(expression("*** ???"), None);
        assert_eq!(
            expression(&"w ".repeat(20)).unwrap().matches('w').count(),
            crate::store::query_words::MAX_QUERY_WORDS
        );
    }
}
