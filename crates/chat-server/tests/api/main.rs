//! Integration tests: the real server on port 0 with a temporary data
//! directory, driven over real sockets with the generated jsonrpsee client
//! and with raw WebSocket frames where exact wire shapes matter.

#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub, missing_debug_implementations)]

#[allow(dead_code, unused_imports)]
mod support;

mod auth_http;
mod config_keys;
mod handshake;
mod limits;
mod messaging;
mod metrics;
mod moderation;
mod operator_cli;
mod persistence;
mod presence;
mod rpc_wire;
mod slow_clients;
mod text_gateway;
mod v2;
mod web_page;
