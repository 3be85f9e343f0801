//! Deleting rooms that users created and then left empty and silent (the
//! rule is `domain::room_expiry`), so that abandoned rooms do not hold
//! places under `chat.max_rooms` for ever. Everyone connected is told with
//! `room_deleted`, as when an admin deletes a room.

use std::{collections::HashSet, future::Future, sync::Arc, time::Duration};

use chat_api::{RoomId, ServerEvent, notifications::RoomDeleted};
use tokio::time::Instant;

use super::{ChatService, ServiceError};
use crate::{
    domain::room_expiry::{self, RoomFacts},
    hub::{Frame, Room},
};

/// Most rooms one sweep looks up in the database or deletes, so that a
/// sweep after a restart with many rooms comes due is spread over several
/// sweeps instead of queueing thousands of jobs at once.
const MOST_CHECKED_PER_SWEEP: usize = 256;

impl ChatService {
    /// The periodic sweep that expires empty rooms, or `None` when
    /// `chat.empty_room_expiry_secs` is 0. It runs until dropped.
    pub(crate) fn room_expiry(self: &Arc<Self>) -> Option<impl Future<Output = ()> + Send + 'static> {
        let after = self.expiry_after()?;
        // A room is deleted at most a quarter of the expiry time late.
        let period = (after / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
        let chat = Arc::clone(self);
        Some(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = chat.expire_empty_rooms().await {
                    tracing::warn!(error = %e, "expiring empty rooms failed; trying again later");
                }
            }
        })
    }

    fn expiry_after(&self) -> Option<Duration> {
        let secs = self.settings.empty_room_expiry_secs;
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// One sweep: deletes every room that is due. Returns how many.
    pub(crate) async fn expire_empty_rooms(&self) -> Result<usize, ServiceError> {
        let after = self.expiry_after();
        let permanent: HashSet<RoomId> =
            std::iter::once(RoomId::general()).chain(self.settings.default_rooms.iter().map(|r| r.id())).collect();
        let due = |room: &Room| {
            let now = Instant::now();
            let facts = RoomFacts {
                permanent: permanent.contains(room.id()),
                empty_for: room.idle_since().map(|since| now.saturating_duration_since(since)),
                written: room.known_written(),
            };
            room_expiry::expires(facts, after)
        };
        let candidates: Vec<Arc<Room>> =
            self.hub.rooms().into_iter().filter(|room| due(room)).take(MOST_CHECKED_PER_SWEEP).collect();
        let mut deleted = 0;
        for room in candidates {
            // Rooms loaded at start-up are not known to be silent yet; a read
            // finds out without a place in the writer's queue.
            if self.store.room_has_messages(room.id().clone()).await? {
                room.mark_written();
                continue;
            }
            // Someone may have joined meanwhile. A join after this check
            // ends with `room_deleted`, as with an admin's delete.
            if !due(&room) {
                continue;
            }
            // The writer checks again, after any message queued before.
            if !self.store.delete_room_if_silent(room.id().clone()).await? {
                room.mark_written();
                continue;
            }
            self.hub.remove_room(room.id());
            let event = RoomDeleted { room_id: room.id().clone(), room_name: room.name().clone() };
            self.hub.broadcast(&Frame::event(&ServerEvent::RoomDeleted(event)));
            tracing::info!(room = %room.id(), "deleted a room left empty");
            deleted += 1;
        }
        Ok(deleted)
    }
}
