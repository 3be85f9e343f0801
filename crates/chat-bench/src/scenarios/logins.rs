//! Scenario 5, logins: a fan-out at a moderate rate, first alone, then
//! with login loops running beside it.

use std::time::Instant;

use super::{
    Ctx, OneRoom, Target,
    steps::{ServerWatch, delivery_row, human, record_problems, start_fleet},
};
use crate::{accounts, report::Report};

/// Scenario 5: logins while a fan-out runs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LoginsArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) room: OneRoom,
    /// Offered deliveries per second (a moderate rate).
    #[arg(long, default_value_t = 100_000.0)]
    pub(crate) rate: f64,
    /// Login loops running at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) login_concurrency: usize,
}

pub(crate) async fn logins(ctx: &Ctx, args: &LoginsArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("logins");
    args.room.params(&mut report);
    report.param("rate", human(args.rate));
    report.param("login_concurrency", args.login_concurrency);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let names: Vec<String> =
        (0..ctx.target.users.max(1)).map(|i| accounts::username(&ctx.target.user_prefix, i)).collect();
    let plan = args.room.plan(ctx, tokens, "login");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    let (duration, settle) = ctx.step_time();
    let per_sender = args.room.per_sender(args.rate);

    let mut baseline_p99 = f64::NAN;
    for (label, with_logins) in [("without logins", false), ("with logins", true)] {
        let watch = ServerWatch::start(ctx).await;
        let (outcome, logins) = if with_logins {
            let until = Instant::now() + duration;
            let storm = accounts::login_storm(&ctx.http, &ctx.bases, names.clone(), args.login_concurrency, until);
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
