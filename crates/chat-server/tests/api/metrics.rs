//! `GET /metrics`.

use chat_api::rpc::ChatApiClient;

use crate::support::TestServer;

fn value_of(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} missing from:\n{body}"))
}

#[tokio::test]
async fn counters_are_exported_in_prometheus_format() {
    let server = TestServer::spawn().await;
    let alice = server.client_in("alice", "general").await;
    alice.send_message("general".parse().unwrap(), "counted".parse().unwrap(), None).await.unwrap();

    let response = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let body = response.text().await.unwrap();
    // The recorder is shared by every server in this test process, so only
    // lower bounds can be asserted.
    assert!(value_of(&body, "chat_messages_stored_total") >= 1.0);
    assert!(value_of(&body, "chat_connections ") >= 1.0);
    assert!(value_of(&body, "chat_frames_queued_total") >= 2.0);
    assert!(value_of(&body, "chat_runtime_alive_tasks") >= 1.0);
    assert!(body.contains("chat_send_message_seconds_bucket"));
    assert!(body.contains("chat_store_commit_seconds_bucket"));
    assert!(body.contains("chat_logins_total{result=\"ok\"}"));
}
