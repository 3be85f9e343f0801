//! Every limit refuses with a clear, stable error and leaves what was
//! already accepted alone.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::support::{PASSWORD, RawClient, RawClientExt, TestServer, error_code, refused_status, result_of, within};

const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;
const RATE_LIMITED: i64 = -32004;
const ROOM_FULL: i64 = -32007;

/// The JSON body of a refused WebSocket handshake.
fn refused_body(result: &Result<RawClient, tungstenite::Error>) -> Value {
    match result {
        Err(tungstenite::Error::Http(response)) => {
            serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap()
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got a connection"),
    }
}

fn send(room: &str, text: &str) -> Value {
    json!({"room_id": room, "text": text})
}

#[tokio::test]
async fn sending_past_the_burst_is_rate_limited_and_the_connection_stays_usable() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.message_burst = 3;
        c.rate_limit.messages_per_minute = 1;
    })
    .await;
    let mut alice = server.raw_in("alice", "general").await;
    for i in 0..3 {
        result_of(&alice.call("send_message", send("general", &format!("burst {i}"))).await);
    }
    let refused = alice.call("send_message", send("general", "one too many")).await;
    assert_eq!(error_code(&refused), RATE_LIMITED);
    let retry_after_ms = refused["error"]["data"]["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(retry_after_ms > 0 && retry_after_ms <= 60_000, "{refused}");

    result_of(&alice.call("list_rooms", json!({})).await);
    let mut bob = server.raw_in("bob", "general").await;
    result_of(&bob.call("send_message", send("general", "my own bucket")).await);
    let history = alice.call("get_history", json!({"room_id": "general"})).await;
    let texts: Vec<&str> =
        result_of(&history)["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["burst 0", "burst 1", "burst 2", "my own bucket"], "the refused message was not stored");
}

#[tokio::test]
async fn logins_and_registrations_past_the_burst_get_429_with_retry_after() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.login_burst = 3;
        c.rate_limit.login_attempts_per_hour = 1;
    })
    .await;
    assert_eq!(server.register("carol", PASSWORD).await.status(), 201);
    assert_eq!(server.login("carol", "wrong password").await.status(), 401, "failures count too");
    assert_eq!(server.login("carol", PASSWORD).await.status(), 200);

    for response in [server.login("carol", PASSWORD).await, server.register("dave", PASSWORD).await] {
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry_after), "Retry-After: {retry_after}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }
}

#[tokio::test]
async fn connections_past_the_per_address_limit_get_429_until_one_closes() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.connections_per_ip = 2;
    })
    .await;
    let token = server.token("alice").await;
    let first = RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap();
    let _second = RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap();
    let third = RawClient::connect(&server.ws_url(), Some(&token)).await;
    assert_eq!(refused_status(&third), Some(429));
    assert_eq!(refused_body(&third)["error"]["code"], "rate_limited");

    first.hang_up().await;
    let mut again = RawClient::connect(&server.ws_url(), Some(&token)).await.expect("a slot is free again");
    again.join("general").await;
}

#[tokio::test]
async fn connections_past_max_connections_get_503() {
    let server = TestServer::spawn_with(|c| c.server.max_connections = 2).await;
    let _alice = server.raw("alice").await;
    let _bob = server.raw("bob").await;
    let token = server.token("carol").await;
    let refused = RawClient::connect(&server.ws_url(), Some(&token)).await;
    assert_eq!(refused_status(&refused), Some(503));
    assert_eq!(refused_body(&refused)["error"]["code"], "server_full");
}

#[tokio::test]
async fn a_batch_larger_than_max_batch_gets_one_invalid_request_error() {
    let server = TestServer::spawn_with(|c| c.connection.max_batch = 3).await;
    let mut alice = server.raw("alice").await;
    let batch = |n: u64| {
        let calls: Vec<Value> =
            (0..n).map(|i| json!({"jsonrpc": "2.0", "id": 100 + i, "method": "list_rooms", "params": {}})).collect();
        Value::Array(calls).to_string()
    };

    alice.send_text(&batch(4)).await;
    let reply = alice.next_json().await;
    assert!(reply.is_object(), "one error, not an array: {reply}");
    assert_eq!(error_code(&reply), INVALID_REQUEST);
    assert_eq!(reply["id"], Value::Null);

    alice.send_text(&batch(3)).await;
    let replies = alice.next_json().await;
    let ids: Vec<&Value> = replies.as_array().expect("an array of answers").iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&json!(100), &json!(101), &json!(102)]);
}

