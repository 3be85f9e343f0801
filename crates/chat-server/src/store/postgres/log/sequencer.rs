//! Hands out every committed message exactly once, in id order, whichever
//! node committed it.
//!
//! Message ids are visible in PostgreSQL in order and without holes (see
//! the schema's `message_counter`), so "everything up to id n" is a fact a
//! node can check. The sequencer keeps `next`, the first id it has not
//! handed out, and takes messages from three places:
//!
//! - this node's writer, right after each commit (with the callback that
//!   answers the sender);
//! - other nodes, through [`RemoteCommits::committed_elsewhere`] (NATS in
//!   cluster mode: a fast doorbell that may lose, repeat or reorder);
//! - PostgreSQL itself, when a later id has arrived but `next` has not
//!   within [`GAP_GRACE`], and every [`RECHECK_EVERY`] in case a doorbell
//!   was lost with nothing after it.
//!
//! Whatever it takes is released strictly in id order: an id below `next`
//! is a repeat and dropped; an id above waits for the ones before it. Ids
//! with no row (deleted since) are skipped once PostgreSQL says so.
//!
//! One subtlety: a read of PostgreSQL may see this node's own commit before
//! the writer has handed it over, and only the writer holds the callback
//! that answers its sender. So the writer announces each batch's ids before
//! committing ([`Input::Expect`]); those ids are never taken from a read,
//! only from the writer (or dropped if its commit failed).

use std::{
    collections::{BTreeMap, HashMap},
    ops::RangeInclusive,
    sync::{Arc, OnceLock},
    time::Duration,
};

use chat_api::{MessageId, RoomId};
use deadpool_postgres::Pool;
use parking_lot::Mutex;
use tokio::{
    sync::mpsc,
    time::{Instant, sleep_until},
};

use super::reads;
use crate::store::{Appended, StoreError, sqlite::log::recent::RecentMessages};

/// How long a hole before a newer id may stay open before PostgreSQL is
/// asked for it. Doorbells from different nodes may arrive out of order by
/// about this much.
pub(super) const GAP_GRACE: Duration = Duration::from_millis(25);

/// How often PostgreSQL is asked whether anything was committed that no
/// doorbell announced (a lost NATS message, NATS down). This bounds how
/// late such a message can be.
pub(super) const RECHECK_EVERY: Duration = Duration::from_millis(500);

/// Answers a sender once its message is released.
pub(super) type Done = Box<dyn FnOnce(Result<Appended, StoreError>) + Send>;

/// Called with each batch this node commits (to tell other nodes).
type Announce = Box<dyn Fn(&[Appended]) + Send + Sync>;
/// Called with each message another node committed, in order.
type Deliver = Box<dyn Fn(Appended) + Send + Sync>;

pub(super) enum Input {
    /// The writer is about to commit these ids.
    Expect(RangeInclusive<i64>),
    /// The writer's commit of those ids failed (or its outcome is unknown).
    Abandon(RangeInclusive<i64>),
    /// The writer committed these.
    Local(Vec<(Appended, Done)>),
    /// Another node says it committed these.
    Remote(Vec<Appended>),
    /// Look in PostgreSQL now (NATS reconnected).
    Recheck,
    /// Say when nothing waits any more (the log is closing).
    Drain(tokio::sync::oneshot::Sender<()>),
}

/// Where this node's commits are announced to the other nodes, and where
/// theirs come in. The cluster layer sets both ends; on one node nothing
/// needs to.
pub struct RemoteCommits {
    inbox: mpsc::UnboundedSender<Input>,
    announce: OnceLock<Announce>,
    deliver: OnceLock<Deliver>,
}

impl std::fmt::Debug for RemoteCommits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCommits").finish_non_exhaustive()
    }
}

impl RemoteCommits {
    /// `announce` is called with every batch of messages this node commits,
    /// right after the commit.
    pub fn announce_with(&self, announce: impl Fn(&[Appended]) + Send + Sync + 'static) {
        let _ = self.announce.set(Box::new(announce));
    }

    /// `deliver` is called with every message another node committed, once,
    /// in id order together with this node's own.
    pub fn deliver_with(&self, deliver: impl Fn(Appended) + Send + Sync + 'static) {
        let _ = self.deliver.set(Box::new(deliver));
    }

