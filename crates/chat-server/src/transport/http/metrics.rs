//! `GET /metrics`: Prometheus text format.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use crate::{app::AppState, hub::stats, metrics as names};

/// Renders every counter; gauges and hot-path counters are read now.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!(names::CONNECTIONS).set(state.hub.connection_count() as f64);
    metrics::gauge!(names::ALIVE_TASKS).set(tokio::runtime::Handle::current().metrics().num_alive_tasks() as f64);
    metrics::counter!(names::FRAMES_OUT).absolute(stats::total_frames_queued());
    metrics::counter!(names::SLOW_CLIENTS).absolute(stats::total_slow_closed());
    let body = crate::metrics::handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
