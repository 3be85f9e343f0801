//! The message log on PostgreSQL: the same operations as SQLite's, built
//! for several nodes writing one database.
//!
//! - [`writer`]: group commit on a connection of its own, ids from the
//!   locked counter row.
//! - [`sequencer`]: hands every node's messages out exactly once, in id
//!   order, filling holes from PostgreSQL.
//! - [`reads`]: history, ranges, search, missed messages.
//!
//! Edits, deletes and reactions are rarer and rate limited: each is one
//! transaction on a pooled connection, with the message's row locked.

mod reads;
mod sequencer;
mod writer;

use std::{collections::HashMap, sync::Arc, time::Duration};

use chat_api::{Emoji, Message, MessageId, MessageText, RoomId, SearchQuery, Timestamp, UserId, UserName};
use deadpool_postgres::Pool;
use parking_lot::Mutex;
use tokio::sync::mpsc;

pub use sequencer::RemoteCommits;

use self::{sequencer::Recent, writer::Job};
use crate::store::{
    Appended, Edited, MessageMeta, NewMessage, ReactionOutcome, Removed, StoreError,
    sqlite::log::{
        messages::{MAX_EMOJI_PER_MESSAGE, MAX_REACTIONS_PER_USER},
        recent::{self, RecentMessages},
    },
};

/// Sends that may wait for the writer before `append` itself waits.
const QUEUE: usize = 16_384;

/// The message log. See the module docs.
#[derive(Debug)]
pub(in crate::store) struct MessageLog {
    pool: Pool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    sequencer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    remote: Arc<RemoteCommits>,
    recent: Recent,
    /// Every message up to here has been handed out on this node.
    released: sequencer::Released,
    /// Messages stored before this node started; a room without cache
    /// entry is complete only after it.
    started_after: MessageId,
    /// How long PostgreSQL may take to answer.
    timeout: Duration,
}

impl MessageLog {
    /// Starts the writer (on its own connection, configured by `config`)
    /// and the sequencer.
    pub(super) async fn start(
        config: tokio_postgres::Config,
        pool: Pool,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let started_after = {
            let client = super::client_from(&pool).await?;
            reads::last_message_id(&client).await?
        };
        let recent: Recent = Arc::new(Mutex::new(HashMap::new()));
        let released = Arc::new(Mutex::new(started_after));
        let (remote, sequencer) =
            sequencer::start(pool.clone(), Arc::clone(&recent), Arc::clone(&released), started_after);
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(writer::run(config, timeout, rx, Arc::clone(&remote)));
        Ok(Self {
            pool,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            sequencer: Mutex::new(Some(sequencer)),
            remote,
            recent,
            released,
            started_after: MessageId(started_after),
            timeout,
        })
    }

    pub(super) fn remote_commits(&self) -> &RemoteCommits {
        &self.remote
    }

