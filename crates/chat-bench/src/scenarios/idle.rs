//! Scenario 3, idle: many authenticated connections doing nothing; the
//! server's RSS per connection and how fast they connect.

use std::time::Duration;

use super::{
    Ctx, Target,
    steps::{record_problems, start_fleet},
};
use crate::report::{Report, Row};

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

    let rss_before = ctx.server_rss_kib();
    let mut fleet = start_fleet(ctx, &plan, shards, &mut report).await?;
    // Let the server finish its bookkeeping before reading its RSS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = ctx.server_rss_kib();
    let metrics = ctx.scrape().await;
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
            .with("check deliveries", outcome.deliveries.delivered as f64)
            .with("lost", outcome.deliveries.lost as f64),
    );
    Ok(report)
}
