//! One connection's lifecycle, for both encodings: register → read loop →
//! cleanup. The read loop is the only part that differs (`rpc_reader`,
//! `text_reader`); a writer task owns the outbound half (`writer`).

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use chat_api::{CloseCode, RoomName};
use futures_util::{StreamExt, stream::SplitStream};
use tokio::task::JoinHandle;

use super::{rpc_reader, text_reader, writer};
use crate::{
    app::AppState,
    hub::{Connection, Encoding, Identity, OutboxLimits},
    service::limits::ConnectionSlot,
};

/// Serves an upgraded, authenticated connection until it closes: JSON-RPC,
/// or with `text_room` the plain-text protocol in that room.
///
/// The set-up runs here, before the returned future exists, so that future
/// holds only what the read loop needs: every idle connection keeps its
/// future for its whole life, and a `WebSocket` held by value (an async
/// fn's argument) would take its room there even after it is split.
pub(crate) fn serve(
    socket: WebSocket,
    state: AppState,
    identity: Identity,
    slot: ConnectionSlot,
    text_room: Option<RoomName>,
) -> impl Future<Output = ()> + Send + 'static {
    let encoding = if text_room.is_some() { Encoding::Text } else { Encoding::JsonRpc };
    let settings = &state.config.connection;
    let limits = OutboxLimits { frames: settings.send_queue, bytes: settings.send_queue_bytes };
    let conn = Connection::new(state.hub.next_conn_id(), identity, encoding, limits);
    state.hub.register(&conn);
    // A ban, deletion or logout stored after this connection was
    // authenticated but before it was registered would have missed it;
    // look once more.
    if state.hub.recently_banned(conn.user_id(), chat_api::Timestamp::now()) {
        conn.close(CloseCode::Banned, "banned");
    } else if state.hub.was_deleted(conn.user_id()) {
        conn.close(CloseCode::SessionEnded, "account deleted");
    } else if let Some((code, reason)) = state.accounts.session_ended(&conn) {
        conn.close(code, reason);
    }
    metrics::counter!(crate::metrics::CONNECTIONS_OPENED).increment(1);
    if state.shutting_down.is_cancelled() {
        conn.close(CloseCode::GoingAway, "server shutting down");
    }
    tracing::debug!(conn = conn.id().0, user = %conn.username(), ?encoding, "connected");

    let (sink, stream) = socket.split();
    let write_timeout = Duration::from_secs(settings.write_timeout_secs);
    let writer = tokio::spawn(writer::run(sink, Arc::clone(&conn), write_timeout));
    read_then_close(stream, state, conn, slot, text_room, writer)
}

/// The connection's read loop, then its orderly end.
async fn read_then_close(
    mut stream: SplitStream<WebSocket>,
    state: AppState,
    conn: Arc<Connection>,
    slot: ConnectionSlot,
    text_room: Option<RoomName>,
    mut writer: JoinHandle<()>,
) {
    match text_room {
        None => rpc_reader::run(&mut stream, &state, &conn).await,
        // Boxed, like the rarer steps below, so that JSON-RPC connections
        // (the many) do not carry room for it.
        Some(room) => Box::pin(text_reader::run(&mut stream, &state, &conn, room)).await,
    }

    let last_connection = state.hub.unregister(&conn);
    // Free the connection's place at once, so a quick reconnect is not
    // refused while this one finishes closing.
    drop(slot);
    if conn.is_closing() {
        // Server-initiated close: the writer sends what is queued and the
        // close frame, bounded by the write timeout.
        if let Err(e) = (&mut writer).await {
            tracing::warn!(error = %e, "connection writer failed");
        }
        if conn.close_reason().is_some_and(|r| r.code != CloseCode::Normal) {
            Box::pin(await_close_reply(&mut stream)).await;
        }
    } else {
        // The client left; nothing more can reach it.
        writer.abort();
    }
    if last_connection {
        Box::pin(state.chat.disconnected(&conn)).await;
    }
    tracing::debug!(conn = conn.id().0, reason = ?conn.close_reason(), "disconnected");
}

/// When the connection's token stops being valid: the start of its `exp`
/// second. A read loop closes the connection with 4002 then.
pub(super) fn token_deadline(conn: &Connection) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let left_ms =
        conn.identity().token_expires_at.saturating_mul(1000).saturating_sub(chat_api::Timestamp::now().unix_millis());
    let left = Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
    // Tokens live at most a year (`auth.token_ttl_secs`); one minted with
    // a later `exp` is still refused per call once it expires.
    now.checked_add(left.min(MAX_TOKEN_TIMER)).unwrap_or(now)
}

/// The longest expiry timer a connection sets.
const MAX_TOKEN_TIMER: Duration = Duration::from_secs(400 * 24 * 60 * 60);

/// What one read from the socket means to a read loop. Control frames and
/// the end of the connection are handled here, once for both encodings.
pub(super) enum Inbound {
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame (neither encoding accepts them).
    Binary,
    /// A ping or pong; tungstenite answers pings itself.
    Nothing,
    /// The connection is over: the client closed it (the writer then answers
    /// the closing handshake), it dropped, or it broke the protocol (closed
    /// with the matching code).
    Ended,
}

impl Inbound {
    pub(super) fn read(conn: &Connection, inbound: Option<Result<Message, axum::Error>>) -> Self {
        match inbound {
            Some(Ok(Message::Text(text))) => Inbound::Text(text),
            Some(Ok(Message::Binary(_))) => Inbound::Binary,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Inbound::Nothing,
            Some(Ok(Message::Close(_))) => {
                conn.close(CloseCode::Normal, "");
                Inbound::Ended
            }
            None => Inbound::Ended,
            Some(Err(e)) => {
                if let Some(code) = close_code_for(&e) {
                    conn.close(code, close_reason_text(code));
                }
                tracing::debug!(conn = conn.id().0, error = %e, "read failed");
                Inbound::Ended
            }
        }
    }
}

/// The close code for a read error the client caused, if any. axum hides
/// tungstenite's error type, so its (stable) messages are matched; the
/// result only picks the close code.
fn close_code_for(error: &axum::Error) -> Option<CloseCode> {
    let text = error.to_string();
    if text.contains("Space limit exceeded") || text.contains("Message too long") {
        Some(CloseCode::TooLarge)
    } else if text.contains("UTF-8") {
        Some(CloseCode::InvalidPayload)
    } else if text.contains("protocol error") {
        Some(CloseCode::ProtocolError)
    } else {
        None
    }
}

/// The reason text sent with [`close_code_for`]'s codes.
fn close_reason_text(code: CloseCode) -> &'static str {
    match code {
        CloseCode::TooLarge => "frame too large",
        CloseCode::InvalidPayload => "text frame is not valid UTF-8",
        _ => "protocol error",
    }
}

/// How long a closing connection waits for the client's close frame.
const CLOSE_REPLY_GRACE: Duration = Duration::from_secs(2);

/// Reads (and discards) until the client answers our close frame. Closing
/// the socket with unread data in it would make the kernel reset the
/// connection, and the client could lose the close frame and its code.
async fn await_close_reply(stream: &mut SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_REPLY_GRACE, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, axum::extract::ws::Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
