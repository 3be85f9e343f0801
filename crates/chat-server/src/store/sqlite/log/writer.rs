//! The writer thread and group commit.
//!
//! Jobs queue on a bounded channel. The writer thread takes everything that
//! is waiting (up to [`MAX_BATCH`]), runs each job inside its own savepoint
//! of one transaction (a single-statement job needs none: SQLite makes each
//! statement atomic), and commits once. A job that fails rolls back alone;
//! a commit that fails fails the whole batch, and nothing of it is reported
//! stored.
//!
//! Each commit also files by room the messages that have waited long
//! enough ([`RoomIndex`]) and adds new messages to the full-text index
//! ([`SearchIndex`]), inside the same transaction.
//!
//! Committed batches go to a second thread, the completer, which tells each
//! job how it went, in queue order. The writer meanwhile starts the next
//! commit, so the fsync of one batch overlaps the fan-out of the previous.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Instant,
};

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{
    StoreError,
    checkpointer::CommitSignal,
    room_index::{Filing, RoomIndex},
    search::{INDEX_INTERVAL, SearchIndex},
};

/// Most jobs in one transaction; bounds the latency of the first job.
const MAX_BATCH: usize = 512;

/// Jobs waiting for the writer. When full, submitters wait (back-pressure)
/// rather than queue without bound.
const QUEUE_CAPACITY: usize = 8192;

/// Committed batches waiting for the completer. When it falls this far
/// behind, the writer waits (back-pressure) instead of buffering more.
const COMPLETION_BACKLOG: usize = 4;

/// How many statements a job runs, which decides whether it needs a
/// savepoint of its own to fail alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Statements {
    /// Exactly one statement that writes (SQLite makes it atomic).
    One,
    /// Several, or not known.
    Several,
}

/// A unit of work for the writer thread.
pub(super) trait Job: Send {
    /// Runs the job's statements. Returns whether they succeeded.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Whether the job runs several statements and so needs a savepoint to
    /// fail alone.
    fn needs_savepoint(&self) -> bool;
    /// Reports the outcome once the batch's commit is known.
    fn finish(self: Box<Self>, commit: Result<(), StoreError>);
}

struct FnJob<T, W, D> {
    single_statement: bool,
    work: Option<W>,
    outcome: Option<Result<T, StoreError>>,
    done: D,
}

impl<T, W, D> Job for FnJob<T, W, D>
where
    T: Send,
    W: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    D: FnOnce(Result<T, StoreError>) + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        let outcome = work(conn);
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn needs_savepoint(&self) -> bool {
        !self.single_statement
    }

    fn finish(self: Box<Self>, commit: Result<(), StoreError>) {
        let outcome = match commit {
            Ok(()) => self.outcome.unwrap_or(Err(StoreError::Closed)),
            Err(e) => Err(e),
        };
        (self.done)(outcome);
    }
}

