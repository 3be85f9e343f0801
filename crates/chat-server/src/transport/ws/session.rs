//! One connection's lifecycle: register → read loop → cleanup.
//!
//! The read loop owns the inbound half of the socket and the calls in
//! flight; a separate writer task owns the outbound half (see `writer`).
//! Calls are driven inside this task (not spawned), at most
//! `connection.max_in_flight` at once: when that many are pending, frames
//! stay unread and TCP pushes back on the client. Calls start in the order
//! their frames arrived, so one client's messages are stored in the order
//! it sent them.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use chat_api::{CloseCode, ErrorCode, Timestamp};
use futures_util::{
    StreamExt,
    stream::{FuturesUnordered, SplitStream},
};
use jsonrpsee::Extensions;

use super::writer;
use crate::{
    app::AppState,
    hub::{Connection, Frame, Identity},
    service::limits::ConnectionSlot,
    transport::rpc::dispatch,
};

/// Serves an upgraded, authenticated connection until it closes.
pub async fn serve(socket: WebSocket, state: AppState, identity: Identity, slot: ConnectionSlot) {
    let settings = &state.config.connection;
    let (conn, outbox) = Connection::new(state.hub.next_conn_id(), identity, settings.send_queue);
    state.hub.register(&conn);
    metrics::counter!(crate::metrics::CONNECTIONS_OPENED).increment(1);
    if state.shutting_down.is_cancelled() {
        conn.close(CloseCode::GoingAway, "server shutting down");
    }
    tracing::debug!(conn = conn.id().0, user = %conn.username(), "connected");

    let (sink, stream) = socket.split();
    let write_timeout = std::time::Duration::from_secs(settings.write_timeout_secs);
    let mut writer = tokio::spawn(writer::run(sink, outbox, Arc::clone(&conn), write_timeout));

    read_loop(stream, &state, &conn).await;

    let last_connection = state.hub.unregister(&conn);
    if conn.is_closing() {
        // Server-initiated close: the writer sends what is queued and the
        // close frame, bounded by the write timeout.
        if let Err(e) = (&mut writer).await {
            tracing::warn!(error = %e, "connection writer failed");
        }
    } else {
        // The client left; nothing more can reach it.
        writer.abort();
    }
    if last_connection {
        state.chat.disconnected(&conn).await;
    }
    tracing::debug!(conn = conn.id().0, reason = ?conn.close_reason(), "disconnected");
    drop(slot);
}

async fn read_loop(mut stream: SplitStream<WebSocket>, state: &AppState, conn: &Arc<Connection>) {
    let mut extensions = Extensions::new();
    extensions.insert(Arc::clone(conn));
    let max_in_flight = state.config.connection.max_in_flight;
    let mut in_flight = FuturesUnordered::new();

    loop {
        tokio::select! {
            biased;
            () = conn.closed() => break,
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => {
                if let Some(text) = reply {
                    conn.push(&Frame::text(text));
                }
            }
            inbound = stream.next(), if in_flight.len() < max_in_flight => match inbound {
                Some(Ok(Message::Text(text))) => {
                    let expired = conn.identity().token_expires_at <= Timestamp::now().unix_seconds();
                    let dispatcher = Arc::clone(&state.dispatcher);
                    let extensions = extensions.clone();
                    in_flight.push(async move { dispatcher.handle(text.as_str(), &extensions, expired).await });
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = dispatch::error_response(ErrorCode::InvalidRequest, "binary frames are not supported; send JSON-RPC as text frames");
                    conn.push(&Frame::text(reply));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(e)) => {
                    if is_too_large(&e) {
                        conn.close(CloseCode::TooLarge, "frame too large");
                    }
                    tracing::debug!(conn = conn.id().0, error = %e, "read failed");
                    break;
                }
            }
        }
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    // axum hides tungstenite's error type; its text is stable enough and
    // this only picks the close code.
    let text = error.to_string();
    text.contains("too long") || text.contains("too big") || text.contains("Space limit exceeded")
}
