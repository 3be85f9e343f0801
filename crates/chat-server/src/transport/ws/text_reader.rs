//! The `/ws/text` read loop: the connection joins one room, and every text
//! frame is a message to it, through the same `send_message` use case as
//! JSON-RPC clients (validation, rate limits, storage, ids). A refused
//! message is answered to this client alone with a `system:` line; the
//! connection stays open.
//!
//! Messages are sent one at a time, outside the `select!`, so closing the
//! connection never cancels one half-way (stored but not published); the
//! loop notices the close once the message is done.

use std::sync::Arc;

use axum::extract::ws::WebSocket;
use chat_api::{CloseCode, MessageText, RoomName};
use futures_util::{StreamExt, stream::SplitStream};

use super::session::{Inbound, token_deadline};
use crate::{
    app::AppState,
    hub::{Connection, Frame},
    service::ServiceError,
};

pub(super) async fn run(stream: &mut SplitStream<WebSocket>, state: &AppState, conn: &Arc<Connection>, room: RoomName) {
    let room_id = match state.chat.join_room(conn, room, None).await {
        Ok(joined) => joined.room_id,
        Err(e) => {
            conn.push(&Frame::system(refusal(&e)));
            conn.close(CloseCode::PolicyViolation, "could not join the room");
            return;
        }
    };

    // One close-signal future and one expiry timer for the whole loop, not
    // one per line.
    let closed = conn.closed();
    tokio::pin!(closed);
    let expiry = tokio::time::sleep_until(token_deadline(conn));
    tokio::pin!(expiry);
    loop {
        let inbound = tokio::select! {
            biased;
            () = &mut closed => break,
            () = &mut expiry => {
                conn.close(CloseCode::SessionEnded, "token expired");
                break;
            }
            inbound = stream.next() => inbound,
        };
        match Inbound::read(conn, inbound) {
            Inbound::Text(text) => {
                if let Some((code, reason)) = state.accounts.session_ended(conn) {
                    conn.close(code, reason);
                    break;
                }
                // A line typed in a terminal may carry its line ending.
                let line = text.as_str().strip_suffix('\n').unwrap_or(text.as_str());
                let line = line.strip_suffix('\r').unwrap_or(line);
                let refused = match MessageText::parse(line) {
                    Ok(message) => {
                        state.chat.send_message(conn, room_id.clone(), message, None).await.err().map(|e| refusal(&e))
                    }
                    Err(e) => Some(e.to_string()),
                };
                if let Some(reason) = refused {
                    conn.push(&Frame::system(format!("Message not sent: {reason}")));
                }
            }
            Inbound::Binary => {
                conn.push(&Frame::system("Message not sent: binary frames are not supported; send text"));
            }
            Inbound::Nothing => {}
            Inbound::Ended => break,
        }
    }
}

/// Why a call was refused, in words for a person at a terminal.
fn refusal(error: &ServiceError) -> String {
    match error {
        ServiceError::RateLimited(wait) => format!("rate limited; try again in {:.1} s", wait.as_secs_f64()),
        ServiceError::Storage(_) => "the server could not store it; try again".to_owned(),
        other => other.to_string(),
    }
}
