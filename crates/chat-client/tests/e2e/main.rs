//! End-to-end tests: the real server started in-process on port 0, and the
//! real `bidirectional-chat-client` binary talking to it over the wire.

// The terminal and the server's binaries exist only natively.
#![cfg(not(target_arch = "wasm32"))]
// The harness's helpers are test code too: a broken expectation is a
// failed test, so they may panic (clippy only exempts `#[test]` bodies).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod chat_pty;
mod chat_screen;
mod direct;
mod message_actions;
mod pty;
mod reconnect;
mod rooms_v2;
mod scenes;
mod scripted;
mod support;
