//! The standard scenarios: each turns its flags into a worker plan, runs
//! steps through a [`Fleet`] and renders one [`Report`].

use std::{
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::{
    accounts,
    fleet::{Fleet, Spread, StepOutcome},
    plan::WorkerPlan,
    probe::{self, Metrics, TICKS_PER_SEC},
    report::{Report, Row},
};

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

    fn server_pid(&self) -> Option<String> {
        self.target.server_pid.map(|p| p.to_string())
    }

    async fn tokens(&self, count: usize) -> anyhow::Result<Vec<String>> {
        if let Some(path) = &self.target.tokens_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let tokens: Vec<String> = serde_json::from_str(&text).context("tokens file")?;
            anyhow::ensure!(!tokens.is_empty(), "{} holds no tokens", path.display());
            return Ok(tokens);
        }
        accounts::tokens(&self.http, &self.base, &self.target.user_prefix, count.max(1)).await
    }

    fn plan(&self, tokens: Vec<String>, conns: usize, rooms: usize, senders_per_room: usize, tag: &str) -> WorkerPlan {
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

    fn spread(&self, default_shards: usize) -> Spread {
        Spread { shards: self.target.shards.unwrap_or(default_shards), source_base: self.target.source_base }
    }

    fn step_time(&self) -> (Duration, Duration) {
        (Duration::from_secs_f64(self.target.step_secs), Duration::from_secs_f64(self.target.settle_secs))
    }

    fn common_params(&self, report: &mut Report) {
        report.param("users", self.target.users);
        report.param("text", format!("{}B", self.target.text_size));
        report.param("step", format!("{}s", self.target.step_secs));
        report.param("shards", self.target.shards.map_or("default".to_owned(), |s| s.to_string()));
    }
}

/// Server-side view of a step: CPU time and `/metrics` deltas.
struct ServerWatch {
    started: Instant,
    cpu: Option<u64>,
    cores: Vec<(u64, u64)>,
    metrics: Metrics,
}

impl ServerWatch {
    async fn start(ctx: &Ctx) -> Self {
        let metrics = probe::scrape(&ctx.http, &ctx.base).await;
        let cpu = ctx.server_pid().and_then(|p| probe::cpu_ticks(&p));
        Self { started: Instant::now(), cpu, cores: probe::cpu_times(), metrics }
    }

    /// Adds server CPU %, server frames/s and the generator's CPU % to `row`.
    async fn finish(self, ctx: &Ctx, outcome: &StepOutcome, row: Row) -> Row {
        let elapsed = self.started.elapsed().as_secs_f64();
        let after = probe::scrape(&ctx.http, &ctx.base).await;
        let server_cpu = match (self.cpu, ctx.server_pid().and_then(|p| probe::cpu_ticks(&p))) {
            (Some(a), Some(b)) => (b.saturating_sub(a)) as f64 / TICKS_PER_SEC / elapsed * 100.0,
            _ => f64::NAN,
        };
        let frames = after.delta(&self.metrics, "chat_frames_queued_total");
        let stored = after.delta(&self.metrics, "chat_messages_stored_total");
        let slow = after.delta(&self.metrics, "chat_slow_clients_closed_total");
        let mut row = row
            .with("gen CPU %", outcome.generator_cpu_secs / elapsed * 100.0)
            .with("srv CPU %", server_cpu)
            .with("srv frames", frames)
            .with("srv stored", stored)
            .with("srv slow-closed", slow);
        // How busy each core was, with everybody's processes: when a core
        // is busy and our process on it is not, someone else had it.
        for (i, ((b0, t0), (b1, t1))) in self.cores.iter().zip(probe::cpu_times()).enumerate() {
            let busy = (b1.saturating_sub(*b0)) as f64 / (t1.saturating_sub(*t0)).max(1) as f64 * 100.0;
            row = row.with(&format!("cpu{i} busy %"), busy);
        }
        row
    }
}

fn delivery_row(label: String, offered: f64, outcome: &StepOutcome) -> Row {
    let l = outcome.latency;
    Row::new(label)
        .with("offered/s", offered)
        .with("delivered/s", outcome.deliveries_per_sec)
        .with("p50 ms", l.p50)
        .with("p90 ms", l.p90)
        .with("p99 ms", l.p99)
        .with("p999 ms", l.p999)
        .with("max ms", l.max)
        .with("sent", outcome.sent as f64)
        .with("delivered", outcome.delivered as f64)
        .with("lost", outcome.lost as f64)
        .with("ack p50 ms", outcome.ack_latency.p50)
        .with("ack p99 ms", outcome.ack_latency.p99)
}

fn record_problems(report: &mut Report, label: &str, outcome: &StepOutcome) -> bool {
    let problems = outcome.problems();
    for p in &problems {
        report.problems.push(format!("{label}: {p}"));
    }
    !problems.is_empty()
}

