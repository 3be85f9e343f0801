//! A server inside this process, for `smoke`: the real `chat_server::run`
//! on port 0 with a temporary data directory, rate limits off and the
//! connection and room limits raised. Measured runs use the server binary
//! in its own process instead (pinned to its own core).

use std::{net::SocketAddr, thread::JoinHandle, time::Duration};

use anyhow::Context;
use chat_server::config::Config;
use tokio::sync::oneshot;

/// A running in-process server.
#[derive(Debug)]
pub(crate) struct InProcessServer {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
    _data: tempfile::TempDir,
}

impl InProcessServer {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let mut config = Config::for_tests(data.path());
        config.server.max_connections = 20_000;
        config.chat.max_users_per_room = 20_000;
        config.rate_limit.enabled = false;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("chat-server".to_owned()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                chat_server::run(listener, config, async move {
                    let _ = stopped.await;
                })
                .await
            })
        })?;
        let server = Self { addr, stop: Some(stop), thread: Some(thread), _data: data };
        server.wait_healthy().await?;
        Ok(server)
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{}/health", self.base_url())).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the in-process server did not become healthy in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Shuts the server down and waits for it.
    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().map_err(|_| anyhow::anyhow!("the server thread panicked"))?.context("server")?;
        }
        Ok(())
    }
}
