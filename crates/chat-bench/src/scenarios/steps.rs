//! What the scenarios do alike: start a fleet, step offered rates, watch
//! the server during a step, and turn an outcome into a row and problems.

use std::time::Instant;

use super::Ctx;
use crate::{
    fleet::{Fleet, StepOutcome},
    plan::WorkerPlan,
    probe::{self, Metrics, TICKS_PER_SEC},
    report::{Report, Row},
};

/// Server-side view of a step: CPU time and `/metrics` deltas.
pub(super) struct ServerWatch {
    started: Instant,
    cpu: Option<u64>,
    cores: Vec<(u64, u64)>,
    pub(super) metrics: Metrics,
}

impl ServerWatch {
    pub(super) async fn start(ctx: &Ctx) -> Self {
        let metrics = ctx.scrape().await;
        let cpu = ctx.server_cpu_ticks();
        Self { started: Instant::now(), cpu, cores: probe::cpu_times(), metrics }
    }

    /// Adds server CPU %, server frames/s and the generator's CPU % to `row`
    /// (the server's figures summed over its nodes).
    pub(super) async fn finish(self, ctx: &Ctx, outcome: &StepOutcome, row: Row) -> Row {
        let elapsed = self.started.elapsed().as_secs_f64();
        let after = ctx.scrape().await;
        let server_cpu = match (self.cpu, ctx.server_cpu_ticks()) {
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

/// Starts a fleet for `plan`, recording failed connections as problems.
pub(super) async fn start_fleet(
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

pub(super) fn delivery_row(label: String, offered: f64, outcome: &StepOutcome) -> Row {
    let l = outcome.latency;
    Row::new(label)
        .with("offered/s", offered)
        .with("delivered/s", outcome.deliveries_per_sec)
        .with("p50 ms", l.p50)
        .with("p90 ms", l.p90)
        .with("p99 ms", l.p99)
        .with("p999 ms", l.p999)
        .with("max ms", l.max)
        .with("sent", outcome.sends.sent as f64)
        .with("delivered", outcome.deliveries.delivered as f64)
        .with("lost", outcome.deliveries.lost as f64)
        .with("ack p50 ms", outcome.ack_latency.p50)
        .with("ack p99 ms", outcome.ack_latency.p99)
}

pub(super) fn record_problems(report: &mut Report, label: &str, outcome: &StepOutcome) -> bool {
    let problems = outcome.problems();
    for p in &problems {
        report.problems.push(format!("{label}: {p}"));
    }
    !problems.is_empty()
}

/// Steps offered delivery rates on an open fleet. Stops after the first
/// step that saturates (delivers < 90 % of the offered rate) or fails,
/// unless `keep_going` (a failed step still fails the run).
pub(super) async fn stepped(
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
            outcome.deliveries.lost
        );
        if (failed || saturated) && !keep_going {
            break;
        }
    }
    Ok(())
}

/// `20000` → `20k`, `1600000` → `1.6M`.
pub(super) fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", (v / 1e5).round() / 10.0)
    } else if v >= 1e3 {
        format!("{}k", (v / 1e2).round() / 10.0)
    } else {
        format!("{v}")
    }
}
