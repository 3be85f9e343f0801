//! The one explicit state handle, built once at start-up and passed to
//! every route and connection.

use std::{ops::Deref, sync::Arc};

use chat_api::rpc::ChatApiServer;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    auth::{Passwords, Tokens, load_or_create_secret},
    config::Config,
    hub::Hub,
    service::{Accounts, ChatService, RateLimits, seed},
    store::Store,
    transport::rpc::{Dispatcher, RpcHandlers},
};

/// Shared state of a running server.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// The database.
    pub store: Arc<Store>,
    /// Live connections and rooms.
    pub hub: Arc<Hub>,
    /// Chat use cases.
    pub chat: Arc<ChatService>,
    /// Registration, login, token checks.
    pub accounts: Arc<Accounts>,
    /// Rate limits and connection caps.
    pub limits: Arc<RateLimits>,
    /// JSON-RPC dispatch.
    pub dispatcher: Arc<Dispatcher>,
    /// Every connection task, so shutdown can wait for them.
    pub tasks: TaskTracker,
    /// Cancelled when shutdown begins.
    pub shutting_down: CancellationToken,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Opens storage, seeds a fresh database and wires every part.
    pub(crate) async fn build(config: Config) -> anyhow::Result<Self> {
        // Install the recorder before anything takes metric handles.
        crate::metrics::handle();
        let data_dir = config.chat.data_dir.clone();
        let store = Arc::new(Store::connect(&config.storage, &data_dir).await?);
        let secret = load_or_create_secret(config.auth.jwt_secret.as_ref(), &data_dir)?;
        let tokens = Tokens::new(&secret, config.auth.token_ttl_secs);
        let passwords = Passwords::new().await.map_err(|e| anyhow::anyhow!("password hasher: {e}"))?;

        seed::seed_accounts(&store, &passwords, &config).await?;
        seed::warn_about_demo_passwords(&store, &passwords).await?;

        let hub = Arc::new(Hub::new());
        seed::load_rooms(&store, &hub, &config).await?;

        let limits = Arc::new(RateLimits::new(&config.rate_limit, &config.server));
        let chat =
            Arc::new(ChatService::new(Arc::clone(&store), Arc::clone(&hub), Arc::clone(&limits), config.chat.clone()));
        let accounts = Arc::new(
            Accounts::new(Arc::clone(&store), passwords, tokens, Arc::clone(&limits), Arc::clone(&hub)).await?,
        );
        let methods = RpcHandlers::new(Arc::clone(&chat)).into_rpc().into();
        let dispatcher = Arc::new(Dispatcher::new(methods, config.connection.max_batch));

        Ok(Self(Arc::new(Shared {
            config,
            store,
            hub,
            chat,
            accounts,
            limits,
            dispatcher,
            tasks: TaskTracker::new(),
            shutting_down: CancellationToken::new(),
        })))
    }
}
