//! A sender connection: its write half paced through one step, and the
//! unanswered calls it shares with the task reading its socket.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
    time::{Duration, Instant},
};

use tokio::{
    io::AsyncWriteExt,
    net::{TcpStream, tcp::OwnedWriteHalf},
    sync::Notify,
};

use super::{receive::receive, shard::Shard};
use crate::{
    plan::StepPlan,
    stats::Latency,
    tag::{self, Stamp},
    ws::{self, FrameReader},
};

/// How long a sender waits for its last answers after a step.
pub(super) const ACK_GRACE: Duration = Duration::from_secs(60);

/// The sending half of a sender connection, plus what its reader shares
/// with it.
#[derive(Debug)]
pub(super) struct Sender {
    pub(super) global: usize,
    room_id: String,
    write: OwnedWriteHalf,
    next_id: u64,
    next_seq: u64,
    pub(super) acks: Rc<AckState>,
}

/// Unanswered calls of one sender, shared with the task reading its socket.
#[derive(Debug)]
pub(super) struct AckState {
    pub(super) outstanding: RefCell<HashMap<u64, Instant>>,
    pub(super) acked: Cell<u64>,
    pub(super) errors: Cell<u64>,
    pub(super) first_error: RefCell<Option<String>>,
    pub(super) latency: RefCell<Latency>,
    pub(super) answered: Notify,
}

impl AckState {
    pub(super) fn answer(&self, id: u64, error: Option<&[u8]>) {
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

/// Splits a joined connection: its reading task is spawned here, its write
/// half becomes the returned [`Sender`].
pub(super) fn start_sender(
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
    tokio::task::spawn_local(receive(read, reader, local, Rc::clone(shard), Some(Rc::clone(&acks))));
    Ok(Sender { global, room_id, write, next_id: 2, next_seq: 0, acks })
}

/// Paces one sender: a token bucket at `rate_per_sender` (or unpaced), never
/// more than `window` calls unanswered. Message `n` is due at
/// `(n + phase) / rate` seconds into the step. Returns (sent, first and last
/// send time in Unix ns).
pub(super) async fn send_step(
    sender: &mut Sender,
    step: &StepPlan,
    size: usize,
    window: usize,
    phase: f64,
) -> (u64, u64, u64) {
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
}
