//! Messages filed by room, behind the writer.
//!
//! History is read per room, newest first, so it needs messages ordered by
//! (room, id). As an ordinary SQLite index that order cost every commit one
//! rewritten index page per room it touched: with senders spread over many
//! rooms, a group commit of 50 messages wrote some 50 index pages to the
//! WAL, and the index made up about 40 % of the writer's time per message
//! (`docs/performance.md`). Instead, messages are appended alone, and at
//! most every [`CATCH_UP_INTERVAL`] the writer files the new ones into
//! `room_messages` in one sorted pass inside the commit it is making, so a
//! busy room's page is written once per interval instead of once per commit.
//!
//! `room_messages_upto` records how far the filing reaches and changes in
//! the same transaction as the rows, so a crash leaves the two consistent.
//! Readers take what lies above the mark straight from `messages` by id (at
//! most one interval's worth) and merge it with the filed rows, so history
//! is complete at every moment.

use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long messages may wait to be filed. Longer makes the filing cheaper
/// per message and the unfiled tail that history reads scan longer.
pub(super) const CATCH_UP_INTERVAL: Duration = Duration::from_millis(100);

/// Up to `?3` messages of room `?1` with ids below `?2`, newest first.
///
/// Two ordered halves merged by id (SQLite merges them without sorting and
/// stops at the limit): the unfiled tail above the mark, found by id range
/// and filtered by room, and the filed rows up to the mark, walked in
/// `room_messages` order with each message fetched by id.
pub(super) const ROOM_MESSAGES_BEFORE: &str = "
    SELECT id, room_id, username, text, created_at FROM messages
     WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1 AND id < ?2
    UNION ALL
    SELECT f.message_id, m.room_id, m.username, m.text, m.created_at
      FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
     WHERE f.room_id = ?1 AND f.message_id < ?2
       AND f.message_id <= (SELECT message_id FROM room_messages_upto)
    ORDER BY 1 DESC LIMIT ?3";

/// Up to `?4` messages of room `?1` with `?2 < id <= ?3`, newest first;
/// built as [`ROOM_MESSAGES_BEFORE`].
pub(super) const ROOM_MESSAGES_BETWEEN: &str = "
    SELECT id, room_id, username, text, created_at FROM messages
     WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1 AND id > ?2 AND id <= ?3
    UNION ALL
    SELECT f.message_id, m.room_id, m.username, m.text, m.created_at
      FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
     WHERE f.room_id = ?1 AND f.message_id > ?2 AND f.message_id <= ?3
       AND f.message_id <= (SELECT message_id FROM room_messages_upto)
    ORDER BY 1 DESC LIMIT ?4";

/// Deletes every message of room `?1`, filed or not, and its filing.
pub(super) const DELETE_ROOM_MESSAGES: [&str; 3] = [
    "DELETE FROM messages WHERE id IN (SELECT message_id FROM room_messages WHERE room_id = ?1)",
    "DELETE FROM messages WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1",
    "DELETE FROM room_messages WHERE room_id = ?1",
];

/// When the writer last filed messages.
#[derive(Debug)]
pub(super) struct RoomIndex {
    last_catch_up: Instant,
}

impl RoomIndex {
    pub(super) fn new() -> Self {
        Self { last_catch_up: Instant::now() }
    }

    /// Whether the commit being made should file messages.
    pub(super) fn due(&self) -> bool {
        self.last_catch_up.elapsed() >= CATCH_UP_INTERVAL
    }

    /// Files new messages inside the caller's open transaction. An error
    /// means SQLite rolled that transaction back (a full disk, an I/O
    /// error). Any other failure is logged and leaves the caller's writes
    /// to commit: the next round files these messages again, and readers
    /// never look at filed rows above the mark.
    ///
    /// No savepoint: SQLite would copy every page touched after it into a
    /// sub-journal, which cost the writer about 1 µs a message at 25k/s.
    pub(super) fn catch_up_within(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        match self.catch_up(conn) {
            Ok(()) => Ok(()),
            Err(e) if conn.is_autocommit() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "filing messages by room failed; retrying with a later commit");
                Ok(())
            }
        }
    }

    /// Files every message above the mark and moves the mark, inside the
    /// caller's transaction.
    fn catch_up(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.last_catch_up = Instant::now();
        // Sorted so that each room's last page is visited once. OR IGNORE:
        // rows filed by a round whose mark did not move stay as they are;
        // it also means no constraint can abort the statement halfway, so
        // SQLite needs no statement journal for it.
        conn.prepare_cached(
            "INSERT OR IGNORE INTO room_messages (room_id, message_id)
             SELECT room_id, id FROM messages WHERE id > (SELECT message_id FROM room_messages_upto)
             ORDER BY room_id, id",
        )?
        .execute([])?;
        // max(): deleting a room may have removed the newest messages.
        conn.prepare_cached(
            "UPDATE room_messages_upto
             SET message_id = max(message_id, (SELECT COALESCE(max(id), 0) FROM messages))",
        )?
        .execute([])?;
        Ok(())
    }
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

    fn mark(conn: &Connection) -> i64 {
        conn.query_row("SELECT message_id FROM room_messages_upto", [], |r| r.get(0)).unwrap()
    }

    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&conn).unwrap();
        conn.execute_batch("INSERT INTO rooms VALUES ('a', 'a', 0), ('b', 'b', 0)").unwrap();
        conn
    }

    fn append(conn: &Connection, room: &str) -> i64 {
        conn.execute(
            "INSERT INTO messages (room_id, user_id, username, text, created_at) VALUES (?1, 1, 'x', 't', 0)",
            [room],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn catching_up_files_what_is_above_the_mark_and_moves_it() {
        let conn = database();
        let mut index = RoomIndex::new();
        let first = append(&conn, "a");
        let second = append(&conn, "b");
        assert_eq!(mark(&conn), 0);
        index.catch_up(&conn).unwrap();
        assert_eq!(filed(&conn), vec![("a".to_owned(), first), ("b".to_owned(), second)]);
        assert_eq!(mark(&conn), second);

        let third = append(&conn, "a");
        index.catch_up(&conn).unwrap();
        assert_eq!(filed(&conn).last(), Some(&("a".to_owned(), third)));
        assert_eq!(mark(&conn), third);
        // Nothing new: nothing changes.
        index.catch_up(&conn).unwrap();
        assert_eq!(filed(&conn).len(), 3);
    }

    #[test]
    fn the_mark_never_moves_back() {
        let conn = database();
        let mut index = RoomIndex::new();
        append(&conn, "a");
        let newest = append(&conn, "b");
        index.catch_up(&conn).unwrap();
        conn.execute("DELETE FROM messages WHERE id = ?1", [newest]).unwrap();
        index.catch_up(&conn).unwrap();
        assert_eq!(mark(&conn), newest);
    }

    #[test]
    fn it_is_due_only_after_the_interval() {
        let conn = database();
        let mut index = RoomIndex::new();
        index.catch_up(&conn).unwrap();
        assert!(!index.due());
        index.last_catch_up -= CATCH_UP_INTERVAL;
        assert!(index.due());
    }
}
