//! `GET /health`.

use axum::Json;
use chat_api::http::HealthResponse;

/// Always `200 {"status":"ok","version":…}` while the server runs.
pub(crate) async fn health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}
