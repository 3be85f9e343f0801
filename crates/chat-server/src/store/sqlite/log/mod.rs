//! The message log: every write to the database, and everything about
//! messages.
//!
//! Inside, and private to it: the writer thread with group commit and the
//! completer that reports commits in order ([`writer`]), the checkpointer
//! ([`checkpointer`]), the filing of messages by room behind the writer
//! ([`room_index`]), the full-text index that follows the same way
//! ([`search`]), and each room's newest messages in memory ([`recent`]).
//! Outside sees [`MessageLog`]: append with a callback that runs in commit
//! order, history, range, edit, delete, reactions and search, plus a
//! generic transaction for the other tables. No caller needs to know
//! where the filing mark stands.

mod checkpointer;
pub(in crate::store) mod messages;
pub(in crate::store) mod recent;
mod room_index;
pub(in crate::store) mod search;
mod writer;

use std::{collections::HashMap, path::Path, sync::Arc};

use chat_api::{Emoji, Message, MessageId, MessageText, RoomId, SearchQuery, Timestamp, UserId, UserName};
use parking_lot::Mutex;
use rusqlite::Connection;

pub use self::messages::{Appended, Edited, MessageMeta, NewMessage, ReactionOutcome, Removed};
use self::{
    checkpointer::Checkpointer,
    recent::RecentMessages,
    writer::{Statements, Writer},
};
use super::{StoreError, open_connection, reader::ReadPool};

/// The message log. See the module docs.
#[derive(Debug)]
pub(in crate::store) struct MessageLog {
    writer: Writer,
    checkpointer: Checkpointer,
    reader: Arc<ReadPool>,
    /// Each room's newest messages, kept in commit order by the completer.
    recent: Arc<Mutex<HashMap<RoomId, RecentMessages>>>,
    /// Every message up to here was stored before this process started,
    /// so a room's cache without an entry is complete only after it.
    started_after: MessageId,
}

impl MessageLog {
    /// Starts the log on the migrated write connection `conn` of the
    /// database at `path`.
    pub(super) fn start(conn: Connection, path: &Path, reader: Arc<ReadPool>) -> Result<Self, StoreError> {
        conn.pragma_update(None, "wal_autocheckpoint", checkpointer::WRITER_BACKSTOP_PAGES)?;
        // Deleted text is overwritten with zeros, not left in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        let started_after = MessageId(messages::last_message_id(&conn)?);
        let checkpointer = Checkpointer::start(path)?;
        let writer = Writer::start(conn, checkpointer.signal())?;
        Ok(Self { writer, checkpointer, reader, recent: Arc::default(), started_after })
    }

    /// Finishes every queued write and stops the threads; the database file
    /// alone then holds everything.
    pub(super) async fn close(&self) {
        self.checkpointer.close().await;
        self.writer.close().await;
    }