/// Steps offered delivery rates on an open fleet. Stops after the first
/// step that saturates (delivers < 90 % of the offered rate) or fails,
/// unless `keep_going`.
async fn stepped(
    ctx: &Ctx,
    fleet: &mut Fleet,
    report: &mut Report,
    rates: &[f64],
    members_per_room: usize,
    senders: usize,
    keep_going: bool,
) -> anyhow::Result<()> {
    let (duration, settle) = ctx.step_time();
    for &offered in rates {
        let per_sender = offered / members_per_room as f64 / senders as f64;
        let watch = ServerWatch::start(ctx).await;
        let outcome = fleet.step(per_sender, duration, settle).await?;
        let label = format!("{}/s", human(offered));
        let row = delivery_row(label.clone(), offered, &outcome);
        report.rows.push(watch.finish(ctx, &outcome, row).await);
        let failed = record_problems(report, &label, &outcome);
        let saturated = outcome.deliveries_per_sec < 0.9 * offered;
        eprintln!(
            "[{}] offered {}/s: delivered {:.0}/s, p99 {:.2} ms, lost {}",
            report.scenario,
            human(offered),
            outcome.deliveries_per_sec,
            outcome.latency.p99,
            outcome.lost
        );
        if failed || (saturated && !keep_going) {
            break;
        }
    }
    Ok(())
}

/// `20000` → `20k`, `1600000` → `1.6M`.
pub(crate) fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", (v / 1e5).round() / 10.0)
    } else if v >= 1e3 {
        format!("{}k", (v / 1e2).round() / 10.0)
    } else {
        format!("{v}")
    }
}

/// Scenario 1: one big room.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Connections in the room (the senders among them).
    #[arg(long, default_value_t = 1000)]
    pub(crate) members: usize,
    /// Connections that send.
    #[arg(long, default_value_t = 4)]
    pub(crate) senders: usize,
    /// Offered deliveries per second, stepped in order.
    #[arg(long, value_delimiter = ',', default_value = "20000,100000,200000,400000,800000,1600000")]
    pub(crate) rates: Vec<f64>,
    /// Run every rate even after saturation.
    #[arg(long)]
    pub(crate) keep_going: bool,
}

pub(crate) async fn fanout(ctx: &Ctx, args: &FanoutArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("fanout");
    report.param("members", args.members);
    report.param("senders", args.senders);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let plan = ctx.plan(tokens, args.members, 1, args.senders, "fan");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    stepped(ctx, &mut fleet, &mut report, &args.rates, args.members, args.senders, args.keep_going).await?;
    fleet.stop().await?;
    Ok(report)
}

async fn start_fleet(
    ctx: &Ctx,
    plan: &WorkerPlan,
    default_shards: usize,
    report: &mut Report,
) -> anyhow::Result<Fleet> {
    let fleet = Fleet::start(plan, &ctx.spread(default_shards)).await?;
    if fleet.ready.failed > 0 {
        report.problems.push(format!(
            "{} of {} connections failed (first: {})",
            fleet.ready.failed,
            plan.conns,
            fleet.ready.first_error.as_deref().unwrap_or("?")
        ));
    }
    Ok(fleet)
}

/// Scenario 2: many small rooms (latency), then many big rooms (throughput).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RoomsArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Rooms in both parts.
    #[arg(long, default_value_t = 100)]
    pub(crate) rooms: usize,
    /// Members per room in the latency part.
    #[arg(long, default_value_t = 10)]
    pub(crate) small_members: usize,
    /// Offered deliveries per second in the latency part.
    #[arg(long, default_value_t = 10_000.0)]
    pub(crate) small_rate: f64,
    /// Members per room in the throughput part (0 skips it).
    #[arg(long, default_value_t = 100)]
    pub(crate) big_members: usize,
    /// Offered deliveries per second in the throughput part, stepped.
    #[arg(long, value_delimiter = ',', default_value = "100000,200000,400000,800000,1600000")]
    pub(crate) big_rates: Vec<f64>,
    /// Senders per room.
    #[arg(long, default_value_t = 1)]
    pub(crate) senders_per_room: usize,
    /// Run every rate even after saturation.
    #[arg(long)]
    pub(crate) keep_going: bool,
}

