//! The JSON-RPC read loop.
//!
//! Calls are driven inside the connection's task (not spawned), at most
//! `connection.max_in_flight` at once: when that many are pending, frames
//! stay unread and TCP pushes back on the client. Calls start in the order
//! their frames arrived, so one client's messages are stored in the order
//! it sent them.
//!
//! When the connection ends, the calls already started still run to their
//! end (their answers are dropped). A call may have committed its change
//! (a room created, a ban stored or lifted) and not yet applied it to the
//! hub; cancelling it there would leave the running server out of step
//! with the database until a restart. The wait is bounded: at most
//! `max_in_flight` calls, each waiting only on the database and the read
//! pool (a batch stops waiting for outbox room once the connection
//! closes, see `Outbox::room_for`), and the session's cleanup (leaving
//! rooms) runs after it, so a join that completes late is undone cleanly.

use std::sync::Arc;

use axum::extract::ws::WebSocket;
use chat_api::{CloseCode, ErrorCode};
use futures_util::{
    StreamExt,
    stream::{FuturesUnordered, SplitStream},
};
use jsonrpsee::Extensions;

use super::session::{Inbound, token_deadline};
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
    // One close-signal future and one expiry timer for the whole loop, not
    // one per frame.
    let closed = conn.closed();
    tokio::pin!(closed);
    let expiry = tokio::time::sleep_until(token_deadline(conn));
    tokio::pin!(expiry);

    loop {
        tokio::select! {
            biased;
            () = &mut closed => break,
            () = &mut expiry => {
                conn.close(CloseCode::SessionEnded, "token expired");
                break;
            }
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(text) = reply {
                    conn.push(&Frame::reply(text));
                }
            }
            inbound = stream.next(), if in_flight.len() < max_in_flight => match Inbound::read(conn, inbound) {
                Inbound::Text(text) => {
                    // The timer closes the connection at expiry; this also
                    // covers the instants around it and a logout racing
                    // this connection's registration.
                    if let Some((code, reason)) = state.accounts.session_ended(conn) {
                        conn.close(code, reason);
                        break;
                    }
                    in_flight.push(async move { dispatcher.handle(text.as_str(), extensions).await });
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

    // See the module comment: started calls finish, answers unsent.
    while in_flight.next().await.is_some() {}
}
