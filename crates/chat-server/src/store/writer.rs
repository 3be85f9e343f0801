//! The writer thread and group commit.
//!
//! Jobs queue on a bounded channel. The thread takes everything that is
//! waiting (up to [`MAX_BATCH`]), runs each job inside its own savepoint of
//! one transaction, commits once, and only then tells each job how it went,
//! in queue order. A job that fails rolls back its savepoint alone; a commit
//! that fails fails the whole batch, and nothing of it is reported stored.

use std::thread::JoinHandle;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Most jobs in one transaction; bounds the latency of the first job.
const MAX_BATCH: usize = 512;

/// Jobs waiting for the writer. When full, submitters wait (back-pressure)
/// rather than queue without bound.
const QUEUE_CAPACITY: usize = 8192;

/// A unit of work for the writer thread.
pub(super) trait Job: Send {
    /// Runs the job's statements. Returns whether they succeeded.
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Reports the outcome once the batch's commit is known.
    fn finish(self: Box<Self>, commit: Result<(), StoreError>);
}

struct FnJob<T, W, D> {
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
    pub(super) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let thread = std::thread::Builder::new().name("chat-store-writer".to_owned()).spawn(move || run(conn, rx))?;
        Ok(Self { queue: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues `work`; `done` runs on the writer thread after the commit, in
    /// queue order. Use it for effects that must follow the commit in the
    /// same order as the writes (publishing messages).
    pub(super) async fn submit<T, W, D>(&self, work: W, done: D) -> Result<(), StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        D: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let Some(queue) = self.queue.lock().clone() else {
            return Err(StoreError::Closed);
        };
        let job: Box<dyn Job> = Box::new(FnJob { work: Some(work), outcome: None, done });
        queue.send(job).await.map_err(|_| StoreError::Closed)
    }

    /// Queues `work` and waits until it is committed.
    pub(super) async fn write<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(work, move |outcome| {
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

fn run(conn: Connection, mut queue: mpsc::Receiver<Box<dyn Job>>) {
    let commit_seconds = metrics::histogram!(crate::metrics::COMMIT_LATENCY);
    let batch_size = metrics::histogram!(crate::metrics::COMMIT_BATCH);
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = queue.blocking_recv() {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch_size.record(batch.len() as f64);
        let started = std::time::Instant::now();
        commit_batch(&conn, &mut batch);
        commit_seconds.record(started.elapsed().as_secs_f64());
    }
}

fn commit_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>) {
    let result = apply_all(conn, batch);
    if let Err(e) = &result {
        tracing::error!(error = %e, jobs = batch.len(), "storage commit failed");
        // Leaves the connection usable for the next batch; an error here
        // only means no transaction was open.
        let _ = conn.execute_batch("ROLLBACK");
    }
    for job in batch.drain(..) {
        let commit = match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::Commit(e.to_string())),
        };
        job.finish(commit);
    }
}

fn apply_all(conn: &Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        conn.execute_batch("SAVEPOINT job")?;
        if job.apply(conn) {
            conn.execute_batch("RELEASE job")?;
        } else {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
        }
    }
    conn.execute_batch("COMMIT")
}