pub(crate) async fn rooms(ctx: &Ctx, args: &RoomsArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("rooms");
    report.param("rooms", args.rooms);
    report.param("small", format!("{}x{}", args.rooms, args.small_members));
    report.param("big", format!("{}x{}", args.rooms, args.big_members));
    report.param("senders/room", args.senders_per_room);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let senders = args.rooms * args.senders_per_room;
    let (duration, settle) = ctx.step_time();

    let plan = ctx.plan(tokens.clone(), args.rooms * args.small_members, args.rooms, args.senders_per_room, "small");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    let per_sender = args.small_rate / args.small_members as f64 / senders as f64;
    let watch = ServerWatch::start(ctx).await;
    let outcome = fleet.step(per_sender, duration, settle).await?;
    let label = format!("{}x{} @ {}/s", args.rooms, args.small_members, human(args.small_rate));
    let row = delivery_row(label.clone(), args.small_rate, &outcome);
    report.rows.push(watch.finish(ctx, &outcome, row).await);
    record_problems(&mut report, &label, &outcome);
    fleet.stop().await?;

    if args.big_members > 0 {
        let plan = ctx.plan(tokens, args.rooms * args.big_members, args.rooms, args.senders_per_room, "big");
        let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
        let mut part = Report::new("rooms");
        stepped(ctx, &mut fleet, &mut part, &args.big_rates, args.big_members, senders, args.keep_going).await?;
        for mut row in part.rows {
            row.label = format!("{}x{} @ {}", args.rooms, args.big_members, row.label);
            report.rows.push(row);
        }
        report.problems.extend(part.problems);
        fleet.stop().await?;
    }
    Ok(report)
}

/// Scenario 3: idle authenticated connections.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IdleArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Connections to open.
    #[arg(long, default_value_t = 5000)]
    pub(crate) conns: usize,
    /// Connections per room.
    #[arg(long, default_value_t = 100)]
    pub(crate) room_size: usize,
    /// Connection attempts in flight per worker.
    #[arg(long, default_value_t = 128)]
    pub(crate) connect_concurrency: usize,
}

pub(crate) async fn idle(ctx: &Ctx, args: &IdleArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("idle");
    report.param("conns", args.conns);
    report.param("room_size", args.room_size);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let rooms = args.conns.div_ceil(args.room_size.max(1));
    let mut plan = ctx.plan(tokens, args.conns, rooms, 1, "idle");
    plan.connect_concurrency = args.connect_concurrency;
    // Each worker holds at most ~10k sockets, well under the 20k file limit.
    let shards = args.conns.div_ceil(10_000).max(2);

    let pid = ctx.server_pid();
    let rss_before = pid.as_deref().and_then(probe::rss_kib);
    let mut fleet = start_fleet(ctx, &plan, shards, &mut report).await?;
    // Let the server finish its bookkeeping before reading its RSS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = pid.as_deref().and_then(probe::rss_kib);
    let metrics = probe::scrape(&ctx.http, &ctx.base).await;
    let (connected, failed, connect_secs) = (fleet.ready.connected, fleet.ready.failed, fleet.ready.seconds);

    // Prove the connections are alive: two messages per room reach everyone.
    let outcome = fleet.step(2.0, Duration::from_secs(1), ctx.step_time().1).await?;
    record_problems(&mut report, "verification", &outcome);
    fleet.stop().await?;

    let kib = |v: Option<u64>| v.map_or(f64::NAN, |v| v as f64);
    let per_conn = match (rss_before, rss_after) {
        (Some(a), Some(b)) if connected > 0 => (b as f64 - a as f64) / connected as f64,
        _ => f64::NAN,
    };
    report.rows.push(
        Row::new(format!("{}", args.conns))
            .with("connected", connected as f64)
            .with("failed", failed as f64)
            .with("conn/s", connected as f64 / connect_secs.max(1e-9))
            .with("srv RSS before MiB", kib(rss_before) / 1024.0)
            .with("srv RSS after MiB", kib(rss_after) / 1024.0)
            .with("RSS/conn KiB", per_conn)
            .with("srv connections", metrics.get("chat_connections"))
            .with("check deliveries", outcome.delivered as f64)
            .with("lost", outcome.lost as f64),
    );
    Ok(report)
}

/// Scenario 4: acknowledged (stored) sends.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DurableArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Sending connections, each alone in its own room (so fan-out costs
    /// one delivery per message and storage is what is measured).
    #[arg(long, default_value_t = 200)]
    pub(crate) senders: usize,
    /// Fixed offered rates (messages/s, all senders together) measured
    /// after "max" and "half of max"; the default is half of the 50k/s
    /// throughput target.
    #[arg(long, value_delimiter = ',', default_value = "25000")]
    pub(crate) rates: Vec<f64>,
}

/// One step of the durable scenario: how fast its senders go.
#[derive(Debug, Clone, Copy)]
enum DurableRate {
    /// As fast as the window allows.
    Max,
    /// Half of what "max" achieved.
    HalfOfMax,
    /// Messages per second, all senders together.
    Fixed(f64),
}

