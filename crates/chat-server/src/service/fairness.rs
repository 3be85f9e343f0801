//! Per-user fairness for database reads.
//!
//! The read pool is small and first come, first served. Without a per-user
//! cap, one client with `connection.max_in_flight` history reads queued
//! (32 by default, times every connection it opens) makes everyone else's
//! reads wait behind all of them. Each user may have at most
//! [`READS_PER_USER`] reads in the pool at once; further reads of that user
//! wait here, behind that user's own, and not in front of anybody else's.

use std::{collections::HashMap, sync::Arc};

use chat_api::UserId;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Reads one user may have running or queued in the store's pool at once.
pub(crate) const READS_PER_USER: usize = 2;

/// Hands out per-user turns to read.
#[derive(Debug, Default)]
pub(crate) struct ReadGate {
    users: Mutex<HashMap<UserId, Arc<Semaphore>>>,
}

/// A user's turn to read; dropping it lets the next read of that user in.
#[derive(Debug)]
pub(crate) struct ReadTurn<'a> {
    gate: &'a ReadGate,
    user: UserId,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl ReadGate {
    /// Waits until `user` has fewer than [`READS_PER_USER`] reads going.
    pub(crate) async fn enter(&self, user: UserId) -> ReadTurn<'_> {
        let semaphore =
            Arc::clone(self.users.lock().entry(user).or_insert_with(|| Arc::new(Semaphore::new(READS_PER_USER))));
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = Arc::clone(&semaphore).acquire_owned().await.ok();
        ReadTurn { gate: self, user, semaphore, permit }
    }

    /// Users with a semaphore right now (for tests).
    #[cfg(test)]
    pub(crate) fn tracked_users(&self) -> usize {
        self.users.lock().len()
    }
}

impl Drop for ReadTurn<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut users = self.gate.users.lock();
        // Under the map lock nobody can take a new handle; the map's and
        // ours being the only ones means no read of this user is waiting.
        if Arc::strong_count(&self.semaphore) == 2 {
            users.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_user_gets_a_bounded_number_of_turns_and_others_are_not_held_up() {
        let gate = ReadGate::default();
        let first = gate.enter(UserId(1)).await;
        let second = gate.enter(UserId(1)).await;
        let third = tokio::time::timeout(Duration::from_millis(20), gate.enter(UserId(1))).await;
        assert!(third.is_err(), "a third concurrent read of one user waits");
        let other = tokio::time::timeout(Duration::from_millis(20), gate.enter(UserId(2))).await;
        assert!(other.is_ok(), "another user does not wait");
        drop(other);
        drop(first);
        let third = gate.enter(UserId(1)).await;
        drop((second, third));
        assert_eq!(gate.tracked_users(), 0, "idle users are forgotten");
    }
}
