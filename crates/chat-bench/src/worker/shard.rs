//! The delivery counters this process's connections share: each delivery
//! is checked against its room, its sender's order and the step, then
//! counted and timed.

use std::net::SocketAddr;

use crate::{
    plan::{Deliveries, MAX_CLOSE_REASONS, WorkerPlan},
    probe,
    stats::Latency,
    tag::Stamp,
};

/// Counters shared by this process's connections.
#[derive(Debug)]
pub(super) struct Shard {
    step: u32,
    pub(super) conns: Vec<ConnStats>,
    pub(super) latency: Latency,
    pub(super) delivered: u64,
    out_of_order: u64,
    repeated: u64,
    first_out_of_order: Option<String>,
    stale: u64,
    foreign: u64,
    pub(super) closed: u64,
    close_reasons: Vec<String>,
    pub(super) first_rx_ns: u64,
    pub(super) last_rx_ns: u64,
    /// This process's CPU time (clock ticks) when the step began.
    pub(super) cpu_at_step_start: u64,
    rooms: usize,
    senders_per_room: usize,
}

#[derive(Debug, Clone)]
pub(super) struct ConnStats {
    /// The connection's global index, and the node it talks to (for
    /// telling what went wrong where).
    global: usize,
    server: SocketAddr,
    room: usize,
    /// This step's deliveries per sender of the room.
    counts: Vec<u64>,
    /// Highest sequence number seen per sender of the room.
    last_seq: Vec<Option<u64>>,
}

impl ConnStats {
    /// Global connection `global` of `plan`, as a receiver.
    pub(super) fn new(plan: &WorkerPlan, global: usize) -> Self {
        let per_room = plan.senders_per_room;
        Self {
            global,
            server: plan.server_of(global),
            room: plan.room_of(global),
            counts: vec![0; per_room],
            last_seq: vec![None; per_room],
        }
    }
}

impl Shard {
    pub(super) fn new(plan: &WorkerPlan) -> anyhow::Result<Self> {
        Ok(Self {
            step: 0,
            conns: Vec::new(),
            latency: Latency::new()?,
            delivered: 0,
            out_of_order: 0,
            repeated: 0,
            first_out_of_order: None,
            stale: 0,
            foreign: 0,
            closed: 0,
            close_reasons: Vec::new(),
            first_rx_ns: 0,
            last_rx_ns: 0,
            cpu_at_step_start: 0,
            rooms: plan.rooms,
            senders_per_room: plan.senders_per_room,
        })
    }

    pub(super) fn begin_step(&mut self, step: u32) {
        self.step = step;
        for conn in &mut self.conns {
            conn.counts.iter_mut().for_each(|c| *c = 0);
        }
        self.latency.reset();
        self.delivered = 0;
        self.out_of_order = 0;
        self.repeated = 0;
        self.first_out_of_order = None;
        self.stale = 0;
        self.foreign = 0;
        self.first_rx_ns = 0;
        self.last_rx_ns = 0;
        self.cpu_at_step_start = probe::cpu_ticks("self").unwrap_or(0);
    }

    /// Counts one delivery of `stamp` to local connection `conn`.
    pub(super) fn delivery(&mut self, conn: usize, stamp: Stamp, rx_ns: u64) {
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
                self.repeated += u64::from(stamp.seq == last);
                if self.first_out_of_order.is_none() {
                    self.first_out_of_order = Some(format!(
                        "connection {} on {} got message {} of sender {sender} (step {}) after its message {last}",
                        stats.global, stats.server, stamp.seq, stamp.step
                    ));
                }
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

    pub(super) fn connection_lost(&mut self, why: String) {
        self.closed += 1;
        if self.close_reasons.len() < MAX_CLOSE_REASONS {
            self.close_reasons.push(why);
        }
    }

    /// Deliveries this shard's receivers should get, given each room's
    /// acknowledged count per sender (`per_room[room][k]`).
    pub(super) fn expected(&self, per_room: &[Vec<u64>]) -> u64 {
        self.conns.iter().map(|c| per_room[c.room].iter().sum::<u64>()).sum()
    }

    /// This step's deliveries against `per_room` (as for
    /// [`expected`](Self::expected)): what is missing or beyond the count,
    /// per receiver and sender.
    pub(super) fn tally(&self, per_room: &[Vec<u64>]) -> Deliveries {
        let (mut lost, mut extra) = (0u64, 0u64);
        for conn in &self.conns {
            for (got, want) in conn.counts.iter().zip(&per_room[conn.room]) {
                lost += want.saturating_sub(*got);
                extra += got.saturating_sub(*want);
            }
        }
        Deliveries {
            expected: self.expected(per_room),
            delivered: self.delivered,
            lost,
            extra: extra + self.foreign,
            out_of_order: self.out_of_order,
            repeated: self.repeated,
            first_out_of_order: self.first_out_of_order.clone(),
            stale: self.stale,
            closed: self.closed,
            close_reasons: self.close_reasons.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(rooms: usize, per_room: usize) -> Shard {
        let plan = WorkerPlan {
            servers: vec!["127.0.0.1:1".parse().unwrap()],
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
        // Global connection 1 is in room 1.
        s.conns = vec![ConnStats::new(&plan, 1)];
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
        assert_eq!(s.repeated, 1);
        assert_eq!(
            s.first_out_of_order.as_deref(),
            Some("connection 1 on 127.0.0.1:1 got message 0 of sender 1 (step 1) after its message 0")
        );
    }

    #[test]
    fn a_reordering_is_told_from_a_repeat() {
        let mut s = shard(2, 1);
        s.begin_step(1);
        let stamp = |seq| Stamp { step: 1, sender: 1, seq, sent_ns: 0 };
        for seq in [0, 2, 1, 2] {
            s.delivery(0, stamp(seq), 1_000_000);
        }
        assert_eq!((s.delivered, s.out_of_order, s.repeated), (2, 2, 1));
        let tally = s.tally(&[vec![0], vec![3]]);
        assert_eq!((tally.lost, tally.out_of_order, tally.repeated), (1, 2, 1));
        assert!(
            tally
                .first_out_of_order
                .is_some_and(|f| f.contains("message 1 of sender 1") && f.contains("after its message 2"))
        );
    }

    #[test]
    fn the_tally_counts_missing_and_surplus_deliveries_per_sender() {
        let mut s = shard(2, 2);
        s.begin_step(1);
        let stamp = |sender, seq| Stamp { step: 1, sender, seq, sent_ns: 0 };
        s.delivery(0, stamp(1, 0), 1_000_000); // room 1, sender k=0
        s.delivery(0, stamp(3, 0), 1_000_000); // room 1, sender k=1
        s.delivery(0, stamp(2, 0), 1_000_000); // room 0: not ours
        // Room 1's first sender had two sends acknowledged, its second none.
        let tally = s.tally(&[vec![5, 5], vec![2, 0]]);
        assert_eq!((tally.expected, tally.delivered, tally.lost, tally.extra), (2, 2, 1, 2));
    }
}
