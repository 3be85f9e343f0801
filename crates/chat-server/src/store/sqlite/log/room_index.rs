//! Messages filed by room, behind the writer.
//!
//! History is read per room, newest first, so it needs messages ordered by
//! (room, id). As an ordinary SQLite index that order cost every commit one
//! rewritten index page per room it touched: with senders spread over many
//! rooms, a group commit of 50 messages wrote some 50 index pages to the
//! WAL, and the index made up about 40 % of the writer's time per message
//! (`docs/performance.md`). Instead, messages are appended alone and filed
//! into `room_messages` later, a room at a time: a room waits until its
//! oldest unfiled message is [`FILING_DELAY`] old, and then all it has
//! gathered is filed together, so a busy room's page is written about once
//! per delay instead of once per commit.
//!
//! Rooms come due one by one, in the order their first unfiled message
//! arrived, so the filing is spread over the commits: each commit files
//! the rooms that came due since the last, and at most a few hundred rows
//! ([`MIN_FILED_PER_COMMIT`]). Filing every room at once, as this module
//! first did every 100 ms, made one commit in a hundred several
//! milliseconds longer, and every send queued behind it waited.
//!
//! `room_messages_upto` records how far the filing is complete: every
//! message with an id up to it is filed. It moves in the same transaction
//! as the rows, so a crash leaves the two consistent, and at most every
//! [`MARK_INTERVAL`], since each move rewrites a page. Readers take what
//! lies above the mark straight from `messages` by id (about one delay's
//! worth) and merge it with the filed rows, so history is complete at
//! every moment. Rows filed above the mark are ignored until it passes
//! them.
//!
//! Which messages wait is kept in memory, read from `messages` at the
//! start of each transaction (what earlier commits stored); it is rebuilt
//! from the mark at start-up and after any failed transaction.

use std::{
    collections::{HashMap, VecDeque},
    rc::Rc,
    time::{Duration, Instant},
};

use rusqlite::{Connection, OptionalExtension, params};

/// How long a room's messages wait before they are filed. Longer makes
/// the filing cheaper per message and the unfiled tail that history reads
/// scan longer.
pub(super) const FILING_DELAY: Duration = Duration::from_millis(100);

/// Least time between two moves of the mark. Moving it rewrites a page,
/// and nearly every commit files something; a mark that lags only makes
/// readers take a little more from the unfiled tail.
pub(super) const MARK_INTERVAL: Duration = Duration::from_millis(50);

/// Rows one commit files at least, when that many are due. A commit files
/// up to twice the messages it stores if that is more, so the filing keeps
/// up with any rate the writer sustains.
pub(super) const MIN_FILED_PER_COMMIT: usize = 256;

/// Up to `?3` messages of room `?1` with ids below `?2`, newest first.
///
/// Two ordered halves merged by id (SQLite merges them without sorting and
/// stops at the limit): the unfiled tail above the mark, found by id range
/// and filtered by room, and the filed rows up to the mark, walked in
/// `room_messages` order with each message fetched by id.
pub(super) const ROOM_MESSAGES_BEFORE: &str = "
    SELECT id, room_id, username, text, created_at, reply_to, edited_at, mentions FROM messages
     WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1 AND id < ?2
    UNION ALL
    SELECT f.message_id, m.room_id, m.username, m.text, m.created_at, m.reply_to, m.edited_at, m.mentions
      FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
     WHERE f.room_id = ?1 AND f.message_id < ?2
       AND f.message_id <= (SELECT message_id FROM room_messages_upto)
    ORDER BY 1 DESC LIMIT ?3";

/// Up to `?4` messages of room `?1` with `?2 < id <= ?3`, newest first;
/// built as [`ROOM_MESSAGES_BEFORE`].
pub(super) const ROOM_MESSAGES_BETWEEN: &str = "
    SELECT id, room_id, username, text, created_at, reply_to, edited_at, mentions FROM messages
     WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1 AND id > ?2 AND id <= ?3
    UNION ALL
    SELECT f.message_id, m.room_id, m.username, m.text, m.created_at, m.reply_to, m.edited_at, m.mentions
      FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
     WHERE f.room_id = ?1 AND f.message_id > ?2 AND f.message_id <= ?3
       AND f.message_id <= (SELECT message_id FROM room_messages_upto)
    ORDER BY 1 DESC LIMIT ?4";

/// How many messages of room `?1` after `?2` were not written by user
/// `?3`, counting at most `?4`; built as [`ROOM_MESSAGES_BEFORE`].
pub(super) const ROOM_MESSAGES_COUNT_AFTER: &str = "
    SELECT count(*) FROM (
        SELECT 1 FROM messages
         WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1 AND id > ?2 AND user_id <> ?3
        UNION ALL
        SELECT 1 FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
         WHERE f.room_id = ?1 AND f.message_id > ?2 AND m.user_id <> ?3
           AND f.message_id <= (SELECT message_id FROM room_messages_upto)
        LIMIT ?4)";