    /// Another node committed `batch`. Repeats and reordering are fine.
    pub fn committed_elsewhere(&self, batch: Vec<Appended>) {
        let _ = self.inbox.send(Input::Remote(batch));
    }

    /// Looks in PostgreSQL for commits nobody announced (after NATS was
    /// away).
    pub fn recheck(&self) {
        let _ = self.inbox.send(Input::Recheck);
    }

    pub(super) fn announce(&self, batch: &[Appended]) {
        if let Some(announce) = self.announce.get() {
            announce(batch);
        }
    }

    pub(super) fn send(&self, input: Input) {
        let _ = self.inbox.send(input);
    }
}

/// The last id handed out; locked while one is.
pub(super) type Released = Arc<Mutex<i64>>;

/// Each room's newest messages, shared with the log's readers.
pub(super) type Recent = Arc<Mutex<HashMap<RoomId, RecentMessages>>>;

/// Starts the sequencer after the last id committed before this node
/// started (`started_after`).
pub(super) fn start(
    pool: Pool,
    recent: Recent,
    released: Released,
    started_after: i64,
) -> (Arc<RemoteCommits>, tokio::task::JoinHandle<()>) {
    *released.lock() = started_after;
    let (tx, rx) = mpsc::unbounded_channel();
    let remote = Arc::new(RemoteCommits { inbox: tx, announce: OnceLock::new(), deliver: OnceLock::new() });
    let sequencer = Sequencer {
        pool,
        recent,
        remote: Arc::clone(&remote),
        next: started_after + 1,
        released: Arc::clone(&released),
        started_after,
        waiting: BTreeMap::new(),
        expected: Vec::new(),
        hole_since: None,
        drains: Vec::new(),
    };
    let task = tokio::spawn(sequencer.run(rx));
    (remote, task)
}

/// A message waiting for the ones before it.
enum Waiting {
    Local(Appended, Done),
    Remote(Appended),
}

