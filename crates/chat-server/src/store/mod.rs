//! SQLite storage.
//!
//! One writer thread owns the only write connection and commits whatever
//! has queued up as one transaction (group commit), so concurrent sends
//! share an fsync instead of paying one each. Reads use a small pool of
//! read-only connections on the blocking pool; WAL lets them run beside the
//! writer. Every query lives in this module; callers see records and
//! newtypes, never SQL.
//!
//! Files: [`schema`] (migrations), [`writer`] (group commit),
//! [`checkpointer`] (WAL checkpoints off the commit path), [`room_index`]
//! (messages filed by room behind the writer), [`reader`] (read pool),
//! [`private_dir`] (a data directory only the server's user can read), and
//! one file per table family: [`users`], [`rooms`],
//! [`messages`], [`moderation`], [`sessions`] (revoked tokens, account
//! deletions for the running server).

mod checkpointer;
mod messages;
mod moderation;
mod private_dir;
mod reader;
mod room_index;
mod rooms;
mod schema;
mod sessions;
mod users;
mod writer;

use std::path::{Path, PathBuf};

use chat_api::{NameError, Timestamp};
use rusqlite::Connection;

pub use messages::{NewMessage, StoredMessage};
pub use moderation::{AuditAction, AuditEntry, BanRecord};
pub use rooms::{RoomCreation, RoomRecord};
pub use sessions::{AccountDeletion, RevokedToken};
pub use users::{NewUser, ProfileChange, UserRecord};

use checkpointer::Checkpointer;
use reader::ReadPool;
use writer::Writer;

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
    writer: Writer,
    checkpointer: Checkpointer,
    reader: ReadPool,
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
        conn.pragma_update(None, "wal_autocheckpoint", checkpointer::WRITER_BACKSTOP_PAGES)?;
        let checkpointer = Checkpointer::start(&path)?;
        let writer = Writer::start(conn, checkpointer.signal())?;
        Ok(Self { writer, checkpointer, reader: ReadPool::new(path.clone()), path })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the checkpointer, finishes every queued write, and stops the
    /// writer, which leaves the WAL copied back into the database file.
    pub async fn close(&self) {
        self.checkpointer.close().await;
        self.writer.close().await;
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
    use chat_api::{Message, MessageText, RoomId, UserId, UserName};
    use tokio::sync::oneshot;

    use super::*;

    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    /// Stores one message from user 1 (alice) and waits for its commit.
    pub(crate) async fn append(store: &Store, room: &str, text: &str) -> Result<Message, StoreError> {
        let (tx, rx) = oneshot::channel();
        let message = NewMessage {
            room_id: RoomId::parse(room).unwrap(),
            user_id: UserId(1),
            username: UserName::parse("alice").unwrap(),
            text: MessageText::parse(text).unwrap(),
        };
        store
            .append_message(message, move |r| {
                let _ = tx.send(r);
            })
            .await?;
        rx.await.unwrap()
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
