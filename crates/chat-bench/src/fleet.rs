//! The coordinator's side: spawns the worker processes, keeps them in step
//! and merges what they report.

use std::{collections::HashMap, net::IpAddr, process::Stdio, time::Duration};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command},
};

use crate::{
    plan::{Acked, Deliveries, Expect, LINE_PREFIX, Ready, Sends, StepPlan, StepResult, WorkerPlan},
    stats::{Latency, Percentiles},
};

/// Worker processes running one plan.
#[derive(Debug)]
pub(crate) struct Fleet {
    workers: Vec<Worker>,
    /// Merged connect figures.
    pub(crate) ready: ReadySummary,
    next_step: u32,
}

#[derive(Debug)]
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// Connections opened by all workers.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadySummary {
    pub(crate) connected: usize,
    pub(crate) failed: usize,
    pub(crate) first_error: Option<String>,
    /// From the first worker starting to the last one finishing, seconds.
    pub(crate) seconds: f64,
}

/// One step, merged over workers.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepOutcome {
    pub(crate) sends: Sends,
    pub(crate) deliveries: Deliveries,
    /// Deliveries per second from the first send to the last delivery.
    pub(crate) deliveries_per_sec: f64,
    /// Acknowledged sends per second over the sending window.
    pub(crate) acks_per_sec: f64,
    pub(crate) latency: Percentiles,
    pub(crate) ack_latency: Percentiles,
    /// Generator CPU seconds (all workers) during the step.
    pub(crate) generator_cpu_secs: f64,
    /// From the first send to the last delivery, seconds.
    pub(crate) wall_secs: f64,
}

impl StepOutcome {
    /// Anything the run must fail for: a missing, duplicated or reordered
    /// delivery, a refused send, a dropped connection.
    pub(crate) fn problems(&self) -> Vec<String> {
        let (sends, deliveries) = (&self.sends, &self.deliveries);
        let mut problems = Vec::new();
        if deliveries.lost > 0 {
            problems.push(format!("{} deliveries lost", deliveries.lost));
        }
        if deliveries.extra > 0 {
            problems.push(format!("{} unexpected deliveries", deliveries.extra));
        }
        if deliveries.out_of_order > 0 {
            let first = deliveries.first_out_of_order.as_deref().unwrap_or("?");
            problems.push(format!(
                "{} deliveries out of order or duplicated ({} of them repeats; first: {first})",
                deliveries.out_of_order, deliveries.repeated
            ));
        }
        if sends.errors > 0 {
            let first = sends.first_error.as_deref().unwrap_or("");
            problems.push(format!("{} sends failed (first: {first})", sends.errors));
        }
        if deliveries.closed > 0 {
            let reasons = deliveries.close_reasons.join("; ");
            problems.push(format!("{} connections closed ({reasons})", deliveries.closed));
        }
        problems
    }
}

/// How to split a run over processes.
#[derive(Debug, Clone)]
pub(crate) struct Spread {
    pub(crate) shards: usize,
    /// Bind shard `i` to 127.0.0.(base + i) (more ephemeral ports).
    pub(crate) source_base: Option<u8>,
}

impl Fleet {
    /// Starts `spread.shards` workers for `plan` and waits until all their
    /// connections are open and joined.
    pub(crate) async fn start(plan: &WorkerPlan, spread: &Spread) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find the chat-bench executable")?;
        let shards = spread.shards.max(1);
        let mut workers = Vec::with_capacity(shards);
        for shard in 0..shards {
            let mut child = Command::new(&exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("cannot start a worker process")?;
            let stdin = child.stdin.take().context("worker stdin")?;
            let stdout = child.stdout.take().context("worker stdout")?;
            let mut worker = Worker { child, stdin, lines: BufReader::new(stdout).lines() };
            let mut mine = plan.clone();
            mine.shard = shard;
            mine.shards = shards;
            if let Some(base) = spread.source_base {
                mine.source = Some(IpAddr::from([127, 0, 0, base.saturating_add(shard as u8)]));
            }
            worker.send("PLAN", &mine).await?;
            workers.push(worker);
        }
        let mut ready = ReadySummary::default();
        let (mut first, mut last) = (u64::MAX, 0);
        for worker in &mut workers {
            let r: Ready = worker.expect("READY", Duration::from_secs(600)).await?;
            ready.connected += r.connected;
            ready.failed += r.failed;
            if ready.first_error.is_none() {
                ready.first_error = r.first_error;
            }
            first = first.min(r.started_ns);
            last = last.max(r.finished_ns);
        }
        ready.seconds = last.saturating_sub(first) as f64 / 1e9;
        Ok(Self { workers, ready, next_step: 1 })
    }

