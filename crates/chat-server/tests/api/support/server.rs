//! Spawning the real server in-process.

use std::{net::SocketAddr, path::Path};

use chat_api::{http::LoginResponse, rpc::ChatApiClient as _};
use chat_server::{config::Config, store::Store};
use jsonrpsee::ws_client::{HeaderMap, HeaderValue, WsClient, WsClientBuilder};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use super::{RawClient, TestDatabase, within};

/// Password used for users the tests register.
pub const PASSWORD: &str = "correct-horse-battery";

/// A running server with its own data directory and, on the PostgreSQL
/// pass, its own database (kept across [`restart`](Self::restart),
/// dropped with the server).
pub struct TestServer {
    pub addr: SocketAddr,
    pub config: Config,
    data_dir: tempfile::TempDir,
    database: Option<TestDatabase>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    http: reqwest::Client,
}

impl TestServer {
    /// A server with test defaults (rate limits off, demo accounts on).
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose configuration `tweak` adjusts first.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(data_dir.path());
        let database = TestDatabase::create().await;
        if let Some(database) = &database {
            database.configure(&mut config.storage);
        }
        tweak(&mut config);
        config.validate().expect("test config must be valid");
        let mut server = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            config,
            data_dir,
            database,
            stop: None,
            task: None,
            http: reqwest::Client::new(),
        };
        server.start().await;
        server
    }

    async fn start(&mut self) {
        // Bound before spawning, so the server is reachable as soon as
        // this returns: no readiness polling.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let config = self.config.clone();
        self.task = Some(tokio::spawn(chat_server::run(listener, config, async move {
            let _ = stop_rx.await;
        })));
        self.stop = Some(stop_tx);
        // `run` seeds accounts before serving; a health call waits for that.
        within("server start", async {
            loop {
                if let Some(task) = self.task.take_if(|task| task.is_finished()) {
                    match task.await {
                        Ok(Ok(())) => panic!("the server stopped by itself while starting"),
                        Ok(Err(e)) => panic!("the server failed to start: {e:#}"),
                        Err(e) => panic!("the server panicked while starting: {e}"),
                    }
                }
                match self.http.get(self.url("/health")).send().await {
                    Ok(r) if r.status().is_success() => break,
                    _ => tokio::task::yield_now().await,
                }
            }
        })
        .await;
    }

    /// Stops the server and waits for it to finish (graceful shutdown).
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            within("server stop", task).await.unwrap().unwrap();
        }
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// A second handle on the server's storage (the backend and data it
    /// uses), to read or change what it keeps behind its back. Close it
    /// when done.
    pub async fn store(&self) -> Store {
        Store::connect(&self.config.storage, &self.config.chat.data_dir).await.expect("open the server's storage")
    }

    /// The variables that point the server binary at the same storage as
    /// this server (none on SQLite, where `--data-dir` says it all).
    pub fn storage_env(&self) -> Vec<(&'static str, String)> {
        self.database.as_ref().map(TestDatabase::env).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.unwrap()
    }

    pub async fn register(&self, username: &str, password: &str) -> reqwest::Response {
        self.post("/auth/register", json!({"username": username, "password": password})).await
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post("/auth/login", json!({"username": username, "password": password})).await
    }

    /// A token for `username`: demo accounts log in with their demo
    /// password; any other name is registered with [`PASSWORD`] first.
    pub async fn token(&self, username: &str) -> String {
        let demo = chat_server::DEMO_ACCOUNTS.iter().find(|(name, _, _)| *name == username);
        let password = match demo {
            Some((_, password, _)) => *password,
            None => {
                let status = self.register(username, PASSWORD).await.status();
                assert!(status.is_success() || status == 409, "register {username}: {status}");
                PASSWORD
            }
        };
        let response = self.login(username, password).await;
        assert_eq!(response.status(), 200, "login {username}");
        response.json::<LoginResponse>().await.unwrap().token
    }

    /// A generated jsonrpsee client authenticated as `username`.
    pub async fn client(&self, username: &str) -> WsClient {
        let token = self.token(username).await;
        self.client_with_token(&token).await.unwrap()
    }

    pub async fn client_with_token(&self, token: &str) -> Result<WsClient, jsonrpsee::core::ClientError> {
        let mut headers = HeaderMap::new();
        headers.insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        WsClientBuilder::default().set_headers(headers).build(self.ws_url()).await
    }

    /// A generated client that has joined `room`.
    pub async fn client_in(&self, username: &str, room: &str) -> WsClient {
        let client = self.client(username).await;
        client.join_room(room.parse().unwrap(), None).await.unwrap();
        client
    }

    /// A raw WebSocket client authenticated as `username`.
    pub async fn raw(&self, username: &str) -> RawClient {
        let token = self.token(username).await;
        RawClient::connect(&self.ws_url(), Some(&token)).await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
