//! What every connected client is told reaches clients on every node:
//! `room_created`, `room_updated` (a topic), `system_announcement` and
//! `room_deleted`.

use serde_json::json;

use crate::{client::Client, harness::Cluster};

const ROOM: &str = "Cluster-News";
const ROOM_ID: &str = "cluster-news";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_events_and_announcements_reach_every_node() {
    let cluster = Cluster::start("broadcasts", 3).await;
    let names = ["watcher1", "watcher2", "watcher3", "founder"];
    let tokens = cluster.tokens(&names).await;
    let mut watchers: Vec<Client> = Vec::new();
    for node in 0..3 {
        watchers.push(cluster.connect(node, names[node], &tokens[node]).await);
    }
    let admin_token = cluster.demo_token("admin", "admin123").await;

    // A room created on node 1.
    let mut founder = cluster.connect(0, "founder", &tokens[3]).await;
    let joined = founder.join(ROOM).await;
    assert_eq!((joined["room_id"].as_str(), joined["room_name"].as_str()), (Some(ROOM_ID), Some(ROOM)));
    for watcher in &mut watchers {
        let created = watcher.expect("room_created", |p| p["room_info"]["room_id"] == ROOM_ID).await;
        assert_eq!(created.params()["room_info"]["room_name"], ROOM, "on node {}", watcher.node + 1);
    }
    let rooms = watchers[2].ok("list_rooms", json!({})).await;
    assert!(
        rooms["rooms"].as_array().unwrap().iter().any(|r| r["room_id"] == ROOM_ID && r["user_count"] == 1),
        "list_rooms on node 3 should show the room created on node 1 with its member: {rooms}"
    );

    // Its topic, set on node 1.
    founder.ok("set_room_topic", json!({"room_id": ROOM_ID, "topic": "news from every node"})).await;
    for watcher in &mut watchers {
        let updated = watcher.expect("room_updated", |p| p["room_info"]["room_id"] == ROOM_ID).await;
        assert_eq!(updated.params()["room_info"]["topic"], "news from every node", "on node {}", watcher.node + 1);
    }

    // An announcement from node 2.
    let mut admin = cluster.connect(1, "admin", &admin_token).await;
    admin.ok("broadcast_announcement", json!({"message": "maintenance at noon", "level": "warning"})).await;
    for client in watchers.iter_mut().chain([&mut founder]) {
        let announced = client.expect("system_announcement", |p| p["message"] == "maintenance at noon").await;
        assert_eq!(announced.params()["level"], "warning", "on node {}", client.node + 1);
        assert!(announced.params()["timestamp"].is_string(), "{:?}", announced.value);
    }

    // The room deleted from node 3; its member on node 1 is no longer in it.
    let mut admin3 = cluster.connect(2, "admin", &admin_token).await;
    admin3.ok("delete_room", json!({"room_id": ROOM_ID})).await;
    for client in watchers.iter_mut().chain([&mut founder]) {
        let deleted = client.expect("room_deleted", |p| p["room_id"] == ROOM_ID).await;
        assert_eq!(deleted.params()["room_name"], ROOM, "on node {}", client.node + 1);
    }
    let refused = founder.err("send_message", json!({"room_id": ROOM_ID, "text": "still here?"})).await;
    assert!(matches!(refused["code"].as_i64(), Some(-32003 | -32006)), "send to a deleted room: {refused}");
    let rooms = watchers[1].ok("list_rooms", json!({})).await;
    assert!(
        rooms["rooms"].as_array().unwrap().iter().all(|r| r["room_id"] != ROOM_ID),
        "list_rooms on node 2 still shows the deleted room: {rooms}"
    );
}
