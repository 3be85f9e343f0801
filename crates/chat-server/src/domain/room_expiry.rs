//! When an empty room is deleted by itself.
//!
//! Rooms cost memory and a place under `chat.max_rooms`, and anyone may
//! create them; a room nobody uses should not hold that place for ever.
//! But deleting a room deletes its history, which people may come back
//! for, so only rooms with nothing to lose expire: created by a user (not
//! `general` or a configured default room), nobody in them, nothing ever
//! written in them, and empty for the configured time.

use std::time::Duration;

/// What the rule needs to know about a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomFacts {
    /// `general` or a configured default room.
    pub permanent: bool,
    /// How long the room has had nobody in it; `None` while somebody is.
    pub empty_for: Option<Duration>,
    /// Whether a message is stored in it.
    pub written: bool,
}

/// Whether the room is due for deletion. `after` is
/// `chat.empty_room_expiry_secs`; `None` (0 in the file) means never.
pub(crate) fn expires(room: RoomFacts, after: Option<Duration>) -> bool {
    let Some(after) = after else { return false };
    !room.permanent && !room.written && room.empty_for.is_some_and(|empty| empty >= after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_silent_user_rooms_expire_and_only_after_the_time() {
        let hour = Duration::from_secs(3600);
        let facts = |permanent, empty_for, written| RoomFacts { permanent, empty_for, written };
        let table = [
            // permanent, empty for, written, expiry, expires
            (false, Some(hour), false, Some(hour), true),
            (false, Some(2 * hour), false, Some(hour), true),
            (false, Some(hour - Duration::from_secs(1)), false, Some(hour), false),
            (false, None, false, Some(hour), false),
            (false, Some(2 * hour), true, Some(hour), false),
            (true, Some(2 * hour), false, Some(hour), false),
            (false, Some(2 * hour), false, None, false),
        ];
        for (permanent, empty_for, written, after, expected) in table {
            let room = facts(permanent, empty_for, written);
            assert_eq!(expires(room, after), expected, "{room:?} after {after:?}");
        }
    }
}