#[tokio::test]
async fn a_frame_larger_than_max_frame_bytes_closes_the_connection_with_1009() {
    let server = TestServer::spawn_with(|c| c.connection.max_frame_bytes = 2048).await;
    let mut alice = server.raw_in("alice", "general").await;
    result_of(&alice.call("send_message", send("general", &"a".repeat(1500))).await);

    let oversized =
        json!({"jsonrpc": "2.0", "id": 99, "method": "send_message", "params": send("general", &"a".repeat(4000))});
    alice.send(Message::text(oversized.to_string())).await;
    assert_eq!(alice.close_code().await, Some(1009));
}

#[tokio::test]
async fn a_message_over_max_frame_bytes_in_small_fragments_also_closes_with_1009() {
    use tokio_tungstenite::tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };
    let server = TestServer::spawn_with(|c| c.connection.max_frame_bytes = 2048).await;
    let mut alice = server.raw_in("alice", "general").await;
    let text =
        json!({"jsonrpc": "2.0", "id": 99, "method": "send_message", "params": send("general", &"a".repeat(4000))})
            .to_string();
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(1000).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let opcode = if i == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        let frame = Frame::message(chunk.to_vec(), opcode, i + 1 == chunks.len());
        alice.send(Message::Frame(frame)).await;
    }
    assert_eq!(alice.close_code().await, Some(1009));
}

#[tokio::test]
async fn pipelined_calls_are_all_answered_and_stored_in_the_order_sent() {
    let server = TestServer::spawn_with(|c| c.connection.max_in_flight = 2).await;
    let mut alice = server.raw_in("alice", "general").await;
    let texts: Vec<String> = (0..100).map(|i| format!("pipelined {i}")).collect();

    let ids = within("100 pipelined answers", alice.send_many("general", &texts)).await;
    assert_eq!(ids.len(), 100);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids follow the order the frames were sent: {ids:?}");
    let history = alice.call("get_history", json!({"room_id": "general", "limit": 100})).await;
    let stored: Vec<&str> =
        result_of(&history)["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(stored, texts);
}

#[tokio::test]
async fn a_full_room_refuses_new_users_but_not_its_members() {
    let server = TestServer::spawn_with(|c| c.chat.max_users_per_room = 2).await;
    let mut alice = server.raw_in("alice", "small").await;
    let mut bob = server.raw_in("bob", "small").await;
    let mut carol = server.raw("carol").await;

    let refused = carol.call("join_room", json!({"room_name": "small"})).await;
    assert_eq!(error_code(&refused), ROOM_FULL);
    assert_eq!(bob.join("small").await["user_count"], 2, "a member joining again is fine");
    let mut bob_laptop = server.raw("bob").await;
    assert_eq!(bob_laptop.join("small").await["user_count"], 2, "so is a member's second device");
    assert!(alice.sync().await.iter().all(|f| f["params"]["username"] != "carol"), "nobody heard of carol");

    result_of(&alice.call("leave_room", json!({"room_id": "small"})).await);
    assert_eq!(carol.join("small").await["user_count"], 2, "a freed place can be taken");
}

#[tokio::test]
async fn messages_and_announcements_are_limited_to_max_message_length_characters() {
    let server = TestServer::spawn_with(|c| c.chat.max_message_length = 10).await;
    let mut alice = server.raw_in("alice", "general").await;
    // Characters, not bytes: ten two-byte characters fit.
    result_of(&alice.call("send_message", send("general", &"é".repeat(10))).await);
    let refused = alice.call("send_message", send("general", &"é".repeat(11))).await;
    assert_eq!(error_code(&refused), INVALID_PARAMS);

    let mut admin = server.raw("admin").await;
    let fits = admin.call("broadcast_announcement", json!({"message": "x".repeat(10), "level": "info"})).await;
    result_of(&fits);
    let too_long = admin.call("broadcast_announcement", json!({"message": "x".repeat(11), "level": "info"})).await;
    assert_eq!(error_code(&too_long), INVALID_PARAMS);
}

#[tokio::test]
async fn room_names_are_limited_to_max_room_name_length() {
    let server = TestServer::spawn_with(|c| c.chat.max_room_name_length = 8).await;
    let mut alice = server.raw("alice").await;
    assert_eq!(alice.join("abcdefgh").await["room_id"], "abcdefgh");
    let refused = alice.call("join_room", json!({"room_name": "abcdefghi"})).await;
    assert_eq!(error_code(&refused), INVALID_PARAMS);
    let rooms = result_of(&alice.call("list_rooms", json!({})).await)["rooms"].clone();
    assert!(rooms.as_array().unwrap().iter().all(|r| r["room_id"] != "abcdefghi"), "nothing was created");
}
