//! `POST /auth/register` and `POST /auth/login`.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State, rejection::JsonRejection},
    http::StatusCode,
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
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<RegisterResponse>), HttpError> {
    let request = parse_body(body)?;
    let created = state.accounts.register(peer.ip(), request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Checks credentials and issues a token.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, HttpError> {
    let request = parse_body(body)?;
    Ok(Json(state.accounts.login(peer.ip(), request).await?))
}
