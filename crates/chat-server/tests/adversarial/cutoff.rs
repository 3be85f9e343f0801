//! A call whose change is committed also reaches the running server, even
//! when its connection drops mid-call: the room a join created is known,
//! a stored ban disconnects its target, a lifted ban lets the user back.
//!
//! Each test sends the call on a raw socket and drops the socket without
//! reading, at a range of delays so that the drop lands before, during and
//! after the commit; then it checks, from other clients, that the server
//! acts as the database says.

use std::{future::Future, time::Duration};

use chat_api::{RoomId, Timestamp, UserId};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{RawClient, TestServer, refused_status};

/// Delays between sending the call and dropping the socket, in µs. The
/// window between a commit and the call's end is well under a millisecond
/// here, so the steps are fine where it matters.
const CUTS: [u64; 16] = [0, 50, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1500, 2500, 5000, 20_000];

/// How long the server has to make its state match the database.
const SETTLE: Duration = Duration::from_secs(2);

async fn server() -> TestServer {
    TestServer::spawn_with(|c| {
        c.rate_limit.rooms_per_hour = 1000;
        c.rate_limit.room_burst = 100;
        c.rate_limit.joins_per_minute = 1000;
        c.rate_limit.join_burst = 100;
    })
    .await
}

/// Sends one call on a fresh connection and drops it `after_us` later
/// without reading anything.
async fn call_then_cut(server: &TestServer, token: &str, method: &str, params: Value, after_us: u64) {
    let mut ws = RawClient::connect(&server.ws_url(), Some(token)).await.unwrap();
    ws.request(method, params).await;
    let after = Duration::from_micros(after_us);
    if after >= Duration::from_millis(2) {
        tokio::time::sleep(after).await;
    } else {
        // Timers tick in milliseconds; a short wait spins instead.
        let until = std::time::Instant::now() + after;
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    drop(ws);
}

/// Polls `check` until it holds or [`SETTLE`] passes; returns the last answer.
async fn settles<F: Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the connection answers a call (false when it is closed instead).
async fn answers(ws: &mut RawClient) -> bool {
    let id = ws.request("list_rooms", json!({})).await;
    loop {
        match tokio::time::timeout(SETTLE, ws.inner().next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let reply: Value = serde_json::from_str(&text).unwrap();
                if reply["id"] == json!(id) {
                    return reply.get("result").is_some();
                }
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            _ => return false,
        }
    }
}

async fn user_id(server: &TestServer, name: &str) -> UserId {
    server.token(name).await;
    let login = server.login(name, crate::support::PASSWORD).await;
    UserId(login.json::<Value>().await.unwrap()["user_id"].as_i64().unwrap())
}

async fn listed(server_client: &mut RawClient, room: &str) -> bool {
    let rooms = server_client.call("list_rooms", json!({"limit": 1000})).await;
    rooms["result"]["rooms"].as_array().unwrap().iter().any(|r| r["room_id"] == room)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_cut_off_by_a_disconnect_still_makes_its_new_room_known() {
    let server = server().await;
    let store = server.store().await;
    let token = server.token("joiner").await;
    let mut watcher = server.raw("watcher").await;
    for (i, after) in CUTS.into_iter().enumerate() {
        let room = format!("cutroom{i}");
        call_then_cut(&server, &token, "join_room", json!({"room_name": room}), after).await;
        let deadline = tokio::time::Instant::now() + SETTLE;
        let mut known = listed(&mut watcher, &room).await;
        while !known && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            known = listed(&mut watcher, &room).await;
        }
        let stored = store.rooms().await.unwrap().iter().any(|r| r.id == RoomId::parse(&room).unwrap());
        assert_eq!(
            known, stored,
            "cut after {after} µs: the server lists {room}: {known}, the database has it: {stored}"
        );
        if known {
            let joined = watcher.call("join_room", json!({"room_name": room})).await;
            assert!(joined.get("result").is_some(), "{joined}");
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_cut_off_by_a_disconnect_still_disconnects_its_target() {
    let server = server().await;
    let store = server.store().await;
    let admin = server.token("admin").await;
    let mut moderator = server.raw("admin").await;
    let victim = user_id(&server, "victim").await;
    let victim_token = server.token("victim").await;
    for after in CUTS {
        let mut target = RawClient::connect(&server.ws_url(), Some(&victim_token)).await.unwrap();
        assert!(answers(&mut target).await);
        let ban = json!({"target_username": "victim", "reason": "cut"});
        call_then_cut(&server, &admin, "ban_user", ban, after).await;
        let stored = settles(|| async { store.active_ban(victim, Timestamp::now()).await.unwrap().is_some() }).await;
        if stored {
            let code = tokio::time::timeout(SETTLE, target.close_code()).await;
            assert_eq!(
                code.ok().flatten(),
                Some(4003),
                "cut after {after} µs: the ban is stored, its target still open"
            );
            let unban = moderator.call("unban_user", json!({"target_username": "victim"})).await;
            assert!(unban.get("result").is_some(), "{unban}");
        } else {
            assert!(answers(&mut target).await, "cut after {after} µs: no ban stored, yet the target was closed");
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unban_cut_off_by_a_disconnect_still_lets_the_user_back() {
    let server = server().await;
    let store = server.store().await;
    let admin = server.token("admin").await;
    let mut moderator = server.raw("admin").await;
    let victim = user_id(&server, "victim").await;
    let victim_token = server.token("victim").await;
    for after in CUTS {
        let ban = moderator.call("ban_user", json!({"target_username": "victim", "reason": "cut"})).await;
        assert!(ban.get("result").is_some(), "{ban}");
        call_then_cut(&server, &admin, "unban_user", json!({"target_username": "victim"}), after).await;
        let lifted = settles(|| async { store.active_ban(victim, Timestamp::now()).await.unwrap().is_none() }).await;
        let attempt = RawClient::connect(&server.ws_url(), Some(&victim_token)).await;
        if lifted {
            let mut back = attempt.unwrap_or_else(|e| panic!("cut after {after} µs: unbanned, yet refused: {e}"));
            assert!(answers(&mut back).await, "cut after {after} µs: the ban is lifted, yet the socket was closed");
        } else {
            assert_eq!(refused_status(&attempt), Some(403), "cut after {after} µs: still banned, yet admitted");
        }
    }
    store.close().await;
}
