//! `bidirectional-chat-server`: load configuration, start logging, then
//! either serve until Ctrl-C or SIGTERM, or run one `user` maintenance
//! command against the data directory.

use std::{io::BufRead, path::PathBuf, process::ExitCode};

use anyhow::Context;
use chat_api::{Role, UserName};
use chat_server::{
    config::{Config, Loader, Overrides},
    operator::UserCommand,
};
use clap::{Parser, Subcommand};

// Fan-out and JSON-RPC allocate many small, short-lived buffers across
// threads; mimalloc handles that pattern markedly better than the system
// allocator (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Self-hosted chat server: JSON-RPC over WebSocket, rooms, moderation.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Address to bind (overrides server.host).
    #[arg(long)]
    host: Option<String>,
    /// Port to bind (overrides server.port).
    #[arg(long)]
    port: Option<u16>,
    /// Data directory (overrides chat.data_dir).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Maintain accounts in the data directory (works while the server runs).
    #[command(subcommand)]
    User(UserArgs),
}

#[derive(Debug, Subcommand)]
enum UserArgs {
    /// Make a user a user, moderator or admin.
    SetRole { username: UserName, role: Role },
    /// Set a user's password, read as one line from standard input.
    SetPassword { username: UserName },
    /// Delete an account (its messages stay).
    Delete { username: UserName },
}

/// Exit status when the configuration is unusable, as for a command-line
/// mistake (clap's usage errors exit with 2 too).
const EXIT_CONFIG: u8 = 2;

/// Errors are printed once, as one readable line, and never with a
/// backtrace (`RUST_BACKTRACE` is for panics): the person reading them runs
/// the server, they do not debug it.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides { host: cli.host, port: cli.port, data_dir: cli.data_dir };
    let config = match Loader::from_process().config_file(cli.config).overrides(overrides).load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    chat_server::logging::init(&config.logging);
    match start(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn start(command: Option<Command>, config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match command {
        None => runtime.block_on(serve(config)),
        Some(Command::User(args)) => {
            let command = user_command(args)?;
            let said = runtime.block_on(chat_server::operator::run(&config, command))?;
            println!("{said}");
            Ok(())
        }
    }
}

/// The error and its causes joined with ": ", leaving out a cause whose
/// text the message before it already holds (many errors print their
/// source inside their own message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let address = (config.server.host.clone(), config.server.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
    chat_server::run(listener, config, shutdown_signal()).await
}

fn user_command(args: UserArgs) -> anyhow::Result<UserCommand> {
    Ok(match args {
        UserArgs::SetRole { username, role } => UserCommand::SetRole { username, role },
        UserArgs::Delete { username } => UserCommand::Delete { username },
        UserArgs::SetPassword { username } => {
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            UserCommand::SetPassword { username, password }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("storage: {0}")]
        struct Outer(#[source] std::io::Error);
        let inner = std::io::Error::other("disk full");
        let error = anyhow::Error::new(Outer(inner)).context("cannot open the database");
        assert_eq!(one_line(&error), "cannot open the database: storage: disk full");
        let plain = anyhow::Error::new(std::io::Error::other("refused")).context("cannot listen on x");
        assert_eq!(one_line(&plain), "cannot listen on x: refused");
    }
}
