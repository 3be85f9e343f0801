//! Accepting sockets when the process runs out of file descriptors.
//!
//! `accept` fails with EMFILE/ENFILE while descriptors are exhausted, and
//! keeps failing at once until one is freed; retrying straight away would
//! spin a core. The loop sleeps instead, doubling the pause up to a ceiling,
//! and logs once when an episode starts and once when it ends.

use std::{io, time::Duration};

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The state of the current run of failed accepts.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    pause: Option<Duration>,
    failures: u64,
}

impl AcceptBackoff {
    /// How long to wait after `error`, logging when an episode starts.
    pub(crate) fn failed(&mut self, error: &io::Error) -> Duration {
        self.failures += 1;
        let pause = match self.pause {
            None => {
                if is_resource_exhaustion(error) {
                    tracing::warn!(error = %error, "accept failed: out of file descriptors; pausing accept");
                } else {
                    tracing::debug!(error = %error, "accept failed");
                }
                FIRST_PAUSE
            }
            Some(last) => (last * 2).min(MAX_PAUSE),
        };
        self.pause = Some(pause);
        pause
    }

    /// A socket was accepted: ends the episode, if any.
    pub(crate) fn accepted(&mut self) {
        if self.pause.take().is_some() {
            tracing::info!(failed_accepts = self.failures, "accept works again");
            self.failures = 0;
        }
    }
}

fn is_resource_exhaustion(error: &io::Error) -> bool {
    // EMFILE 24, ENFILE 23, ENOBUFS 105, ENOMEM 12 on Linux.
    matches!(error.raw_os_error(), Some(12 | 23 | 24 | 105))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_ceiling_and_reset_after_success() {
        let emfile = io::Error::from_raw_os_error(24);
        let mut backoff = AcceptBackoff::default();
        let pauses: Vec<_> = (0..10).map(|_| backoff.failed(&emfile)).collect();
        assert_eq!(pauses[0], FIRST_PAUSE);
        assert_eq!(pauses[1], FIRST_PAUSE * 2);
        assert_eq!(*pauses.last().unwrap(), MAX_PAUSE);
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        backoff.accepted();
        assert_eq!(backoff.failed(&emfile), FIRST_PAUSE);
    }
}
