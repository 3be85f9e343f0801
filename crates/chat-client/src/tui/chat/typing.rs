//! The typing indicator, both ways.
//!
//! Own typing: the first key press sends `start_typing`, and further key
//! presses re-send it at most every [`RESEND_AFTER`], well inside the
//! server's 5 s expiry. Sending the message ends it on the server by itself;
//! abandoning the line sends `stop_typing`.
//!
//! Others' typing: "bob is typing…" lives on the status row above the
//! input line (see [`super::input`]), never in the scrollback. It goes when
//! bob's message arrives, when the server says he stopped, or
//! [`SHOWN_FOR`] after the last notice (the server repeats the notice while
//! typing goes on, and expires it after 5 s).

use std::time::{Duration, Instant};

use chat_api::{RoomId, UserName};

/// How often `start_typing` is repeated while typing goes on.
pub(crate) const RESEND_AFTER: Duration = Duration::from_secs(3);
/// How long "bob is typing…" stays without a new notice: a little more than
/// the server's 5 s expiry, in case its "stopped" is missed.
pub(crate) const SHOWN_FOR: Duration = Duration::from_secs(6);
/// Most names on the status row; the rest are counted.
const MOST_NAMES: usize = 3;

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

/// Who else is typing, where, and until when it is shown.
#[derive(Debug, Default)]
pub(crate) struct OthersTyping {
    /// In the order they started.
    typing: Vec<Typist>,
}

#[derive(Debug)]
struct Typist {
    room: RoomId,
    user: UserName,
    until: Instant,
}

impl OthersTyping {
    /// `user` is typing in `room`.
    pub(crate) fn started(&mut self, room: &RoomId, user: &UserName, now: Instant) {
        let until = now + SHOWN_FOR;
        match self.typing.iter_mut().find(|t| &t.room == room && t.user.key() == user.key()) {
            Some(typist) => typist.until = until,
            None => self.typing.push(Typist { room: room.clone(), user: user.clone(), until }),
        }
    }

    /// `user` stopped typing in `room` (or sent the message).
    pub(crate) fn stopped(&mut self, room: &RoomId, user: &UserName) {
        self.typing.retain(|t| !(&t.room == room && t.user.key() == user.key()));
    }

    /// Forgets notices older than [`SHOWN_FOR`].
    pub(crate) fn expire(&mut self, now: Instant) {
        self.typing.retain(|t| t.until > now);
    }

    /// When the next notice runs out, if any is shown.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.typing.iter().map(|t| t.until).min()
    }

    /// The status row: who is typing in `current` by name, then elsewhere
    /// with the room; empty when nobody is.
    pub(crate) fn status(&self, current: Option<&RoomId>) -> String {
        let mut here = Vec::new();
        let mut elsewhere = Vec::new();
        for typist in &self.typing {
            if Some(&typist.room) == current {
                here.push(typist.user.to_string());
            } else {
                elsewhere.push(format!("{} (#{})", typist.user, typist.room));
            }
        }
        let names: Vec<String> = here.into_iter().chain(elsewhere).collect();
        match names.len() {
            0 => String::new(),
            1 => format!("{} is typing…", names[0]),
            n if n <= MOST_NAMES => format!("{} and {} are typing…", names[..n - 1].join(", "), names[n - 1]),
            n => format!("{} and {} others are typing…", names[..MOST_NAMES - 1].join(", "), n - (MOST_NAMES - 1)),
        }
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
    fn the_status_row_names_who_is_typing_and_forgets_them() {
        let mut others = OthersTyping::default();
        let general = RoomId::general();
        let rust = RoomId::parse("rust").unwrap();
        let user = |name: &str| UserName::parse(name).unwrap();
        let t0 = Instant::now();
        assert_eq!(others.status(Some(&general)), "");
        assert_eq!(others.next_expiry(), None);

        others.started(&general, &user("bob"), t0);
        // A repeated notice (any spelling) keeps one entry, shown longer.
        others.started(&general, &user("BOB"), t0 + Duration::from_secs(3));
        assert_eq!(others.status(Some(&general)), "bob is typing…");
        assert_eq!(others.next_expiry(), Some(t0 + Duration::from_secs(3) + SHOWN_FOR));

        others.started(&rust, &user("carol"), t0);
        assert_eq!(others.status(Some(&general)), "bob and carol (#rust) are typing…");
        assert_eq!(others.status(Some(&rust)), "carol and bob (#general) are typing…");
        others.started(&general, &user("dave"), t0);
        others.started(&general, &user("erin"), t0);
        assert_eq!(others.status(Some(&general)), "bob, dave and 2 others are typing…");

        others.stopped(&general, &user("dave"));
        others.stopped(&general, &user("erin"));
        others.expire(t0 + SHOWN_FOR);
        // carol's notice ran out; bob's was renewed.
        assert_eq!(others.status(Some(&general)), "bob is typing…");
        others.stopped(&general, &user("bob"));
        assert_eq!(others.status(Some(&general)), "");
    }
}
