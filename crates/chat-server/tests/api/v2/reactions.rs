use serde_json::json;

use super::{ok, refused, send};
use crate::support::{RawClientExt, TestServer, named};

#[tokio::test]
async fn reactions_are_counted_per_emoji_in_first_use_order_and_repeats_notify_nobody() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    let id = send(&mut alice, "general", "ship it").await;

    ok(&mut bob, "add_reaction", json!({"message_id": id, "emoji": "👍"})).await;
    let added = alice.notification("reaction_added").await;
    assert_eq!(added["params"], json!({"message_id": id, "room_id": "general", "username": "bob", "emoji": "👍"}));
    ok(&mut alice, "add_reaction", json!({"message_id": id, "emoji": "+1"})).await;
    ok(&mut alice, "add_reaction", json!({"message_id": id, "emoji": "👍"})).await;

    // Adding again, or removing what was never added, changes nothing.
    alice.sync().await;
    ok(&mut bob, "add_reaction", json!({"message_id": id, "emoji": "👍"})).await;
    ok(&mut bob, "remove_reaction", json!({"message_id": id, "emoji": "🎉"})).await;
    let frames = alice.sync().await;
    assert!(named(&frames, "reaction_added").is_empty() && named(&frames, "reaction_removed").is_empty(), "{frames:?}");

    let history = ok(&mut bob, "get_history", json!({"room_id": "general"})).await;
    let message = history["messages"].as_array().unwrap().iter().find(|m| m["message_id"] == id).unwrap().clone();
    assert_eq!(
        message["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "usernames": ["bob", "alice"]},
            {"emoji": "+1", "count": 1, "usernames": ["alice"]},
        ])
    );

    ok(&mut bob, "remove_reaction", json!({"message_id": id, "emoji": "👍"})).await;
    let removed = alice.notification("reaction_removed").await;
    assert_eq!(removed["params"]["username"], "bob");
    let joined = server.raw("carol").await.join("general").await;
    let message = joined["recent_messages"].as_array().unwrap().iter().find(|m| m["message_id"] == id).unwrap().clone();
    // Alice's +1 now comes first: the order is that of the reactions left.
    assert_eq!(
        message["reactions"],
        json!([
            {"emoji": "+1", "count": 1, "usernames": ["alice"]},
            {"emoji": "👍", "count": 1, "usernames": ["alice"]},
        ])
    );
}

#[tokio::test]
async fn bad_emoji_unknown_messages_and_floods_are_refused() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.reaction_burst = 3;
    })
    .await;
    let mut alice = server.raw_in("alice", "general").await;
    let id = send(&mut alice, "general", "react to me").await;
    for bad in ["", "two words", "x".repeat(33).as_str(), "bell\u{7}"] {
        assert_eq!(
            refused(&mut alice, "add_reaction", json!({"message_id": id, "emoji": bad})).await,
            -32602,
            "{bad:?}"
        );
    }
    assert_eq!(refused(&mut alice, "add_reaction", json!({"message_id": 999_999, "emoji": "x"})).await, -32003);
    // Someone outside the room is told to join it first.
    let mut eve = server.raw("eve").await;
    assert_eq!(refused(&mut eve, "add_reaction", json!({"message_id": id, "emoji": "x"})).await, -32006);

    for emoji in ["a", "b", "c"] {
        ok(&mut alice, "add_reaction", json!({"message_id": id, "emoji": emoji})).await;
    }
    let reply = alice.call("add_reaction", json!({"message_id": id, "emoji": "d"})).await;
    assert_eq!(crate::support::error_code(&reply), -32004);
}
