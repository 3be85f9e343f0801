//! Cluster tests: three real server processes on loopback ports sharing one
//! fresh PostgreSQL database and one `nats-server` of their own, with
//! clients spread over the nodes, all speaking raw JSON-RPC over WebSocket
//! as an outside client would. Each module proves one promise:
//!
//! - [`messages`]: every member receives every message once, in id order,
//!   whichever nodes sender and receiver are on; catch-up on another node
//!   is exact;
//! - [`presence`]: join results, `user_joined`/`user_left` and typing span
//!   the nodes;
//! - [`broadcasts`]: room creation, topics, deletion and announcements
//!   reach every node;
//! - [`moderation`]: kicks and bans close the target everywhere, a ban
//!   refuses every node, a role change holds on every node;
//! - [`version2`]: direct messages, reactions, edits, deletes, mentions and
//!   read markers cross nodes;
//! - [`node_crash`]: `kill -9` of a node under load loses nothing
//!   acknowledged, and its users' presence expires within the TTL;
//! - [`nats_restart`]: a NATS outage mid-traffic loses and duplicates
//!   nothing;
//! - [`postgres_outage`]: a node cut off from PostgreSQL fails sends fast
//!   and clearly, keeps its connections, and recovers.
//!
//! Needs PostgreSQL (`CHAT_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432`) and `nats-server` (on `PATH`, in
//! /usr/sbin, or `CHAT_TEST_NATS_SERVER`). Not part of `cargo test
//! --workspace` (`test = false`): run it with
//! `cargo test -p bidirectional-chat-server --test cluster`. The tests
//! take turns (see [`harness::Cluster::start`]): each starts four
//! processes, and timings such as the presence TTL mean little when two
//! clusters share two cores.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, missing_debug_implementations)]

mod client;
mod harness;
mod load;
mod proxy;

mod broadcasts;
mod messages;
mod moderation;
mod nats_restart;
mod node_crash;
mod postgres_outage;
mod presence;
mod version2;
