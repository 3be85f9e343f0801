//! What every scenario shares: the target flags and the context built
//! from them (server address, HTTP client, tokens, worker plans).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;

use crate::{accounts, fleet::Spread, plan::WorkerPlan, report::Report};

/// Where the server is and how to load it; shared by every scenario.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Target {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub(crate) url: String,
    /// The server's process id: enables server CPU and RSS figures.
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
    /// Generator processes to spread the connections over (each may hold
    /// at most ~20,000 sockets here).
    #[arg(long)]
    pub(crate) shards: Option<usize>,
    /// Bind worker i to source address 127.0.0.(N+i): each address has its
    /// own ~28k ephemeral ports, and a run right after another finds the
    /// previous run's ports still in TIME_WAIT.
    #[arg(long, value_name = "N")]
    pub(crate) source_base: Option<u8>,
    /// Use these tokens (a JSON array written by `chat-bench tokens`)
    /// instead of registering and logging in: no password hashing in the
    /// server process being measured.
    #[arg(long, value_name = "FILE")]
    pub(crate) tokens_file: Option<PathBuf>,
    /// Users to register or reuse; connections share their tokens.
    #[arg(long, default_value_t = 20)]
    pub(crate) users: usize,
    /// Bench usernames are `<prefix><5 digits>`.
    #[arg(long, default_value = "bench")]
    pub(crate) user_prefix: String,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 100)]
    pub(crate) text_size: usize,
    /// Seconds each step sends for.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) step_secs: f64,
    /// Seconds without progress after which missing deliveries count as lost.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) settle_secs: f64,
    /// Unanswered `send_message` calls per sender (the server processes 32
    /// per connection at once).
    #[arg(long, default_value_t = 32)]
    pub(crate) window: usize,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
}

/// What every scenario works with.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) target: Target,
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) addr: SocketAddr,
    /// Unique per run, so rooms start empty.
    pub(crate) run_id: String,
}

impl Ctx {
    pub(crate) async fn new(target: Target) -> anyhow::Result<Self> {
        let base = target.url.trim_end_matches('/').to_owned();
        let host_port = base.strip_prefix("http://").context("--url must be http://host:port")?;
        let addr = tokio::net::lookup_host(host_port)
            .await
            .with_context(|| format!("cannot resolve {host_port}"))?
            .next()
            .with_context(|| format!("{host_port} has no address"))?;
        let http = reqwest::Client::builder().pool_max_idle_per_host(16).build()?;
        let run_id = format!("{:x}", crate::tag::now_ns() / 1_000_000 % 0xff_ffff);
        Ok(Self { target, http, base, addr, run_id })
    }

    pub(super) fn server_pid(&self) -> Option<String> {
        self.target.server_pid.map(|p| p.to_string())
    }

    pub(super) async fn tokens(&self, count: usize) -> anyhow::Result<Vec<String>> {
        if let Some(path) = &self.target.tokens_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let tokens: Vec<String> = serde_json::from_str(&text).context("tokens file")?;
            anyhow::ensure!(!tokens.is_empty(), "{} holds no tokens", path.display());
            return Ok(tokens);
        }
        accounts::tokens(&self.http, &self.base, &self.target.user_prefix, count.max(1)).await
    }

    pub(super) fn plan(
        &self,
        tokens: Vec<String>,
        conns: usize,
        rooms: usize,
        senders_per_room: usize,
        tag: &str,
    ) -> WorkerPlan {
        WorkerPlan {
            server: self.addr,
            source: None,
            shard: 0,
            shards: 1,
            tokens,
            conns,
            rooms,
            senders_per_room,
            room_prefix: format!("b{}-{tag}-", self.run_id),
            text_size: self.target.text_size,
            window: self.target.window,
            connect_concurrency: 128,
        }
    }

    pub(super) fn spread(&self, default_shards: usize) -> Spread {
        Spread { shards: self.target.shards.unwrap_or(default_shards), source_base: self.target.source_base }
    }

    pub(super) fn step_time(&self) -> (Duration, Duration) {
        (Duration::from_secs_f64(self.target.step_secs), Duration::from_secs_f64(self.target.settle_secs))
    }

    pub(super) fn common_params(&self, report: &mut Report) {
        report.param("users", self.target.users);
        report.param("text", format!("{}B", self.target.text_size));
        report.param("step", format!("{}s", self.target.step_secs));
        report.param("shards", self.target.shards.map_or("default".to_owned(), |s| s.to_string()));
    }
}
