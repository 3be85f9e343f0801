//! Lines waiting to be sent, in the order they were typed.
//!
//! Every message line goes through here, so none is lost to a passing
//! problem: while the connection is down (or the token must be renewed with
//! `/login`) lines wait for the reconnect; when the server says "too fast"
//! (-32004) the first line is sent again after its `retry_after_ms`, and the
//! others wait behind it. Only a refusal that would repeat (too long, not a
//! member, banned) drops a line, and that is said.
//!
//! The queue is bounded: past [`CAPACITY`] lines a new line is refused at
//! once and said so, rather than queued without end while the server is
//! away.

use std::{collections::VecDeque, time::Duration};

use chat_api::{ErrorCode, MessageText, RoomId};
use chat_client::CallError;
use tokio::time::Instant;

/// Most lines waiting at once.
pub(crate) const CAPACITY: usize = 200;
/// The wait after a rate limit refusal that did not say how long.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);

/// One line to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) room: RoomId,
    pub(crate) text: MessageText,
}

/// What a failed send means for the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Rate limited: send it again after this long.
    Retry(Duration),
    /// Not connected, or the session must log in again: wait for the
    /// reconnect.
    WaitForConnection,
    /// Refused for good: drop it.
    Refused,
}

/// Sorts a send failure.
pub(crate) fn verdict(error: &CallError) -> Verdict {
    match error {
        CallError::Refused { kind: Some(ErrorCode::RateLimited), retry_after, .. } => {
            Verdict::Retry(retry_after.unwrap_or(DEFAULT_RETRY).max(Duration::from_millis(1)))
        }
        // A lost answer may mean the message was stored; sending it again
        // may show it twice, which is better than losing it.
        CallError::NotConnected | CallError::ConnectionLost | CallError::Timeout => Verdict::WaitForConnection,
        error if error.is(ErrorCode::NotAuthenticated) => Verdict::WaitForConnection,
        CallError::Refused { .. } | CallError::Protocol(_) => Verdict::Refused,
    }
}

/// The queue, and when it may be sent from.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    queue: VecDeque<Pending>,
    /// After a rate limit: not before this.
    retry_at: Option<Instant>,
    /// Not connected: not before the reconnect.
    offline: bool,
}

impl Outbox {
    /// Queues a line; `Err` gives it back when the queue is full.
    pub(crate) fn push(&mut self, line: Pending) -> Result<(), Pending> {
        if self.queue.len() >= CAPACITY {
            return Err(line);
        }
        self.queue.push_back(line);
        Ok(())
    }

    /// The line to send now, if one waits and nothing holds it back.
    pub(crate) fn ready(&self, now: Instant) -> Option<&Pending> {
        if self.offline || self.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        self.queue.front()
    }

    /// The first line was sent.
    pub(crate) fn sent(&mut self) {
        self.queue.pop_front();
        self.retry_at = None;
    }

    /// Sending the first line failed; returns whether it was dropped.
    pub(crate) fn failed(&mut self, verdict: Verdict, now: Instant) -> bool {
        match verdict {
            Verdict::Retry(after) => self.retry_at = Some(now + after),
            Verdict::WaitForConnection => self.offline = true,
            Verdict::Refused => {
                self.queue.pop_front();
                return true;
            }
        }
        false
    }

    /// Connected again: what waits may go.
    pub(crate) fn reconnected(&mut self) {
        self.offline = false;
    }

    /// When to try again after a rate limit, while lines wait for it.
    pub(crate) fn wake_at(&self) -> Option<Instant> {
        self.retry_at.filter(|_| !self.queue.is_empty() && !self.offline)
    }

    /// Lines waiting.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Empties the queue (the session is over); returns how many lines it held.
    pub(crate) fn clear(&mut self) -> usize {
        let count = self.queue.len();
        self.queue.clear();
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Pending {
        Pending { room: RoomId::general(), text: MessageText::parse(text).unwrap() }
    }

    fn refused(kind: ErrorCode, retry_after: Option<Duration>) -> CallError {
        CallError::Refused { kind: Some(kind), code: kind.code(), message: String::new(), retry_after }
    }

    #[test]
    fn failures_are_sorted_by_whether_trying_again_can_work() {
        let wait = Duration::from_millis(250);
        assert_eq!(verdict(&refused(ErrorCode::RateLimited, Some(wait))), Verdict::Retry(wait));
        assert_eq!(verdict(&refused(ErrorCode::RateLimited, None)), Verdict::Retry(DEFAULT_RETRY));
        for offline in [CallError::NotConnected, CallError::ConnectionLost, CallError::Timeout] {
            assert_eq!(verdict(&offline), Verdict::WaitForConnection);
        }
        assert_eq!(verdict(&refused(ErrorCode::NotAuthenticated, None)), Verdict::WaitForConnection);
        assert_eq!(verdict(&refused(ErrorCode::NotMember, None)), Verdict::Refused);
        assert_eq!(verdict(&refused(ErrorCode::InvalidParams, None)), Verdict::Refused);
    }

    #[test]
    fn lines_go_in_order_and_wait_out_rate_limits_and_outages() {
        let mut outbox = Outbox::default();
        let t0 = Instant::now();
        for text in ["one", "two", "three"] {
            outbox.push(line(text)).unwrap();
        }
        assert_eq!(outbox.ready(t0), Some(&line("one")));
        outbox.sent();

        // Too fast: "two" waits, and so does everything behind it.
        assert!(!outbox.failed(Verdict::Retry(Duration::from_secs(2)), t0));
        assert_eq!(outbox.ready(t0 + Duration::from_secs(1)), None);
        assert_eq!(outbox.wake_at(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(outbox.ready(t0 + Duration::from_secs(2)), Some(&line("two")));

        // Offline: nothing goes until the reconnect, however long.
        assert!(!outbox.failed(Verdict::WaitForConnection, t0 + Duration::from_secs(2)));
        assert_eq!(outbox.ready(t0 + Duration::from_secs(60)), None);
        assert_eq!(outbox.wake_at(), None);
        outbox.reconnected();
        assert_eq!(outbox.ready(t0 + Duration::from_secs(60)), Some(&line("two")));
        outbox.sent();

        // A refusal for good drops just that line.
        assert!(outbox.failed(Verdict::Refused, t0));
        assert_eq!(outbox.ready(t0), None);
        assert_eq!(outbox.len(), 0);
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut outbox = Outbox::default();
        for i in 0..CAPACITY {
            outbox.push(line(&format!("line {i}"))).unwrap();
        }
        assert_eq!(outbox.push(line("one too many")), Err(line("one too many")));
        assert_eq!(outbox.clear(), CAPACITY);
        assert!(outbox.push(line("room again")).is_ok());
    }
}
