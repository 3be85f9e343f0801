//! What the coordinator and its worker processes say to each other: one
//! JSON document per line, prefixed with [`LINE_PREFIX`] on the worker's
//! stdout (anything else a worker prints is passed through as a log line).
//!
//! ```text
//! coordinator → worker   PLAN {WorkerPlan}
//! worker → coordinator   READY {Ready}              connected and joined
//! coordinator → worker   STEP {StepPlan}            send for a while
//! worker → coordinator   ACKED {Acked}              every send answered
//! coordinator → worker   EXPECT {Expect}            acks of all workers
//! worker → coordinator   RESULT {StepResult}        deliveries counted
//! coordinator → worker   QUIT
//! ```

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::stats::Buckets;

/// Marks protocol lines on a worker's stdout.
pub(crate) const LINE_PREFIX: &str = "@@ ";

/// The connections of one run, split over `shards` processes: global
/// connection `j` belongs to shard `j % shards`, is in room `j % rooms`, and
/// sends when `j < rooms * senders_per_room` (so every room has
/// `senders_per_room` senders, whose index within the room is `j / rooms`).
/// It talks to [`server_of(j)`](Self::server_of).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkerPlan {
    /// The nodes of the server (one, or the nodes of one cluster).
    pub(crate) servers: Vec<SocketAddr>,
    pub(crate) source: Option<IpAddr>,
    pub(crate) shard: usize,
    pub(crate) shards: usize,
    /// Connection `j` uses token `j % tokens.len()`.
    pub(crate) tokens: Vec<String>,
    pub(crate) conns: usize,
    pub(crate) rooms: usize,
    pub(crate) senders_per_room: usize,
    /// Room `r` is `<room_prefix><r>`.
    pub(crate) room_prefix: String,
    /// Bytes of message text.
    pub(crate) text_size: usize,
    /// Most unanswered `send_message` calls per sender.
    pub(crate) window: usize,
    /// Connection attempts in flight at once in this worker.
    pub(crate) connect_concurrency: usize,
}

impl WorkerPlan {
    pub(crate) fn room_of(&self, conn: usize) -> usize {
        conn % self.rooms
    }

    /// The node connection `conn` talks to. A room's members take the nodes
    /// in turn (member `i` of room `r` on node `(r + i) % nodes`), so every
    /// room of more than one member spans nodes, its senders included, and
    /// the nodes hold equal shares; with one room this is plain
    /// round-robin. (Plain `conn % nodes` would put a whole room on one
    /// node whenever the room count is a multiple of the node count.)
    pub(crate) fn server_of(&self, conn: usize) -> SocketAddr {
        let member = conn / self.rooms;
        self.servers[(self.room_of(conn) + member) % self.servers.len()]
    }

    pub(crate) fn is_sender(&self, conn: usize) -> bool {
        conn < self.rooms * self.senders_per_room
    }

    /// The global connection index of room `room`'s `k`-th sender.
    pub(crate) fn sender(&self, room: usize, k: usize) -> usize {
        k * self.rooms + room
    }

    /// Where in its sending interval connection `conn` sends, as a fraction
    /// in [0, 1): senders are spread evenly over the interval, so the
    /// offered load arrives as a steady stream rather than one burst per
    /// interval with every sender in step.
    pub(crate) fn sender_phase(&self, conn: usize) -> f64 {
        let senders = (self.rooms * self.senders_per_room).max(1);
        (conn % senders) as f64 / senders as f64
    }

    pub(crate) fn room_name(&self, room: usize) -> String {
        format!("{}{room}", self.room_prefix)
    }
}

/// A worker's connections are open and in their rooms.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Ready {
    pub(crate) connected: usize,
    pub(crate) failed: usize,
    pub(crate) first_error: Option<String>,
    pub(crate) started_ns: u64,
    pub(crate) finished_ns: u64,
}

/// One step: every sender sends at `rate_per_sender` messages a second
/// (0: as fast as its window allows) for `duration_ms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StepPlan {
    pub(crate) step: u32,
    pub(crate) rate_per_sender: f64,
    pub(crate) duration_ms: u64,
    /// How long to wait for the last deliveries once every send is answered.
    pub(crate) settle_ms: u64,
}

/// A worker's sends in one step, every one answered (or given up on).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Acked {
    /// Per sender (global index): messages acknowledged in this step.
    pub(crate) per_sender: Vec<(usize, u64)>,
    pub(crate) sends: Sends,
    pub(crate) first_tx_ns: u64,
    pub(crate) last_tx_ns: u64,
    pub(crate) acks: Buckets,
}

/// Every sender's acknowledged count, from all workers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Expect {
    pub(crate) acked: Vec<(usize, u64)>,
}

/// What a worker's receivers got in one step.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StepResult {
    pub(crate) deliveries: Deliveries,
    pub(crate) first_rx_ns: u64,
    pub(crate) last_rx_ns: u64,
    pub(crate) latency: Buckets,
    /// CPU time of this worker during the step, in clock ticks.
    pub(crate) cpu_ticks: u64,
}

/// The most close reasons a worker reports, and a merged step keeps.
pub(crate) const MAX_CLOSE_REASONS: usize = 5;

/// One step's sends and how the server answered them: a worker's in
/// [`Acked`], all workers' summed with [`Sends::add`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Sends {
    pub(crate) sent: u64,
    pub(crate) acked: u64,
    /// Calls answered with an error, or left unanswered.
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
}