/// Whether room `?1` holds any message, filed or not: filed rows (those
/// above the mark exist only for stored messages) or the unfiled tail.
pub(super) const ROOM_HAS_MESSAGES: &str = "
    SELECT EXISTS (SELECT 1 FROM room_messages WHERE room_id = ?1)
        OR EXISTS (SELECT 1 FROM messages WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1)";

/// Deletes every message of room `?1`, filed or not, and its filing.
pub(super) const DELETE_ROOM_MESSAGES: [&str; 3] = [
    "DELETE FROM messages WHERE id IN (SELECT message_id FROM room_messages WHERE room_id = ?1)",
    "DELETE FROM messages WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1",
    "DELETE FROM room_messages WHERE room_id = ?1",
];

/// The writer's view of what is not filed yet.
#[derive(Debug, Default)]
pub(super) struct RoomIndex {
    /// The highest message id read into `waiting`; `None` until read from
    /// the mark.
    read_upto: Option<i64>,
    /// Unfiled message ids by room, ascending.
    waiting: HashMap<Rc<str>, Vec<i64>>,
    /// Rooms in `waiting`, in the order their first unfiled message was
    /// read, with when that was.
    due_order: VecDeque<(Instant, Rc<str>)>,
    /// When this round last moved the mark.
    mark_moved_at: Option<Instant>,
}

/// Whether a filing round respects [`FILING_DELAY`] and the per-commit cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Filing {
    /// File the rooms that are due, up to the cap.
    Due,
    /// File everything read (at shutdown).
    All,
}

impl RoomIndex {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Forgets what it read; the next round reads again from the mark. For
    /// after a transaction that failed, whose filing rolled back with it.
    pub(super) fn forget(&mut self) {
        *self = Self::default();
    }

    /// Reads the messages committed since the last round. Call it at the
    /// start of a transaction, before the transaction writes: what it reads
    /// then is committed and cannot roll back. Errors as
    /// [`RoomIndex::file_within`].
    pub(super) fn read_within(&mut self, conn: &Connection, now: Instant) -> rusqlite::Result<()> {
        let result = self.read_new(conn, now);
        self.tolerate(conn, result)
    }

    fn read_new(&mut self, conn: &Connection, now: Instant) -> rusqlite::Result<()> {
        let from = match self.read_upto {
            Some(id) => id,
            None => mark(conn)?,
        };
        let mut stmt = conn.prepare_cached("SELECT id, room_id FROM messages WHERE id > ?1 ORDER BY id")?;
        let mut rows = stmt.query([from])?;
        let mut read_upto = from;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let room = row.get_ref(1)?.as_str()?;
            read_upto = id;
            if let Some(ids) = self.waiting.get_mut(room) {
                ids.push(id);
            } else {
                let room: Rc<str> = Rc::from(room);
                self.waiting.insert(Rc::clone(&room), vec![id]);
                self.due_order.push_back((now, room));
            }
        }
        self.read_upto = Some(read_upto);
        Ok(())
    }

    /// Files the rooms that are due inside the caller's open transaction,
    /// a commit storing `stored` messages, and moves the mark if it may. An error
    /// means SQLite rolled that transaction back (a full disk, an I/O
    /// error). Any other failure is logged and leaves the caller's writes
    /// to commit: the next round files these messages again, and readers
    /// never look at filed rows above the mark.
    ///
    /// No savepoint: SQLite would copy every page touched after it into a
    /// sub-journal, which cost the writer about 1 µs a message at 25k/s.
    pub(super) fn file_within(
        &mut self,
        conn: &Connection,
        filing: Filing,
        stored: usize,
        now: Instant,
    ) -> rusqlite::Result<()> {
        let result = self.file(conn, filing, stored, now);
        self.tolerate(conn, result)
    }

    /// Passes on an error that rolled the transaction back; otherwise logs
    /// it and starts over from the mark, leaving the transaction to commit.
    fn tolerate(&mut self, conn: &Connection, result: rusqlite::Result<()>) -> rusqlite::Result<()> {
        match result {
            Err(e) if conn.is_autocommit() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "filing messages by room failed; retrying with a later commit");
                self.forget();
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    fn file(&mut self, conn: &Connection, filing: Filing, stored: usize, now: Instant) -> rusqlite::Result<()> {
        let Some(read_upto) = self.read_upto else { return Ok(()) };
        let mut budget = match filing {
            Filing::Due => MIN_FILED_PER_COMMIT.max(2 * stored),
            Filing::All => usize::MAX,
        };
        let mut insert =
            conn.prepare_cached("INSERT OR IGNORE INTO room_messages (room_id, message_id) VALUES (?1, ?2)")?;
        // A room deleted since its messages were read took them along.
        // Checked once per room rather than per message: looking each
        // message up cost more than filing it. (A room deleted and created
        // again within the delay gets the old ids filed; they name deleted
        // messages, which reads skip, and ids are never reused.)
        let mut room_exists = conn.prepare_cached("SELECT 1 FROM rooms WHERE id = ?1")?;
        let mut filed_any = false;
        while budget > 0 {
            let Some((since, room)) = self.due_order.front() else { break };
            if filing == Filing::Due && now.saturating_duration_since(*since) < FILING_DELAY {
                break;
            }
            let Some(ids) = self.waiting.get_mut(room) else {
                // Cannot happen: the two change together.
                self.due_order.pop_front();
                continue;
            };
            let take = ids.len().min(budget);
            if room_exists.exists([&**room])? {
                for &id in &ids[..take] {
                    insert.execute(params![&**room, id])?;
                }
            }
            filed_any = true;
            budget -= take;
            if take == ids.len() {
                let room = Rc::clone(room);
                self.waiting.remove(&room);
                self.due_order.pop_front();
            } else {
                // The room stays first: it is still due.
                ids.drain(..take);
            }
        }
        let mark_due = self.mark_moved_at.is_none_or(|at| now.saturating_duration_since(at) >= MARK_INTERVAL);
        if filed_any && (mark_due || filing == Filing::All) {
            self.mark_moved_at = Some(now);
            let filed_upto = self.oldest_waiting().map_or(read_upto, |id| id - 1);
            conn.prepare_cached("UPDATE room_messages_upto SET message_id = ?1 WHERE message_id < ?1")?
                .execute([filed_upto])?;
        }
        Ok(())
    }

    /// The lowest unfiled id. Rooms after the first joined `due_order` in
    /// id order and keep their first id; only the first may have been
    /// filed in part, so the lowest is among the first two.
    fn oldest_waiting(&self) -> Option<i64> {
        self.due_order.iter().take(2).filter_map(|(_, room)| self.waiting.get(room)?.first().copied()).min()
    }
}