pub(crate) async fn durable(ctx: &Ctx, args: &DurableArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("durable");
    report.param("senders", args.senders);
    report.param("window", ctx.target.window);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let plan = ctx.plan(tokens, args.senders, args.senders, 1, "dur");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    let (duration, settle) = ctx.step_time();

    let mut steps = vec![("max".to_owned(), DurableRate::Max), ("half of max".to_owned(), DurableRate::HalfOfMax)];
    steps.extend(args.rates.iter().map(|&r| (format!("{}/s", human(r)), DurableRate::Fixed(r))));
    let mut max_rate = 0.0;
    for (label, rate) in steps {
        let offered = match rate {
            DurableRate::Max => 0.0,
            DurableRate::HalfOfMax => max_rate / 2.0,
            DurableRate::Fixed(r) => r,
        };
        let watch = ServerWatch::start(ctx).await;
        let before = watch.metrics.clone();
        let outcome = fleet.step(offered / args.senders as f64, duration, settle).await?;
        let after = probe::scrape(&ctx.http, &ctx.base).await;
        if matches!(rate, DurableRate::Max) {
            max_rate = outcome.acks_per_sec;
        }
        let ack = outcome.ack_latency;
        let commits = after.delta(&before, "chat_store_commit_seconds_count");
        let row = Row::new(&label)
            .with("offered/s", if offered == 0.0 { f64::NAN } else { offered })
            .with("acked/s", outcome.acks_per_sec)
            .with("ack p50 ms", ack.p50)
            .with("ack p90 ms", ack.p90)
            .with("ack p99 ms", ack.p99)
            .with("ack p999 ms", ack.p999)
            .with("errors", outcome.send_errors as f64)
            .with("lost", outcome.lost as f64)
            .with("srv commits/s", commits / duration.as_secs_f64())
            .with("srv batch mean", after.delta(&before, "chat_store_commit_batch_size_sum") / commits.max(1.0))
            .with("srv commit ms", after.delta(&before, "chat_store_commit_seconds_sum") * 1000.0 / commits.max(1.0));
        report.rows.push(watch.finish(ctx, &outcome, row).await);
        eprintln!("[durable] {label}: {:.0} acked/s, ack p99 {:.2} ms", outcome.acks_per_sec, ack.p99);
        if record_problems(&mut report, &label, &outcome) {
            break;
        }
    }
    fleet.stop().await?;
    Ok(report)
}

/// Scenario 5: logins while a fan-out runs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LoginsArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Connections in the room.
    #[arg(long, default_value_t = 1000)]
    pub(crate) members: usize,
    /// Connections that send.
    #[arg(long, default_value_t = 4)]
    pub(crate) senders: usize,
    /// Offered deliveries per second (a moderate rate).
    #[arg(long, default_value_t = 100_000.0)]
    pub(crate) rate: f64,
    /// Login loops running at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) login_concurrency: usize,
}

pub(crate) async fn logins(ctx: &Ctx, args: &LoginsArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("logins");
    report.param("members", args.members);
    report.param("senders", args.senders);
    report.param("rate", human(args.rate));
    report.param("login_concurrency", args.login_concurrency);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let names: Vec<String> =
        (0..ctx.target.users.max(1)).map(|i| accounts::username(&ctx.target.user_prefix, i)).collect();
    let plan = ctx.plan(tokens, args.members, 1, args.senders, "login");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    let (duration, settle) = ctx.step_time();
    let per_sender = args.rate / args.members as f64 / args.senders as f64;

    let mut baseline_p99 = f64::NAN;
    for (label, with_logins) in [("without logins", false), ("with logins", true)] {
        let watch = ServerWatch::start(ctx).await;
        let (outcome, logins) = if with_logins {
            let until = Instant::now() + duration;
            let storm = accounts::login_storm(&ctx.http, &ctx.base, names.clone(), args.login_concurrency, until);
            let (outcome, storm) = tokio::join!(fleet.step(per_sender, duration, settle), storm);
            (outcome?, Some(storm?))
        } else {
            (fleet.step(per_sender, duration, settle).await?, None)
        };
        let mut row = delivery_row(label.to_owned(), args.rate, &outcome);
        if with_logins {
            row = row.with("p99 / baseline", outcome.latency.p99 / baseline_p99);
        } else {
            baseline_p99 = outcome.latency.p99;
        }
        if let Some((ok, latency)) = &logins {
            let l = latency.summary();
            row = row
                .with("logins/s", *ok as f64 / duration.as_secs_f64())
                .with("login p50 ms", l.p50)
                .with("login p99 ms", l.p99);
        }
        report.rows.push(watch.finish(ctx, &outcome, row).await);
        eprintln!("[logins] {label}: delivery p99 {:.2} ms", outcome.latency.p99);
        if record_problems(&mut report, label, &outcome) {
            break;
        }
    }
    fleet.stop().await?;
    Ok(report)
}
