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
    fn a_newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(migrate(&conn).is_err());
    }
}
