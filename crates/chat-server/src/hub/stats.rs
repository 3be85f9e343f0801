//! Counters on the delivery path. Plain atomics rather than `metrics`
//! handles: they are bumped once per recipient, and `/metrics` reads them
//! at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};

static FRAMES_QUEUED: AtomicU64 = AtomicU64::new(0);
static SLOW_CLOSED: AtomicU64 = AtomicU64::new(0);

pub(super) fn frames_queued(n: u64) {
    FRAMES_QUEUED.fetch_add(n, Ordering::Relaxed);
}

pub(super) fn slow_closed() {
    SLOW_CLOSED.fetch_add(1, Ordering::Relaxed);
}

/// Frames queued for clients since start (one per recipient).
pub(crate) fn total_frames_queued() -> u64 {
    FRAMES_QUEUED.load(Ordering::Relaxed)
}

/// Clients closed for being too slow since start.
pub(crate) fn total_slow_closed() -> u64 {
    SLOW_CLOSED.load(Ordering::Relaxed)
}
