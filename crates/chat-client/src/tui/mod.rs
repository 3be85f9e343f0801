//! The terminal front end: the `bidirectional-chat-client` binary.
//!
//! Every command goes args → plan → actions → rendering:
//! - [`args`]: the command line (clap), parsed into the contract's types;
//! - [`credentials`] and [`token_store`]: where the token comes from, and
//!   where it is kept; prompts only on a terminal;
//! - [`password`]: the hidden prompts, for passwords and tokens;
//! - [`account`]: `register`, `login`, `logout`, `whoami`;
//! - [`scripted`]: `rooms`, `send`, `history`, `search`, `tail` (stdout only);
//! - [`chat`]: the interactive client;
//! - [`render`]: every line printed, the only place with colours, and the
//!   neutralising of hostile text;
//! - [`exit`]: errors printed once, mapped to exit codes.

mod account;
mod args;
mod chat;
mod credentials;
mod exit;
mod password;
mod render;
mod scripted;
mod token_store;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use self::args::{Cli, Command};

/// Runs the command line and returns the process's exit code.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime");
    let result = runtime.and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(code) => code,
        Err(error) => exit::report(&error),
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    // `tail` stops on Ctrl-C by itself; everything else leaves at once.
    if !matches!(cli.command, Command::Tail { .. }) {
        tokio::spawn(exit_on_interrupt());
    }
    let server = cli.server;
    let user = cli.user;
    match cli.command {
        Command::Register { username, display_name, password_stdin } => {
            account::register(server, username, display_name, password_stdin).await?;
        }
        Command::Login { username, password_stdin } => account::login(server, username, password_stdin).await?,
        Command::Logout => account::logout(server, user).await?,
        Command::Whoami { auth } => account::whoami(&server, auth.token, user)?,
        Command::Chat { username, token, room } => {
            if chat::run(server, user, username, token, room).await? == chat::Outcome::Removed {
                return Ok(ExitCode::from(exit::REFUSED));
            }
        }
        Command::Rooms { auth, json } => scripted::rooms(scripted::Who::new(server, auth, user), json).await?,
        Command::Send { auth, room, create, text } => {
            scripted::send(scripted::Who::new(server, auth, user), room, create, text).await?;
        }
        Command::History { auth, room, limit, json } => {
            scripted::history(scripted::Who::new(server, auth, user), room, limit, json).await?;
        }
        Command::Search { auth, room, limit, json, words } => {
            scripted::search(scripted::Who::new(server, auth, user), room, limit, json, words).await?;
        }
        Command::Tail { auth, room, json } => {
            scripted::tail(scripted::Who::new(server, auth, user), room, json).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C outside the line editor (which reads it as a key and quits
/// cleanly): leave at once with the conventional 130, after undoing what an
/// interrupted prompt leaves behind: a hidden cursor (menus) or a terminal
/// that no longer echoes (password prompts).
async fn exit_on_interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    restore_terminal();
    std::process::exit(130);
}

fn restore_terminal() {
    use std::io::IsTerminal;
    let stderr = dialoguer::console::Term::stderr();
    if stderr.is_term() {
        stderr.show_cursor().ok();
        stderr.write_line("").ok();
    }
    if std::io::stdin().is_terminal() {
        // A password prompt turns echo back on only when it returns, which
        // exiting here skips; stty does it from outside, and is on every
        // Unix. Failing to run it changes nothing.
        std::process::Command::new("stty").arg("echo").status().ok();
    }
}