    /// Runs one step on every worker and merges the outcome.
    pub(crate) async fn step(
        &mut self,
        rate_per_sender: f64,
        duration: Duration,
        settle: Duration,
    ) -> anyhow::Result<StepOutcome> {
        let step = StepPlan {
            step: self.next_step,
            rate_per_sender,
            duration_ms: duration.as_millis() as u64,
            settle_ms: settle.as_millis() as u64,
        };
        self.next_step += 1;
        let patience = duration + Duration::from_secs(120);
        for worker in &mut self.workers {
            worker.send("STEP", &step).await?;
        }
        let mut outcome = StepOutcome::default();
        let mut acked_by_sender: HashMap<usize, u64> = HashMap::new();
        let mut acks = Latency::new()?;
        let (mut first_tx, mut last_tx) = (u64::MAX, 0u64);
        for worker in &mut self.workers {
            let a: Acked = worker.expect("ACKED", patience).await?;
            for (sender, n) in a.per_sender {
                *acked_by_sender.entry(sender).or_default() += n;
            }
            outcome.sends.add(a.sends);
            if a.first_tx_ns > 0 {
                first_tx = first_tx.min(a.first_tx_ns);
            }
            last_tx = last_tx.max(a.last_tx_ns);
            acks.add(&a.acks);
        }
        let expect = Expect { acked: acked_by_sender.into_iter().collect() };
        for worker in &mut self.workers {
            worker.send("EXPECT", &expect).await?;
        }
        let mut latency = Latency::new()?;
        let mut last_rx = 0u64;
        let mut cpu_ticks = 0u64;
        for worker in &mut self.workers {
            let r: StepResult = worker.expect("RESULT", patience).await?;
            outcome.deliveries.add(r.deliveries);
            last_rx = last_rx.max(r.last_rx_ns);
            cpu_ticks += r.cpu_ticks;
            latency.add(&r.latency);
        }
        if first_tx != u64::MAX {
            let wall = last_rx.max(last_tx).saturating_sub(first_tx) as f64 / 1e9;
            outcome.wall_secs = wall;
            if wall > 0.0 {
                outcome.deliveries_per_sec = outcome.deliveries.delivered as f64 / wall;
            }
            let sending = (last_tx.saturating_sub(first_tx) as f64 / 1e9).max(duration.as_secs_f64() * 0.5);
            outcome.acks_per_sec = outcome.sends.acked as f64 / sending;
        }
        outcome.latency = latency.summary();
        outcome.ack_latency = acks.summary();
        outcome.generator_cpu_secs = cpu_ticks as f64 / crate::probe::TICKS_PER_SEC;
        Ok(outcome)
    }

    /// Tells the workers to exit and waits for them (closing their sockets).
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        for worker in &mut self.workers {
            // A worker that already died is reported by its wait below.
            let _ = worker.stdin.write_all(b"QUIT\n").await;
        }
        for worker in &mut self.workers {
            let status = tokio::time::timeout(Duration::from_secs(30), worker.child.wait()).await;
            match status {
                Ok(Ok(s)) if s.success() => {}
                Ok(Ok(s)) => bail!("a worker exited with {s}"),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => {
                    let _ = worker.child.kill().await;
                }
            }
        }
        Ok(())
    }
}

impl Worker {
    async fn send<T: serde::Serialize>(&mut self, verb: &str, body: &T) -> anyhow::Result<()> {
        let line = format!("{verb} {}\n", serde_json::to_string(body)?);
        self.stdin.write_all(line.as_bytes()).await.context("a worker went away")?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// Reads lines until the protocol line `verb`, passing others through.
    async fn expect<T: serde::de::DeserializeOwned>(&mut self, verb: &str, patience: Duration) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .with_context(|| format!("a worker did not answer {verb} in {patience:?}"))??
                .with_context(|| format!("a worker exited before {verb}"))?;
            let Some(message) = line.strip_prefix(LINE_PREFIX) else {
                eprintln!("[worker] {line}");
                continue;
            };
            let (got, body) = message.split_once(' ').unwrap_or((message, ""));
            if got != verb {
                bail!("a worker said {got} where {verb} was expected");
            }
            return serde_json::from_str(body).with_context(|| format!("bad {verb} from a worker"));
        }
    }
}
