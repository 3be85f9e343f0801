//! The full-text index (SQLite FTS5) over message texts.
//!
//! The index follows the log behind the writer, on the writer's thread, in
//! its idle moments: when nothing is queued and messages wait, the writer
//! indexes a chunk of them in a transaction of its own, and goes on chunk
//! by chunk while the queue stays empty, at most one round every
//! [`INDEX_INTERVAL`] (FTS5 then writes a segment per round, not per
//! commit). A send therefore waits for at most one chunk. Indexing inside
//! the message commits, as first built, cost durable sends 11 % of their
//! top rate and half again their p99 at 25k/s in A/B pairs. A writer that
//! is never idle still indexes a chunk after each commit once the index
//! has lagged ten seconds. `message_search_upto` records how far the index has read; it
//! moves in the same transaction as the entries. A message is searchable
//! within about one interval of being stored on a server that is not
//! saturated.
//!
//! Edits and deletes run on the same writer, so they know exactly whether
//! a message is in the index yet: [`replace`] takes the old text out
//! (FTS5 needs it, as the table keeps no copy) and puts the new one in.
//! The table's `secure-delete` option removes a deleted text's terms from
//! the index at once.

use std::time::{Duration, Instant};

use chat_api::{Message, MessageId, RoomId, SearchQuery, UserId};
use rusqlite::{Connection, params};

use super::{StoreError, messages::read_messages};

/// Least time between two rounds of indexing, so that FTS5 writes a
/// segment per round rather than per commit.
pub(super) const INDEX_INTERVAL: Duration = Duration::from_millis(100);

/// Messages indexed in one transaction: about a millisecond of work, the
/// most a send that arrives meanwhile waits for it.
const CHUNK: usize = 256;

/// How far the index may fall behind a writer that is never idle before
/// a chunk goes ahead of the queue anyway.
const MOST_LAG: Duration = Duration::from_secs(10);

/// Most words of a query that are looked up.
const MAX_QUERY_WORDS: usize = 8;

/// The writer's view of the index: whether messages may wait, and when the
/// last round ran.
#[derive(Debug)]
pub(super) struct SearchIndex {
    /// Messages may be waiting (a commit happened since the index last
    /// caught up). True at start: an upgraded database has a backlog.
    behind: bool,
    /// A round has started and not caught up yet.
    in_round: bool,
    last_round: Option<Instant>,
}

impl SearchIndex {
    pub(super) fn new() -> Self {
        Self { behind: true, in_round: false, last_round: None }
    }

    /// A commit happened; it may have stored messages.
    pub(super) fn committed(&mut self) {
        self.behind = true;
    }

    /// Whether messages may be waiting: the writer then makes sure it gets
    /// a turn even if nothing else is written.
    pub(super) fn behind(&self) -> bool {
        self.behind
    }

    /// Whether a chunk should run now, with the writer's queue `idle` (or
    /// not). Indexing waits for idle moments, so that it never delays
    /// sends by more than a chunk, except once the index has lagged
    /// [`MOST_LAG`] behind a writer that is never idle.
    pub(super) fn due(&self, now: Instant, idle: bool) -> bool {
        if !self.behind {
            return false;
        }
        let since = self.last_round.map_or(Duration::MAX, |at| now.saturating_duration_since(at));
        (idle && (self.in_round || since >= INDEX_INTERVAL)) || since >= MOST_LAG
    }

    /// Indexes one chunk in a transaction of its own. Errors roll it back
    /// and are logged; the next turn starts again from the mark.
    pub(super) fn run_chunk(&mut self, conn: &Connection, now: Instant) {
        self.in_round = true;
        let chunk = conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
            let indexed = index(conn, CHUNK)?;
            conn.execute_batch("COMMIT")?;
            Ok(indexed)
        });
        match chunk {
            Ok(indexed) if indexed < CHUNK => {
                self.behind = false;
                self.in_round = false;
                self.last_round = Some(now);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "indexing messages for search failed; retrying later");
                let _ = conn.execute_batch("ROLLBACK");
                self.in_round = false;
                self.last_round = Some(now);
            }
        }
    }

    /// Indexes everything inside the caller's open transaction (at
    /// shutdown).
    pub(super) fn index_all_within(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        index(conn, usize::MAX)?;
        self.behind = false;
        Ok(())
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
    let words: Vec<String> = query
        .as_str()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_QUERY_WORDS)
        .map(|word| {
            // A one-letter prefix would match a large part of the index.
            if word.chars().nth(1).is_some() { format!("\"{word}\"*") } else { format!("\"{word}\"") }
        })
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
        assert_eq!(expression(&"w ".repeat(20)).unwrap().matches('w').count(), MAX_QUERY_WORDS);
    }
}
