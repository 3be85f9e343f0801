//! The typing indicator, both ways.
//!
//! Own typing: the first key press sends `start_typing`, and further key
//! presses re-send it at most every [`RESEND_AFTER`], well inside the
//! server's 5 s expiry. Sending the message ends it on the server by itself;
//! abandoning the line sends `stop_typing`.
//!
//! Others' typing: "bob is typing…" is printed as a line, so it is shown
//! when bob starts and then not again for [`QUIET_FOR`], to keep a chatty
//! room readable.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chat_api::{RoomId, UserName};

/// How often `start_typing` is repeated while typing goes on.
pub(crate) const RESEND_AFTER: Duration = Duration::from_secs(3);
/// How long after showing "bob is typing…" it is not shown again.
pub(crate) const QUIET_FOR: Duration = Duration::from_secs(10);

/// This user's typing.
#[derive(Debug, Default)]
pub(crate) struct OwnTyping {
    announced: Option<(RoomId, Instant)>,
}

impl OwnTyping {
    /// A key was pressed with `room` current: whether to send `start_typing`.
    pub(crate) fn key_pressed(&mut self, room: &RoomId, now: Instant) -> bool {
        if let Some((announced_room, at)) = &self.announced
            && announced_room == room
            && now.duration_since(*at) < RESEND_AFTER
        {
            return false;
        }
        self.announced = Some((room.clone(), now));
        true
    }

    /// The line was finished; returns the room that was told about typing.
    pub(crate) fn finished(&mut self) -> Option<RoomId> {
        self.announced.take().map(|(room, _)| room)
    }
}

/// Who else was shown typing, and when.
#[derive(Debug, Default)]
pub(crate) struct OthersTyping {
    shown: HashMap<(RoomId, String), Instant>,
}

impl OthersTyping {
    /// `user` started typing in `room`: whether to print it now.
    pub(crate) fn should_show(&mut self, room: &RoomId, user: &UserName, now: Instant) -> bool {
        self.shown.retain(|_, at| now.duration_since(*at) < QUIET_FOR);
        let key = (room.clone(), user.key());
        if self.shown.contains_key(&key) {
            return false;
        }
        self.shown.insert(key, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_typing_is_throttled_per_room() {
        let mut own = OwnTyping::default();
        let general = RoomId::general();
        let other = RoomId::parse("rust").unwrap();
        let t0 = Instant::now();
        assert!(own.key_pressed(&general, t0));
        assert!(!own.key_pressed(&general, t0 + Duration::from_secs(1)));
        assert!(own.key_pressed(&general, t0 + RESEND_AFTER));
        assert!(own.key_pressed(&other, t0 + RESEND_AFTER));
        assert_eq!(own.finished(), Some(other));
        assert_eq!(own.finished(), None);
        assert!(own.key_pressed(&general, t0 + RESEND_AFTER));
    }

    #[test]
    fn others_typing_is_shown_once_per_quiet_period() {
        let mut others = OthersTyping::default();
        let room = RoomId::general();
        let bob = UserName::parse("bob").unwrap();
        let t0 = Instant::now();
        assert!(others.should_show(&room, &bob, t0));
        assert!(!others.should_show(&room, &UserName::parse("BOB").unwrap(), t0 + Duration::from_secs(2)));
        assert!(others.should_show(&RoomId::parse("rust").unwrap(), &bob, t0));
        assert!(others.should_show(&room, &bob, t0 + QUIET_FOR));
    }
}
