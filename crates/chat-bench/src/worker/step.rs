//! One step on this worker: every sender sends at once until the step
//! ends and its calls are answered, then the receivers settle and what
//! they got is checked against the acks of all workers.

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::Rc,
    time::{Duration, Instant},
};

use tokio::task::JoinSet;

use super::{
    send::{Sender, send_step},
    shard::Shard,
};
use crate::{
    plan::{Acked, Expect, StepPlan, StepResult, WorkerPlan},
    probe,
    stats::Latency,
};

/// Sends for one step on every local sender at once; returns when each has
/// had its answers (or [`ACK_GRACE`](super::send::ACK_GRACE) passed).
pub(super) async fn run_step(
    plan: &WorkerPlan,
    shard: &Rc<RefCell<Shard>>,
    senders: Vec<Sender>,
    step: &StepPlan,
) -> anyhow::Result<(Acked, Vec<Sender>)> {
    shard.borrow_mut().begin_step(step.step);
    let mut tasks = JoinSet::new();
    for mut sender in senders {
        // Each step reports its own outcome: nothing carries over.
        sender.acks.acked.set(0);
        sender.acks.errors.set(0);
        sender.acks.first_error.borrow_mut().take();
        sender.acks.latency.borrow_mut().reset();
        let (step, size, window) = (step.clone(), plan.text_size, plan.window.max(1));
        let phase = plan.sender_phase(sender.global);
        tasks.spawn_local(async move {
            let times = send_step(&mut sender, &step, size, window, phase).await;
            (sender, times)
        });
    }
    let mut acked = Acked::default();
    let mut ack_latency = Latency::new()?;
    let mut returned = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (sender, (sent, first_tx, last_tx)) = done?;
        let answered = sender.acks.acked.get();
        acked.per_sender.push((sender.global, answered));
        acked.sends.sent += sent;
        acked.sends.acked += answered;
        acked.sends.errors += sender.acks.errors.get() + sender.acks.outstanding.borrow().len() as u64;
        if acked.sends.first_error.is_none() {
            acked.sends.first_error = sender.acks.first_error.borrow_mut().take();
            if acked.sends.first_error.is_none() && !sender.acks.outstanding.borrow().is_empty() {
                acked.sends.first_error = Some("send_message calls left unanswered".to_owned());
            }
        }
        if first_tx > 0 && (acked.first_tx_ns == 0 || first_tx < acked.first_tx_ns) {
            acked.first_tx_ns = first_tx;
        }
        acked.last_tx_ns = acked.last_tx_ns.max(last_tx);
        ack_latency.add(&sender.acks.latency.borrow().to_buckets());
        sender.acks.outstanding.borrow_mut().clear();
        returned.push(sender);
    }
    acked.acks = ack_latency.to_buckets();
    Ok((acked, returned))
}

/// Waits until this shard's receivers have every delivery the acks promise
/// (or `settle_ms` without progress), then counts what is missing per
/// receiver.
pub(super) async fn settle(
    plan: &WorkerPlan,
    shard: &Rc<RefCell<Shard>>,
    expect: &Expect,
    step: &StepPlan,
) -> StepResult {
    let acked: HashMap<usize, u64> = expect.acked.iter().copied().collect();
    let per_room: Vec<Vec<u64>> = (0..plan.rooms)
        .map(|r| (0..plan.senders_per_room).map(|k| acked.get(&plan.sender(r, k)).copied().unwrap_or(0)).collect())
        .collect();
    let expected = shard.borrow().expected(&per_room);

    let patience = Duration::from_millis(step.settle_ms);
    let mut last_progress = Instant::now();
    let mut last_seen = shard.borrow().delivered;
    loop {
        let (delivered, live) = {
            let s = shard.borrow();
            (s.delivered, s.conns.len() as u64 > s.closed)
        };
        if delivered >= expected || !live {
            break;
        }
        if delivered != last_seen {
            last_seen = delivered;
            last_progress = Instant::now();
        } else if last_progress.elapsed() >= patience {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let cpu_now = probe::cpu_ticks("self").unwrap_or(0);
    let s = shard.borrow();
    StepResult {
        deliveries: s.tally(&per_room),
        first_rx_ns: s.first_rx_ns,
        last_rx_ns: s.last_rx_ns,
        latency: s.latency.to_buckets(),
        cpu_ticks: cpu_now.saturating_sub(s.cpu_at_step_start),
    }
}