/// How far the filing is complete.
fn mark(conn: &Connection) -> rusqlite::Result<i64> {
    let mark = conn.query_row("SELECT message_id FROM room_messages_upto", [], |r| r.get(0)).optional()?;
    Ok(mark.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(conn: &Connection) -> Vec<(String, i64)> {
        conn.prepare("SELECT room_id, message_id FROM room_messages ORDER BY message_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn filed_ids(conn: &Connection) -> Vec<i64> {
        filed(conn).into_iter().map(|(_, id)| id).collect()
    }

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::sqlite::schema::migrate(&conn).unwrap();
        conn.execute_batch("INSERT INTO rooms (id, name, created_at) VALUES ('a', 'a', 0), ('b', 'b', 0)").unwrap();
        conn
    }

    /// The database, an index that has read nothing, and the time it starts.
    fn start() -> (Connection, RoomIndex, Instant) {
        (database(), RoomIndex::new(), Instant::now())
    }

    fn append(conn: &Connection, room: &str) -> i64 {
        conn.execute(
            "INSERT INTO messages (room_id, user_id, username, text, created_at) VALUES (?1, 1, 'x', 't', 0)",
            [room],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_room_is_filed_once_its_oldest_message_has_waited_the_delay() {
        let (conn, mut index, t0) = start();
        let first = append(&conn, "a");
        let second = append(&conn, "b");
        index.read_new(&conn, t0).unwrap();
        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY - ms(1)).unwrap();
        assert!(filed(&conn).is_empty());
        assert_eq!(mark(&conn).unwrap(), 0);

        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY).unwrap();
        assert_eq!(filed(&conn), vec![("a".to_owned(), first), ("b".to_owned(), second)]);
        assert_eq!(mark(&conn).unwrap(), second);
    }

    #[test]
    fn rooms_come_due_in_turn_and_the_mark_stays_below_what_waits() {
        let (conn, mut index, t0) = start();
        let a1 = append(&conn, "a");
        index.read_new(&conn, t0).unwrap();
        let b1 = append(&conn, "b");
        let a2 = append(&conn, "a");
        index.read_new(&conn, t0 + ms(60)).unwrap();

        // Room a is due and takes its later message along; b is not due.
        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY).unwrap();
        assert_eq!(filed_ids(&conn), vec![a1, a2]);
        assert_eq!(mark(&conn).unwrap(), b1 - 1);

        index.file(&conn, Filing::Due, 0, t0 + ms(60) + FILING_DELAY).unwrap();
        assert_eq!(filed_ids(&conn), vec![a1, b1, a2]);
        assert_eq!(mark(&conn).unwrap(), a2);
    }

    #[test]
    fn a_commit_files_at_most_its_share_and_the_rest_follows() {
        let (conn, mut index, t0) = start();
        let ids: Vec<i64> = (0..MIN_FILED_PER_COMMIT + 10).map(|_| append(&conn, "a")).collect();
        let other = append(&conn, "b");
        index.read_new(&conn, t0).unwrap();
        let due = t0 + FILING_DELAY;

        index.file(&conn, Filing::Due, 0, due).unwrap();
        assert_eq!(filed_ids(&conn), ids[..MIN_FILED_PER_COMMIT].to_vec());
        assert_eq!(mark(&conn).unwrap(), ids[MIN_FILED_PER_COMMIT - 1]);

        index.file(&conn, Filing::Due, 0, due + MARK_INTERVAL).unwrap();
        assert_eq!(filed(&conn).len(), ids.len() + 1);
        assert_eq!(mark(&conn).unwrap(), other);
    }

    #[test]
    fn the_mark_moves_at_most_once_an_interval_and_always_when_filing_everything() {
        let (conn, mut index, t0) = start();
        append(&conn, "a");
        index.read_new(&conn, t0).unwrap();
        let second = append(&conn, "b");
        index.read_new(&conn, t0 + ms(10)).unwrap();
        append(&conn, "a");
        index.read_new(&conn, t0 + ms(20)).unwrap();

        // Room a (both its messages) is filed; b's message holds the mark.
        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY).unwrap();
        assert_eq!(mark(&conn).unwrap(), second - 1);
        // Room b is filed, but the mark stays until the interval is over.
        index.file(&conn, Filing::Due, 0, t0 + ms(10) + FILING_DELAY).unwrap();
        assert_eq!(filed(&conn).len(), 3);
        assert_eq!(mark(&conn).unwrap(), second - 1);

        let fourth = append(&conn, "b");
        index.read_new(&conn, t0 + ms(30)).unwrap();
        index.file(&conn, Filing::All, 0, t0 + ms(30)).unwrap();
        assert_eq!(mark(&conn).unwrap(), fourth);
    }

    #[test]
    fn a_busy_commit_may_file_twice_what_it_stores() {
        let (conn, mut index, t0) = start();
        for _ in 0..3 * MIN_FILED_PER_COMMIT {
            append(&conn, "a");
        }
        index.read_new(&conn, t0).unwrap();
        index.file(&conn, Filing::Due, MIN_FILED_PER_COMMIT, t0 + FILING_DELAY).unwrap();
        assert_eq!(filed(&conn).len(), 2 * MIN_FILED_PER_COMMIT);
    }

    #[test]
    fn filing_everything_ignores_the_delay_and_the_cap() {
        let (conn, mut index, t0) = start();
        for _ in 0..MIN_FILED_PER_COMMIT + 1 {
            append(&conn, "a");
        }
        let newest = append(&conn, "b");
        index.read_new(&conn, t0).unwrap();
        index.file(&conn, Filing::All, 0, t0).unwrap();
        assert_eq!(filed(&conn).len(), MIN_FILED_PER_COMMIT + 2);
        assert_eq!(mark(&conn).unwrap(), newest);
    }

    #[test]
    fn messages_of_a_room_deleted_after_they_were_read_are_not_filed() {
        let (conn, mut index, t0) = start();
        append(&conn, "a");
        let kept = append(&conn, "b");
        index.read_new(&conn, t0).unwrap();
        for sql in DELETE_ROOM_MESSAGES {
            conn.execute(sql, ["a"]).unwrap();
        }
        conn.execute("DELETE FROM rooms WHERE id = 'a'", []).unwrap();
        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY).unwrap();
        assert_eq!(filed_ids(&conn), vec![kept]);
        assert_eq!(mark(&conn).unwrap(), kept);
    }

    #[test]
    fn after_forgetting_it_reads_again_from_the_mark_and_files_each_message_once() {
        let (conn, mut index, t0) = start();
        let a1 = append(&conn, "a");
        index.read_new(&conn, t0).unwrap();
        let b1 = append(&conn, "b");
        index.read_new(&conn, t0 + ms(60)).unwrap();
        index.file(&conn, Filing::Due, 0, t0 + FILING_DELAY).unwrap();
        assert_eq!(mark(&conn).unwrap(), a1);

        index.forget();
        let a2 = append(&conn, "a");
        index.read_new(&conn, t0 + ms(200)).unwrap();
        index.file(&conn, Filing::All, 0, t0 + ms(200)).unwrap();
        assert_eq!(filed_ids(&conn), vec![a1, b1, a2]);
        assert_eq!(mark(&conn).unwrap(), a2);
    }
}