#[derive(Debug)]
pub(super) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`; `commits` hears of every commit.
    pub(super) fn start(conn: Connection, commits: CommitSignal) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let index_behind = Arc::new(AtomicBool::new(false));
        let behind = Arc::clone(&index_behind);
        let thread = std::thread::Builder::new()
            .name("chat-store-writer".to_owned())
            .spawn(move || run(conn, rx, commits, &behind))?;
        let queue = tx.downgrade();
        std::thread::Builder::new()
            .name("chat-store-nudger".to_owned())
            .spawn(move || nudge_while_behind(&queue, &index_behind))?;
        Ok(Self { queue: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues `work`; `done` runs on the completer thread after the commit,
    /// in queue order. Use it for effects that must follow the commit in the
    /// same order as the writes (publishing messages).
    pub(super) async fn submit<T, W, D>(&self, statements: Statements, work: W, done: D) -> Result<(), StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        D: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let Some(queue) = self.queue.lock().clone() else {
            return Err(StoreError::Closed);
        };
        let single_statement = statements == Statements::One;
        let job: Box<dyn Job> = Box::new(FnJob { single_statement, work: Some(work), outcome: None, done });
        queue.send(job).await.map_err(|_| StoreError::Closed)
    }

    /// Queues `work` and waits until it is committed.
    pub(super) async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(Statements::Several, work, move |outcome| {
            // The caller may have gone away; the write stands regardless.
            let _ = tx.send(outcome);
        })
        .await?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops taking jobs, lets the thread finish the queued ones, and waits
    /// for it.
    pub(super) async fn close(&self) {
        drop(self.queue.lock().take());
        let thread = self.thread.lock().take();
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("storage writer thread ended abnormally");
            }
        }
    }
}

/// Lets the search index catch up when no writes come to carry it: while
/// the writer says the index is behind, queues an empty job every
/// [`INDEX_INTERVAL`], whose commit runs the index's next round. Ends once
/// the writer's queue is closed.
fn nudge_while_behind(queue: &mpsc::WeakSender<Box<dyn Job>>, behind: &AtomicBool) {
    loop {
        std::thread::sleep(INDEX_INTERVAL);
        let Some(queue) = queue.upgrade() else { return };
        if behind.swap(false, Ordering::AcqRel) {
            let nothing: Box<dyn Job> = Box::new(FnJob {
                single_statement: true,
                work: Some(|_: &Connection| Ok(())),
                outcome: None,
                done: |_: Result<(), StoreError>| {},
            });
            // A full queue means commits are coming anyway.
            let _ = queue.try_send(nothing);
        }
    }
}

type Completed = (Vec<Box<dyn Job>>, Result<(), String>);

fn run(conn: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>, commits: CommitSignal, index_behind: &AtomicBool) {
    let (completed, to_complete) = std::sync::mpsc::sync_channel::<Completed>(COMPLETION_BACKLOG);
    let completer = std::thread::Builder::new().name("chat-store-completer".to_owned()).spawn(move || {
        for (batch, result) in to_complete {
            for job in batch {
                job.finish(result.clone().map_err(StoreError::Commit));
            }
        }
    });
    let completer = match completer {
        Ok(thread) => thread,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the storage completer thread");
            return;
        }
    };

    let commit_seconds = metrics::histogram!(crate::metrics::COMMIT_LATENCY);
    let batch_size = metrics::histogram!(crate::metrics::COMMIT_BATCH);
    let mut room_index = RoomIndex::new();
    let mut search_index = SearchIndex::new();
    while let Some(job) = queue.blocking_recv() {
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_size.record(batch.len() as f64);
        let started = std::time::Instant::now();
        let result = commit_batch(&conn, &mut batch, &mut room_index, &mut search_index);
        index_behind.store(search_index.behind(), Ordering::Release);
        commit_seconds.record(started.elapsed().as_secs_f64());
        if result.is_ok() {
            commits.committed();
        }
        if completed.send((batch, result)).is_err() {
            break;
        }
    }
    drop(completed);
    if completer.join().is_err() {
        tracing::error!("storage completer thread panicked");
    }
    // Everything is written: file the last messages by room, so the next
    // start begins with nothing unfiled, then copy the WAL back and empty
    // it, so that the database file alone holds all of it (a copy of
    // chat.db taken while the server is stopped is whole).
    let filed = conn
        .execute_batch("BEGIN IMMEDIATE")
        .and_then(|()| room_index.read_within(&conn, Instant::now()))
        .and_then(|()| room_index.file_within(&conn, Filing::All, 0, Instant::now()))
        .and_then(|()| search_index.index_within(&conn, Filing::All, 0, Instant::now()))
        .and_then(|()| conn.execute_batch("COMMIT"));
    if let Err(e) = filed {
        tracing::warn!(error = %e, "filing the last messages by room failed; a commit after the next start files them");
        let _ = conn.execute_batch("ROLLBACK");
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "the final checkpoint failed; the WAL is replayed at the next start");
    }
}

fn commit_batch(
    conn: &Connection,
    batch: &mut [Box<dyn Job>],
    room_index: &mut RoomIndex,
    search_index: &mut SearchIndex,
) -> Result<(), String> {
    let result = apply_all(conn, batch, room_index, search_index);
    if let Err(e) = &result {
        tracing::error!(error = %e, jobs = batch.len(), "storage commit failed");
        // Its filing rolled back too.
        room_index.forget();
        // Leaves the connection usable for the next batch; an error here
        // only means no transaction was open.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result.map_err(|e| e.to_string())
}

fn apply_all(
    conn: &Connection,
    batch: &mut [Box<dyn Job>],
    room_index: &mut RoomIndex,
    search_index: &mut SearchIndex,
) -> rusqlite::Result<()> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    room_index.read_within(conn, Instant::now())?;
    for job in batch.iter_mut() {
        if !job.needs_savepoint() {
            // One statement: SQLite undoes a failed statement by itself.
            // Some failures (disk full, I/O) roll back the whole
            // transaction instead; then the batch has failed.
            if !job.apply(conn) && conn.is_autocommit() {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    Some("a failed statement rolled the transaction back".to_owned()),
                ));
            }
            continue;
        }
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        if job.apply(conn) {
            conn.prepare_cached("RELEASE job")?.execute([])?;
        } else {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            conn.prepare_cached("RELEASE job")?.execute([])?;
        }
    }
    let now = Instant::now();
    room_index.file_within(conn, Filing::Due, batch.len(), now)?;
    search_index.index_within(conn, Filing::Due, batch.len(), now)?;
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(())
}
