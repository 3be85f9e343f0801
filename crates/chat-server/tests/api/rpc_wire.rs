//! Exact JSON-RPC frames: responses, errors, batches, notifications and
//! malformed input. None of these close the connection.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{RawClient, TestServer};

async fn alice(server: &TestServer) -> RawClient {
    server.raw("alice").await
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or_else(|| panic!("expected an error: {reply}"))
}

#[tokio::test]
async fn a_call_gets_a_response_with_its_id_and_named_params_work() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    let reply = client.call("join_room", json!({"room_name": "general"})).await;
    assert_eq!(reply["jsonrpc"], "2.0");
    let result = &reply["result"];
    assert_eq!(result["room_id"], "general");
    assert_eq!(result["room_name"], "general");
    assert_eq!(result["user_count"], 1);
    assert_eq!(result["existing_users"], json!(["alice"]));
    assert_eq!(result["recent_messages"], json!([]));
}

#[tokio::test]
async fn positional_params_are_accepted_too() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    client.call("join_room", json!(["general"])).await;
    let reply = client.call("send_message", json!(["general", "positional"])).await;
    assert!(reply["result"]["message_id"].is_i64(), "{reply}");
}

#[tokio::test]
async fn string_ids_are_echoed() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    client.send_text(r#"{"jsonrpc":"2.0","id":"abc","method":"list_rooms"}"#).await;
    let reply = client.next_json().await;
    assert_eq!(reply["id"], "abc");
    assert!(reply["result"]["rooms"].is_array());
}

