//! Bans by the database, for when NATS lost the news.
//!
//! A ban reaches other nodes at once as an eviction on NATS, and its lift
//! as an unban. Either can be lost while NATS is away. So every second
//! each node also reads the bans stored since it last looked (and closes
//! the connections of users it did not know were banned), and checks that
//! the bans it holds are still in force (a lift it missed).

use std::{sync::Arc, time::Duration};

use chat_api::{CloseCode, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::{
    hub::{Eviction, EvictionNotice, Hub},
    store::Store,
};

/// How often the database is asked.
pub(super) const EVERY: Duration = Duration::from_secs(1);

/// Runs until `stop`.
pub(super) async fn follow(store: Arc<Store>, hub: Arc<Hub>, stop: CancellationToken) {
    // Starts a minute back, for bans stored while this node was starting.
    // A ban stored in the same millisecond as the last one read is read
    // again; noting it twice is harmless. (Nodes' clocks are assumed to
    // agree to well under the second between two reads.)
    let mut after = Timestamp::now().unix_millis() - 60_000;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => break,
        }
        match store.bans_since(after).await {
            Ok(bans) => {
                for (user, until, at) in bans {
                    after = after.max(at);
                    if hub.recently_banned(user, Timestamp::now()) {
                        continue;
                    }
                    hub.evict_local(&Eviction {
                        user,
                        notice: EvictionNotice::Banned { line: "You have been banned".to_owned(), until },
                        code: CloseCode::Banned.code(),
                        reason: "banned".to_owned(),
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading new bans failed; trying again"),
        }
        for user in hub.banned_users() {
            match store.active_ban(user, Timestamp::now()).await {
                Ok(None) => hub.note_unban(user),
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(error = %e, "checking a ban failed; trying again"),
            }
        }
    }
}
