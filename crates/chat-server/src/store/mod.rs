//! Storage, behind one seam with two backends.
//!
//! [`Store`] is the whole storage API the server uses; each method goes
//! to the configured backend: [`sqlite`] (the embedded default, one node)
//! or [`postgres`] (shared by several nodes). Callers see records and
//! newtypes, never SQL. Both backends commit messages in groups (one
//! transaction for whatever queued up), answer a send only once it is
//! durable, and report commits in message-id order.

pub mod postgres;
mod private_dir;
mod query_words;
mod sqlite;

use std::path::Path;

use chat_api::{
    Emoji, Message, MessageId, MessageText, NameError, Role, RoomId, RoomName, RoomTopic, SearchQuery, Timestamp,
    UserId, UserName, rpc::ModerationEntry,
};

use crate::config::{StorageBackend, StorageConfig};

pub use postgres::RemoteCommits;
pub use sqlite::direct::DirectRecord;
pub use sqlite::log::{Appended, Edited, MessageMeta, NewMessage, ReactionOutcome, Removed};
pub use sqlite::memberships::MembershipRecord;
pub use sqlite::moderation::{AuditAction, AuditEntry, BanRecord};
pub use sqlite::rooms::{RoomCreation, RoomRecord};
pub use sqlite::sessions::{AccountDeletion, RevokedToken};
pub use sqlite::users::{NewUser, ProfileChange, UserRecord};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "chat.db";

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused or failed, or could not be reached.
    #[error("database: {}", postgres_text(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had (the server is down or
    /// unreachable); nothing was written.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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

/// A PostgreSQL error with the server's own message, which `Display`
/// alone leaves out ("db error").
fn postgres_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl StoreError {
    /// Whether the database could not be reached (rather than refusing):
    /// the caller may simply try again later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Postgres(e) => e.as_db_error().is_none() || e.is_closed(),
            _ => false,
        }
    }
}

impl From<NameError> for StoreError {
    fn from(e: NameError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Handle to the database. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Calls the same method on whichever backend is configured.
macro_rules! on_backend {
    ($self:expr, $db:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($db) => $call,
            Backend::Postgres($db) => $call,
        }
    };
}

/// The storage API: each method is answered by the backend in use.
macro_rules! storage_api {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    on_backend!(self, db => db.$name($($arg),*).await)
                }
            )*
        }
    };
}

impl Store {
    /// Opens the SQLite database in `data_dir` (creating it if needed) and
    /// applies pending migrations. The directory ends up 0700 and its files
    /// 0600.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Ok(Self { backend: Backend::Sqlite(sqlite::SqliteStore::open(data_dir)?) })
    }

    /// Opens the configured backend: SQLite in `data_dir`, or PostgreSQL at
    /// the configured URL, creating or migrating the schema.
    pub async fn connect(config: &StorageConfig, data_dir: &Path) -> Result<Self, StoreError> {
        match config.backend {
            StorageBackend::Sqlite => Self::open(data_dir),
            StorageBackend::Postgres => {
                private_dir::secure(data_dir)?;
                Ok(Self { backend: Backend::Postgres(postgres::PgStore::connect(config).await?) })
            }
        }
    }

    /// The message log: appending, history, edits, deletes, reactions and
    /// search.
    pub fn log(&self) -> Log<'_> {
        match &self.backend {
            Backend::Sqlite(db) => Log(LogOf::Sqlite(db.log())),
            Backend::Postgres(db) => Log(LogOf::Postgres(db.log())),
        }
    }

    /// Path of the SQLite database file; `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(db) => Some(db.path()),
            Backend::Postgres(_) => None,
        }
    }

    /// Where the server's own commits are announced to other nodes, and
    /// where theirs come in; `None` on SQLite, which serves one node.
    pub fn remote_commits(&self) -> Option<&RemoteCommits> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => Some(db.remote_commits()),
        }
    }

    /// Finishes every queued write and stops the backend's threads and
    /// tasks. On SQLite the database file alone then holds everything.
    pub async fn close(&self) {
        on_backend!(self, db => db.close().await)
    }
}

