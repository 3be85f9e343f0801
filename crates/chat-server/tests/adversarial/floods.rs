//! Point 8: floods. Messages per user, connections per address, logins and
//! registrations per address are limited as configured, and a flooding
//! client does not slow down a well-behaved one in the same room.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    common::{median, quantile, ws_connect},
    support::{PASSWORD, RawClient, RawClientExt, TestServer, error_code, refused_status},
};

#[tokio::test]
async fn a_user_sending_too_fast_is_refused_with_retry_after_across_all_their_connections() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.messages_per_minute = 60;
        c.rate_limit.message_burst = 5;
    })
    .await;
    let mut phone = server.raw_in("alice", "general").await;
    let mut laptop = server.raw_in("alice", "general").await;
    let mut other = server.raw_in("bob", "general").await;
    let mut accepted = 0;
    let mut refused = Vec::new();
    for i in 0..12 {
        let c = if i % 2 == 0 { &mut phone } else { &mut laptop };
        let reply = c.call("send_message", json!({"room_id": "general", "text": format!("burst {i}")})).await;
        match reply.get("error") {
            None => accepted += 1,
            Some(_) => refused.push(reply),
        }
    }
    assert!((5..=6).contains(&accepted), "burst of 5 (+1 refilled at most), got {accepted} accepted");
    for reply in &refused {
        assert_eq!(error_code(reply), -32004);
        let wait = reply["error"]["data"]["retry_after_ms"].as_u64().unwrap();
        assert!((1..=1000).contains(&wait), "one message per second refills: retry_after_ms = {wait}");
    }
    // Another user's bucket is untouched, and refused sends are not stored.
    let reply = other.call("send_message", json!({"room_id": "general", "text": "me too"})).await;
    assert!(reply.get("result").is_some(), "{reply}");
    let history = other.call("get_history", json!({"room_id": "general"})).await;
    assert_eq!(history["result"]["messages"].as_array().unwrap().len(), accepted + 1);
    // After waiting as told, alice may send again.
    let wait = refused.last().unwrap()["error"]["data"]["retry_after_ms"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(wait + 20)).await;
    let reply = phone.call("send_message", json!({"room_id": "general", "text": "after waiting"})).await;
    assert!(reply.get("result").is_some(), "{reply}");
}

#[tokio::test]
async fn connections_per_address_are_capped_and_freed_on_close() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.connections_per_ip = 3;
    })
    .await;
    let token = server.token("alice").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap());
    }
    let refused = RawClient::connect(&server.ws_url(), Some(&token)).await;
    assert_eq!(refused_status(&refused), Some(429), "the fourth connection from one address");
    if let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = &refused {
        let body: Value = serde_json::from_slice(response.body().as_ref().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
    // Other users from the same address count too (it is per address).
    let bob = server.token("bob").await;
    assert_eq!(refused_status(&RawClient::connect(&server.ws_url(), Some(&bob)).await), Some(429));
    open.pop().unwrap().hang_up().await;
    assert!(RawClient::connect(&server.ws_url(), Some(&bob)).await.is_ok(), "a closed connection frees its slot");
}

#[tokio::test]
async fn logins_and_registrations_per_address_are_limited_with_retry_after() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.login_burst = 4;
        c.rate_limit.login_attempts_per_hour = 60;
    })
    .await;
    // Registration and login share one bucket per address.
    assert_eq!(server.register("flooder", PASSWORD).await.status(), 201);
    assert_eq!(server.login("flooder", "wrong-password").await.status(), 401);
    assert_eq!(server.login("flooder", "wrong-password").await.status(), 401);
    assert_eq!(server.login("flooder", PASSWORD).await.status(), 200);
    for attempt in [server.login("flooder", PASSWORD).await, server.register("flooder2", PASSWORD).await] {
        assert_eq!(attempt.status(), 429);
        let retry: u64 = attempt.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        let body: Value = attempt.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
    // A refused attempt does no work: the right password is still refused.
    let started = Instant::now();
    assert_eq!(server.login("flooder", PASSWORD).await.status(), 429);
    assert!(started.elapsed() < Duration::from_millis(200), "throttled logins must not run the hash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_does_not_slow_a_well_behaved_one_in_the_same_room() {
    let server = TestServer::spawn_with(|c| c.rate_limit.enabled = true).await;
    let mut good = server.raw_in("bob", "general").await;
    let calm = sample(&mut good, 10).await;

    // The flood: pipelined sends and history reads as fast as the server
    // takes them, from another user in the same room.
    let token = server.token("alice").await;
    let mut ws = ws_connect(&server.ws_url(), &token).await;
    ws.send(Message::text(r#"{"jsonrpc":"2.0","id":0,"method":"join_room","params":{"room_name":"general"}}"#))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let flood_started = Instant::now();
    let flooding = tokio_util::sync::CancellationToken::new();
    let stop = flooding.clone();
    let flooder = tokio::spawn(async move {
        let mut id = 1u64;
        while !stop.is_cancelled() {
            let frame = if id.is_multiple_of(2) {
                json!({"jsonrpc":"2.0","id":id,"method":"send_message","params":{"room_id":"general","text":format!("FLOOD {id}")}})
            } else {
                json!({"jsonrpc":"2.0","id":id,"method":"get_history","params":{"room_id":"general","limit":50}})
            };
            if sink.send(Message::text(frame.to_string())).await.is_err() {
                break;
            }
            id += 1;
        }
        id
    });
    let counter = tokio::spawn(async move {
        let (mut stored, mut limited) = (0u64, 0u64);
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["result"]["message_id"].is_i64() {
                stored += 1;
            } else if v["error"]["code"] == -32004 {
                limited += 1;
            }
        }
        (stored, limited)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let flooded = sample(&mut good, 10).await;
    flooding.cancel();
    // What the flooder pipelined is still being answered: history reads
    // cost a database round trip each (more on PostgreSQL than SQLite).
    let sent = within_secs(60, flooder).await;
    let flood_secs = flood_started.elapsed().as_secs();
    counter.abort();

    let (calm_p50, flood_p50) = (median(&calm), median(&flooded));
    let flood_p90 = quantile(&flooded, 0.9);
    eprintln!(
        "well-behaved round trip: calm p50 {calm_p50:?}; during a flood of {sent} calls p50 {flood_p50:?}, p90 {flood_p90:?}"
    );
    assert!(
        flood_p50 < calm_p50 * 5 + Duration::from_millis(50),
        "the flood slowed a well-behaved client from {calm_p50:?} to {flood_p50:?}"
    );
    assert!(flood_p90 < Duration::from_millis(500), "p90 {flood_p90:?} during the flood");
    // The flooder itself was held to its budget: burst 20, then 2 a second
    // for as long as its calls kept arriving.
    let history = good.call("get_history", json!({"room_id": "general", "limit": 200})).await;
    let floods = history["result"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"].as_str().unwrap().starts_with("FLOOD"))
        .count();
    let budget = 20 + 2 * (flood_secs as usize + 1);
    assert!(floods <= budget, "the flooder stored {floods} messages in {flood_secs} s (budget {budget})");
}

async fn within_secs<T>(secs: u64, task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), task).await.expect("task finished").unwrap()
}

/// Round trips (a history read and a send) of a well-behaved client.
async fn sample(good: &mut RawClient, n: usize) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let reply = good.call("get_history", json!({"room_id": "general", "limit": 5})).await;
        assert!(reply.get("result").is_some(), "{reply}");
        let reply = good.call("send_message", json!({"room_id": "general", "text": format!("calm {i}")})).await;
        assert!(reply.get("result").is_some(), "the well-behaved client was refused: {reply}");
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    samples
}
