//! The SQLite backend: the embedded default for one node.
//!
//! One writer thread owns the only write connection and commits whatever
//! has queued up as one transaction (group commit), so concurrent sends
//! share an fsync instead of paying one each. Reads use a small pool of
//! read-only connections on the blocking pool; WAL lets them run beside the
//! writer.
//!
//! Files: [`schema`] (migrations), [`log`] (the message log, which owns
//! the writer and everything about messages), [`reader`] (read pool),
//! and one file per table family: [`users`], [`rooms`], [`direct`] (direct
//! conversations and blocks), [`memberships`] (each user's rooms and read
//! markers), [`moderation`], [`sessions`] (revoked tokens, account
//! deletions for the running server).

pub(super) mod direct;
pub(super) mod log;
pub(super) mod memberships;
pub(super) mod moderation;
mod reader;
pub(super) mod rooms;
pub(super) mod schema;
pub(super) mod sessions;
pub(super) mod users;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use reader::ReadPool;

use super::private_dir;

use super::{DATABASE_FILE, StoreError, UserRecord};
pub(super) use log::MessageLog;

/// The SQLite database in a data directory.
#[derive(Debug)]
pub(super) struct SqliteStore {
    log: MessageLog,
    reader: std::sync::Arc<ReadPool>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and applies
    /// pending migrations. The directory ends up 0700 and its files 0600.
    pub(super) fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        private_dir::prepare(data_dir, &path)?;
        let conn = open_connection(&path)?;
        schema::migrate(&conn)?;
        let reader = std::sync::Arc::new(ReadPool::new(path.clone()));
        let log = MessageLog::start(conn, &path, std::sync::Arc::clone(&reader))?;
        Ok(Self { log, reader, path })
    }

    pub(super) fn log(&self) -> &MessageLog {
        &self.log
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn close(&self) {
        self.log.close().await;
    }
}

/// Opens a connection with the settings every connection shares.
fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    // WAL lets readers run beside the writer; synchronous=FULL makes every
    // commit durable before `send_message` is answered.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )?;
    Ok(conn)
}

use super::now_millis;
