//! The JSON-RPC read loop.
//!
//! Calls are driven inside the connection's task (not spawned), at most
//! `connection.max_in_flight` at once: when that many are pending, frames
//! stay unread and TCP pushes back on the client. Calls start in the order
//! their frames arrived, so one client's messages are stored in the order
//! it sent them.

use std::sync::Arc;

use axum::extract::ws::WebSocket;
use chat_api::{ErrorCode, Timestamp};
use futures_util::{
    StreamExt,
    stream::{FuturesUnordered, SplitStream},
};
use jsonrpsee::Extensions;

use super::session::Inbound;
use crate::{
    app::AppState,
    hub::{Connection, Frame},
    transport::rpc::dispatch,
};

pub(super) async fn run(stream: &mut SplitStream<WebSocket>, state: &AppState, conn: &Arc<Connection>) {
    let mut extensions = Extensions::new();
    extensions.insert(Arc::clone(conn));
    // Calls borrow these rather than each taking a copy: both outlive
    // `in_flight`.
    let extensions = &extensions;
    let dispatcher = &*state.dispatcher;
    let max_in_flight = state.config.connection.max_in_flight;
    let mut in_flight = FuturesUnordered::new();
    // One close-signal future for the whole loop, not one per frame.
    let closed = conn.closed();
    tokio::pin!(closed);

    loop {
        tokio::select! {
            biased;
            () = &mut closed => break,
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(text) = reply {
                    conn.push(&Frame::reply(text));
                }
            }
            inbound = stream.next(), if in_flight.len() < max_in_flight => match Inbound::read(conn, inbound) {
                Inbound::Text(text) => {
                    let expired = conn.identity().token_expires_at <= Timestamp::now().unix_seconds();
                    in_flight.push(async move { dispatcher.handle(text.as_str(), extensions, expired).await });
                }
                Inbound::Binary => {
                    let reply = dispatch::error_response(
                        ErrorCode::InvalidRequest,
                        "binary frames are not supported; send JSON-RPC as text frames",
                    );
                    conn.push(&Frame::reply(reply));
                }
                Inbound::Nothing => {}
                Inbound::Ended => break,
            }
        }
    }
}
