//! Server-side counters, exported at `GET /metrics` in the Prometheus text
//! format. Names are constants here so the code that records them and the
//! docs agree.
//!
//! The recorder is process-global (the `metrics` crate's design): several
//! servers in one process (tests) share it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Open WebSocket connections (gauge, set at scrape time).
pub(crate) const CONNECTIONS: &str = "chat_connections";
/// WebSocket connections accepted since start.
pub(crate) const CONNECTIONS_OPENED: &str = "chat_connections_opened_total";
/// TCP connections closed as soon as they were accepted, labelled
/// `reason` = `per_ip` (`server.connections_per_ip`) or `pending`
/// (`server.max_pending_connections`).
pub(crate) const CLOSED_AT_ACCEPT: &str = "chat_connections_closed_at_accept_total";
/// Messages stored (acknowledged `send_message` calls).
pub(crate) const MESSAGES_IN: &str = "chat_messages_stored_total";
/// Frames queued for clients: notifications and responses, one per recipient.
pub(crate) const FRAMES_OUT: &str = "chat_frames_queued_total";
/// Clients closed with 4008 (outbox overflow or write timeout).
pub(crate) const SLOW_CLIENTS: &str = "chat_slow_clients_closed_total";
/// Seconds from receiving `send_message` to its answer.
pub(crate) const SEND_LATENCY: &str = "chat_send_message_seconds";
/// Seconds one group commit took.
pub(crate) const COMMIT_LATENCY: &str = "chat_store_commit_seconds";
/// Jobs in one group commit.
pub(crate) const COMMIT_BATCH: &str = "chat_store_commit_batch_size";
/// Login attempts, labelled `result` = `ok` or `refused`.
pub(crate) const LOGINS: &str = "chat_logins_total";
/// Tasks alive in the server's runtime (gauge, set at scrape time).
pub(crate) const ALIVE_TASKS: &str = "chat_runtime_alive_tasks";

const LATENCY_BUCKETS: &[f64] =
    &[0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The exporter handle, installing the global recorder on first use.
pub(crate) fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(SEND_LATENCY.to_owned()), LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(COMMIT_LATENCY.to_owned()), LATENCY_BUCKETS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(COMMIT_BATCH.to_owned()), BATCH_BUCKETS));
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            // Only fails on empty bucket lists, which ours are not.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        handle
    })
}
