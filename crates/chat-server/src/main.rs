//! `bidirectional-chat-server`: load configuration, start logging, bind,
//! serve until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use chat_server::config::{Loader, Overrides};
use clap::Parser;

/// Self-hosted chat server: JSON-RPC over WebSocket, rooms, moderation.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to bind (overrides server.host).
    #[arg(long)]
    host: Option<String>,
    /// Port to bind (overrides server.port).
    #[arg(long)]
    port: Option<u16>,
    /// Data directory (overrides chat.data_dir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let overrides = Overrides { host: cli.host, port: cli.port, data_dir: cli.data_dir };
    let config = Loader::from_process().config_file(cli.config).overrides(overrides).load()?;
    chat_server::logging::init(&config.logging);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let address = (config.server.host.clone(), config.server.port);
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        chat_server::run(listener, config, shutdown_signal()).await
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server");
            let _ = interrupt.await;
            return;
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
