use serde_json::json;

use super::{ok, refused, send};
use crate::support::{RawClientExt, TestServer, named};

#[tokio::test]
async fn a_direct_conversation_reaches_every_connection_of_both_users_and_nobody_else() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let mut alice_phone = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    let mut eve = server.raw("eve").await;

    let opened = ok(&mut alice, "open_direct", json!({"username": "Bob"})).await;
    assert_eq!(opened["room_id"], "dm:alice:bob");
    assert_eq!(opened["room_name"], "bob");
    assert_eq!(opened["user_count"], 2);
    assert_eq!(opened["existing_users"], json!(["alice", "bob"]));

    // Bob writes without opening it first: membership is the two users.
    let id = send(&mut bob, "dm:alice:bob", "hi alice").await;
    for client in [&mut alice, &mut alice_phone, &mut bob] {
        let frame = client.notification("message_received").await;
        assert_eq!(frame["params"]["message_id"], id);
        assert_eq!(frame["params"]["room_id"], "dm:alice:bob");
    }
    let frames = eve.sync().await;
    assert!(named(&frames, "message_received").is_empty(), "eve saw {frames:?}");

    // Nobody else reads or writes there, whatever their role.
    let mut admin = server.raw("admin").await;
    for client in [&mut eve, &mut admin] {
        assert_eq!(refused(client, "get_history", json!({"room_id": "dm:alice:bob"})).await, -32003);
        assert_eq!(refused(client, "send_message", json!({"room_id": "dm:alice:bob", "text": "x"})).await, -32003);
    }
    assert_eq!(refused(&mut admin, "delete_room", json!({"room_id": "dm:alice:bob"})).await, -32602);

    // It is not a room: not listed, no presence notifications.
    let rooms = ok(&mut eve, "list_rooms", json!({})).await;
    assert!(!rooms.to_string().contains("dm:"), "{rooms}");
    let history = ok(&mut alice_phone, "get_history", json!({"room_id": "dm:alice:bob"})).await;
    assert_eq!(history["messages"][0]["text"], "hi alice");

    let chats = ok(&mut alice, "list_direct", json!({})).await;
    assert_eq!(chats["chats"][0]["room_id"], "dm:alice:bob");
    assert_eq!(chats["chats"][0]["username"], "bob");
    assert_eq!(chats["chats"][0]["last_message"]["message_id"], id);
    assert_eq!(chats["chats"][0]["unread_count"], 1);
}

#[tokio::test]
async fn opening_a_conversation_is_refused_for_unknown_users_yourself_and_who_blocked_you() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    assert_eq!(refused(&mut alice, "open_direct", json!({"username": "nobody-here"})).await, -32003);
    assert_eq!(refused(&mut alice, "open_direct", json!({"username": "alice"})).await, -32602);

    ok(&mut alice, "open_direct", json!({"username": "bob"})).await;
    assert_eq!(ok(&mut bob, "block_user", json!({"username": "alice"})).await, json!(null));
    assert_eq!(ok(&mut bob, "list_blocked", json!({})).await, json!({"usernames": ["alice"]}));
    assert_eq!(refused(&mut alice, "open_direct", json!({"username": "bob"})).await, -32002);
    assert_eq!(refused(&mut alice, "send_message", json!({"room_id": "dm:alice:bob", "text": "hey"})).await, -32002);
    // Bob may still write to alice.
    send(&mut bob, "dm:alice:bob", "I can still talk").await;

    ok(&mut bob, "unblock_user", json!({"username": "alice"})).await;
    send(&mut alice, "dm:alice:bob", "thanks").await;
}

#[tokio::test]
async fn typing_in_a_conversation_reaches_the_other_user() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    ok(&mut alice, "open_direct", json!({"username": "bob"})).await;
    ok(&mut alice, "start_typing", json!({"room_id": "dm:alice:bob"})).await;
    let started = bob.notification("user_started_typing").await;
    assert_eq!(started["params"], json!({"room_id": "dm:alice:bob", "username": "alice"}));
    ok(&mut alice, "stop_typing", json!({"room_id": "dm:alice:bob"})).await;
    bob.notification("user_stopped_typing").await;
}

#[tokio::test]
async fn catching_up_on_a_conversation_returns_what_came_after() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    ok(&mut alice, "open_direct", json!({"username": "bob"})).await;
    let first = send(&mut alice, "dm:alice:bob", "one").await;
    let second = send(&mut alice, "dm:alice:bob", "two").await;
    let caught_up = ok(&mut bob, "open_direct", json!({"username": "alice", "since_message_id": first})).await;
    let ids: Vec<i64> =
        caught_up["recent_messages"].as_array().unwrap().iter().map(|m| m["message_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![second]);
}

#[tokio::test]
async fn opening_conversations_draws_on_the_join_bucket() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.join_burst = 2;
        c.rate_limit.joins_per_minute = 1;
    })
    .await;
    let mut mallory = server.raw("mallory").await;
    for victim in ["alice", "bob"] {
        server.token(victim).await;
        ok(&mut mallory, "open_direct", json!({"username": victim})).await;
    }
    server.token("carol").await;
    let reply = mallory.call("open_direct", json!({"username": "carol"})).await;
    assert_eq!(crate::support::error_code(&reply), -32004);
    assert!(reply["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0);
}
