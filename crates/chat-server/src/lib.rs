//! The bidirectional-chat server.
//!
//! A tour of the modules, from the edge inwards:
//! - [`transport`]: the only code that knows HTTP, WebSocket and JSON-RPC:
//!   routes, the `/ws` upgrade, each connection's reader and writer, and
//!   frame dispatch to the `ChatApi` methods.
//! - [`service`]: the use cases (join, send, kick, register…), which check
//!   the rules, persist first and publish second.
//! - [`hub`]: live connections, rooms and fan-out of pre-serialized frames
//!   into bounded per-connection queues.
//! - [`store`]: SQLite with embedded migrations and group commit.
//! - [`auth`]: argon2id passwords, JWT tokens, the signing secret.
//! - [`domain`]: pure rules (permissions, ban expiry, default avatars).
//! - [`config`]: the typed configuration and its layered loading.
//! - [`operator`]: account maintenance from the command line.
//! - [`app`]: the state handle that ties them together; [`metrics`]: the
//!   counters behind `GET /metrics`.
//! - `fuzzing` (feature `fuzzing`): frame dispatch for the fuzz targets.
//!
//! Only `auth`, `config`, `logging`, `operator` and `store` are public:
//! the tests forge tokens and read the database directly.
//!
//! [`run`] serves on a bound listener until a shutdown future resolves;
//! `main` and the tests both call it.

// The crate's API: what `main`, the tests, the load generator and the
// operator tool use. Everything else is private to the crate.
pub mod auth;
pub mod config;
pub mod logging;
pub mod operator;
pub mod store;

pub(crate) mod app;
pub(crate) mod cluster;
pub(crate) mod domain;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub(crate) mod hub;
pub(crate) mod metrics;
pub(crate) mod service;
pub(crate) mod transport;

pub use service::seed::DEMO_ACCOUNTS;

use std::{future::Future, time::Duration};

use chat_api::CloseCode;
use tokio::net::TcpListener;

use crate::{app::AppState, config::Config};

/// How long shutdown waits for connections to send their close frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often idle rate-limit buckets are forgotten.
const LIMITS_MAINTENANCE: Duration = Duration::from_secs(60);

/// Serves on `listener` until `shutdown` resolves, then closes every
/// WebSocket with 1001, waits for them, and finishes pending database writes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::build(config).await?;
    let cluster = cluster::Cluster::join(&state.config, &state.store, &state.hub, &state.accounts).await?;
    if let Some(cluster) = &cluster {
        tracing::info!(node = cluster.node(), "cluster mode");
    }
    let router = transport::router(state.clone());
    tracing::info!(address = %listener.local_addr()?, "listening");

    let stopping = state.clone();
    let stop = async move {
        shutdown.await;
        tracing::info!("shutting down");
        stopping.shutting_down.cancel();
        stopping.hub.close_all(CloseCode::GoingAway, "server shutting down");
    };

    let limits = std::sync::Arc::clone(&state.limits);
    let maintenance = tokio::spawn(async move {
        let mut tick = tokio::time::interval(LIMITS_MAINTENANCE);
        loop {
            tick.tick().await;
            limits.forget_idle();
        }
    });

    let room_expiry = state.chat.room_expiry().map(tokio::spawn);
    let account_deletions = tokio::spawn(state.chat.account_deletions().await?);

    transport::serve::serve(listener, router, &state.config.server, stop).await;

    maintenance.abort();
    account_deletions.abort();
    if let Some(task) = room_expiry {
        task.abort();
    }
    state.tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, state.tasks.wait()).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    if let Some(mut cluster) = cluster {
        cluster.leave().await;
    }
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
