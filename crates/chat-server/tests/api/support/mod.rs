//! Test harness: a real server per test, and clients to talk to it; on
//! the PostgreSQL pass (`CHAT_TEST_POSTGRES`) each server has a database
//! of its own.

mod database;
mod raw;
mod server;
mod wire;

pub use database::{TestDatabase, on_postgres, skip_on_postgres};
pub use raw::{RawClient, refused_status};
pub use server::{PASSWORD, TestServer};
pub use wire::{RawClientExt, WsStream, drain, error_code, methods, named, result_of, silent_member};

use std::time::Duration;

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Unpadded base64url, enough to build hostile tokens by hand.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