struct Sequencer {
    pool: Pool,
    recent: Recent,
    remote: Arc<RemoteCommits>,
    /// The first id not handed out yet.
    next: i64,
    /// `next - 1`, shared; held while a message is handed out.
    released: Released,
    /// A room without cache entry had no message from here to `next`.
    started_after: i64,
    waiting: BTreeMap<i64, Waiting>,
    /// Ids this node's writer is committing.
    expected: Vec<RangeInclusive<i64>>,
    /// Since when a newer id has waited for `next`.
    hole_since: Option<Instant>,
    /// Told once nothing waits.
    drains: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Sequencer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Input>) {
        let mut recheck_at = Instant::now() + RECHECK_EVERY;
        loop {
            let wake = match self.hole_since {
                Some(since) => (since + GAP_GRACE).min(recheck_at),
                None => recheck_at,
            };
            tokio::select! {
                input = rx.recv() => match input {
                    Some(Input::Recheck) => self.fill(&mut rx).await,
                    Some(input) => self.take(input),
                    // The log closed; the writer has handed over all it will.
                    None => break,
                },
                () = sleep_until(wake) => {
                    let due = Instant::now() >= recheck_at;
                    if due {
                        recheck_at = Instant::now() + RECHECK_EVERY;
                    }
                    let hole = self.hole_since.is_some_and(|since| since + GAP_GRACE <= Instant::now());
                    if due || hole {
                        self.fill(&mut rx).await;
                    }
                }
            }
            self.take_queued(&mut rx);
            self.release();
        }
    }

    /// Takes every input already queued, without waiting.
    fn take_queued(&mut self, rx: &mut mpsc::UnboundedReceiver<Input>) {
        while let Ok(input) = rx.try_recv() {
            self.take(input);
        }
    }

    fn take(&mut self, input: Input) {
        match input {
            Input::Expect(ids) => self.expected.push(ids),
            Input::Abandon(ids) => self.expected.retain(|e| *e != ids),
            Input::Local(batch) => {
                if let (Some((first, _)), Some((last, _))) = (batch.first(), batch.last()) {
                    let ids = first.message.message_id.0..=last.message.message_id.0;
                    self.expected.retain(|e| *e != ids);
                }
                for (appended, done) in batch {
                    let id = appended.message.message_id.0;
                    if id < self.next {
                        // Cannot happen (a read never takes an expected id);
                        // if it did, the sender must still be answered.
                        tracing::error!(id, "a message of this node's was handed out before its commit was reported");
                        done(Ok(appended));
                    } else {
                        self.waiting.insert(id, Waiting::Local(appended, done));
                    }
                }
            }
            Input::Remote(batch) => {
                for appended in batch {
                    let id = appended.message.message_id.0;
                    if id >= self.next && !self.is_expected(id) {
                        self.waiting.entry(id).or_insert(Waiting::Remote(appended));
                    }
                }
            }
            Input::Drain(tx) => self.drains.push(tx),
            Input::Recheck => {}
        }
    }

    fn is_expected(&self, id: i64) -> bool {
        self.expected.iter().any(|ids| ids.contains(&id))
    }

    /// Hands out everything that is next in line.
    fn release(&mut self) {
        while let Some(entry) = self.waiting.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let waiting = entry.remove();
            // Held until the message is handed out: a room added to the hub
            // meanwhile (see `MessageLog::at_published`) starts either
            // before this message or after it, never in between.
            let released = Arc::clone(&self.released);
            let mut released = released.lock();
            *released = self.next;
            self.next += 1;
            match waiting {
                Waiting::Local(appended, done) => {
                    self.cache(&appended);
                    done(Ok(appended));
                }
                Waiting::Remote(appended) => {
                    self.cache(&appended);
                    if let Some(deliver) = self.remote.deliver.get() {
                        deliver(appended);
                    }
                }
            }
        }
        if self.waiting.is_empty() {
            for drained in self.drains.drain(..) {
                let _ = drained.send(());
            }
        }
        self.hole_since = match (self.waiting.is_empty(), self.hole_since) {
            (true, _) => None,
            (false, Some(since)) => Some(since),
            (false, None) => Some(Instant::now()),
        };
    }

    /// Skips an id that has no row (deleted since).
    fn skip(&mut self) {
        *self.released.lock() = self.next;
        self.next += 1;
    }

    fn cache(&self, appended: &Appended) {
        let message = &appended.message;
        self.recent
            .lock()
            .entry(message.room_id.clone())
            .or_insert_with(|| RecentMessages::new(MessageId(self.started_after)))
            .push(message.clone());
    }

    /// Reads from PostgreSQL what was committed from `next` on and is not
    /// this node's own commit in flight, and skips ids that have no row.
    async fn fill(&mut self, rx: &mut mpsc::UnboundedReceiver<Input>) {
        let result = async {
            let client = self.pool.get().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let last = reads::last_message_id(&client).await?;
            if last < self.next {
                return Ok(None);
            }
            // Stop before the first id this node's writer is committing:
            // only the writer may hand those out.
            let upto = self
                .expected
                .iter()
                .map(|ids| *ids.start() - 1)
                .filter(|end| *end >= self.next - 1)
                .min()
                .map_or(last, |end| end.min(last));
            if upto < self.next {
                return Ok(None);
            }
            let found = reads::committed_between(&client, self.next - 1, upto).await?;
            Ok::<_, StoreError>(Some((found, upto)))
        }
        .await;
        // A row this read found may be this node's own commit, announced
        // (`Expect`) before it committed and so queued by now: take what is
        // queued first, or the message would go out here as another node's
        // and again when the writer hands it over.
        self.take_queued(rx);
        match result {
            Ok(Some((found, upto))) => {
                for appended in found {
                    let id = appended.message.message_id.0;
                    if id >= self.next && !self.is_expected(id) {
                        self.waiting.entry(id).or_insert(Waiting::Remote(appended));
                    }
                }
                // Ids up to `upto` without a row were deleted: skip them.
                self.release();
                while self.next <= upto && !self.waiting.contains_key(&self.next) && !self.is_expected(self.next) {
                    self.skip();
                    self.release();
                }
                if self.next > upto {
                    tracing::debug!(upto, "caught up from PostgreSQL");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read missed messages from PostgreSQL; retrying"),
        }
    }
}
