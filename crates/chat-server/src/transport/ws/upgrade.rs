//! `GET /ws`: every check happens before the upgrade, so a refused client
//! gets a plain HTTP status and no socket.

use std::net::SocketAddr;

use axum::{
    extract::{
        ConnectInfo, Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chat_api::http::codes;
use serde::Deserialize;

use super::{SOCKET_BUFFER_BYTES, session};
use crate::{
    app::AppState,
    service::{AuthError, limits::ConnectionRefused},
    transport::http::{error::HttpError, origin},
};

/// The query string of `/ws`.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The token, for clients that cannot set headers (browsers).
    token: Option<String>,
}

/// The token from `Authorization: Bearer …`, else from `?token=`.
fn token(headers: &HeaderMap, query: WsQuery) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned());
    bearer.or(query.token).filter(|t| !t.is_empty())
}

/// Origin, token, account and capacity checks, then the upgrade.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !origin::is_allowed(&headers, &state.config.server.cors) {
        return HttpError::new(StatusCode::FORBIDDEN, codes::ORIGIN_NOT_ALLOWED, "origin not allowed").into_response();
    }
    let Some(token) = token(&headers, query) else {
        return HttpError::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, "missing token").into_response();
    };
    let identity = match state.accounts.authenticate(&token).await {
        Ok(identity) => identity,
        Err(e @ (AuthError::InvalidToken | AuthError::Banned(_) | AuthError::Internal(_))) => {
            return HttpError::from(e).into_response();
        }
        Err(other) => return HttpError::from(other).into_response(),
    };
    let slot = match state.limits.open_connection(peer.ip()) {
        Ok(slot) => slot,
        Err(ConnectionRefused::ServerFull) => {
            return HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::SERVER_FULL,
                "server is at its connection limit",
            )
            .into_response();
        }
        Err(ConnectionRefused::TooManyFromAddress) => {
            return HttpError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::RATE_LIMITED,
                "too many connections from this address",
            )
            .into_response();
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let max_frame = state.config.connection.max_frame_bytes;
    let tasks = state.tasks.clone();
    upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| tasks.track_future(session::serve(socket, state, identity, slot)))
}
