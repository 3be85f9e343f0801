//! Version 2 across nodes: direct messages reach every device of both
//! users wherever they are connected; reactions, edits, deletes and
//! mentions cross nodes; a read marker set on one node reaches the same
//! user's connection on another.

use serde_json::json;

use crate::harness::Cluster;

const ROOM: &str = "v2-room";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_changes_and_read_markers_cross_nodes() {
    let cluster = Cluster::start("version2", 3).await;
    let names = ["dmalice", "dmbob", "reader", "mentioned"];
    let tokens = cluster.tokens(&names).await;
    let dm = "dm:dmalice:dmbob";

    // alice on node 1; bob on nodes 2 and 3, neither having opened the
    // conversation.
    let mut alice = cluster.connect(0, "dmalice", &tokens[0]).await;
    let mut bob2 = cluster.connect(1, "dmbob", &tokens[1]).await;
    let mut bob3 = cluster.connect(2, "dmbob", &tokens[1]).await;
    let opened = alice.ok("open_direct", json!({"username": "dmbob"})).await;
    assert_eq!(opened["room_id"], dm);
    assert_eq!(opened["existing_users"], json!(["dmalice", "dmbob"]));
    let hello = alice.send(dm, "hello bob, on every device").await;
    for bob in [&mut bob2, &mut bob3] {
        let got = bob.expect("message_received", |p| p["message_id"] == hello).await;
        assert_eq!(got.params()["text"], "hello bob, on every device", "bob on node {}", bob.node + 1);
        assert_eq!(got.params()["room_id"], dm);
    }
    // bob answers from node 3 without opening it: alice (node 1) and his
    // own device on node 2 get it.
    let reply = bob3.ok("send_message", json!({"room_id": dm, "text": "hi alice", "reply_to": hello})).await;
    let reply = reply["message_id"].as_i64().unwrap();
    for client in [&mut alice, &mut bob2] {
        let got = client.expect("message_received", |p| p["message_id"] == reply).await;
        assert_eq!(got.params()["reply_to"], hello, "on node {}", client.node + 1);
    }

    // A reaction from node 2 reaches node 1 and bob's node 3; its removal too.
    bob2.ok("add_reaction", json!({"message_id": hello, "emoji": "👍"})).await;
    let reaction = json!({"message_id": hello, "room_id": dm, "username": "dmbob", "emoji": "👍"});
    for client in [&mut alice, &mut bob3] {
        client.expect("reaction_added", |p| p == &reaction).await;
    }
    bob2.ok("remove_reaction", json!({"message_id": hello, "emoji": "👍"})).await;
    for client in [&mut alice, &mut bob3] {
        client.expect("reaction_removed", |p| p == &reaction).await;
    }

    // An edit and a delete from node 1 reach both of bob's devices.
    let edited = alice.ok("edit_message", json!({"message_id": hello, "text": "hello bob (edited)"})).await;
    for bob in [&mut bob2, &mut bob3] {
        let got = bob.expect("message_edited", |p| p["message_id"] == hello).await;
        assert_eq!(got.params()["text"], "hello bob (edited)");
        assert_eq!(got.params()["edited_at"], edited["edited_at"]);
        assert_eq!(got.params()["room_id"], dm);
    }
    alice.ok("delete_message", json!({"message_id": hello})).await;
    for bob in [&mut bob2, &mut bob3] {
        bob.expect("message_deleted", |p| p == &json!({"message_id": hello, "room_id": dm})).await;
    }
    let history = bob2.ok("get_history", json!({"room_id": dm})).await;
    let ids: Vec<i64> =
        history["messages"].as_array().unwrap().iter().map(|m| m["message_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![reply], "history after the delete, read on node 2");

    // Read markers: bob marks the conversation on node 2, his node-3
    // device is told.
    bob2.ok("mark_read", json!({"room_id": dm, "message_id": reply})).await;
    bob3.expect("read_marker_updated", |p| p == &json!({"room_id": dm, "message_id": reply})).await;

    // In a room: a reader with devices on nodes 1 and 2, a writer on node 3.
    let (mut reader1, _) = cluster.connect_in(0, "reader", &tokens[2], ROOM).await;
    let mut reader2 = cluster.connect(1, "reader", &tokens[2]).await;
    let (mut writer3, _) = cluster.connect_in(2, "dmalice", &tokens[0], ROOM).await;
    let mut mentioned = cluster.connect(1, "mentioned", &tokens[3]).await;
    let news = writer3.send(ROOM, "news for @reader and @Mentioned").await;
    let got = reader1.expect("message_received", |p| p["message_id"] == news).await;
    let mut mentions: Vec<&str> =
        got.params()["mentions"].as_array().map(|m| m.iter().filter_map(|u| u.as_str()).collect()).unwrap_or_default();
    mentions.sort_unstable();
    assert_eq!(mentions, ["mentioned", "reader"], "{:?}", got.value);
    let mention = mentioned.expect("mentioned", |p| p["message"]["message_id"] == news).await;
    assert_eq!(mention.params()["message"]["text"], "news for @reader and @Mentioned");
    // reader's node-2 device is not in the room: it gets `mentioned`.
    reader2.expect("mentioned", |p| p["message"]["message_id"] == news).await;

    reader1.ok("add_reaction", json!({"message_id": news, "emoji": "+1"})).await;
    writer3.expect("reaction_added", |p| p["message_id"] == news && p["username"] == "reader").await;
    writer3.ok("edit_message", json!({"message_id": news, "text": "news, edited on node 3"})).await;
    reader1.expect("message_edited", |p| p["message_id"] == news && p["text"] == "news, edited on node 3").await;

    reader1.ok("mark_read", json!({"room_id": ROOM, "message_id": news})).await;
    reader2.expect("read_marker_updated", |p| p == &json!({"room_id": ROOM, "message_id": news})).await;
    let mut reader3 = cluster.connect(2, "reader", &tokens[2]).await;
    let rooms = reader3.ok("my_rooms", json!({})).await;
    let room = rooms["rooms"].as_array().unwrap().iter().find(|r| r["room_id"] == ROOM).cloned();
    let room = room.unwrap_or_else(|| panic!("my_rooms on node 3 lacks {ROOM}: {rooms}"));
    assert_eq!((room["last_read_message_id"].clone(), room["unread_count"].clone()), (json!(news), json!(0)), "{room}");

    writer3.ok("delete_message", json!({"message_id": news})).await;
    reader1.expect("message_deleted", |p| p == &json!({"message_id": news, "room_id": ROOM})).await;
}
