//! `POST /auth/register`, `POST /auth/login` and `POST /auth/logout`.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header},
};
use chat_api::http::{LoginRequest, LoginResponse, RegisterRequest, RegisterResponse, codes};

use super::error::HttpError;
use crate::app::AppState;

fn parse_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, HttpError> {
    body.map(|Json(value)| value).map_err(|rejection| {
        let text = rejection.body_text();
        // axum reports the body limit as an unknown buffering error (400) in
        // this version; http-body-util's message is what identifies it.
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE || text.contains("length limit exceeded") {
            return HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, codes::PAYLOAD_TOO_LARGE, "request body too large");
        }
        HttpError::new(StatusCode::BAD_REQUEST, codes::INVALID_BODY, text)
    })
}

/// Creates an account: `201` with the new account.
pub(crate) async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RegisterResponse>), HttpError> {
    let request = parse_body(body)?;
    let created = state.accounts.register(peer.ip(), request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Checks credentials and issues a token.
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, HttpError> {
    let request = parse_body(body)?;
    Ok(Json(state.accounts.login(peer.ip(), request).await?))
}

/// Revokes the bearer token: `204`, or `401` for a missing or invalid one.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, HttpError> {
    let Some(token) = bearer(&headers) else {
        return Err(HttpError::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, "missing token"));
    };
    // On a task of its own: a client that hangs up must not cancel the
    // logout between storing the revocation and closing the connections.
    let accounts = std::sync::Arc::clone(&state.accounts);
    let done = tokio::spawn(async move { accounts.logout(&token).await });
    match done.await {
        Ok(outcome) => outcome?,
        Err(e) => return Err(crate::service::AuthError::Internal(e.to_string()).into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The token of `Authorization: Bearer …`, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}