storage_api! {
    // Users.
    /// Registers a user; [`StoreError::UsernameTaken`] if the name exists.
    fn create_user(&self, user: NewUser) -> UserRecord;
    /// Creates the users that do not exist yet; how many were created.
    fn seed_users(&self, users: Vec<NewUser>) -> usize;
    /// Whether any user exists.
    fn has_users(&self) -> bool;
    /// A user by name, case-insensitively.
    fn user_by_name(&self, name: &UserName) -> Option<UserRecord>;
    /// The users among `names` that exist, with their stored spelling.
    fn users_named(&self, names: Vec<UserName>) -> Vec<(UserId, UserName)>;
    /// A user by id.
    fn user_by_id(&self, id: UserId) -> Option<UserRecord>;
    /// Changes a profile; `None` if the user is gone.
    fn update_profile(&self, id: UserId, change: ProfileChange) -> Option<UserRecord>;
    /// Records that a user was seen now.
    fn touch_last_seen(&self, id: UserId) -> ();
    /// Sets a role; whether the user exists.
    fn set_role(&self, name: &UserName, role: Role) -> bool;
    /// Replaces a password hash; whether the user exists.
    fn set_password_hash(&self, name: &UserName, password_hash: String) -> bool;
    /// Deletes a user with their direct conversations; whether they existed.
    fn delete_user(&self, name: &UserName) -> bool;

    // Rooms.
    /// Creates a room if it does not exist; the record and whether it is new.
    fn create_room(&self, name: RoomName) -> (RoomRecord, bool);
    /// Creates a room unless `max_rooms` rooms exist.
    fn create_room_within(&self, name: RoomName, max_rooms: usize, creator: UserId) -> RoomCreation;
    /// Every listed room (not direct conversations).
    fn rooms(&self) -> Vec<RoomRecord>;
    /// Sets a room's topic; `None` if the room is gone.
    fn set_topic(&self, id: RoomId, topic: RoomTopic) -> Option<RoomRecord>;
    /// Whether a room holds any message.
    fn room_has_messages(&self, id: RoomId) -> bool;
    /// Deletes a room only if it holds no message; whether it did.
    fn delete_room_if_silent(&self, id: RoomId) -> bool;
    /// Deletes a room with its messages; whether it existed.
    fn delete_room(&self, id: RoomId) -> bool;

    // Direct conversations and blocks.
    /// Opens (or finds) the direct conversation of two users.
    fn open_direct(&self, one: (UserId, UserName), other: (UserId, UserName)) -> DirectRecord;
    /// A direct conversation by its room id.
    fn direct(&self, room: RoomId) -> Option<DirectRecord>;
    /// A user's direct conversations, newest activity first.
    fn directs_of(&self, user: UserId) -> Vec<DirectRecord>;
    /// `blocker` blocks `blocked`.
    fn block(&self, blocker: UserId, blocked: UserId) -> ();
    /// `blocker` unblocks `blocked`.
    fn unblock(&self, blocker: UserId, blocked: UserId) -> ();
    /// Whether `blocker` blocks `blocked`.
    fn blocks(&self, blocker: UserId, blocked: UserId) -> bool;
    /// Whom `blocker` blocks.
    fn blocked_by(&self, blocker: UserId) -> Vec<UserName>;

    // Each user's rooms and read markers.
    /// Adds a room to a user's rooms, read up to `read_upto`.
    fn remember_room(&self, user: UserId, room: RoomId, read_upto: MessageId) -> ();
    /// Takes a room off a user's rooms.
    fn forget_room(&self, user: UserId, room: RoomId) -> ();
    /// Moves a read marker forward; whether it moved.
    fn mark_read(&self, user: UserId, room: RoomId, upto: MessageId) -> bool;
    /// A user's read marker in a room.
    fn read_marker(&self, user: UserId, room: RoomId) -> Option<MessageId>;
    /// A user's rooms with their unread and mention counts.
    fn my_rooms(&self, user: UserId) -> Vec<(RoomName, MembershipRecord)>;
    /// A user's unread and mention counts in one room.
    fn room_counts(&self, user: UserId, room: RoomId) -> MembershipRecord;

    // Moderation.
    /// Appends to the moderation log.
    fn audit(&self, entry: AuditEntry) -> ();
    /// Bans a user and logs it, in one transaction.
    fn ban(&self, user: UserId, ban: BanRecord, entry: AuditEntry) -> ();
    /// Lifts a ban and logs it; whether there was one.
    fn unban(&self, user: UserId, entry: AuditEntry) -> bool;
    /// The ban in force on a user at `now`.
    fn active_ban(&self, user: UserId, now: Timestamp) -> Option<BanRecord>;
    /// A user with the ban in force on them at `now`.
    fn account_standing(&self, user: UserId, now: Timestamp) -> Option<(UserRecord, Option<BanRecord>)>;
    /// Bans stored or renewed at `after` (Unix ms) or later: (user, end,
    /// stored at).
    fn bans_since(&self, after: i64) -> Vec<(UserId, Option<Timestamp>, i64)>;
    /// A page of the moderation log, newest first, and whether more follow.
    fn moderation_log(&self, before: Option<i64>, limit: u32) -> (Vec<ModerationEntry>, bool);
    /// How many entries of one action the log holds.
    fn audit_count(&self, action: AuditAction) -> u64;

    // Sessions.
    /// Remembers a revoked token until it would have expired.
    fn revoke_token(&self, token: RevokedToken, now: i64) -> ();
    /// The revoked tokens that have not expired at `now`.
    fn revoked_tokens(&self, now: i64) -> Vec<RevokedToken>;
    /// The sequence number of the newest account deletion (0 when none).
    fn last_account_deletion(&self) -> i64;
    /// Account deletions after sequence number `after`, oldest first.
    fn account_deletions_after(&self, after: i64, limit: usize) -> Vec<AccountDeletion>;
}

/// The message log of the backend in use. See [`Store::log`].
#[derive(Debug, Clone, Copy)]
pub struct Log<'a>(LogOf<'a>);

