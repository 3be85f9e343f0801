//! Embedded migrations, applied in order and tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Each entry moves the schema one version forward. Never edit a shipped
/// entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "
    CREATE TABLE users (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        username       TEXT NOT NULL,
        username_key   TEXT NOT NULL UNIQUE,
        password_hash  TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('user', 'moderator', 'admin')),
        display_name   TEXT NOT NULL,
        avatar_breed   TEXT NOT NULL,
        avatar_color   TEXT NOT NULL,
        avatar_expression TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        last_seen      INTEGER NOT NULL
    );

    CREATE TABLE rooms (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );

    -- AUTOINCREMENT: ids are never reused, even after the newest rows are
    -- deleted with their room.
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id     TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        user_id     INTEGER NOT NULL,
        username    TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX messages_by_room ON messages (room_id, id);

    CREATE TABLE bans (
        user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        reason      TEXT NOT NULL,
        banned_by   INTEGER,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER
    );

    CREATE TABLE moderation_log (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        at              INTEGER NOT NULL,
        actor_id        INTEGER NOT NULL,
        actor_username  TEXT NOT NULL,
        action          TEXT NOT NULL,
        target          TEXT NOT NULL,
        reason          TEXT,
        detail          TEXT
    );
    ",
    // 2: messages lose their per-room SQLite index (every commit rewrote
    // one of its pages per room it touched) and their foreign key (whose
    // cascade would scan the whole table without that index). The writer
    // files messages by room behind them instead; see `room_index.rs`. The
    // table is rebuilt to drop the key, carrying its AUTOINCREMENT sequence
    // over so that ids stay never reused.
    "
    CREATE TABLE messages_v2 (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id     TEXT NOT NULL,
        user_id     INTEGER NOT NULL,
        username    TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    INSERT INTO messages_v2 (id, room_id, user_id, username, text, created_at)
        SELECT id, room_id, user_id, username, text, created_at FROM messages;
    DELETE FROM sqlite_sequence WHERE name = 'messages_v2';
    INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_v2', seq FROM sqlite_sequence WHERE name = 'messages';
    DROP TABLE messages;
    ALTER TABLE messages_v2 RENAME TO messages;

    -- Every message with id <= room_messages_upto.message_id, by room.
    CREATE TABLE room_messages (
        room_id     TEXT NOT NULL,
        message_id  INTEGER NOT NULL,
        PRIMARY KEY (room_id, message_id)
    ) WITHOUT ROWID;
    CREATE TABLE room_messages_upto (
        only        INTEGER PRIMARY KEY CHECK (only = 1),
        message_id  INTEGER NOT NULL
    );
    INSERT INTO room_messages (room_id, message_id) SELECT room_id, id FROM messages ORDER BY room_id, id;
    INSERT INTO room_messages_upto (only, message_id) VALUES (1, COALESCE((SELECT max(id) FROM messages), 0));
    ",
    // 3: tokens revoked by a logout, kept until they would have expired;
    // and accounts deleted by the operator tool (another process), which
    // the running server reads to close their connections.
    "
    CREATE TABLE revoked_tokens (
        token_id    TEXT PRIMARY KEY,
        expires_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE account_deletions (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id     INTEGER NOT NULL,
        at          INTEGER NOT NULL
    );
    ",
    // 4: contract version 2. Messages gain replies, edits and mentions;
    // rooms a kind (direct conversations are rooms nobody lists), a topic
    // and their creator. New tables: direct conversations' participants,
    // reactions, each user's rooms with their read marker, mentions by
    // user, blocks, and the full-text index with how far it has read.
    "
    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
    ALTER TABLE messages ADD COLUMN edited_at INTEGER;
    -- The mentioned usernames, space-separated; NULL for none.
    ALTER TABLE messages ADD COLUMN mentions TEXT;

    ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct'));
    ALTER TABLE rooms ADD COLUMN topic TEXT;
    ALTER TABLE rooms ADD COLUMN created_by INTEGER;

    -- user_a < user_b by username; last_message_id orders list_direct.
    CREATE TABLE direct_chats (
        room_id          TEXT PRIMARY KEY,
        user_a           INTEGER NOT NULL,
        user_b           INTEGER NOT NULL,
        last_message_id  INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX direct_chats_by_a ON direct_chats (user_a);
    CREATE INDEX direct_chats_by_b ON direct_chats (user_b);

    -- id keeps the order in which reactions were added.
    CREATE TABLE reactions (
        id          INTEGER PRIMARY KEY,
        message_id  INTEGER NOT NULL,
        user_id     INTEGER NOT NULL,
        username    TEXT NOT NULL,
        emoji       TEXT NOT NULL,
        UNIQUE (message_id, user_id, emoji)
    );

    CREATE TABLE memberships (
        user_id     INTEGER NOT NULL,
        room_id     TEXT NOT NULL,
        last_read   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, room_id)
    ) WITHOUT ROWID;
    CREATE INDEX memberships_by_room ON memberships (room_id);

    CREATE TABLE mentions (
        user_id     INTEGER NOT NULL,
        room_id     TEXT NOT NULL,
        message_id  INTEGER NOT NULL,
        PRIMARY KEY (user_id, room_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX mentions_by_message ON mentions (message_id);

    CREATE TABLE blocks (
        blocker_id  INTEGER NOT NULL,
        blocked_id  INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (blocker_id, blocked_id)
    ) WITHOUT ROWID;

    ALTER TABLE moderation_log ADD COLUMN room_id TEXT;
    ALTER TABLE moderation_log ADD COLUMN until INTEGER;

    -- The index reads its text from messages (no second copy). With
    -- secure-delete, a deleted row's terms leave the index at once
    -- instead of lingering until segments merge. No column sizes: results
    -- come newest first, not ranked, and skipping that table's row per
    -- message makes indexing a sixth cheaper.
    CREATE VIRTUAL TABLE message_search USING fts5(
        text, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2',
        columnsize = 0
    );
    INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
    CREATE TABLE message_search_upto (
        only        INTEGER PRIMARY KEY CHECK (only = 1),
        message_id  INTEGER NOT NULL
    );
    INSERT INTO message_search_upto (only, message_id) VALUES (1, 0);
    ",
];

/// Brings the schema up to date.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = index + 1;
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        migrate(&conn).unwrap();
        let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    #[test]
    fn version_2_keeps_messages_ids_and_the_sequence() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO rooms VALUES ('a', 'a', 0), ('b', 'b', 0);
             INSERT INTO messages (room_id, user_id, username, text, created_at)
                 VALUES ('a', 1, 'x', 'one', 0), ('b', 1, 'x', 'two', 0), ('a', 1, 'x', 'three', 0);
             DELETE FROM messages WHERE id = 3;",
        )
        .unwrap();
        migrate(&conn).unwrap();
        let indexed: Vec<(String, i64)> = conn
            .prepare("SELECT room_id, message_id FROM room_messages")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexed, vec![("a".to_owned(), 1), ("b".to_owned(), 2)]);
        let upto: i64 = conn.query_row("SELECT message_id FROM room_messages_upto", [], |r| r.get(0)).unwrap();
        assert_eq!(upto, 2);
        // The deleted id 3 is not handed out again.
        conn.execute(
            "INSERT INTO messages (room_id, user_id, username, text, created_at) VALUES ('a', 1, 'x', 'four', 0)",
            [],
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 4);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(migrate(&conn).is_err());
    }
}
