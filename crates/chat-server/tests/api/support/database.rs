//! Which backend the suite runs on, and a database of its own for each
//! test server on the PostgreSQL pass.
//!
//! Without `CHAT_TEST_POSTGRES` every server keeps its data in SQLite in
//! its data directory. With it set to a PostgreSQL server's URL (no
//! database: `postgres://postgres@127.0.0.1:5432`), each server gets a
//! fresh database, named `chat_test_<run>_<pid>_<n>` so that parallel tests
//! and test binaries never share one, and dropped with the value that owns
//! it. `<run>` is `CHAT_TEST_RUN` when set (scripts/test.sh sets it and
//! drops whatever a crashed run left behind with that prefix).

use std::{
    io::Write as _,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use chat_server::config::{Secret, StorageBackend, StorageConfig};
use tokio_postgres::NoTls;

/// The PostgreSQL server to create test databases on.
pub const POSTGRES_VARIABLE: &str = "CHAT_TEST_POSTGRES";
/// The run id in database names.
pub const RUN_VARIABLE: &str = "CHAT_TEST_RUN";
/// A file to which skipped tests append a line each.
pub const SKIPPED_VARIABLE: &str = "CHAT_TEST_SKIPPED";

/// The PostgreSQL server's URL on the PostgreSQL pass; `None` on SQLite.
fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_VARIABLE)
        .ok()
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
}

/// Whether this is the PostgreSQL pass.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// On the PostgreSQL pass, reports that the calling test does not apply
/// there and why, and returns true: the caller then returns at once. The
/// line goes to the real stderr (past the test harness's capture) and to
/// the file `CHAT_TEST_SKIPPED` names, which scripts/test.sh lists.
pub fn skip_on_postgres(why: &str) -> bool {
    if !on_postgres() {
        return false;
    }
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let line = format!("skipped on postgres: {test}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os(SKIPPED_VARIABLE)
        && let Ok(mut file) = std::fs::File::options().create(true).append(true).open(path)
    {
        let _ = file.write_all(line.as_bytes());
    }
    true
}

/// A PostgreSQL database made for one test server; dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    /// A fresh, empty database on the PostgreSQL pass; `None` on SQLite.
    pub async fn create() -> Option<Self> {
        let server = postgres_server()?;
        let name = next_name();
        let admin = connect(&server, "postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {POSTGRES_VARIABLE}={server}: {e}"));
        Some(Self { server, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL, as `storage.postgres_url` takes it.
    pub fn url(&self) -> String {
        with_database(&self.server, &self.name)
    }

    /// Points `storage` at this database.
    pub fn configure(&self, storage: &mut StorageConfig) {
        storage.backend = StorageBackend::Postgres;
        storage.postgres_url = Some(Secret::new(self.url()));
    }

    /// The variables that point the server binary at this database.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("CHAT__STORAGE__BACKEND", "postgres".to_owned()), ("CHAT__STORAGE__POSTGRES_URL", self.url())]
    }
}

impl Drop for TestDatabase {
    /// Drops the database, ending whatever connections a server left open.
    /// On its own thread and runtime, as this may run inside a test's
    /// runtime (which cannot be blocked on) or while it unwinds; failure is
    /// only reported, since scripts/test.sh sweeps up leftovers.
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let (admin, connection) = tokio_postgres::connect(&with_database(&server, "postgres"), NoTls).await?;
                tokio::spawn(connection);
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop test database {}: the dropping thread panicked", self.name),
        }
    }
}

/// A connection to `database` on `server`; the test fails if there is none.
async fn connect(server: &str, database: &str) -> tokio_postgres::Client {
    let url = with_database(server, database);
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_VARIABLE}={server}: {e}"));
    tokio::spawn(connection);
    client
}

/// `server` (a URL without a database, perhaps with `?options`) with
/// `database` in it.
fn with_database(server: &str, database: &str) -> String {
    match server.split_once('?') {
        Some((base, query)) => format!("{}/{database}?{query}", base.trim_end_matches('/')),
        None => format!("{server}/{database}"),
    }
}

/// `chat_test_<run>_<pid>_<n>`: unique among parallel tests (`n`), test
/// binaries (`pid`) and runs (`run`).
fn next_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}{}_{n}", run_prefix(), std::process::id())
}

/// `chat_test_<run>_`, the prefix every database of this run starts with:
/// `CHAT_TEST_RUN` (letters, digits and `_`, at most 24), or the time the
/// first database was made.
fn run_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let run = std::env::var(RUN_VARIABLE)
            .ok()
            .map(|run| {
                let run = run.to_lowercase();
                run.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(24).collect::<String>()
            })
            .filter(|run| !run.is_empty())
            .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).to_string());
        format!("chat_test_{run}_")
    })
}
