//! `GET /ws` and `GET /ws/text`: every check happens before the upgrade, so
//! a refused client gets a plain HTTP status and no socket.

use std::net::SocketAddr;

use axum::{
    extract::{
        ConnectInfo, Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chat_api::{RoomName, http::codes};
use serde::Deserialize;

use super::{READ_BUFFER_BYTES, WRITE_BUFFER_BYTES, session};
use crate::{
    app::AppState,
    hub::Identity,
    service::limits::{ConnectionRefused, ConnectionSlot},
    transport::http::{auth, error::HttpError, origin},
};

/// The query string of both routes.
#[derive(Debug, Deserialize)]
pub(crate) struct WsQuery {
    /// The token, for clients that cannot set headers (browsers, wscat).
    token: Option<String>,
    /// `/ws/text` only: the room to join (default `general`).
    room: Option<String>,
}

/// The token from `Authorization: Bearer …`, else from `?token=`.
fn token(headers: &HeaderMap, query: &WsQuery) -> Option<String> {
    auth::bearer(headers).or_else(|| query.token.clone()).filter(|t| !t.is_empty())
}

/// Origin, token, account and capacity checks shared by both routes.
async fn admit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    query: &WsQuery,
) -> Result<(Identity, ConnectionSlot), HttpError> {
    if !origin::is_allowed(headers, &state.config.server.cors) {
        return Err(HttpError::new(StatusCode::FORBIDDEN, codes::ORIGIN_NOT_ALLOWED, "origin not allowed"));
    }
    let Some(token) = token(headers, query) else {
        return Err(HttpError::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, "missing token"));
    };
    let identity = state.accounts.authenticate(&token).await?;
    let slot = state.limits.open_connection(peer.ip()).map_err(|refused| match refused {
        ConnectionRefused::ServerFull => {
            HttpError::new(StatusCode::SERVICE_UNAVAILABLE, codes::SERVER_FULL, "server is at its connection limit")
        }
        ConnectionRefused::TooManyFromAddress => {
            HttpError::new(StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED, "too many connections from this address")
        }
    })?;
    Ok((identity, slot))
}

fn configure(upgrade: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let max_frame = state.config.connection.max_frame_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
}

/// The checks, then the upgrade into a session: JSON-RPC, or plain text in
/// `text_room`.
async fn accept(
    state: AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    query: &WsQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    text_room: Option<RoomName>,
) -> Response {
    let (identity, slot) = match admit(&state, peer, headers, query).await {
        Ok(admitted) => admitted,
        Err(e) => return e.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let tasks = state.tasks.clone();
    configure(upgrade, &state)
        .on_upgrade(move |socket| tasks.track_future(session::serve(socket, state, identity, slot, text_room)))
}

/// `GET /ws`: JSON-RPC 2.0.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    accept(state, peer, &headers, &query, upgrade, None).await
}

/// `GET /ws/text`: plain lines, one room.
pub(crate) async fn upgrade_text(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let room = match RoomName::parse(query.room.as_deref().unwrap_or("general")) {
        Ok(room) if room.len() <= state.config.chat.max_room_name_length => room,
        Ok(_) => {
            let message = format!("room name must be at most {} characters", state.config.chat.max_room_name_length);
            return HttpError::new(StatusCode::BAD_REQUEST, codes::INVALID_ROOM, message).into_response();
        }
        Err(e) => return HttpError::new(StatusCode::BAD_REQUEST, codes::INVALID_ROOM, e.to_string()).into_response(),
    };
    accept(state, peer, &headers, &query, upgrade, Some(room)).await
}
