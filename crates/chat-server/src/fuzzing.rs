//! A handle on frame dispatch for the fuzz targets (`fuzz/`), built only
//! with the `fuzzing` feature. Everything else in the server stays private
//! to the crate; this is the one door the fuzzers need: a real state over a
//! real store, one registered connection, and the exact path a text frame
//! takes after the socket.

use std::{collections::VecDeque, path::Path, sync::Arc};

use chat_api::{Role, UserName};
use jsonrpsee::Extensions;
use parking_lot::Mutex;

use crate::{
    app::AppState,
    auth::TokenId,
    config::{Config, InitialUser, Secret},
    hub::{Connection, Encoding, Identity, OutboxLimits},
};

/// Frames in, replies out, as one connection of an admin (`fuzzadmin`);
/// a plain user `victim` and the room `lobby` exist to be acted on.
pub struct DispatchHarness {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    ext: Extensions,
    conn: Arc<Connection>,
    sink: Mutex<VecDeque<axum::extract::ws::Utf8Bytes>>,
}

impl std::fmt::Debug for DispatchHarness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatchHarness").finish_non_exhaustive()
    }
}

impl DispatchHarness {
    /// A server state whose database lives in `data_dir`.
    pub fn new(data_dir: &Path) -> anyhow::Result<Self> {
        let mut config = Config::for_tests(data_dir);
        config.admin.demo_accounts = false;
        let user =
            |name: &str, role| InitialUser { username: name.into(), password: Secret::new("fuzz-password"), role };
        config.admin.users = vec![user("fuzzadmin", Role::Admin), user("victim", Role::User)];
        config.chat.default_rooms = vec!["lobby".parse()?];
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let (state, conn) = runtime.block_on(async {
            let state = AppState::build(config).await?;
            let admin = state
                .store
                .user_by_name(&UserName::parse("fuzzadmin")?)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the admin was not seeded"))?;
            let identity = Identity {
                user_id: admin.id,
                username: admin.username,
                token_expires_at: i64::MAX,
                token_id: TokenId::from_stored("fuzz".to_owned()),
            };
            let limits = OutboxLimits { frames: 1024, bytes: 8 * 1024 * 1024 };
            let conn = Connection::new(state.hub.next_conn_id(), identity, Encoding::JsonRpc, limits);
            state.hub.register(&conn);
            anyhow::Ok((state, conn))
        })?;
        let mut ext = Extensions::new();
        ext.insert(Arc::clone(&conn));
        Ok(Self { runtime, state, ext, conn, sink: Mutex::default() })
    }

    /// Handles one text frame; the reply, if the frame gets one. Whatever
    /// was queued for the connection is dropped, so that it never counts
    /// as too slow.
    pub fn handle(&self, frame: &str) -> Option<String> {
        let reply = self.runtime.block_on(self.state.dispatcher.handle(frame, &self.ext));
        let mut sink = self.sink.lock();
        while self.conn.outbox().take(&mut sink, 1024) > 0 {
            sink.clear();
        }
        reply
    }
}
