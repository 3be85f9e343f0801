//! Closing the connections of accounts deleted by the operator tool.
//!
//! `bidirectional-chat-server user delete` runs as another process against
//! the same database; it records each deletion in `account_deletions` in
//! the transaction that deletes the account. The server reads that log on
//! from where it was every [`POLL_PERIOD`] (one range read on the primary
//! key, no writes), so a deleted account's connections are closed with 4002
//! "account deleted" at most about a second after the deletion commits.

use std::{future::Future, sync::Arc, time::Duration};

use chat_api::{CloseCode, UserId};

use super::{ChatService, ServiceError};

/// How often the deletion log is read.
pub(super) const POLL_PERIOD: Duration = Duration::from_secs(1);

/// Most deletions handled per read; more wait for the next one.
const MOST_PER_POLL: usize = 256;

impl ChatService {
    /// The task that follows the deletion log, starting after the newest
    /// entry now (a server that starts has no connections to close). It
    /// runs until dropped.
    pub(crate) async fn account_deletions(
        self: &Arc<Self>,
    ) -> Result<impl Future<Output = ()> + Send + 'static, ServiceError> {
        let mut after = self.store.last_account_deletion().await?;
        let chat = Arc::clone(self);
        Ok(async move {
            let mut tick = tokio::time::interval(POLL_PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match chat.store.account_deletions_after(after, MOST_PER_POLL).await {
                    Ok(deletions) => {
                        for deletion in deletions {
                            after = deletion.seq;
                            chat.account_deleted(deletion.user_id);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading account deletions failed; trying again"),
                }
            }
        })
    }

    /// Ends a deleted account's sessions: its rooms are told `user_left`
    /// and its connections close with 4002.
    pub(crate) fn account_deleted(&self, user: UserId) {
        self.hub.note_deleted(user);
        if self.hub.disconnect_user(user, None, |_| None, CloseCode::SessionEnded, "account deleted") {
            tracing::info!(user = user.0, "closed the connections of a deleted account");
        }
    }
}
