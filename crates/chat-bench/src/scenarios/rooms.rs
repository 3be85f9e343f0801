//! Scenario 2, rooms: many small rooms at one rate (latency), then
//! many big rooms at stepped rates (throughput).

use super::{
    Ctx, Target,
    steps::{ServerWatch, delivery_row, human, record_problems, start_fleet, stepped},
};
use crate::report::Report;

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
    /// Run every rate even after saturation or a failed step (whose
    /// problems still fail the run).
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
