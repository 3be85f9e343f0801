//! One generator process: opens its share of the connections, joins their
//! rooms, then runs the steps the coordinator sends on stdin (see
//! [`crate::plan`]).
//!
//! Everything runs on one thread (a current-thread runtime and a
//! `LocalSet`): the generator is pinned to one core anyway, and one thread
//! needs no locks. Each connection is a local task that reads into one
//! buffer and handles every complete frame in place: a `message_received`
//! is recognised by its method, its stamp is parsed without decoding the
//! JSON, and the delivery is counted against its sender and timed.
//!
//! - this module: the protocol loop on stdin/stdout.
//! - [`connect`]: opening the connections and joining their rooms.
//! - [`receive`]: each connection's reading task and frame sniffing.
//! - [`shard`]: the delivery counters all connections share.
//! - [`send`]: a sender's pacing and its unanswered calls.
//! - [`step`]: one step, from sending to the settled counts.

mod connect;
mod receive;
mod send;
mod shard;
mod step;

use std::{cell::RefCell, rc::Rc};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::plan::{Expect, LINE_PREFIX, StepPlan, WorkerPlan};

use self::shard::Shard;

/// Runs the worker protocol on stdin/stdout until `QUIT`.
pub(crate) fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run())
}

async fn run() -> anyhow::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let plan: WorkerPlan = read_message(&mut lines, "PLAN").await?;
    let shard = Rc::new(RefCell::new(Shard::new(&plan)?));

    let (ready, senders) = connect::connect_all(&plan, &shard).await;
    say("READY", &ready)?;

    let mut senders = senders;
    loop {
        let Some(line) = lines.next_line().await? else { return Ok(()) };
        let (verb, body) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb {
            "STEP" => {
                let step: StepPlan = serde_json::from_str(body).context("bad STEP")?;
                let (acked, returned) = step::run_step(&plan, &shard, senders, &step).await?;
                senders = returned;
                say("ACKED", &acked)?;
                let expect: Expect = read_message(&mut lines, "EXPECT").await?;
                let result = step::settle(&plan, &shard, &expect, &step).await;
                say("RESULT", &result)?;
            }
            "QUIT" => return Ok(()),
            other => bail!("unexpected command {other:?}"),
        }
    }
}

async fn read_message<T: serde::de::DeserializeOwned>(
    lines: &mut tokio::io::Lines<BufReader<tokio::io::Stdin>>,
    verb: &str,
) -> anyhow::Result<T> {
    let line = lines.next_line().await?.with_context(|| format!("stdin closed while waiting for {verb}"))?;
    let body = line.strip_prefix(verb).and_then(|b| b.strip_prefix(' ')).with_context(|| format!("expected {verb}"))?;
    serde_json::from_str(body).with_context(|| format!("bad {verb}"))
}

fn say<T: serde::Serialize>(verb: &str, body: &T) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{LINE_PREFIX}{verb} {}", serde_json::to_string(body)?)?;
    out.flush()?;
    Ok(())
}