    /// Runs `work` in the next group commit and waits until it is committed.
    pub(super) async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(work).await
    }

    /// Queues a message for the next group commit. `done` receives the
    /// stored message (or the failure) right after the commit, in id order,
    /// which is what lets the caller publish messages in exactly the order
    /// of their ids.
    pub(in crate::store) async fn append<D>(&self, message: NewMessage, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Appended, StoreError>) + Send + 'static,
    {
        // A plain message is one INSERT; a reply, a mention or a direct
        // message adds statements that must fail with it.
        let statements = if message.is_plain() { Statements::One } else { Statements::Several };
        let recent = Arc::clone(&self.recent);
        let started_after = self.started_after;
        self.writer
            .submit(
                statements,
                move |conn| messages::insert(conn, message),
                move |stored| {
                    if let Ok(appended) = &stored {
                        let message = &appended.message;
                        recent
                            .lock()
                            .entry(message.room_id.clone())
                            .or_insert_with(|| RecentMessages::new(started_after))
                            .push(message.clone());
                    }
                    done(stored);
                },
            )
            .await
    }

    /// Tells the cache that a room was just created: it has no messages, so
    /// memory answers for all of them.
    pub(in crate::store) fn room_created(&self, room: &RoomId) {
        self.recent.lock().insert(room.clone(), RecentMessages::new(MessageId(0)));
    }

    /// Forgets a deleted room's cached messages.
    pub(in crate::store) fn room_deleted(&self, room: &RoomId) {
        self.recent.lock().remove(room);
    }

    /// The newest `limit` messages of `room` with `after < id <= upto`,
    /// oldest first, when memory holds all of them.
    pub(in crate::store) fn recent(
        &self,
        room: &RoomId,
        after: MessageId,
        upto: MessageId,
        limit: usize,
    ) -> Option<Vec<Message>> {
        recent::newest_in(&self.recent.lock(), room, self.started_after, (after, upto, limit))
    }

    /// Up to `limit` messages of a room older than `before` (or the newest),
    /// oldest first, and whether older ones exist.
    pub(in crate::store) async fn history(
        &self,
        room: RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        self.reader.read(move |conn| messages::history(conn, &room, before, limit)).await
    }

    /// The newest `limit` messages of a room with `after < id <= upto`,
    /// oldest first.
    pub(in crate::store) async fn range(
        &self,
        room: RoomId,
        after: Option<MessageId>,
        upto: MessageId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.reader.read(move |conn| messages::range(conn, &room, after, upto, limit)).await
    }

    /// The highest message id ever assigned (0 when none).
    pub(in crate::store) async fn last_message_id(&self) -> Result<MessageId, StoreError> {
        self.reader.read(|conn| Ok(MessageId(messages::last_message_id(conn)?))).await
    }

    /// Who wrote a message, and where; `None` if it does not exist (any
    /// more).
    pub(in crate::store) async fn meta(&self, id: MessageId) -> Result<Option<MessageMeta>, StoreError> {
        self.reader.read(move |conn| messages::meta(conn, id)).await
    }

    /// Replaces the text of `id` if `author` wrote it. `done` runs in commit
    /// order, after the cache has the new text.
    pub(in crate::store) async fn edit<D>(
        &self,
        id: MessageId,
        author: UserId,
        text: MessageText,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Edited, StoreError>) + Send + 'static,
    {
        let recent = Arc::clone(&self.recent);
        self.writer
            .submit(
                Statements::Several,
                move |conn| messages::edit(conn, id, author, &text),
                move |edited| {
                    if let Ok(edit) = &edited
                        && let Some(cache) = recent.lock().get_mut(&edit.room_id)
                    {
                        cache.update(edit.message_id, |m| {
                            m.text = edit.text.clone();
                            m.edited_at = Some(edit.edited_at);
                        });
                    }
                    done(edited);
                },
            )
            .await
    }

    /// Erases message `id`: its row, text, reactions, mentions and search
    /// entry, if `allowed` agrees once it is found. `done` runs in commit
    /// order.
    pub(in crate::store) async fn delete<A, D>(&self, id: MessageId, allowed: A, done: D) -> Result<(), StoreError>
    where
        A: FnOnce(&MessageMeta) -> Result<(), StoreError> + Send + 'static,
        D: FnOnce(Result<Removed, StoreError>) + Send + 'static,
    {
        let recent = Arc::clone(&self.recent);
        self.writer
            .submit(
                Statements::Several,
                move |conn| messages::delete(conn, id, allowed),
                move |removed| {
                    if let Ok(gone) = &removed
                        && let Some(cache) = recent.lock().get_mut(&gone.meta.room_id)
                    {
                        cache.remove(id);
                    }
                    done(removed);
                },
            )
            .await
    }

    /// Adds (`add`) or removes a user's reaction. `done` runs in commit
    /// order and learns whether anything changed.
    pub(in crate::store) async fn react<D>(
        &self,
        id: MessageId,
        user: (UserId, UserName),
        emoji: Emoji,
        add: bool,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<ReactionOutcome, StoreError>) + Send + 'static,
    {
        let recent = Arc::clone(&self.recent);
        self.writer
            .submit(
                Statements::Several,
                move |conn| messages::react(conn, id, &user, &emoji, add),
                move |outcome| {
                    if let Ok(ReactionOutcome { changed: true, meta, reactions }) = &outcome
                        && let Some(cache) = recent.lock().get_mut(&meta.room_id)
                    {
                        cache.update(id, |m| m.reactions.clone_from(reactions));
                    }
                    done(outcome);
                },
            )
            .await
    }

    /// Messages matching `query` with ids below `before`, newest first, in
    /// rooms anyone may join and `reader`'s own direct conversations (or
    /// only in `room`), and whether more follow.
    pub(in crate::store) async fn search(
        &self,
        query: SearchQuery,
        reader: UserId,
        room: Option<RoomId>,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        // Whatever waits for the index goes in first: a search sees every
        // message stored before it.
        self.writer.write(search::catch_up).await?;
        self.reader.read(move |conn| search::find(conn, &query, reader, room.as_ref(), before, limit)).await
    }
}

/// Deletes every message of a room with its filing, search entries,
/// reactions and mentions, inside the caller's write.
pub(super) fn delete_room_messages(conn: &Connection, room: &RoomId) -> Result<(), StoreError> {
    messages::delete_room(conn, room)
}

/// Whether a room holds any message, inside a read or write.
pub(super) fn room_has_messages(conn: &Connection, room: &RoomId) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached(room_index::ROOM_HAS_MESSAGES)?.query_row([room.as_str()], |r| r.get(0))?)
}

/// The newest message id of a room, filed or not, inside a read.
pub(super) fn room_last_message(conn: &Connection, room: &RoomId) -> Result<Option<MessageId>, StoreError> {
    Ok(messages::ids_before(conn, room, i64::MAX, 1)?.first().copied().map(MessageId))
}

/// How many messages of `room` after `after` were not written by `user`,
/// counting at most `cap`, inside a read.
pub(super) fn count_unread(
    conn: &Connection,
    room: &RoomId,
    after: MessageId,
    user: UserId,
    cap: u64,
) -> Result<u64, StoreError> {
    messages::count_after(conn, room, after, user, cap)
}

/// When the log's timestamps are taken.
pub(super) fn now() -> Timestamp {
    Timestamp::now()
}

#[cfg(test)]
pub(crate) mod test_support {
    use chat_api::{MessageText, RoomId, UserId, UserName};
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::Store;

    /// A plain message from user 1 (alice).
    pub(crate) fn plain(room: &str, text: &str) -> NewMessage {
        NewMessage::plain(
            RoomId::parse(room).unwrap(),
            UserId(1),
            UserName::parse("alice").unwrap(),
            MessageText::parse(text).unwrap(),
        )
    }

    /// Stores one message from user 1 (alice) and waits for its commit.
    pub(crate) async fn append(store: &Store, room: &str, text: &str) -> Result<Message, StoreError> {
        let (tx, rx) = oneshot::channel();
        store
            .log()
            .append(plain(room, text), move |r| {
                let _ = tx.send(r.map(|a| a.message));
            })
            .await?;
        rx.await.unwrap()
    }
}
