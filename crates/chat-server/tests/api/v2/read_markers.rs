use serde_json::json;

use super::{ok, send};
use crate::support::{RawClientExt, TestServer, named};

#[tokio::test]
async fn my_rooms_follow_the_user_across_connections_with_unread_and_mention_counts() {
    let server = TestServer::spawn().await;
    let mut bob = server.raw_in("bob", "general").await;
    bob.join("lunch").await;
    let mut alice = server.raw_in("alice", "lunch").await;
    send(&mut alice, "lunch", "who is hungry?").await;
    let mention = send(&mut alice, "lunch", "@Bob pizza?").await;
    send(&mut bob, "lunch", "me").await;

    // Another device of bob's, in no room yet.
    let mut laptop = server.raw("bob").await;
    let rooms = ok(&mut laptop, "my_rooms", json!({})).await;
    let ids: Vec<&str> = rooms["rooms"].as_array().unwrap().iter().map(|r| r["room_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["general", "lunch"]);
    let lunch = &rooms["rooms"][1];
    assert_eq!(lunch["unread_count"], 2, "his own message is not unread: {lunch}");
    assert_eq!(lunch["mention_count"], 1);
    assert_eq!(lunch["user_count"], 2);
    assert!(lunch["last_message_id"].as_i64().unwrap() > mention);

    ok(&mut bob, "mark_read", json!({"room_id": "lunch", "message_id": mention})).await;
    let update = laptop.notification("read_marker_updated").await;
    assert_eq!(update["params"], json!({"room_id": "lunch", "message_id": mention}));
    let frames = bob.sync().await;
    assert!(named(&frames, "read_marker_updated").is_empty(), "the marking connection is not told");

    // Markers only move forward.
    ok(&mut laptop, "mark_read", json!({"room_id": "lunch", "message_id": 1})).await;
    let rooms = ok(&mut laptop, "my_rooms", json!({})).await;
    assert_eq!(rooms["rooms"][1]["last_read_message_id"], mention);
    assert_eq!(rooms["rooms"][1]["unread_count"], 0);
    assert_eq!(rooms["rooms"][1]["mention_count"], 0);

    // leave_room takes a room off the list; a restart keeps the rest.
    ok(&mut bob, "leave_room", json!({"room_id": "general"})).await;
    let rooms = ok(&mut laptop, "my_rooms", json!({})).await;
    assert_eq!(rooms["rooms"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_mention_outside_the_room_is_notified_unless_the_author_is_blocked() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw("bob").await;
    let id = send(&mut alice, "general", "hey @bob, look").await;
    let mentioned = bob.notification("mentioned").await;
    assert_eq!(mentioned["params"]["message"]["message_id"], id);
    assert_eq!(mentioned["params"]["message"]["mentions"], json!(["bob"]));

    ok(&mut bob, "block_user", json!({"username": "alice"})).await;
    bob.sync().await;
    send(&mut alice, "general", "@bob again").await;
    let frames = bob.sync().await;
    assert!(named(&frames, "mentioned").is_empty(), "{frames:?}");
}

#[tokio::test]
async fn read_markers_drive_unread_counts_of_direct_conversations() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw("bob").await;
    ok(&mut alice, "open_direct", json!({"username": "bob"})).await;
    send(&mut alice, "dm:alice:bob", "one").await;
    let last = send(&mut alice, "dm:alice:bob", "two").await;
    let chats = ok(&mut bob, "list_direct", json!({})).await;
    assert_eq!(chats["chats"][0]["unread_count"], 2);
    ok(&mut bob, "mark_read", json!({"room_id": "dm:alice:bob", "message_id": last})).await;
    let chats = ok(&mut bob, "list_direct", json!({})).await;
    assert_eq!(chats["chats"][0]["unread_count"], 0);
}