#[tokio::test]
async fn malformed_frames_get_the_standard_errors_and_the_connection_stays() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    let cases: &[(&str, i64)] = &[
        ("not json", -32700),
        ("{\"jsonrpc\":\"2.0\",", -32700),
        (r#"{"jsonrpc":"1.0","id":1,"method":"list_rooms"}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":2}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":3,"method":42}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":4,"method":"no_such_method"}"#, -32601),
        (r#"{"jsonrpc":"2.0","id":5,"method":"send_message","params":{"room_id":"general"}}"#, -32602),
        (r#"{"jsonrpc":"2.0","id":6,"method":"send_message","params":{"room_id":7,"text":"x"}}"#, -32602),
        (r#"{"jsonrpc":"2.0","id":7,"method":"join_room","params":{"room_name":"no spaces"}}"#, -32602),
        (r#"[]"#, -32600),
        ("42", -32600),
    ];
    for (frame, code) in cases {
        client.send_text(frame).await;
        let reply = client.next_json().await;
        assert_eq!(error_code(&reply), *code, "{frame} -> {reply}");
    }
    client.send(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(error_code(&client.next_json().await), -32600);
    let reply = client.call("list_rooms", json!({})).await;
    assert!(reply["result"]["rooms"].is_array(), "still usable: {reply}");
}

#[tokio::test]
async fn an_invalid_request_echoes_its_id_when_it_has_one() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    client.send_text(r#"{"jsonrpc":"2.0","id":99,"method":true}"#).await;
    let reply = client.next_json().await;
    assert_eq!(reply["id"], 99);
    assert_eq!(error_code(&reply), -32600);
}

#[tokio::test]
async fn batches_are_answered_as_one_array_in_order_without_notifications() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    client
        .send_text(
            &json!([
                {"jsonrpc": "2.0", "id": 1, "method": "join_room", "params": {"room_name": "general"}},
                {"jsonrpc": "2.0", "method": "start_typing", "params": {"room_id": "general"}},
                {"jsonrpc": "2.0", "id": 2, "method": "send_message", "params": {"room_id": "general", "text": "hi"}},
                {"jsonrpc": "2.0", "id": 3, "method": "nope"},
                "garbage"
            ])
            .to_string(),
        )
        .await;
    let reply = loop {
        let frame = client.next_json().await;
        if frame.is_array() {
            break frame;
        }
    };
    let replies = reply.as_array().unwrap();
    assert_eq!(replies.len(), 4, "{reply}");
    assert_eq!(replies[0]["id"], 1);
    assert_eq!(replies[0]["result"]["room_id"], "general");
    assert_eq!(replies[1]["id"], 2);
    assert!(replies[1]["result"]["message_id"].is_i64());
    assert_eq!(replies[2]["id"], 3);
    assert_eq!(error_code(&replies[2]), -32601);
    assert_eq!(error_code(&replies[3]), -32600);
}

#[tokio::test]
async fn client_notifications_run_but_get_no_reply() {
    let server = TestServer::spawn().await;
    let mut alice = alice(&server).await;
    let mut bob = server.raw("bob").await;
    alice.call("join_room", json!({"room_name": "general"})).await;
    bob.call("join_room", json!({"room_name": "general"})).await;
    alice.send_text(r#"{"jsonrpc":"2.0","method":"start_typing","params":{"room_id":"general"}}"#).await;
    let typing = bob.notification("user_started_typing").await;
    assert_eq!(typing["params"], json!({"room_id": "general", "username": "alice"}));
    // The next frame alice gets is the reply to her next call, not a reply
    // to the notification.
    let id = alice.request("list_rooms", json!({})).await;
    let next = loop {
        let frame = alice.next_json().await;
        if frame.get("method").is_none() {
            break frame;
        }
    };
    assert_eq!(next["id"], id, "{next}");
}

#[tokio::test]
async fn notifications_are_plain_with_exact_params() {
    let server = TestServer::spawn().await;
    let mut alice = alice(&server).await;
    let mut bob = server.raw("bob").await;
    alice.call("join_room", json!({"room_name": "general"})).await;
    bob.call("join_room", json!({"room_name": "general"})).await;

    let joined = alice.notification("user_joined").await;
    assert_eq!(
        joined,
        json!({"jsonrpc": "2.0", "method": "user_joined", "params": {"room_id": "general", "username": "bob", "user_count": 2}})
    );

    let sent = bob.call("send_message", json!({"room_id": "general", "text": "hello alice"})).await;
    let message_id = sent["result"]["message_id"].clone();
    let timestamp = sent["result"]["timestamp"].as_str().unwrap().to_owned();
    assert!(chrono::DateTime::parse_from_rfc3339(&timestamp).is_ok());
    assert!(timestamp.ends_with('Z'));
    for client in [&mut alice, &mut bob] {
        let received = client.notification("message_received").await;
        assert_eq!(
            received,
            json!({"jsonrpc": "2.0", "method": "message_received", "params": {
                "message_id": message_id, "room_id": "general", "username": "bob",
                "text": "hello alice", "timestamp": timestamp}})
        );
    }
    drop(bob);
    let left = alice.notification("user_left").await;
    assert_eq!(left["params"], json!({"room_id": "general", "username": "bob", "user_count": 1}));
}

#[tokio::test]
async fn error_codes_of_the_contract_reach_the_client() {
    let server = TestServer::spawn().await;
    let mut client = alice(&server).await;
    let cases = [
        ("send_message", json!({"room_id": "general", "text": "x"}), -32006),
        ("get_history", json!({"room_id": "general"}), -32006),
        ("leave_room", json!({"room_id": "general"}), -32006),
        ("list_users", json!({"room_id": "nowhere"}), -32003),
        ("send_message", json!({"room_id": "nowhere", "text": "x"}), -32003),
        ("get_profile", json!({"username": "nobody"}), -32003),
        ("kick_user", json!({"target_username": "bob", "reason": "x"}), -32002),
        ("delete_room", json!({"room_id": "general"}), -32002),
        ("send_message", json!({"room_id": "general", "text": "   "}), -32602),
        ("send_message", json!({"room_id": "general", "text": "\u{1b}[2J"}), -32602),
    ];
    for (method, params, code) in cases {
        let reply = client.call(method, params.clone()).await;
        assert_eq!(error_code(&reply), code, "{method} {params} -> {reply}");
        assert!(reply["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
