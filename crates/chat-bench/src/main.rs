//! `chat-bench`: a load generator for bidirectional-chat that speaks the
//! real protocol (HTTP login, WebSocket, JSON-RPC) to a running server.
//!
//! - [`scenarios`]: fan-out, rooms, idle, durable, logins; flags → plan →
//!   steps → one report each.
//! - [`fleet`]: the coordinator that spreads connections over worker
//!   processes and merges their counts; [`worker`]: one such process;
//!   [`plan`]: what they say to each other.
//! - [`ws`]: a minimal WebSocket client; [`tag`]: the stamp in each
//!   message's text; [`stats`]: histograms; [`probe`]: `/proc` and
//!   `/metrics`; [`accounts`]: bench users and tokens.
//! - [`report`]: tables, JSON and medians; [`server`]: the in-process
//!   server behind `smoke`.
//!
//! Every scenario takes one server or the nodes of a cluster (`--url`
//! repeated): connections are spread over the nodes, and the server-side
//! figures are sums over them.
//!
//! Exit codes: 0 all good, 1 a run lost, duplicated or refused something,
//! 2 the bench itself failed.

mod accounts;
mod fleet;
mod plan;
mod probe;
mod report;
mod scenarios;
mod server;
mod smoke;
mod stats;
mod tag;
mod worker;
mod ws;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{report::Report, scenarios::Ctx};

/// Load generator for bidirectional-chat.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 1. One room, many members, a few senders; offered rates stepped up.
    Fanout(scenarios::FanoutArgs),
    /// 2. Many small rooms (latency), then many big rooms (throughput).
    Rooms(scenarios::RoomsArgs),
    /// 3. Idle authenticated connections: server RSS each, connects/s.
    Idle(scenarios::IdleArgs),
    /// 4. Acknowledged sends per second and ack latency (storage path).
    Durable(scenarios::DurableArgs),
    /// 5. Logins per second while a fan-out runs, and their effect on it.
    Logins(scenarios::LoginsArgs),
    /// Tiny versions of every scenario against an in-process server; fails
    /// when anything is lost.
    Smoke,
    /// Registers (or reuses) bench users and writes their tokens as JSON,
    /// for `--tokens-file` (so a measured server never hashes passwords).
    Tokens {
        /// The server's base URL; several (repeated or separated by
        /// commas) for the nodes of one cluster, each user logging in at
        /// one of them in turn.
        #[arg(long = "url", value_name = "URL", value_delimiter = ',', default_value = "http://127.0.0.1:3000")]
        urls: Vec<String>,
        /// Users to register or reuse.
        #[arg(long, default_value_t = 20)]
        users: usize,
        /// Bench usernames are `<prefix><5 digits>`.
        #[arg(long, default_value = "bench")]
        user_prefix: String,
        /// Where to write the tokens.
        #[arg(long)]
        out: PathBuf,
    },
    /// Medians over repeated runs' JSON files, as tables (and JSON).
    Summarize {
        /// JSON files written with --json.
        files: Vec<PathBuf>,
        /// Write the merged reports here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Internal: one generator process, driven over stdin.
    #[command(hide = true)]
    Worker,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Worker => worker::main().map(|()| true),
        command => run(command),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("chat-bench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs a coordinator command; `Ok(false)` when a run found problems.
fn run(command: Command) -> anyhow::Result<bool> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let (report, json) = match command {
            Command::Fanout(args) => {
                let ctx = Ctx::new(args.target.clone()).await?;
                (scenarios::fanout(&ctx, &args).await?, args.target.json)
            }
            Command::Rooms(args) => {
                let ctx = Ctx::new(args.target.clone()).await?;
                (scenarios::rooms(&ctx, &args).await?, args.target.json)
            }
            Command::Idle(args) => {
                let ctx = Ctx::new(args.target.clone()).await?;
                (scenarios::idle(&ctx, &args).await?, args.target.json)
            }
            Command::Durable(args) => {
                let ctx = Ctx::new(args.target.clone()).await?;
                (scenarios::durable(&ctx, &args).await?, args.target.json)
            }
            Command::Logins(args) => {
                let ctx = Ctx::new(args.target.clone()).await?;
                (scenarios::logins(&ctx, &args).await?, args.target.json)
            }
            Command::Smoke => return smoke::run().await,
            Command::Tokens { urls, users, user_prefix, out } => {
                let http = reqwest::Client::new();
                let bases: Vec<String> = urls.iter().map(|u| u.trim_end_matches('/').to_owned()).collect();
                let tokens = accounts::tokens(&http, &bases, &user_prefix, users).await?;
                std::fs::write(&out, serde_json::to_string(&tokens)?)?;
                eprintln!("wrote {} tokens to {}", tokens.len(), out.display());
                return Ok(true);
            }
            Command::Summarize { files, json } => return summarize(&files, json.as_deref()),
            Command::Worker => anyhow::bail!("worker runs on its own runtime"),
        };
        println!("{}", report.render());
        if let Some(path) = json {
            report::write_json(&path, std::slice::from_ref(&report))?;
        }
        Ok(report.problems.is_empty())
    })
}

fn summarize(files: &[PathBuf], json: Option<&std::path::Path>) -> anyhow::Result<bool> {
    let mut runs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let reports: Vec<Report> =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        runs.extend(reports);
    }
    let merged = report::summarize(runs);
    for report in &merged {
        println!("{}", report.render());
    }
    if let Some(path) = json {
        report::write_json(path, &merged)?;
    }
    Ok(merged.iter().all(|r| r.problems.is_empty()))
}
