//! SQLite storage.
//!
//! One writer thread owns the only write connection and commits whatever
//! has queued up as one transaction (group commit), so concurrent sends
//! share an fsync instead of paying one each. Reads use a small pool of
//! read-only connections on the blocking pool; WAL lets them run beside the
//! writer. Every query lives in this module; callers see records and
//! newtypes, never SQL.
//!
//! Files: [`schema`] (migrations), [`log`] (the message log, which owns
//! the writer and everything about messages), [`reader`] (read pool),
//! [`private_dir`] (a data directory only the server's user can read), and
//! one file per table family: [`users`], [`rooms`], [`direct`] (direct
//! conversations and blocks), [`memberships`] (each user's rooms and read
//! markers), [`moderation`], [`sessions`] (revoked tokens, account
//! deletions for the running server).

mod direct;
mod log;
mod memberships;
mod moderation;
mod private_dir;
mod reader;
mod rooms;
mod schema;
mod sessions;
mod users;

use std::path::{Path, PathBuf};

use chat_api::{NameError, Timestamp};
use rusqlite::Connection;

pub use direct::DirectRecord;
pub use log::{Appended, Edited, MessageLog, MessageMeta, NewMessage, ReactionOutcome, Removed};
pub use memberships::MembershipRecord;
pub use moderation::{AuditAction, AuditEntry, BanRecord};
pub use rooms::{RoomCreation, RoomRecord};
pub use sessions::{AccountDeletion, RevokedToken};
pub use users::{NewUser, ProfileChange, UserRecord};

use reader::ReadPool;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "chat.db";

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The batch this write belonged to could not be committed (disk full,
    /// I/O error); nothing of it was stored.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The room does not exist (any more).
    #[error("no such room")]
    NoSuchRoom,
    /// The message does not exist (any more), or is not where it must be.
    #[error("no such message")]
    NoSuchMessage,
    /// The rules refused the change to this caller; the text says why.
    #[error("{0}")]
    NotAllowed(String),
    /// The change would pass a limit; the text says which.
    #[error("{0}")]
    Limit(String),
    /// A username that already exists (case-insensitively).
    #[error("username taken")]
    UsernameTaken,
    /// A stored value no longer parses; the database was edited by hand or
    /// is damaged.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The store is shutting down.
    #[error("storage is closed")]
    Closed,
    /// Creating the data directory or a blocking task failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<NameError> for StoreError {
    fn from(e: NameError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Handle to the database. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    log: MessageLog,
    reader: std::sync::Arc<ReadPool>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and applies
    /// pending migrations. The directory ends up 0700 and its files 0600.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        private_dir::prepare(data_dir, &path)?;
        let conn = open_connection(&path)?;
        schema::migrate(&conn)?;
        let reader = std::sync::Arc::new(ReadPool::new(path.clone()));
        let log = MessageLog::start(conn, &path, std::sync::Arc::clone(&reader))?;
        Ok(Self { log, reader, path })
    }

    /// The message log: appending, history, edits, deletes, reactions and
    /// search.
    pub fn log(&self) -> &MessageLog {
        &self.log
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the checkpointer, finishes every queued write, and stops the
    /// writer, which leaves the WAL copied back into the database file.
    pub async fn close(&self) {
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

fn now_millis() -> i64 {
    Timestamp::now().unix_millis()
}

#[cfg(test)]
pub(crate) mod test_support {
    pub(crate) use super::log::test_support::append;
    use super::*;

    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::{test_support::temp_store, *};

    #[tokio::test]
    async fn after_close_the_database_file_alone_holds_everything() {
        let (dir, store) = temp_store();
        let name = chat_api::RoomName::parse("after-close").unwrap();
        store.create_room(name.clone()).await.unwrap();
        // A read leaves a pooled connection open, as in a running server:
        // SQLite would otherwise clean up when the last connection closes.
        store.rooms().await.unwrap();
        store.close().await;
        let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
        assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "the WAL still holds pages");
        // Only the database file, as a copy of it would be.
        let copy = dir.path().join("copy.db");
        std::fs::copy(dir.path().join(DATABASE_FILE), &copy).unwrap();
        let conn = Connection::open(&copy).unwrap();
        let rooms: i64 =
            conn.query_row("SELECT count(*) FROM rooms WHERE name = ?1", [name.as_str()], |row| row.get(0)).unwrap();
        assert_eq!(rooms, 1);
    }
}
