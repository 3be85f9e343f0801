//! Point 2: SIGTERM closes every client with 1001, keeps what was
//! acknowledged and ends the process within a bounded time.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{
    common::{ServerData, ServerProcess, full_history, ws_call, ws_connect},
    load::{Acked, pipelined_sender, verify_history},
    support::RawClient,
};

const PASSWORD: &str = "shutdown-test-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_clients_with_1001_keeps_acknowledged_messages_and_exits_promptly() {
    let data = ServerData::new().await;
    let mut server = ServerProcess::start(&data, &[], None).await;

    let idle_token = server.login("bob", "bob123").await.unwrap();
    let mut idle = RawClient::connect(&server.ws_url(), Some(&idle_token)).await.unwrap();
    let reply = idle.call("join_room", json!({"room_name": "general"})).await;
    assert!(reply.get("result").is_some(), "{reply}");

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut senders = Vec::new();
    for s in 0..3 {
        let token = server.token(&format!("term{s}"), PASSWORD).await;
        let ws = ws_connect(&server.ws_url(), &token).await;
        senders.push(tokio::spawn(pipelined_sender(ws, "general".into(), "t".into(), s, 8, Arc::clone(&acked)).await));
    }
    crate::support::within("load to start", async {
        while acked.lock().unwrap().len() < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    let signalled = Instant::now();
    server.sigterm();
    assert_eq!(idle.close_code().await, Some(1001), "an idle client is told the server is going away");
    for sender in senders {
        let end = crate::support::within("a sender to be closed", sender).await.unwrap();
        assert!(end.errors.is_empty(), "{:?}", end.errors);
        assert_eq!(end.close_code, Some(1001), "a busy client is told the server is going away too");
    }
    let status = server.wait_exit(Duration::from_secs(15)).await.expect("the process exits within 15 s of SIGTERM");
    assert!(status.success(), "graceful shutdown exits with 0, got {status}");
    eprintln!("SIGTERM → exit in {:?}", signalled.elapsed());

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 200);
    let server = ServerProcess::start(&data, &[], None).await;
    let token = server.login("bob", "bob123").await.unwrap();
    let mut ws = ws_connect(&server.ws_url(), &token).await;
    ws_call(&mut ws, 1, "join_room", json!({"room_name": "general"})).await;
    let history = full_history(&mut ws, "general").await;
    verify_history(&history, &acked, "t");
}
