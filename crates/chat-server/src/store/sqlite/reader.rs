//! A small pool of read connections used on the blocking thread pool.

use std::{path::PathBuf, sync::Arc};

use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::StoreError;

/// Reads running at once. SQLite readers in WAL mode do not block each
/// other; this only bounds threads and open files.
const READERS: usize = 4;

#[derive(Debug)]
pub(super) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Semaphore,
}

impl ReadPool {
    pub(super) fn new(path: PathBuf) -> Self {
        Self { path, idle: Arc::default(), permits: Semaphore::new(READERS) }
    }

    /// Runs `query` on a read connection off the async workers.
    pub(super) async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| StoreError::Closed)?;
        let idle = Arc::clone(&self.idle);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match idle.lock().pop() {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = query(&conn);
            idle.lock().push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

fn open_reader(path: &std::path::Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
    Ok(conn)
}
