//! The checkpointer thread: copies committed pages from the WAL back into
//! the database file, beside the writer instead of inside its commits.
//!
//! SQLite's own auto-checkpoint runs in the commit that crosses its
//! threshold, so every send queued behind that commit waits while up to a
//! thousand pages are copied and the database file is fsynced. Here a
//! thread with a connection of its own does that work with PASSIVE
//! checkpoints, which never wait for (or block) the writer or readers.
//!
//! It checkpoints at most once per [`PAUSE`] after a commit: pages changed
//! by many commits meanwhile are copied once. The writer keeps a high
//! auto-checkpoint threshold as a backstop ([`WRITER_BACKSTOP_PAGES`]):
//! the WAL only starts over from its beginning when a checkpoint has
//! caught up at the moment a transaction begins, which under non-stop
//! writes only the writer's own checkpoint guarantees.

use std::{
    path::Path,
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;

use super::{StoreError, open_connection};

/// Least time between two checkpoints.
const PAUSE: Duration = Duration::from_millis(100);

/// WAL pages after which the writer checkpoints in its own commit, should
/// this thread fall behind (about 40 MiB with 4 KiB pages).
pub(super) const WRITER_BACKSTOP_PAGES: u32 = 10_000;

/// Tells the checkpointer that commits happened. Cheap: the writer calls
/// it after every commit.
#[derive(Debug, Clone)]
pub(super) struct CommitSignal(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    committed: bool,
    closing: bool,
}

impl CommitSignal {
    pub(super) fn committed(&self) {
        let mut state = self.0.state.lock();
        if !state.committed {
            state.committed = true;
            self.0.changed.notify_one();
        }
    }
}

#[derive(Debug)]
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = open_connection(path)?;
        // This connection never writes; its own threshold would never fire.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let shared = Arc::new(Shared::default());
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("chat-store-checkpointer".to_owned())
            .spawn(move || run(&conn, &for_thread))?;
        Ok(Self { shared, thread: Mutex::new(Some(thread)) })
    }

    pub(super) fn signal(&self) -> CommitSignal {
        CommitSignal(Arc::clone(&self.shared))
    }

    /// Stops the thread after the checkpoint it may be running, and waits
    /// for it. SQLite checkpoints whatever is left when the last connection
    /// closes.
    pub(super) async fn close(&self) {
        self.stop();
        let thread = self.thread.lock().take();
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("storage checkpointer thread ended abnormally");
            }
        }
    }

    fn stop(&self) {
        self.shared.state.lock().closing = true;
        self.shared.changed.notify_one();
    }
}

impl Drop for Checkpointer {
    /// A store dropped without [`Checkpointer::close`] (tests, errors at
    /// start-up) still ends the thread.
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut state = shared.state.lock();
            while !state.committed && !state.closing {
                shared.changed.wait(&mut state);
            }
            if state.closing {
                return;
            }
            state.committed = false;
        }
        // PASSIVE copies what no reader still needs and returns; "busy"
        // (another checkpoint running) is not an error.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint failed; the writer's own will catch up");
        }
        // Commits during the pause only mark that another checkpoint is due.
        let resume = Instant::now() + PAUSE;
        let mut state = shared.state.lock();
        while !state.closing && !shared.changed.wait_until(&mut state, resume).timed_out() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Size of the database file itself, which only checkpoints grow.
    fn database_bytes(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len()
    }

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        let writer = open_connection(&path).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..50 {
            writer.execute("INSERT INTO t VALUES (zeroblob(8000))", []).unwrap();
        }
        let before = database_bytes(&path);
        assert!(before < 400_000, "nothing was checkpointed yet, but the file holds {before} bytes");

        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.signal().committed();
        let deadline = Instant::now() + Duration::from_secs(10);
        while database_bytes(&path) < 400_000 {
            assert!(Instant::now() < deadline, "no checkpoint within 10 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        checkpointer.close().await;
        assert!(checkpointer.thread.lock().is_none());
    }

    #[tokio::test]
    async fn close_ends_an_idle_thread() {
        let dir = tempfile::tempdir().unwrap();
        let checkpointer = Checkpointer::start(&dir.path().join("test.db")).unwrap();
        checkpointer.close().await;
        assert!(checkpointer.thread.lock().is_none());
    }
}
