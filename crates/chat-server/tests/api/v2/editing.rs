use serde_json::json;

use super::{ok, refused, send};
use crate::support::{RawClientExt, TestServer};

#[tokio::test]
async fn replies_edits_and_deletes_reach_members_and_history() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;

    let question = send(&mut alice, "general", "lunch at noon?").await;
    let reply = ok(&mut bob, "send_message", json!({"room_id": "general", "text": "yes", "reply_to": question})).await;
    let frame = alice.notification("message_received").await;
    let frame =
        if frame["params"]["message_id"] == question { alice.notification("message_received").await } else { frame };
    assert_eq!(frame["params"]["reply_to"], question);
    assert_eq!(frame["params"]["message_id"], reply["message_id"]);

    // A reply to a message of another room is "not found".
    alice.join("elsewhere").await;
    let other = send(&mut alice, "elsewhere", "hidden").await;
    assert_eq!(
        refused(&mut bob, "send_message", json!({"room_id": "general", "text": "x", "reply_to": other})).await,
        -32003
    );

    let edited = ok(&mut alice, "edit_message", json!({"message_id": question, "text": "lunch at one?"})).await;
    assert_eq!(edited["message_id"], question);
    let notice = bob.notification("message_edited").await;
    assert_eq!(notice["params"]["text"], "lunch at one?");
    assert_eq!(notice["params"]["edited_at"], edited["edited_at"]);
    assert_eq!(refused(&mut bob, "edit_message", json!({"message_id": question, "text": "mine now"})).await, -32002);

    let history = ok(&mut bob, "get_history", json!({"room_id": "general"})).await;
    let first = history["messages"].as_array().unwrap().iter().find(|m| m["message_id"] == question).unwrap().clone();
    assert_eq!(first["text"], "lunch at one?");
    assert_eq!(first["edited_at"], edited["edited_at"]);

    assert_eq!(refused(&mut bob, "delete_message", json!({"message_id": question})).await, -32002);
    assert_eq!(ok(&mut alice, "delete_message", json!({"message_id": question})).await, json!(null));
    let deleted = bob.notification("message_deleted").await;
    assert_eq!(deleted["params"], json!({"message_id": question, "room_id": "general"}));
    let history = ok(&mut bob, "get_history", json!({"room_id": "general"})).await;
    assert!(history["messages"].as_array().unwrap().iter().all(|m| m["message_id"] != question));
    assert_eq!(refused(&mut alice, "delete_message", json!({"message_id": question})).await, -32003);
    // A fresh join's recent messages (served from memory) agree.
    let mut carol = server.raw("carol").await;
    let joined = carol.join("general").await;
    assert!(joined["recent_messages"].as_array().unwrap().iter().all(|m| m["message_id"] != question));
}

#[tokio::test]
async fn moderators_delete_in_rooms_and_the_log_records_it_without_the_text() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut moderator = server.raw_in("moderator", "general").await;
    let id = send(&mut alice, "general", "something rude").await;
    ok(&mut moderator, "delete_message", json!({"message_id": id})).await;
    let log = ok(&mut moderator, "get_moderation_log", json!({"limit": 1})).await;
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "delete_message");
    assert_eq!(entry["actor"], "moderator");
    assert_eq!(entry["target"], "alice");
    assert_eq!(entry["room_id"], "general");
    assert!(!log.to_string().contains("rude"), "{log}");

    // Not in a direct conversation, though.
    let mut bob = server.raw("bob").await;
    ok(&mut bob, "open_direct", json!({"username": "moderator"})).await;
    let private = send(&mut bob, "dm:bob:moderator", "between us").await;
    assert_eq!(refused(&mut moderator, "delete_message", json!({"message_id": private})).await, -32002);
}

#[tokio::test]
async fn editing_counts_against_the_message_rate_limit() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.message_burst = 2;
        c.rate_limit.messages_per_minute = 1;
    })
    .await;
    let mut alice = server.raw_in("alice", "general").await;
    let id = send(&mut alice, "general", "typo").await;
    ok(&mut alice, "edit_message", json!({"message_id": id, "text": "fixed"})).await;
    let reply = alice.call("edit_message", json!({"message_id": id, "text": "again"})).await;
    assert_eq!(crate::support::error_code(&reply), -32004);
    assert!(reply["error"]["data"]["retry_after_ms"].as_u64().unwrap() > 0);
}
