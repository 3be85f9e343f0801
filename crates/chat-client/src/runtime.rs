//! The little the session needs from an async runtime, for both targets:
//! starting a background task and waiting on a timer. Natively that is
//! tokio; in a browser there is one thread, tasks are promises
//! (`spawn_local`) and timers are `setTimeout`. Everything else in the
//! session (channels, `select!`, the reconnect and catch-up logic) is the
//! same code on both.

use std::{future::Future, time::Duration};

/// A timer ran out before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    /// Runs `task` in the background.
    pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }

    /// Waits for `duration`.
    pub(crate) async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// `future`'s output, unless `duration` passes first.
    pub(crate) async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
        tokio::time::timeout(duration, future).await.map_err(|_| Elapsed)
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use futures_util::future::{Either, select};

    use super::*;

    /// Runs `task` on the page's event loop. Nothing in a browser is
    /// `Send`, and nothing needs to be: there is one thread.
    pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }

    /// Waits for `duration` (a `setTimeout`).
    pub(crate) async fn sleep(duration: Duration) {
        gloo_timers::future::sleep(duration).await;
    }

    /// `future`'s output, unless `duration` passes first.
    pub(crate) async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
        let future = std::pin::pin!(future);
        let timer = std::pin::pin!(sleep(duration));
        match select(future, timer).await {
            Either::Left((output, _)) => Ok(output),
            Either::Right(((), _)) => Err(Elapsed),
        }
    }
}

pub(crate) use imp::{sleep, spawn, timeout};
