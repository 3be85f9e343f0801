use serde_json::json;

use super::{ok, refused, send};
use crate::support::{RawClientExt, TestServer};

fn texts(found: &serde_json::Value) -> Vec<String> {
    found["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn search_finds_prefixes_needs_every_word_and_follows_edits_and_deletes() {
    let server = TestServer::spawn_with(|c| c.rate_limit.enabled = false).await;
    let mut alice = server.raw_in("alice", "general").await;
    send(&mut alice, "general", "the deployment went fine").await;
    let friday = send(&mut alice, "general", "deploy again on Friday").await;
    send(&mut alice, "general", "nothing to see").await;

    let found = ok(&mut alice, "search_messages", json!({"query": "deploy"})).await;
    assert_eq!(texts(&found), ["deploy again on Friday", "the deployment went fine"], "newest first");
    let found = ok(&mut alice, "search_messages", json!({"query": "deploy friday"})).await;
    assert_eq!(texts(&found), ["deploy again on Friday"]);
    let page = ok(&mut alice, "search_messages", json!({"query": "deploy", "limit": 1})).await;
    assert_eq!(page["has_more"], true);
    let rest = ok(&mut alice, "search_messages", json!({"query": "deploy", "before_message_id": friday})).await;
    assert_eq!(texts(&rest), ["the deployment went fine"]);

    ok(&mut alice, "edit_message", json!({"message_id": friday, "text": "release on Monday"})).await;
    let found = ok(&mut alice, "search_messages", json!({"query": "friday"})).await;
    assert!(texts(&found).is_empty());
    let found = ok(&mut alice, "search_messages", json!({"query": "monday"})).await;
    assert_eq!(texts(&found), ["release on Monday"]);
    ok(&mut alice, "delete_message", json!({"message_id": friday})).await;
    let found = ok(&mut alice, "search_messages", json!({"query": "monday"})).await;
    assert!(texts(&found).is_empty());

    // FTS syntax is just words here.
    let found = ok(&mut alice, "search_messages", json!({"query": "NEAR(\"deploy\" *) OR"})).await;
    assert!(texts(&found).is_empty());
    assert_eq!(refused(&mut alice, "search_messages", json!({"query": "  "})).await, -32602);
    assert_eq!(refused(&mut alice, "search_messages", json!({"query": "x", "limit": 101})).await, -32602);
}

#[tokio::test]
async fn search_never_shows_another_users_conversation_or_a_deleted_room() {
    let server = TestServer::spawn_with(|c| c.rate_limit.enabled = false).await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    let mut eve = server.raw("eve").await;
    ok(&mut alice, "open_direct", json!({"username": "bob"})).await;
    send(&mut alice, "dm:alice:bob", "secret plans for the launch").await;
    let mut admin = server.raw_in("admin", "doomed").await;
    send(&mut admin, "doomed", "secret launch codes").await;
    admin.join("general").await;
    let marker = send(&mut admin, "general", "public launch party").await;

    // A search sees every message stored before it: bob all three, eve
    // only what is public.
    let found = ok(&mut bob, "search_messages", json!({"query": "launch"})).await;
    assert_eq!(texts(&found).len(), 3, "{found}");
    let found = ok(&mut eve, "search_messages", json!({"query": "launch"})).await;
    assert_eq!(texts(&found), ["public launch party", "secret launch codes"]);
    assert_eq!(
        refused(&mut eve, "search_messages", json!({"query": "launch", "room_id": "dm:alice:bob"})).await,
        -32003
    );

    ok(&mut admin, "delete_room", json!({"room_id": "doomed"})).await;
    let found = ok(&mut eve, "search_messages", json!({"query": "secret"})).await;
    assert!(texts(&found).is_empty(), "{found}");
    let found = ok(&mut eve, "search_messages", json!({"query": "launch", "room_id": "general"})).await;
    assert_eq!(found["messages"][0]["message_id"], marker);
}
