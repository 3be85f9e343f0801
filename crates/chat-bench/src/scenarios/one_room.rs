//! The room shared by the fan-out and logins scenarios: one big room, a
//! few of whose members send.

use super::Ctx;
use crate::{plan::WorkerPlan, report::Report};

/// One room: its size and how many of its members send.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OneRoom {
    /// Connections in the room (the senders among them).
    #[arg(long, default_value_t = 1000)]
    pub(crate) members: usize,
    /// Connections that send.
    #[arg(long, default_value_t = 4)]
    pub(crate) senders: usize,
}

impl OneRoom {
    /// Prints the room's shape among the report's parameters.
    pub(crate) fn params(&self, report: &mut Report) {
        report.param("members", self.members);
        report.param("senders", self.senders);
    }

    /// The workers' plan: every connection in the room, the senders among
    /// them; `tag` names the room.
    pub(crate) fn plan(&self, ctx: &Ctx, tokens: Vec<String>, tag: &str) -> WorkerPlan {
        ctx.plan(tokens, self.members, 1, self.senders, tag)
    }

    /// Messages per second each sender sends for `deliveries` per second:
    /// every message is delivered to every member.
    pub(crate) fn per_sender(&self, deliveries: f64) -> f64 {
        deliveries / self.members as f64 / self.senders as f64
    }
}
