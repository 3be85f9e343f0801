//! The PostgreSQL backend: one database that several nodes share.
//!
//! A pool of connections serves reads and the other tables' writes. The
//! message log ([`log`]) has its own connection and commits messages in
//! groups, with `synchronous_commit = on`, so a send is answered only once
//! PostgreSQL has it on disk. Message ids come out of one counter row
//! whose lock each message commit holds, which makes them visible in
//! order and without holes; that is what lets every node deliver each
//! room's messages exactly once and in order (see [`log`]).
//!
//! Files: [`schema`] (migrations), [`log`] (messages), and one file per
//! table family, as in the SQLite backend: [`users`], [`rooms`],
//! [`direct`], [`memberships`], [`moderation`], [`sessions`].

mod direct;
pub(super) mod log;
mod memberships;
mod moderation;
mod rooms;
mod schema;
mod sessions;
#[cfg(test)]
pub(crate) mod test_support;
mod users;

use std::time::Duration;

use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

pub(super) use log::MessageLog;
pub use log::RemoteCommits;

use super::StoreError;
use crate::config::StorageConfig;

/// The PostgreSQL database the configuration names.
#[derive(Debug)]
pub(super) struct PgStore {
    pool: Pool,
    log: MessageLog,
}

impl PgStore {
    /// Connects, migrates the schema and starts the message log.
    pub(super) async fn connect(config: &StorageConfig) -> Result<Self, StoreError> {
        let url = config
            .postgres_url
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("storage.postgres_url is not set".to_owned()))?;
        let timeout = Duration::from_secs(config.postgres_timeout_secs);
        let mut pg: tokio_postgres::Config =
            url.expose().parse().map_err(|e| StoreError::Unavailable(format!("storage.postgres_url: {e}")))?;
        pg.connect_timeout(timeout);
        // Acknowledged means on PostgreSQL's disk, whatever the server's
        // own default says.
        pg.options("-c synchronous_commit=on");
        pg.application_name("bidirectional-chat");
        let manager =
            Manager::from_config(pg.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(config.postgres_pool_size - 1)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts { wait: Some(timeout), create: Some(timeout), recycle: Some(timeout) })
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut client = client_from(&pool).await?;
        schema::migrate(&mut client).await?;
        drop(client);
        let log = MessageLog::start(pg, pool.clone(), timeout).await?;
        Ok(Self { pool, log })
    }

    /// A pooled connection, or [`StoreError::Unavailable`] in time.
    pub(super) async fn client(&self) -> Result<Client, StoreError> {
        client_from(&self.pool).await
    }

    pub(super) fn log(&self) -> &MessageLog {
        &self.log
    }

    pub(super) fn remote_commits(&self) -> &RemoteCommits {
        self.log.remote_commits()
    }

    pub(super) async fn close(&self) {
        self.log.close().await;
        self.pool.close();
    }
}

async fn client_from(pool: &Pool) -> Result<Client, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    })
}
