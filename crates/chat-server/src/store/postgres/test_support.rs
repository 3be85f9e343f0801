//! A brand-new PostgreSQL database per test, on the server the tests
//! share (`CHAT_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432`,
//! trust authentication).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use chat_api::{Avatar, Breed, CatColor, DisplayName, Expression, Role, RoomId, UserId, UserName};
use tokio_postgres::{Client, NoTls, types::ToSql};

use crate::{
    config::{Secret, StorageBackend, StorageConfig},
    store::{AuditAction, AuditEntry, NewUser, Store},
};

/// Where the test server is, without a database name.
fn server_url() -> String {
    std::env::var("CHAT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn database_url(name: &str) -> String {
    format!("{}/{name}", server_url())
}

/// A plain connection to database `name`, outside any store.
pub(crate) async fn connect(name: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(&database_url(name), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A name no other test, here or in another process, uses.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("chat_unit_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn config(name: &str) -> StorageConfig {
    StorageConfig {
        backend: StorageBackend::Postgres,
        postgres_url: Some(Secret::new(database_url(name))),
        // Tests run side by side on one server; each store keeps few
        // connections so that they all fit.
        postgres_pool_size: 5,
        ..StorageConfig::default()
    }
}

/// A store on a new, empty, migrated database, and the database's name.
pub(crate) async fn fresh_store() -> (Store, String) {
    let name = unique_name();
    // Only digits and underscores: safe to name in SQL as it is.
    connect("postgres").await.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
    let store = Store::connect(&config(&name), &std::env::temp_dir()).await.unwrap();
    (store, name)
}

/// Drops a database made by [`fresh_store`], closing whatever still uses it.
pub(crate) async fn drop_database(name: &str) {
    connect("postgres").await.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.unwrap();
}

/// A fresh database with a store on it, and plain SQL beside the store.
/// [`TestDb::finish`] drops the database; so does dropping this, if a test
/// fails first.
#[derive(Debug)]
pub(crate) struct TestDb {
    pub(crate) store: Arc<Store>,
    pub(crate) name: String,
    finished: bool,
}

impl TestDb {
    pub(crate) async fn new() -> Self {
        let (store, name) = fresh_store().await;
        Self { store: Arc::new(store), name, finished: false }
    }

    /// Stores of other "nodes" sharing this database.
    pub(crate) async fn more_stores(&self, n: usize) -> Vec<Store> {
        let mut stores = Vec::new();
        for _ in 0..n {
            stores.push(Store::connect(&config(&self.name), &std::env::temp_dir()).await.unwrap());
        }
        stores
    }

    /// Runs one statement; the rows it changed.
    pub(crate) async fn sql(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> u64 {
        connect(&self.name).await.execute(sql, params).await.unwrap()
    }

    /// The single BIGINT a query returns.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        connect(&self.name).await.query_one(sql, &[]).await.unwrap().get(0)
    }

    /// Stores a message behind the log's back, with an explicit id.
    pub(crate) async fn message(&self, id: i64, room: &RoomId, user: UserId, text: &str) {
        self.sql(
            "INSERT INTO messages (id, room_id, user_id, username, text, created_at) VALUES ($1, $2, $3, 'someone', $4, 0)",
            &[&id, &room.as_str(), &user.0, &text],
        )
        .await;
    }

    /// Waits until `n` sessions on this database wait for a lock.
    pub(crate) async fn wait_for_lock_waiters(&self, n: i64) {
        let client = connect(&self.name).await;
        for _ in 0..500 {
            let waiting: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
                    &[&self.name],
                )
                .await
                .unwrap()
                .get(0);
            if waiting >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{n} sessions never waited for a lock");
    }

    /// Closes the store and drops the database.
    pub(crate) async fn finish(mut self) {
        self.store.close().await;
        drop_database(&self.name).await;
        self.finished = true;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // A failed test: no runtime to await on while unwinding, so a
        // thread of its own drops the database.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(drop_database(&name))
        });
        let _ = dropped.join();
    }
}

/// An account to create, named `name`.
pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        username: UserName::parse(name).unwrap(),
        password_hash: "$argon2id$fake".to_owned(),
        role: Role::User,
        display_name: DisplayName::parse(name).unwrap(),
        avatar: Avatar { breed: Breed::Tabby, color: CatColor::Orange, expression: Expression::Happy },
    }
}

/// A ban of `target` by `actor`, as the moderation log records it.
pub(crate) fn audit_entry(actor_id: UserId, actor: &str, target: &str) -> AuditEntry {
    AuditEntry {
        actor_id,
        actor: UserName::parse(actor).unwrap(),
        action: AuditAction::Ban,
        target: target.to_owned(),
        reason: Some("spam".to_owned()),
        detail: None,
        room_id: None,
        until: None,
    }
}