    /// Commits what is queued, then stops the writer and the sequencer.
    pub(super) async fn close(&self) {
        drop(self.jobs.lock().take());
        let writer = self.writer.lock().take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        // Let the sequencer hand out the last commits, then stop it.
        let (drained, wait) = tokio::sync::oneshot::channel();
        self.remote.send(sequencer::Input::Drain(drained));
        let _ = tokio::time::timeout(self.timeout, wait).await;
        let sequencer = self.sequencer.lock().take();
        if let Some(sequencer) = sequencer {
            sequencer.abort();
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        super::client_from(&self.pool).await
    }

    pub(in crate::store) async fn append<D>(&self, message: NewMessage, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Appended, StoreError>) + Send + 'static,
    {
        let jobs = self.jobs.lock().clone().ok_or(StoreError::Closed)?;
        jobs.send(Job { message, done: Box::new(done) }).await.map_err(|_| StoreError::Closed)
    }

    pub(in crate::store) fn room_created(&self, room: &RoomId) {
        self.recent.lock().insert(room.clone(), RecentMessages::new(MessageId(0)));
    }

    pub(in crate::store) fn room_deleted(&self, room: &RoomId) {
        self.recent.lock().remove(room);
    }

    /// Forgets what memory holds of a room whose messages another node
    /// changed (edited, deleted, reacted to): joins read them from
    /// PostgreSQL until new messages fill the cache again.
    pub(in crate::store) fn changed_elsewhere(&self, room: &RoomId) {
        let released = MessageId(*self.released.lock());
        self.recent.lock().insert(room.clone(), RecentMessages::new(released));
    }

    /// Runs `f` with the last id handed out, while none is being handed
    /// out.
    pub(in crate::store) fn at_published<R>(&self, f: impl FnOnce(MessageId) -> R) -> R {
        let released = self.released.lock();
        f(MessageId(*released))
    }

    pub(in crate::store) fn recent(
        &self,
        room: &RoomId,
        after: MessageId,
        upto: MessageId,
        limit: usize,
    ) -> Option<Vec<Message>> {
        recent::newest_in(&self.recent.lock(), room, self.started_after, (after, upto, limit))
    }

    pub(in crate::store) async fn history(
        &self,
        room: RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        reads::history(&self.client().await?, &room, before, limit).await
    }

    pub(in crate::store) async fn range(
        &self,
        room: RoomId,
        after: Option<MessageId>,
        upto: MessageId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        reads::range(&self.client().await?, &room, after, upto, limit).await
    }

    pub(in crate::store) async fn last_message_id(&self) -> Result<MessageId, StoreError> {
        Ok(MessageId(reads::last_message_id(&self.client().await?).await?))
    }

    pub(in crate::store) async fn meta(&self, id: MessageId) -> Result<Option<MessageMeta>, StoreError> {
        reads::meta(&self.client().await?, id, false).await
    }

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
        let outcome = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let meta = reads::meta(&tx, id, true).await?.ok_or(StoreError::NoSuchMessage)?;
            if meta.user_id != author {
                return Err(StoreError::NotAllowed("only its author may edit a message".to_owned()));
            }
            let at = Timestamp::now();
            tx.execute(
                "UPDATE messages SET text = $2, edited_at = $3 WHERE id = $1",
                &[&id.0, &text.as_str(), &at.unix_millis()],
            )
            .await?;
            tx.commit().await?;
            Ok(Edited { message_id: id, room_id: meta.room_id, text, edited_at: at })
        }
        .await;
        if let Ok(edit) = &outcome
            && let Some(cache) = self.recent.lock().get_mut(&edit.room_id)
        {
            cache.update(edit.message_id, |m| {
                m.text = edit.text.clone();
                m.edited_at = Some(edit.edited_at);
            });
        }
        done(outcome);
        Ok(())
    }

    pub(in crate::store) async fn delete<A, D>(&self, id: MessageId, allowed: A, done: D) -> Result<(), StoreError>
    where
        A: FnOnce(&MessageMeta) -> Result<(), StoreError> + Send + 'static,
        D: FnOnce(Result<Removed, StoreError>) + Send + 'static,
    {
        let outcome = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let meta = reads::meta(&tx, id, true).await?.ok_or(StoreError::NoSuchMessage)?;
            allowed(&meta)?;
            tx.execute("DELETE FROM reactions WHERE message_id = $1", &[&id.0]).await?;
            tx.execute("DELETE FROM mentions WHERE message_id = $1", &[&id.0]).await?;
            // The id is never handed out again: the counter only grows.
            tx.execute("DELETE FROM messages WHERE id = $1", &[&id.0]).await?;
            tx.commit().await?;
            Ok(Removed { meta })
        }
        .await;
        if let Ok(gone) = &outcome
            && let Some(cache) = self.recent.lock().get_mut(&gone.meta.room_id)
        {
            cache.remove(id);
        }
        done(outcome);
        Ok(())
    }

    pub(in crate::store) async fn react<D>(
        &self,
        id: MessageId,
        (user, username): (UserId, UserName),
        emoji: Emoji,
        add: bool,
        done: D,
    ) -> Result<(), StoreError>
    where
        D: FnOnce(Result<ReactionOutcome, StoreError>) + Send + 'static,
    {
        let outcome = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // The row lock makes the limits below hold against concurrent
            // reactions from any node.
            let meta = reads::meta(&tx, id, true).await?.ok_or(StoreError::NoSuchMessage)?;
            let changed = if add {
                let before = reads::reactions(&tx, id).await?;
                let mine = before.iter().filter(|r| r.usernames.contains(&username)).count();
                let known = before.iter().any(|r| r.emoji == emoji);
                if !known && before.len() >= MAX_EMOJI_PER_MESSAGE {
                    return Err(StoreError::Limit(format!(
                        "a message may carry at most {MAX_EMOJI_PER_MESSAGE} different reactions"
                    )));
                }
                let already = before.iter().any(|r| r.emoji == emoji && r.usernames.contains(&username));
                if !already && mine >= MAX_REACTIONS_PER_USER {
                    return Err(StoreError::Limit(format!(
                        "you may put at most {MAX_REACTIONS_PER_USER} reactions on one message"
                    )));
                }
                tx.execute(
                    "INSERT INTO reactions (message_id, user_id, username, emoji) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
                    &[&id.0, &user.0, &username.as_str(), &emoji.as_str()],
                )
                .await?
                    > 0
            } else {
                tx.execute(
                    "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                    &[&id.0, &user.0, &emoji.as_str()],
                )
                .await?
                    > 0
            };
            let reactions = reads::reactions(&tx, id).await?;
            tx.commit().await?;
            Ok(ReactionOutcome { changed, meta, reactions })
        }
        .await;
        if let Ok(ReactionOutcome { changed: true, meta, reactions }) = &outcome
            && let Some(cache) = self.recent.lock().get_mut(&meta.room_id)
        {
            cache.update(id, |m| m.reactions.clone_from(reactions));
        }
        done(outcome);
        Ok(())
    }

    pub(in crate::store) async fn search(
        &self,
        query: SearchQuery,
        reader: UserId,
        room: Option<RoomId>,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        // The index is part of the row: a search sees every committed message.
        reads::search(&self.client().await?, &query, reader, room.as_ref(), before, limit).await
    }
}