impl Sends {
    /// Adds another worker's sends, keeping the first error seen.
    pub(crate) fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.acked += other.acked;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// One step's deliveries, checked against the acknowledged sends: a
/// worker's receivers' in [`StepResult`], all workers' summed with
/// [`Deliveries::add`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Deliveries {
    pub(crate) expected: u64,
    pub(crate) delivered: u64,
    /// Expected deliveries that did not arrive, summed per receiver.
    pub(crate) lost: u64,
    /// Deliveries of messages never acknowledged, or beyond the count.
    pub(crate) extra: u64,
    /// Messages that arrived out of their sender's order, or twice.
    pub(crate) out_of_order: u64,
    /// Of those, how many arrived again right after themselves (a
    /// duplicate rather than a reordering).
    pub(crate) repeated: u64,
    /// The first of them, told in words (which connection on which node,
    /// which sender, which sequence numbers).
    pub(crate) first_out_of_order: Option<String>,
    /// Messages of an earlier step that arrived in this one.
    pub(crate) stale: u64,
    /// Connections closed by the server (or dropped) since the start.
    pub(crate) closed: u64,
    /// Why, for the first [`MAX_CLOSE_REASONS`] of them.
    pub(crate) close_reasons: Vec<String>,
}

impl Deliveries {
    /// Adds another worker's deliveries, keeping the first
    /// [`MAX_CLOSE_REASONS`] close reasons.
    pub(crate) fn add(&mut self, other: Self) {
        self.expected += other.expected;
        self.delivered += other.delivered;
        self.lost += other.lost;
        self.extra += other.extra;
        self.out_of_order += other.out_of_order;
        self.repeated += other.repeated;
        if self.first_out_of_order.is_none() {
            self.first_out_of_order = other.first_out_of_order;
        }
        self.stale += other.stale;
        self.closed += other.closed;
        self.close_reasons.extend(other.close_reasons);
        self.close_reasons.truncate(MAX_CLOSE_REASONS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(nodes: u16, conns: usize, rooms: usize, senders_per_room: usize) -> WorkerPlan {
        WorkerPlan {
            servers: (0..nodes).map(|n| SocketAddr::from(([127, 0, 0, 1], 4000 + n))).collect(),
            source: None,
            shard: 0,
            shards: 1,
            tokens: vec![],
            conns,
            rooms,
            senders_per_room,
            room_prefix: "r".into(),
            text_size: 100,
            window: 1,
            connect_concurrency: 1,
        }
    }

    /// Connections per node, per room.
    fn spread(p: &WorkerPlan) -> Vec<Vec<usize>> {
        let mut per_room = vec![vec![0; p.servers.len()]; p.rooms];
        for j in 0..p.conns {
            let node = p.servers.iter().position(|s| *s == p.server_of(j)).unwrap();
            per_room[p.room_of(j)][node] += 1;
        }
        per_room
    }

    #[test]
    fn one_server_takes_every_connection() {
        let p = plan(1, 50, 7, 1);
        assert!((0..50).all(|j| p.server_of(j) == p.servers[0]));
    }

    #[test]
    fn one_room_goes_round_robin_over_the_nodes_senders_first() {
        let p = plan(3, 1000, 1, 4);
        let nodes: Vec<u16> = (0..6).map(|j| p.server_of(j).port() - 4000).collect();
        assert_eq!(nodes, [0, 1, 2, 0, 1, 2]);
        assert_eq!(spread(&p), [vec![334, 333, 333]]);
    }

    #[test]
    fn rooms_span_nodes_even_when_their_count_is_a_multiple_of_the_nodes() {
        // 300 rooms of 100 over 3 nodes: `j % 3` would keep each room on one node.
        let p = plan(3, 30_000, 300, 1);
        assert!(spread(&p).iter().all(|room| room.iter().all(|&n| (33..=34).contains(&n))));
        // Rooms of one member (durable): the rooms take the nodes in turn.
        let p = plan(3, 200, 200, 1);
        let per_node: Vec<usize> = (0..3).map(|n| spread(&p).iter().map(|room| room[n]).sum()).collect();
        assert_eq!(per_node, [67, 67, 66]);
    }

    #[test]
    fn merged_counts_add_up_and_keep_the_first_error_and_close_reasons() {
        let worker = |n: u64, why: &str| {
            let sends = Sends { sent: n, acked: n, errors: 1, first_error: Some(why.to_owned()) };
            let close_reasons = vec![why.to_owned(); 3];
            let deliveries =
                Deliveries { expected: n, delivered: n, lost: 1, closed: 3, close_reasons, ..Default::default() };
            (sends, deliveries)
        };
        let (mut sends, mut deliveries) = (Sends::default(), Deliveries::default());
        for (s, d) in [worker(10, "a"), worker(20, "b")] {
            sends.add(s);
            deliveries.add(d);
        }
        assert_eq!((sends.sent, sends.acked, sends.errors), (30, 30, 2));
        assert_eq!(sends.first_error.as_deref(), Some("a"));
        assert_eq!((deliveries.expected, deliveries.delivered, deliveries.lost, deliveries.closed), (30, 30, 2, 6));
        assert_eq!(deliveries.close_reasons, ["a", "a", "a", "b", "b"]);
    }
}
