use serde_json::json;

use super::{ok, refused};
use crate::support::TestServer;

#[tokio::test]
async fn the_creator_or_a_moderator_sets_a_topic_and_everyone_hears_of_it() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "book-club").await;
    let mut bob = server.raw_in("bob", "book-club").await;
    let mut moderator = server.raw("moderator").await;

    assert_eq!(refused(&mut bob, "set_room_topic", json!({"room_id": "book-club", "topic": "mine"})).await, -32002);
    ok(&mut alice, "set_room_topic", json!({"room_id": "book-club", "topic": "Dune, chapters 1-3"})).await;
    let updated = moderator.notification("room_updated").await;
    assert_eq!(updated["params"]["room_info"]["topic"], "Dune, chapters 1-3");
    assert_eq!(updated["params"]["room_info"]["room_id"], "book-club");

    ok(&mut moderator, "set_room_topic", json!({"room_id": "book-club", "topic": ""})).await;
    let rooms = ok(&mut bob, "list_rooms", json!({})).await;
    let club = rooms["rooms"].as_array().unwrap().iter().find(|r| r["room_id"] == "book-club").unwrap().clone();
    assert!(club.get("topic").is_none_or(serde_json::Value::is_null), "{club}");
    let long = "x".repeat(301);
    assert_eq!(refused(&mut alice, "set_room_topic", json!({"room_id": "book-club", "topic": long})).await, -32602);
    assert_eq!(refused(&mut alice, "set_room_topic", json!({"room_id": "book-club", "topic": "a\nb"})).await, -32602);
}

#[tokio::test]
async fn set_role_takes_effect_on_live_connections_and_is_logged() {
    let server = TestServer::spawn().await;
    let mut admin = server.raw("admin").await;
    let mut alice = server.raw("alice").await;
    let _bob = server.raw("bob").await;
    assert_eq!(refused(&mut alice, "set_role", json!({"username": "bob", "role": "admin"})).await, -32002);
    assert_eq!(refused(&mut admin, "set_role", json!({"username": "admin", "role": "user"})).await, -32002);
    assert_eq!(refused(&mut admin, "set_role", json!({"username": "alice", "role": "boss"})).await, -32602);

    ok(&mut admin, "set_role", json!({"username": "alice", "role": "moderator"})).await;
    let log = ok(&mut alice, "get_moderation_log", json!({})).await;
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "set_role");
    assert_eq!(entry["target"], "alice");
    assert_eq!(entry["reason"], "moderator");
    ok(&mut alice, "kick_user", json!({"target_username": "bob", "reason": "test"})).await;

    ok(&mut admin, "set_role", json!({"username": "alice", "role": "user"})).await;
    assert_eq!(refused(&mut alice, "kick_user", json!({"target_username": "bob", "reason": "again"})).await, -32002);
    assert_eq!(refused(&mut alice, "get_moderation_log", json!({})).await, -32002);

    let log = ok(&mut admin, "get_moderation_log", json!({"limit": 2})).await;
    assert_eq!(log["has_more"], true);
    let older = ok(&mut admin, "get_moderation_log", json!({"before_id": log["entries"][1]["id"]})).await;
    let actions: Vec<&str> =
        older["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["set_role"]);
}
