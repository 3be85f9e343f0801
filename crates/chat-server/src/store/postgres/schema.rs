//! PostgreSQL migrations, applied in order under an advisory lock, so
//! nodes starting together migrate once.

use deadpool_postgres::Client;

use super::StoreError;

/// Any number the nodes agree on; only this server takes this lock.
const MIGRATION_LOCK: i64 = 0x6368_6174_5f6d_6967;

/// Each entry moves the schema one version forward. Never edit a shipped
/// entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: everything of SQLite's schema 4, in PostgreSQL's terms. Times are
    // Unix milliseconds, as there.
    "
    CREATE TABLE users (
        id             BIGSERIAL PRIMARY KEY,
        username       TEXT NOT NULL,
        username_key   TEXT NOT NULL UNIQUE,
        password_hash  TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('user', 'moderator', 'admin')),
        display_name   TEXT NOT NULL,
        avatar_breed   TEXT NOT NULL,
        avatar_color   TEXT NOT NULL,
        avatar_expression TEXT NOT NULL,
        created_at     BIGINT NOT NULL,
        last_seen      BIGINT NOT NULL
    );

    CREATE TABLE rooms (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        kind        TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'direct')),
        topic       TEXT,
        created_by  BIGINT
    );

    -- Message ids are not a sequence: a sequence hands out ids at insert
    -- time, so ids commit out of order across transactions and a reader
    -- that follows the highest committed id skips one still committing.
    -- Every message commit takes this one row's lock instead, so commits
    -- that write messages are serialized and ids become visible in order,
    -- with no holes: seeing id n means every id below n is visible too.
    CREATE TABLE message_counter (
        singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
        last_id  BIGINT NOT NULL
    );
    INSERT INTO message_counter (singleton, last_id) VALUES (TRUE, 0);

    CREATE TABLE messages (
        id          BIGINT PRIMARY KEY,
        room_id     TEXT NOT NULL,
        user_id     BIGINT NOT NULL,
        username    TEXT NOT NULL,
        text        TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        reply_to    BIGINT,
        edited_at   BIGINT,
        -- The mentioned usernames, space-separated; NULL for none.
        mentions    TEXT,
        search      TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
    );
    CREATE INDEX messages_by_room ON messages (room_id, id);
    CREATE INDEX messages_search ON messages USING GIN (search);

    CREATE TABLE bans (
        user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        reason      TEXT NOT NULL,
        banned_by   BIGINT,
        created_at  BIGINT NOT NULL,
        expires_at  BIGINT
    );

    CREATE TABLE moderation_log (
        id              BIGSERIAL PRIMARY KEY,
        at              BIGINT NOT NULL,
        actor_id        BIGINT NOT NULL,
        actor_username  TEXT NOT NULL,
        action          TEXT NOT NULL,
        target          TEXT NOT NULL,
        reason          TEXT,
        detail          TEXT,
        room_id         TEXT,
        until           BIGINT
    );

    CREATE TABLE revoked_tokens (
        token_id    TEXT PRIMARY KEY,
        expires_at  BIGINT NOT NULL
    );
    CREATE TABLE account_deletions (
        seq         BIGSERIAL PRIMARY KEY,
        user_id     BIGINT NOT NULL,
        at          BIGINT NOT NULL
    );

    -- user_a < user_b by username; last_message_id orders list_direct.
    CREATE TABLE direct_chats (
        room_id          TEXT PRIMARY KEY,
        user_a           BIGINT NOT NULL,
        user_b           BIGINT NOT NULL,
        last_message_id  BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX direct_chats_by_a ON direct_chats (user_a);
    CREATE INDEX direct_chats_by_b ON direct_chats (user_b);

    -- id keeps the order in which reactions were added.
    CREATE TABLE reactions (
        id          BIGSERIAL PRIMARY KEY,
        message_id  BIGINT NOT NULL,
        user_id     BIGINT NOT NULL,
        username    TEXT NOT NULL,
        emoji       TEXT NOT NULL,
        UNIQUE (message_id, user_id, emoji)
    );

    CREATE TABLE memberships (
        user_id     BIGINT NOT NULL,
        room_id     TEXT NOT NULL,
        last_read   BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, room_id)
    );
    CREATE INDEX memberships_by_room ON memberships (room_id);

    CREATE TABLE mentions (
        user_id     BIGINT NOT NULL,
        room_id     TEXT NOT NULL,
        message_id  BIGINT NOT NULL,
        PRIMARY KEY (user_id, room_id, message_id)
    );
    CREATE INDEX mentions_by_message ON mentions (message_id);

    CREATE TABLE blocks (
        blocker_id  BIGINT NOT NULL,
        blocked_id  BIGINT NOT NULL,
        created_at  BIGINT NOT NULL,
        PRIMARY KEY (blocker_id, blocked_id)
    );
    ",
];

/// Brings the schema up to date. Nodes that start together wait for the
/// first one's migration and then find nothing left to do.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)").await?;
    let current: i32 = match tx.query_opt("SELECT version FROM schema_version", &[]).await? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[]).await?;
            0
        }
    };
    let current = usize::try_from(current).map_err(|_| StoreError::Corrupt(format!("schema version {current}")))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this server ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.batch_execute(sql).await?;
        tx.execute("UPDATE schema_version SET version = $1", &[&version]).await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit().await?;
    Ok(())
}
