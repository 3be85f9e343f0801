//! How long to wait between reconnect attempts: exponential, capped, with
//! jitter so that many clients dropped by one server restart do not all
//! knock again in the same instant.

use std::time::Duration;

/// An exponential backoff schedule.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `first`, doubles per attempt, never exceeds `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max, attempt: 0 }
    }

    /// Attempts made since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The wait before the next attempt, with jitter taken from the clock.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.delay_for(self.attempt, jitter());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// The wait before attempt number `attempt` (0-based), where `jitter` in
    /// `0.0..1.0` shortens it by up to a fifth.
    pub fn delay_for(&self, attempt: u32, jitter: f64) -> Duration {
        let doubled = self.first.saturating_mul(2u32.saturating_pow(attempt.min(20)));
        let capped = doubled.min(self.max);
        capped.mul_f64(1.0 - 0.2 * jitter.clamp(0.0, 1.0))
    }

    /// Starts over after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A number in `0.0..1.0` that differs between clients.
#[cfg(not(target_arch = "wasm32"))]
fn jitter() -> f64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}

/// A number in `0.0..1.0` that differs between clients: the browser's clock
/// has millisecond precision, too coarse for pages dropped together.
#[cfg(target_arch = "wasm32")]
fn jitter() -> f64 {
    js_sys::Math::random()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let delays: Vec<u128> = (0..6).map(|a| backoff.delay_for(a, 0.0).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff.delay_for(u32::MAX, 0.0), Duration::from_secs(5));
    }

    #[test]
    fn jitter_only_shortens_by_at_most_a_fifth() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(backoff.delay_for(0, 1.0), Duration::from_millis(800));
        assert_eq!(backoff.delay_for(0, 7.0), Duration::from_millis(800));
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(1));
        backoff.next_delay();
        backoff.next_delay();
        assert_eq!(backoff.attempts(), 2);
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(10));
    }
}
