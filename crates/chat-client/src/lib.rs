//! The connection logic of the bidirectional-chat client, free of any
//! terminal code so other front ends can reuse it.
//!
//! A tour of the modules:
//! - [`server_url`]: the server's base URL and the REST and WebSocket URLs
//!   derived from it (`https` gives `wss`).
//! - [`rest`]: `POST /auth/register` and `/auth/login`, with the server's
//!   refusals as typed errors.
//! - [`session`]: a logged-in connection built on the generated
//!   `ChatApiClient`; it delivers every notification as an event and
//!   reconnects by itself, re-joining rooms without gaps or repeats.
//! - [`cursor`]: the bookkeeping behind that (which message ids each room
//!   has delivered, and how to page back through what was missed).
//! - [`backoff`]: the wait between reconnect attempts.
//! - `runtime`: spawning and timers, from tokio natively and from the
//!   browser in WebAssembly; the only code that differs between the two
//!   (with how a connection is opened, in `session`).
//! - [`token_claims`]: reading a token's username and expiry.
//! - [`error`]: connection and call errors.
//!
//! The library builds for `wasm32-unknown-unknown` without default features
//! (the browser client in `crates/chat-web` is built on it).
//!
//! The terminal front end (`src/main.rs` and `src/tui/`) is the
//! `bidirectional-chat-client` binary, built with the default `tui` feature; it is not
//! part of this library.

pub mod backoff;
pub mod cursor;
pub mod error;
pub mod rest;
mod runtime;
pub mod server_url;
pub mod session;
pub mod token_claims;

pub use error::{CallError, ConnectError};
pub use rest::{RestClient, RestError};
pub use server_url::{ServerUrl, ServerUrlError};
pub use session::{BanLength, EndReason, Joined, Reconnected, Session, SessionEvent, SessionEvents, SessionOptions};
pub use token_claims::TokenClaims;
