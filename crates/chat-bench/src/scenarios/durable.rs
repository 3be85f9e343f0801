//! Scenario 4, durable: senders alone in their rooms, so acknowledged
//! sends per second and their latency measure the storage path.

use super::{
    Ctx, Target,
    steps::{ServerWatch, human, record_problems, start_fleet},
};
use crate::report::{Report, Row};

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
    /// Run every step even after a failed one (whose problems still fail
    /// the run).
    #[arg(long)]
    pub(crate) keep_going: bool,
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
        let after = ctx.scrape().await;
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
            .with("errors", outcome.sends.errors as f64)
            .with("lost", outcome.deliveries.lost as f64)
            .with("srv commits/s", commits / duration.as_secs_f64())
            .with("srv batch mean", after.delta(&before, "chat_store_commit_batch_size_sum") / commits.max(1.0))
            .with("srv commit ms", after.delta(&before, "chat_store_commit_seconds_sum") * 1000.0 / commits.max(1.0));
        report.rows.push(watch.finish(ctx, &outcome, row).await);
        eprintln!("[durable] {label}: {:.0} acked/s, ack p99 {:.2} ms", outcome.acks_per_sec, ack.p99);
        if record_problems(&mut report, &label, &outcome) && !args.keep_going {
            break;
        }
    }
    fleet.stop().await?;
    Ok(report)
}