#[derive(Debug, Clone, Copy)]
enum LogOf<'a> {
    Sqlite(&'a sqlite::MessageLog),
    Postgres(&'a postgres::MessageLog),
}

/// Calls the same method on whichever log is in use.
macro_rules! on_log {
    ($self:expr, $log:ident => $call:expr) => {
        match $self.0 {
            LogOf::Sqlite($log) => $call,
            LogOf::Postgres($log) => $call,
        }
    };
}

impl Log<'_> {
    /// Queues a message for the next group commit. `done` receives the
    /// stored message (or the failure) right after the commit, in id order,
    /// which is what lets the caller publish messages in exactly the order
    /// of their ids.
    pub async fn append<D>(self, message: NewMessage, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Appended, StoreError>) + Send + 'static,
    {
        on_log!(self, log => log.append(message, done).await)
    }

    /// Tells the cache that a room was just created: it has no messages, so
    /// memory answers for all of them.
    pub fn room_created(self, room: &RoomId) {
        on_log!(self, log => log.room_created(room))
    }

    /// Forgets a deleted room's cached messages.
    pub fn room_deleted(self, room: &RoomId) {
        on_log!(self, log => log.room_deleted(room))
    }

    /// Another node changed messages of `room` (edits, deletes,
    /// reactions): memory no longer answers for them.
    pub fn changed_elsewhere(self, room: &RoomId) {
        match self.0 {
            LogOf::Sqlite(_) => {}
            LogOf::Postgres(log) => log.changed_elsewhere(room),
        }
    }

    /// Runs `f` with the id up to which every message has been handed to
    /// the hub, while no message is being handed over: a room added to the
    /// hub inside `f` starts from there, with no message in between. (On
    /// SQLite, 0: there a room missing from the hub is one just created.)
    pub fn at_published<R>(self, f: impl FnOnce(MessageId) -> R) -> R {
        match self.0 {
            LogOf::Sqlite(_) => f(MessageId(0)),
            LogOf::Postgres(log) => log.at_published(f),
        }
    }

    /// The newest `limit` messages of `room` with `after < id <= upto`,
    /// oldest first, when memory holds all of them.
    pub fn recent(self, room: &RoomId, after: MessageId, upto: MessageId, limit: usize) -> Option<Vec<Message>> {
        on_log!(self, log => log.recent(room, after, upto, limit))
    }

    /// Up to `limit` messages of a room older than `before` (or the newest),
    /// oldest first, and whether older ones exist.
    pub async fn history(
        self,
        room: RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        on_log!(self, log => log.history(room, before, limit).await)
    }

    /// The newest `limit` messages of a room with `after < id <= upto`,
    /// oldest first.
    pub async fn range(
        self,
        room: RoomId,
        after: Option<MessageId>,
        upto: MessageId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        on_log!(self, log => log.range(room, after, upto, limit).await)
    }

    /// The highest message id ever assigned (0 when none).
    pub async fn last_message_id(self) -> Result<MessageId, StoreError> {
        on_log!(self, log => log.last_message_id().await)
    }

    /// Who wrote a message, and where; `None` if it does not exist (any
    /// more).
    pub async fn meta(self, id: MessageId) -> Result<Option<MessageMeta>, StoreError> {
        on_log!(self, log => log.meta(id).await)
    }

    /// Replaces the text of `id` if `author` wrote it. `done` runs in commit
    /// order, after the cache has the new text.
    pub async fn edit<D>(self, id: MessageId, author: UserId, text: MessageText, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Edited, StoreError>) + Send + 'static,
    {
        on_log!(self, log => log.edit(id, author, text, done).await)
    }

    /// Erases message `id`: its row, text, reactions, mentions and search
    /// entry, if `allowed` agrees once it is found. `done` runs in commit
    /// order.
    pub async fn delete<A, D>(self, id: MessageId, allowed: A, done: D) -> Result<(), StoreError>
    where
        A: FnOnce(&MessageMeta) -> Result<(), StoreError> + Send + 'static,
        D: FnOnce(Result<Removed, StoreError>) + Send + 'static,
    {
        on_log!(self, log => log.delete(id, allowed, done).await)
    }

    /// Adds (`add`) or removes a user's reaction. `done` runs in commit
    /// order and learns whether anything changed.
    pub async fn react<D>(
        self,
        id: MessageId,
        user: (UserId, UserName),
        emoji: Emoji,
        add: bool,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<ReactionOutcome, StoreError>) + Send + 'static,
    {
        on_log!(self, log => log.react(id, user, emoji, add, done).await)
    }

    /// Messages matching `query` with ids below `before`, newest first, in
    /// rooms anyone may join and `reader`'s own direct conversations (or
    /// only in `room`), and whether more follow.
    pub async fn search(
        self,
        query: SearchQuery,
        reader: UserId,
        room: Option<RoomId>,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        on_log!(self, log => log.search(query, reader, room, before, limit).await)
    }
}

fn now_millis() -> i64 {
    Timestamp::now().unix_millis()
}

#[cfg(test)]
pub(crate) mod test_support {
    pub(crate) use super::sqlite::log::test_support::append;
    use super::*;

    pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

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
