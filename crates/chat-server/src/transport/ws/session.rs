//! One connection's lifecycle, for both encodings: register → read loop →
//! cleanup. The read loop is the only part that differs (`rpc_reader`,
//! `text_reader`); a writer task owns the outbound half (`writer`).

use std::{sync::Arc, time::Duration};

use axum::extract::ws::WebSocket;
use chat_api::{CloseCode, RoomName};
use futures_util::StreamExt;

use super::{rpc_reader, text_reader, writer};
use crate::{
    app::AppState,
    hub::{Connection, Encoding, Identity},
    service::limits::ConnectionSlot,
};

/// Serves an upgraded, authenticated JSON-RPC connection until it closes.
pub async fn serve_rpc(socket: WebSocket, state: AppState, identity: Identity, slot: ConnectionSlot) {
    serve(socket, state, identity, slot, Encoding::JsonRpc, None).await;
}

/// Serves an upgraded, authenticated text connection in `room`.
pub async fn serve_text(socket: WebSocket, state: AppState, identity: Identity, slot: ConnectionSlot, room: RoomName) {
    serve(socket, state, identity, slot, Encoding::Text, Some(room)).await;
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    identity: Identity,
    slot: ConnectionSlot,
    encoding: Encoding,
    text_room: Option<RoomName>,
) {
    let settings = &state.config.connection;
    let (conn, outbox) = Connection::new(state.hub.next_conn_id(), identity, encoding, settings.send_queue);
    state.hub.register(&conn);
    metrics::counter!(crate::metrics::CONNECTIONS_OPENED).increment(1);
    if state.shutting_down.is_cancelled() {
        conn.close(CloseCode::GoingAway, "server shutting down");
    }
    tracing::debug!(conn = conn.id().0, user = %conn.username(), ?encoding, "connected");

    let (sink, stream) = socket.split();
    let write_timeout = Duration::from_secs(settings.write_timeout_secs);
    let mut writer = tokio::spawn(writer::run(sink, outbox, Arc::clone(&conn), write_timeout));

    match text_room {
        None => rpc_reader::run(stream, &state, &conn).await,
        Some(room) => text_reader::run(stream, &state, &conn, room).await,
    }

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

/// Whether a read error means the peer sent a frame over the size limit.
pub(super) fn is_too_large(error: &axum::Error) -> bool {
    // axum hides tungstenite's error type; its text is stable enough and
    // this only picks the close code.
    let text = error.to_string();
    text.contains("too long") || text.contains("too big") || text.contains("Space limit exceeded")
}
