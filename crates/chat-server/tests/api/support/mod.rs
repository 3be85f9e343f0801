//! Test harness: a real server per test, and clients to talk to it.

mod raw;
mod server;
mod wire;

pub use raw::{RawClient, refused_status};
pub use server::{PASSWORD, TestServer};
pub use wire::{RawClientExt, WsStream, drain, error_code, methods, named, result_of, silent_member};

use std::time::Duration;

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
