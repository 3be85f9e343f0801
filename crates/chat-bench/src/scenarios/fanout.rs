//! Scenario 1, fan-out: one room, many members, a few senders; offered
//! rates stepped up.

use super::{
    Ctx, OneRoom, Target,
    steps::{start_fleet, stepped},
};
use crate::report::Report;

/// Scenario 1: one big room.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FanoutArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) room: OneRoom,
    /// Offered deliveries per second, stepped in order.
    #[arg(long, value_delimiter = ',', default_value = "20000,100000,200000,400000,800000,1600000")]
    pub(crate) rates: Vec<f64>,
    /// Run every rate even after saturation or a failed step (whose
    /// problems still fail the run).
    #[arg(long)]
    pub(crate) keep_going: bool,
}

pub(crate) async fn fanout(ctx: &Ctx, args: &FanoutArgs) -> anyhow::Result<Report> {
    let mut report = Report::new("fanout");
    args.room.params(&mut report);
    ctx.common_params(&mut report);
    let tokens = ctx.tokens(ctx.target.users).await?;
    let plan = args.room.plan(ctx, tokens, "fan");
    let mut fleet = start_fleet(ctx, &plan, 1, &mut report).await?;
    let room = &args.room;
    stepped(ctx, &mut fleet, &mut report, &args.rates, room.members, room.senders, args.keep_going).await?;
    fleet.stop().await?;
    Ok(report)
}
