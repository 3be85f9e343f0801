//! Adversarial tests: the server as someone on the open internet would
//! treat it. Each module proves one promise with tests that fail if it is
//! broken (see docs/security.md for the threat model):
//!
//! - [`crash`]: `kill -9` mid-load loses nothing acknowledged;
//! - [`shutdown`]: SIGTERM closes with 1001, keeps acknowledged work, exits;
//! - [`authn`]: forged, altered, expired and stale tokens, secrets in logs,
//!   login timing;
//! - [`authz`]: every method against every role and target role;
//! - [`batches`]: batch answers bounded like single calls, memory given back;
//! - [`cutoff`]: a committed call cut off by a disconnect still reaches
//!   the running server;
//! - [`churn`]: typing and join churn is limited and cannot close a bystander;
//! - [`hostile`]: malformed frames, framing abuse, 10,000 calls in flight,
//!   clients that never read;
//! - [`origin`]: cross-site WebSocket hijacking and CORS;
//! - [`floods`]: rate limits, and latency for the well-behaved;
//! - [`rooms`]: room creation rate and cap, bounded listing, expiry;
//! - [`connections`]: header-read and idle timeouts, per-IP and pending
//!   connection caps;
//! - [`exhaustion`]: the connection cap and a full disk.
//!
//! The API harness is reused read-only from `tests/api/support`; what only
//! these tests need (the real binary as a child process, a hand-rolled
//! framer, token forging) is in [`common`] and [`load`].

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, missing_debug_implementations)]

#[path = "../api/support/mod.rs"]
#[allow(dead_code, unused_imports)]
mod support;

mod common;
mod load;

mod authn;
mod authz;
mod batches;
mod churn;
mod connections;
mod crash;
mod cutoff;
mod exhaustion;
mod floods;
mod hostile;
mod origin;
mod rooms;
mod shutdown;
