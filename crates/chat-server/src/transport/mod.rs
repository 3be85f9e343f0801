//! The only layer that knows HTTP, WebSocket and JSON-RPC.
//!
//! - [`http`]: the REST routes, the error body, origin and CORS rules, and
//!   the web client's files.
//! - [`ws`]: the `/ws` upgrade and each connection's lifecycle (reader,
//!   writer, close codes).
//! - [`rpc`]: frame → JSON-RPC dispatch, the `ChatApiServer` handlers and
//!   the mapping of service errors to JSON-RPC errors.
//! - `serve`: the accept loop with per-IP and pending-connection caps and
//!   header-read and idle timeouts; `per_ip` counts sockets per address;
//!   `accept` backs off when file descriptors run out; `fd_budget` raises
//!   the open-file limit and keeps a reserve out of reach of pending HTTP.

mod accept;
mod fd_budget;
pub(crate) mod http;
mod per_ip;
pub(crate) mod rpc;
pub(crate) mod serve;
pub(crate) mod ws;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use tower_http::trace::TraceLayer;

use crate::app::AppState;

/// Largest HTTP request body accepted (register and login are tiny).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Every route on the one port.
pub(crate) fn router(state: AppState) -> Router {
    let cors = http::origin::cors_layer(&state.config.server.cors);
    Router::new()
        .route("/health", get(http::health::health))
        .route("/auth/register", post(http::auth::register))
        .route("/auth/login", post(http::auth::login))
        .route(chat_api::http::LOGOUT_PATH, post(http::auth::logout))
        .route("/ws", get(ws::upgrade::upgrade))
        .route("/ws/text", get(ws::upgrade::upgrade_text))
        .route("/metrics", get(http::metrics::metrics))
        .route("/", get(http::web::index))
        .route("/{file}", get(http::web::file))
        .fallback(http::error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        // The span records the path only: query strings can carry tokens.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
