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

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use memchr::memmem;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::Notify,
    task::JoinSet,
};

use crate::{
    plan::{Acked, Expect, LINE_PREFIX, Ready, StepPlan, StepResult, WorkerPlan},
    probe,
    stats::Latency,
    tag::{self, Stamp, StampFinder},
    ws::{self, FrameReader, OP_CLOSE, OP_PING, OP_TEXT},
};

/// How long a sender waits for its last answers after a step.
const ACK_GRACE: Duration = Duration::from_secs(60);

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

    let (ready, senders) = connect_all(&plan, &shard).await;
    say("READY", &ready)?;

    let mut senders = senders;
    loop {
        let Some(line) = lines.next_line().await? else { return Ok(()) };
        let (verb, body) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb {
            "STEP" => {
                let step: StepPlan = serde_json::from_str(body).context("bad STEP")?;
                let (acked, returned) = run_step(&plan, &shard, senders, &step).await?;
                senders = returned;
                say("ACKED", &acked)?;
                let expect: Expect = read_message(&mut lines, "EXPECT").await?;
                let result = settle(&plan, &shard, &expect, &step).await;
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

/// Counters shared by this process's connections.
#[derive(Debug)]
struct Shard {
    step: u32,
    conns: Vec<ConnStats>,
    latency: Latency,
    delivered: u64,
    out_of_order: u64,
    stale: u64,
    foreign: u64,
    closed: u64,
    close_reasons: Vec<String>,
    first_rx_ns: u64,
    last_rx_ns: u64,
    rooms: usize,
    senders_per_room: usize,
}

#[derive(Debug, Clone)]
struct ConnStats {
    room: usize,
    /// This step's deliveries per sender of the room.
    counts: Vec<u64>,
    /// Highest sequence number seen per sender of the room.
    last_seq: Vec<Option<u64>>,
}

impl Shard {
    fn new(plan: &WorkerPlan) -> anyhow::Result<Self> {
        Ok(Self {
            step: 0,
            conns: Vec::new(),
            latency: Latency::new()?,
            delivered: 0,
            out_of_order: 0,
            stale: 0,
            foreign: 0,
            closed: 0,
            close_reasons: Vec::new(),
            first_rx_ns: 0,
            last_rx_ns: 0,
            rooms: plan.rooms,
            senders_per_room: plan.senders_per_room,
        })
    }

    fn begin_step(&mut self, step: u32) {
        self.step = step;
        for conn in &mut self.conns {
            conn.counts.iter_mut().for_each(|c| *c = 0);
        }
        self.latency.reset();
        self.delivered = 0;
        self.out_of_order = 0;
        self.stale = 0;
        self.foreign = 0;
        self.first_rx_ns = 0;
        self.last_rx_ns = 0;
    }

    /// Counts one delivery of `stamp` to local connection `conn`.
    fn delivery(&mut self, conn: usize, stamp: Stamp, rx_ns: u64) {
        let sender = stamp.sender as usize;
        let (rooms, per_room) = (self.rooms, self.senders_per_room);
        let Some(stats) = self.conns.get_mut(conn) else { return };
        let k = sender / rooms;
        if sender % rooms != stats.room || k >= per_room {
            self.foreign += 1;
            return;
        }
        match stats.last_seq[k] {
            Some(last) if stamp.seq <= last => {
                self.out_of_order += 1;
                return;
            }
            _ => stats.last_seq[k] = Some(stamp.seq),
        }
        if stamp.step != self.step {
            self.stale += 1;
            return;
        }
        stats.counts[k] += 1;
        self.delivered += 1;
        self.latency.record_us(rx_ns.saturating_sub(stamp.sent_ns) / 1000);
        if self.first_rx_ns == 0 {
            self.first_rx_ns = rx_ns;
        }
        self.last_rx_ns = rx_ns;
    }

    fn connection_lost(&mut self, why: String) {
        self.closed += 1;
        if self.close_reasons.len() < 5 {
            self.close_reasons.push(why);
        }
    }
}

/// The sending half of a sender connection, plus what its reader shares
/// with it.
#[derive(Debug)]
struct Sender {
    global: usize,
    room_id: String,
    write: OwnedWriteHalf,
    next_id: u64,
    next_seq: u64,
    acks: Rc<AckState>,
}

/// Unanswered calls of one sender, shared with the task reading its socket.
#[derive(Debug)]
struct AckState {
    outstanding: RefCell<HashMap<u64, Instant>>,
    acked: Cell<u64>,
    errors: Cell<u64>,
    first_error: RefCell<Option<String>>,
    latency: RefCell<Latency>,
    answered: Notify,
}

impl AckState {
    fn answer(&self, id: u64, error: Option<&[u8]>) {
        let Some(sent) = self.outstanding.borrow_mut().remove(&id) else { return };
        match error {
            None => {
                self.acked.set(self.acked.get() + 1);
                self.latency.borrow_mut().record_us(sent.elapsed().as_micros() as u64);
            }
            Some(frame) => {
                self.errors.set(self.errors.get() + 1);
                let mut first = self.first_error.borrow_mut();
                if first.is_none() {
                    *first = Some(String::from_utf8_lossy(&frame[..frame.len().min(300)]).into_owned());
                }
            }
        }
        self.answered.notify_one();
    }
}

/// Opens this shard's connections, at most `connect_concurrency` at a
/// time, and joins each to its room.
async fn connect_all(plan: &WorkerPlan, shard: &Rc<RefCell<Shard>>) -> (Ready, Vec<Sender>) {
    let mine: Vec<usize> = (plan.shard..plan.conns).step_by(plan.shards.max(1)).collect();
    let per_room = plan.senders_per_room;
    shard.borrow_mut().conns = mine
        .iter()
        .map(|&j| ConnStats { room: plan.room_of(j), counts: vec![0; per_room], last_seq: vec![None; per_room] })
        .collect();

    let mut ready = Ready { started_ns: tag::now_ns(), ..Ready::default() };
    let mut senders = Vec::new();
    let mut pending = JoinSet::new();
    let mut next = 0;
    loop {
        while next < mine.len() && pending.len() < plan.connect_concurrency.max(1) {
            let (local, global) = (next, mine[next]);
            let token = plan.tokens[global % plan.tokens.len()].clone();
            let room = plan.room_name(plan.room_of(global));
            let (server, source) = (plan.server, plan.source);
            pending.spawn_local(async move { (local, global, open_and_join(server, source, &token, &room).await) });
            next += 1;
        }
        let Some(joined) = pending.join_next().await else { break };
        match joined {
            Ok((local, global, Ok((stream, reader, room_id)))) => {
                ready.connected += 1;
                if plan.is_sender(global) {
                    match start_sender(stream, reader, local, global, room_id, shard) {
                        Ok(sender) => senders.push(sender),
                        Err(e) => {
                            ready.failed += 1;
                            ready.first_error.get_or_insert(e.to_string());
                        }
                    }
                } else {
                    tokio::task::spawn_local(receive(stream, reader, local, Rc::clone(shard)));
                }
            }
            Ok((_, _, Err(e))) => {
                ready.failed += 1;
                ready.first_error.get_or_insert(e);
            }
            Err(e) => {
                ready.failed += 1;
                ready.first_error.get_or_insert(e.to_string());
            }
        }
    }
    ready.finished_ns = tag::now_ns();
    (ready, senders)
}

/// Connects, upgrades, sends `join_room` and waits for its answer. Returns
/// the canonical room id.
async fn open_and_join(
    server: std::net::SocketAddr,
    source: Option<std::net::IpAddr>,
    token: &str,
    room: &str,
) -> Result<(TcpStream, FrameReader, String), String> {
    let (mut stream, mut reader) = ws::connect(server, source, token).await.map_err(|e| e.to_string())?;
    let join = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"join_room","params":{{"room_name":"{room}"}}}}"#);
    let mut frame = Vec::new();
    ws::encode_text(&mut frame, join.as_bytes());
    stream.write_all(&frame).await.map_err(|e| format!("join write: {e}"))?;
    loop {
        let mut answer: Option<Result<(), String>> = None;
        reader
            .frames(|op, payload| {
                if op == OP_TEXT && answer.is_none() && response_id(payload) == Some(1) {
                    answer = Some(if is_error(payload) {
                        Err(format!("join_room failed: {}", String::from_utf8_lossy(payload)))
                    } else {
                        Ok(())
                    });
                }
            })
            .map_err(|e| e.to_string())?;
        match answer {
            Some(Ok(())) => return Ok((stream, reader, room.to_ascii_lowercase())),
            Some(Err(e)) => return Err(e),
            None => {}
        }
        match reader.fill(&mut stream).await {
            Ok(0) => return Err("closed before join_room was answered".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(format!("join read: {e}")),
        }
    }
}

/// The id of a JSON-RPC response (`{"jsonrpc":"2.0","id":N,…`), or `None`
/// for a notification.
fn response_id(frame: &[u8]) -> Option<u64> {
    let head = &frame[..frame.len().min(40)];
    let at = memmem::find(head, b"\"id\":")? + 5;
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&frame[at..at + digits]).ok()?.parse().ok()
}

fn is_error(frame: &[u8]) -> bool {
    memmem::find(frame, b"\"error\":{").is_some()
}

fn is_message(frame: &[u8]) -> bool {
    let head = &frame[..frame.len().min(64)];
    memmem::find(head, b"\"method\":\"message_received\"").is_some()
}

/// A receive-only connection: counts deliveries until the socket closes.
async fn receive(mut stream: TcpStream, mut reader: FrameReader, local: usize, shard: Rc<RefCell<Shard>>) {
    let finder = StampFinder::new();
    let why = loop {
        if let Err(e) = handle_buffered(&mut reader, local, &shard, &finder, None) {
            break e;
        }
        match reader.fill(&mut stream).await {
            Ok(0) => break "server closed the TCP connection".to_owned(),
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    shard.borrow_mut().connection_lost(why);
}

/// Handles every complete frame in `reader`. Errors (with the reason) when
/// the server closed the WebSocket.
fn handle_buffered(
    reader: &mut FrameReader,
    local: usize,
    shard: &RefCell<Shard>,
    finder: &StampFinder,
    acks: Option<&AckState>,
) -> Result<(), String> {
    let rx_ns = tag::now_ns();
    let mut shard = shard.borrow_mut();
    let mut closed: Option<String> = None;
    let parsed = reader.frames(|op, payload| match op {
        OP_TEXT => {
            if is_message(payload) {
                if let Some(stamp) = finder.find(payload) {
                    shard.delivery(local, stamp, rx_ns);
                }
            } else if let (Some(acks), Some(id)) = (acks, response_id(payload)) {
                acks.answer(id, is_error(payload).then_some(payload));
            }
        }
        OP_CLOSE => {
            let code = match payload {
                [a, b, ..] => u16::from_be_bytes([*a, *b]),
                _ => 1005,
            };
            let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
            closed = Some(format!("closed by the server: {code} {reason}"));
        }
        // The server does not ping; a pong would need the write half.
        OP_PING => {}
        _ => {}
    });
    if let Err(e) = parsed {
        return Err(format!("bad frame: {e:#}"));
    }
    closed.map_or(Ok(()), Err)
}

fn start_sender(
    stream: TcpStream,
    reader: FrameReader,
    local: usize,
    global: usize,
    room_id: String,
    shard: &Rc<RefCell<Shard>>,
) -> anyhow::Result<Sender> {
    let (read, write) = stream.into_split();
    let acks = Rc::new(AckState {
        outstanding: RefCell::new(HashMap::new()),
        acked: Cell::new(0),
        errors: Cell::new(0),
        first_error: RefCell::new(None),
        latency: RefCell::new(Latency::new()?),
        answered: Notify::new(),
    });
    tokio::task::spawn_local(receive_as_sender(read, reader, local, Rc::clone(shard), Rc::clone(&acks)));
    Ok(Sender { global, room_id, write, next_id: 2, next_seq: 0, acks })
}

async fn receive_as_sender(
    mut read: OwnedReadHalf,
    mut reader: FrameReader,
    local: usize,
    shard: Rc<RefCell<Shard>>,
    acks: Rc<AckState>,
) {
    let finder = StampFinder::new();
    let why = loop {
        if let Err(e) = handle_buffered(&mut reader, local, &shard, &finder, Some(&acks)) {
            break e;
        }
        match reader.fill(&mut read).await {
            Ok(0) => break "server closed the TCP connection".to_owned(),
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    shard.borrow_mut().connection_lost(why);
    // Wake a sender waiting for answers that will never come.
    acks.answered.notify_one();
}

/// Sends for one step on every local sender at once; returns when each has
/// had its answers (or [`ACK_GRACE`] passed).
async fn run_step(
    plan: &WorkerPlan,
    shard: &Rc<RefCell<Shard>>,
    senders: Vec<Sender>,
    step: &StepPlan,
) -> anyhow::Result<(Acked, Vec<Sender>)> {
    shard.borrow_mut().begin_step(step.step);
    let cpu_before = probe::cpu_ticks("self").unwrap_or(0);
    CPU_AT_STEP_START.with(|c| c.set(cpu_before));
    let mut tasks = JoinSet::new();
    for mut sender in senders {
        sender.acks.acked.set(0);
        sender.acks.errors.set(0);
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
        let (sender, times) = done?;
        let (sent, first_tx, last_tx) = times;
        acked.sent += sent;
        acked.acked.push((sender.global, sender.acks.acked.get()));
        acked.send_errors += sender.acks.errors.get() + sender.acks.outstanding.borrow().len() as u64;
        if acked.first_error.is_none() {
            acked.first_error = sender.acks.first_error.borrow_mut().take();
            if acked.first_error.is_none() && !sender.acks.outstanding.borrow().is_empty() {
                acked.first_error = Some("send_message calls left unanswered".to_owned());
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

thread_local! {
    static CPU_AT_STEP_START: Cell<u64> = const { Cell::new(0) };
}

/// Paces one sender: a token bucket at `rate_per_sender` (or unpaced), never
/// more than `window` calls unanswered. Message `n` is due at
/// `(n + phase) / rate` seconds into the step. Returns (sent, first and last
/// send time in Unix ns).
async fn send_step(sender: &mut Sender, step: &StepPlan, size: usize, window: usize, phase: f64) -> (u64, u64, u64) {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(step.duration_ms);
    let rate = step.rate_per_sender;
    let (mut sent, mut first_tx, mut last_tx) = (0u64, 0u64, 0u64);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut payload = Vec::with_capacity(size + 200);
    let mut text = Vec::with_capacity(size + 64);
    let prefix = format!(r#","method":"send_message","params":{{"room_id":"{}","text":""#, sender.room_id);
    'sending: loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let due = if rate > 0.0 { messages_due(now.duration_since(start), rate, phase) } else { u64::MAX };
        out.clear();
        while sent < due && sender.acks.outstanding.borrow().len() < window && out.len() < 60 * 1024 {
            let id = sender.next_id;
            sender.next_id += 1;
            let tx_ns = tag::now_ns();
            let stamp = Stamp { step: step.step, sender: sender.global as u32, seq: sender.next_seq, sent_ns: tx_ns };
            sender.next_seq += 1;
            text.clear();
            tag::write_text(&mut text, stamp, size);
            payload.clear();
            payload.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
            payload.extend_from_slice(id.to_string().as_bytes());
            payload.extend_from_slice(prefix.as_bytes());
            payload.extend_from_slice(&text);
            payload.extend_from_slice(br#""}}"#);
            ws::encode_text(&mut out, &payload);
            sender.acks.outstanding.borrow_mut().insert(id, Instant::now());
            sent += 1;
            if first_tx == 0 {
                first_tx = tx_ns;
            }
            last_tx = tx_ns;
        }
        if !out.is_empty() && sender.write.write_all(&out).await.is_err() {
            break 'sending;
        }
        if sender.acks.outstanding.borrow().len() >= window {
            let _ = tokio::time::timeout_at(deadline.into(), sender.acks.answered.notified()).await;
        } else if rate > 0.0 && sent >= due {
            let next = start + Duration::from_secs_f64((sent as f64 + phase) / rate);
            tokio::time::sleep_until(next.min(deadline).into()).await;
        } else if out.is_empty() {
            // Unpaced and the window has room, yet nothing was written:
            // yield so the readers can run.
            tokio::task::yield_now().await;
        }
    }
    let grace = Instant::now() + ACK_GRACE;
    while !sender.acks.outstanding.borrow().is_empty() && Instant::now() < grace {
        let _ = tokio::time::timeout_at(grace.into(), sender.acks.answered.notified()).await;
        if sender.write.peer_addr().is_err() {
            break;
        }
    }
    (sent, first_tx, last_tx)
}

/// How many messages a sender at `rate` per second with `phase` should have
/// sent `elapsed` into the step.
fn messages_due(elapsed: Duration, rate: f64, phase: f64) -> u64 {
    let slots = elapsed.as_secs_f64() * rate - phase;
    if slots < 0.0 { 0 } else { slots as u64 + 1 }
}

/// Waits until this shard's receivers have every delivery the acks promise
/// (or `settle_ms` without progress), then counts what is missing per
/// receiver.
async fn settle(plan: &WorkerPlan, shard: &Rc<RefCell<Shard>>, expect: &Expect, step: &StepPlan) -> StepResult {
    let acked: HashMap<usize, u64> = expect.acked.iter().copied().collect();
    let per_room: Vec<Vec<u64>> = (0..plan.rooms)
        .map(|r| (0..plan.senders_per_room).map(|k| acked.get(&plan.sender(r, k)).copied().unwrap_or(0)).collect())
        .collect();
    let expected: u64 = shard.borrow().conns.iter().map(|c| per_room[c.room].iter().sum::<u64>()).sum();

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
    let cpu_start = CPU_AT_STEP_START.with(Cell::get);
    let s = shard.borrow();
    let (mut lost, mut extra) = (0u64, 0u64);
    for conn in &s.conns {
        for (got, want) in conn.counts.iter().zip(&per_room[conn.room]) {
            lost += want.saturating_sub(*got);
            extra += got.saturating_sub(*want);
        }
    }
    StepResult {
        expected,
        delivered: s.delivered,
        lost,
        extra: extra + s.foreign,
        out_of_order: s.out_of_order,
        stale: s.stale,
        closed: s.closed,
        close_reasons: s.close_reasons.clone(),
        first_rx_ns: s.first_rx_ns,
        last_rx_ns: s.last_rx_ns,
        latency: s.latency.to_buckets(),
        cpu_ticks: cpu_now.saturating_sub(cpu_start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phased_sender_starts_late_and_keeps_its_rate() {
        let ms = Duration::from_millis;
        // 10 per second, no phase: one at once, the second at 100 ms.
        assert_eq!(messages_due(ms(0), 10.0, 0.0), 1);
        assert_eq!(messages_due(ms(99), 10.0, 0.0), 1);
        assert_eq!(messages_due(ms(100), 10.0, 0.0), 2);
        // Half a slot late: nothing before 50 ms, then one per 100 ms.
        assert_eq!(messages_due(ms(49), 10.0, 0.5), 0);
        assert_eq!(messages_due(ms(50), 10.0, 0.5), 1);
        assert_eq!(messages_due(ms(149), 10.0, 0.5), 1);
        assert_eq!(messages_due(ms(150), 10.0, 0.5), 2);
    }

    #[test]
    fn responses_and_notifications_are_told_apart() {
        let ok = br#"{"jsonrpc":"2.0","id":42,"result":{"message_id":1,"timestamp":"t"}}"#;
        let err = br#"{"jsonrpc":"2.0","id":7,"error":{"code":-32004,"message":"rate limited"}}"#;
        let note = br#"{"jsonrpc":"2.0","method":"message_received","params":{"message_id":1}}"#;
        assert_eq!(response_id(ok), Some(42));
        assert!(!is_error(ok));
        assert_eq!(response_id(err), Some(7));
        assert!(is_error(err));
        assert_eq!(response_id(note), None);
        assert!(is_message(note));
        assert!(!is_message(ok));
    }

    fn shard(rooms: usize, per_room: usize) -> Shard {
        let plan = WorkerPlan {
            server: "127.0.0.1:1".parse().unwrap(),
            source: None,
            shard: 0,
            shards: 1,
            tokens: vec![],
            conns: 0,
            rooms,
            senders_per_room: per_room,
            room_prefix: "r".into(),
            text_size: 100,
            window: 1,
            connect_concurrency: 1,
        };
        let mut s = Shard::new(&plan).unwrap();
        s.conns = vec![ConnStats { room: 1, counts: vec![0; per_room], last_seq: vec![None; per_room] }];
        s
    }

    #[test]
    fn deliveries_are_checked_for_room_order_and_step() {
        let mut s = shard(2, 2);
        s.begin_step(1);
        let stamp = |sender, seq, step| Stamp { step, sender, seq, sent_ns: 0 };
        s.delivery(0, stamp(1, 0, 1), 1_000_000); // room 1, sender k=0
        s.delivery(0, stamp(3, 0, 1), 1_000_000); // room 1, sender k=1
        s.delivery(0, stamp(1, 0, 1), 1_000_000); // duplicate
        s.delivery(0, stamp(2, 0, 1), 1_000_000); // room 0: not ours
        s.delivery(0, stamp(1, 1, 0), 1_000_000); // earlier step
        assert_eq!(s.conns[0].counts, vec![1, 1]);
        assert_eq!((s.delivered, s.out_of_order, s.foreign, s.stale), (2, 1, 1, 1));
    }
}
