//! What every scenario shares: the target flags and the context built
//! from them (server addresses, HTTP client, tokens, worker plans, the
//! servers' figures summed over nodes).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;

use crate::{
    accounts,
    fleet::Spread,
    plan::WorkerPlan,
    probe::{self, Metrics},
    report::Report,
};

/// Where the server is and how to load it; shared by every scenario.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Target {
    /// The server's base URL. Several (repeated, or separated by commas)
    /// name the nodes of one cluster: connections are spread over them
    /// (see `WorkerPlan::server_of`) and users log in at each in turn.
    #[arg(long = "url", value_name = "URL", value_delimiter = ',', default_value = "http://127.0.0.1:3000")]
    pub(crate) urls: Vec<String>,
    /// The server's process id: enables server CPU and RSS figures. With
    /// several nodes, one per node (repeated or separated by commas); the
    /// figures are then sums over the nodes.
    #[arg(long = "server-pid", value_name = "PID", value_delimiter = ',')]
    pub(crate) server_pids: Vec<u32>,
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
    /// Every node's base URL, without a trailing slash, in `--url` order.
    pub(crate) bases: Vec<String>,
    /// Every node's address, in the same order.
    pub(crate) addrs: Vec<SocketAddr>,
    /// Unique per run, so rooms start empty.
    pub(crate) run_id: String,
}

impl Ctx {
    pub(crate) async fn new(target: Target) -> anyhow::Result<Self> {
        anyhow::ensure!(!target.urls.is_empty(), "--url names no server");
        let (mut bases, mut addrs) = (Vec::new(), Vec::new());
        for url in &target.urls {
            let base = url.trim_end_matches('/').to_owned();
            let host_port = base.strip_prefix("http://").context("--url must be http://host:port")?;
            let addr = tokio::net::lookup_host(host_port)
                .await
                .with_context(|| format!("cannot resolve {host_port}"))?
                .next()
                .with_context(|| format!("{host_port} has no address"))?;
            bases.push(base);
            addrs.push(addr);
        }
        let http = reqwest::Client::builder().pool_max_idle_per_host(16).build()?;
        let run_id = format!("{:x}", crate::tag::now_ns() / 1_000_000 % 0xff_ffff);
        Ok(Self { target, http, bases, addrs, run_id })
    }

    /// User plus system CPU time of the server processes, summed; `None`
    /// without `--server-pid` or when one cannot be read.
    pub(super) fn server_cpu_ticks(&self) -> Option<u64> {
        self.sum_over_pids(probe::cpu_ticks)
    }

    /// Resident set size of the server processes, summed, in KiB.
    pub(super) fn server_rss_kib(&self) -> Option<u64> {
        self.sum_over_pids(probe::rss_kib)
    }

    fn sum_over_pids(&self, read: impl Fn(&str) -> Option<u64>) -> Option<u64> {
        if self.target.server_pids.is_empty() {
            return None;
        }
        self.target.server_pids.iter().map(|p| read(&p.to_string())).sum()
    }

    /// `GET /metrics` of every node, summed series by series.
    pub(super) async fn scrape(&self) -> Metrics {
        let mut sum = Metrics::default();
        for base in &self.bases {
            sum.add(&probe::scrape(&self.http, base).await);
        }
        sum
    }

    pub(super) async fn tokens(&self, count: usize) -> anyhow::Result<Vec<String>> {
        if let Some(path) = &self.target.tokens_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let tokens: Vec<String> = serde_json::from_str(&text).context("tokens file")?;
            anyhow::ensure!(!tokens.is_empty(), "{} holds no tokens", path.display());
            return Ok(tokens);
        }
        accounts::tokens(&self.http, &self.bases, &self.target.user_prefix, count.max(1)).await
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
            servers: self.addrs.clone(),
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
        // Only a cluster says so: a one-server report keeps the heading
        // (and the `summarize` key) it always had.
        if self.bases.len() > 1 {
            report.param("nodes", self.bases.len());
        }
    }
}
