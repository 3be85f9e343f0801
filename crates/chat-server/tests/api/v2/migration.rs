//! A database written by the previous release (schema version 3, made by
//! running that release's server and sending it messages) opens in this
//! one with everything in it, and takes part in every version-2 feature.

use serde_json::json;

use super::{ok, send};
use crate::support::{RawClientExt, TestServer};

/// `fixtures/schema-3.db`: alice and bob in `general` and `Lunch`, five
/// messages (ids 1-5), and a moderator's kick of bob.
const PREVIOUS_RELEASE: &[u8] = include_bytes!("../fixtures/schema-3.db");

async fn upgraded_server() -> TestServer {
    let mut server = TestServer::spawn().await;
    server.stop().await;
    let dir = server.data_dir().to_owned();
    for leftover in ["chat.db-wal", "chat.db-shm"] {
        let _ = std::fs::remove_file(dir.join(leftover));
    }
    std::fs::write(dir.join("chat.db"), PREVIOUS_RELEASE).unwrap();
    server.restart().await;
    server
}

#[tokio::test]
async fn a_database_of_the_previous_release_keeps_everything_and_gains_version_2() {
    if crate::support::skip_on_postgres("the previous release's database is a SQLite file") {
        return;
    }
    let server = upgraded_server().await;
    let mut alice = server.raw("alice").await;
    let joined = alice.join("general").await;
    let general: Vec<(i64, &str)> = joined["recent_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["message_id"].as_i64().unwrap(), m["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        general,
        [(1, "hello from the previous release"), (2, "the deployment went fine"), (5, "last words before the upgrade")]
    );
    let rooms = ok(&mut alice, "list_rooms", json!({})).await;
    assert!(rooms["rooms"].as_array().unwrap().iter().any(|r| r["room_name"] == "Lunch"), "{rooms}");

    // Ids go on from the old sequence.
    assert!(send(&mut alice, "general", "first words after it").await > 5);

    // Old messages are found: the index reads the backlog first.
    let found = ok(&mut alice, "search_messages", json!({"query": "deployment"})).await;
    assert_eq!(found["messages"][0]["message_id"], 2);

    // Old messages take edits, reactions and deletes.
    ok(&mut alice, "edit_message", json!({"message_id": 1, "text": "hello, edited after the upgrade"})).await;
    ok(&mut alice, "add_reaction", json!({"message_id": 2, "emoji": "👋"})).await;
    ok(&mut alice, "delete_message", json!({"message_id": 5})).await;
    let history = ok(&mut alice, "get_history", json!({"room_id": "general"})).await;
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello, edited after the upgrade", "the deployment went fine", "first words after it"]);
    assert_eq!(history["messages"][1]["reactions"][0]["usernames"], json!(["alice"]));

    // The old moderation log reads in the new shape.
    let mut moderator = server.raw("moderator").await;
    let log = ok(&mut moderator, "get_moderation_log", json!({})).await;
    let kick = &log["entries"][0];
    assert_eq!(kick["action"], "kick");
    assert_eq!(kick["actor"], "moderator");
    assert_eq!(kick["target"], "bob");
    assert_eq!(kick["reason"], "upgrade drill");
    assert!(kick["room_id"].is_null());
}
