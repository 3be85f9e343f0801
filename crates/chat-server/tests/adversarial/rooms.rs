//! Rooms are bounded: a user creates rooms at a limited rate, the server
//! holds at most `chat.max_rooms`, `list_rooms` answers a bounded page and
//! paging visits every room once, and rooms users created and left empty
//! and silent expire (never `general`, a default room, a room with people
//! in it or a room with messages), consistently across a restart.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use chat_api::RoomName;
use serde_json::{Value, json};

use crate::support::{RawClient, RawClientExt, TestServer, error_code, named, result_of, within};

/// Sends `join_room` for each name, pipelined (at most 64 unanswered),
/// and returns the replies in the order of `names`.
async fn join_many(client: &mut RawClient, names: &[String]) -> Vec<Value> {
    let mut replies = Vec::with_capacity(names.len());
    for chunk in names.chunks(64) {
        let mut ids = Vec::with_capacity(chunk.len());
        for name in chunk {
            ids.push(client.request("join_room", json!({"room_name": name})).await);
        }
        for id in ids {
            replies.push(client.response(id).await);
        }
    }
    replies
}

/// Every room id, paging `list_rooms` with `limit`; also the pages' sizes.
async fn every_room(client: &mut RawClient, limit: u64) -> (Vec<String>, Vec<usize>) {
    let mut ids: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let params = match ids.last() {
            Some(last) => json!({"after_room_id": last, "limit": limit}),
            None => json!({"limit": limit}),
        };
        let page = result_of(&client.call("list_rooms", params).await).clone();
        let rooms = page["rooms"].as_array().unwrap();
        sizes.push(rooms.len());
        ids.extend(rooms.iter().map(|r| r["room_id"].as_str().unwrap().to_owned()));
        if !page["has_more"].as_bool().unwrap() {
            return (ids, sizes);
        }
    }
}

/// The room ids in the first `list_rooms` page (the servers here have
/// fewer rooms than a page).
async fn room_ids(client: &mut RawClient) -> BTreeSet<String> {
    let page = result_of(&client.call("list_rooms", json!({})).await).clone();
    assert_eq!(page["has_more"], false, "{page}");
    page["rooms"].as_array().unwrap().iter().map(|r| r["room_id"].as_str().unwrap().to_owned()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

#[tokio::test]
async fn a_user_creating_rooms_too_fast_is_refused_with_retry_after_and_joining_is_not_limited() {
    let server = TestServer::spawn_with(|c| {
        c.rate_limit.enabled = true;
        c.rate_limit.rooms_per_hour = 3600;
        c.rate_limit.room_burst = 3;
    })
    .await;
    let mut alice = server.raw("alice").await;
    let mut bob = server.raw_in("bob", "general").await;
    let names: Vec<String> = (0..12).map(|i| format!("spam-{i}")).collect();
    let replies = join_many(&mut alice, &names).await;
    let accepted: Vec<&String> =
        names.iter().zip(&replies).filter(|(_, r)| r.get("result").is_some()).map(|(n, _)| n).collect();
    assert!((3..=4).contains(&accepted.len()), "a burst of 3 (+1 refilled at most), got {accepted:?}");
    for reply in replies.iter().filter(|r| r.get("error").is_some()) {
        assert_eq!(error_code(reply), -32004, "{reply}");
        let wait = reply["error"]["data"]["retry_after_ms"].as_u64().unwrap();
        assert!((1..=1000).contains(&wait), "one room a second refills: retry_after_ms = {wait}");
    }
    // Refused rooms do not exist, and nobody heard of them.
    let created: Vec<String> = named(&bob.sync().await, "room_created")
        .iter()
        .map(|f| f["params"]["room_info"]["room_id"].as_str().unwrap().to_owned())
        .collect();
    let accepted: Vec<String> = accepted.into_iter().cloned().collect();
    assert_eq!(created, accepted);
    let mut expected = set(&["general"]);
    expected.extend(accepted.iter().cloned());
    assert_eq!(room_ids(&mut bob).await, expected);
    // Joining rooms that exist takes nothing from the bucket, and other
    // users have their own.
    let mut laptop = server.raw("alice").await;
    laptop.join("general").await;
    laptop.join(&accepted[0]).await;
    result_of(&bob.call("join_room", json!({"room_name": "bobs-room"})).await);
}

#[tokio::test]
async fn the_room_cap_holds_under_concurrent_creation_and_frees_when_a_room_goes() {
    let server = TestServer::spawn_with(|c| {
        c.chat.max_rooms = 10;
        c.chat.default_rooms = vec![RoomName::parse("lobby").unwrap()];
    })
    .await;
    let mut creators = Vec::new();
    for user in ["alice", "bob", "carol"] {
        creators.push(server.raw(user).await);
    }
    // Three users race to create 30 rooms; 8 places are left.
    let tasks: Vec<_> = creators
        .into_iter()
        .enumerate()
        .map(|(n, mut client)| {
            tokio::spawn(async move {
                let names: Vec<String> = (0..10).map(|i| format!("race-{n}-{i}")).collect();
                let replies = join_many(&mut client, &names).await;
                (client, replies)
            })
        })
        .collect();
    let mut created = 0;
    let mut clients = Vec::new();
    for task in tasks {
        let (client, replies) = task.await.unwrap();
        for reply in replies {
            if reply.get("result").is_some() {
                created += 1;
            } else {
                assert_eq!(error_code(&reply), -32602, "{reply}");
                assert_eq!(reply["error"]["data"]["max_rooms"], 10, "{reply}");
                let message = reply["error"]["message"].as_str().unwrap();
                assert!(message.contains("limit of 10 rooms"), "{message}");
            }
        }
        clients.push(client);
    }
    assert_eq!(created, 8, "general and lobby take two of the ten places");
    let mut admin = server.raw("admin").await;
    let rooms = room_ids(&mut admin).await;
    assert_eq!(rooms.len(), 10, "{rooms:?}");
    // A full server still lets people into the rooms it has.
    let existing = rooms.iter().find(|id| id.starts_with("race-")).unwrap().clone();
    admin.join(&existing).await;
    admin.join("lobby").await;
    let refused = admin.call("join_room", json!({"room_name": "one-more"})).await;
    assert_eq!(error_code(&refused), -32602);
    // Deleting a room makes a place.
    result_of(&admin.call("delete_room", json!({"room_id": existing})).await);
    admin.join("one-more").await;
    assert_eq!(room_ids(&mut admin).await.len(), 10);
}

#[tokio::test]
async fn list_rooms_pages_are_bounded_and_return_every_room_exactly_once() {
    let server = TestServer::spawn_with(|c| c.chat.max_rooms = 2000).await;
    let mut alice = server.raw("alice").await;
    let names: Vec<String> = (0..1200).map(|i| format!("Room-{i:04}")).collect();
    for reply in join_many(&mut alice, &names).await {
        result_of(&reply);
    }
    let mut expected: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    expected.push("general".to_owned());
    expected.sort();

    let mut bob = server.raw("bob").await;
    // A version-1 call, with no params at all, gets the first page.
    bob.send_text(r#"{"jsonrpc":"2.0","id":"v1","method":"list_rooms"}"#).await;
    let first = within("the v1 answer", async {
        loop {
            let frame = bob.next_json().await;
            if frame["id"] == "v1" {
                return frame;
            }
        }
    })
    .await;
    let first = result_of(&first);
    assert_eq!(first["rooms"].as_array().unwrap().len(), 500, "the default page");
    assert_eq!(first["has_more"], true);
    assert_eq!(first["rooms"][0]["room_id"], expected[0]);
    assert_eq!(first["rooms"][1]["room_name"], "Room-0000", "names keep their first spelling");

    // The largest page is bounded in rooms and so in bytes.
    let big = bob.call("list_rooms", json!({"limit": 1000})).await;
    assert_eq!(result_of(&big)["rooms"].as_array().unwrap().len(), 1000);
    assert!(big.to_string().len() < 100_000, "{} bytes", big.to_string().len());
    for limit in [json!(0), json!(1001), json!(-1), json!("ten")] {
        let refused = bob.call("list_rooms", json!({"limit": limit})).await;
        assert_eq!(error_code(&refused), -32602, "limit {limit}: {refused}");
    }

    for limit in [1000, 97] {
        let (ids, sizes) = every_room(&mut bob, limit).await;
        assert_eq!(ids, expected, "pages of {limit}: every room once, in id order");
        assert!(sizes.iter().all(|&n| n as u64 <= limit), "{sizes:?}");
    }
    // A cursor that names no room still pages from where it would sort.
    let page = result_of(&bob.call("list_rooms", json!({"after_room_id": "room-0599x", "limit": 2})).await).clone();
    assert_eq!(page["rooms"][0]["room_id"], "room-0600");
    let last = result_of(&bob.call("list_rooms", json!({"after_room_id": "room-1199"})).await).clone();
    assert_eq!(last, json!({"rooms": [], "has_more": false}));
}

#[tokio::test]
async fn an_empty_silent_room_expires_but_not_general_defaults_occupied_or_written_rooms_also_after_a_restart() {
    let mut server = TestServer::spawn_with(|c| {
        c.chat.empty_room_expiry_secs = 1;
        c.chat.default_rooms = vec![RoomName::parse("lobby").unwrap()];
    })
    .await;
    let mut watcher = server.raw_in("bob", "general").await;
    let mut alice = server.raw("alice").await;
    alice.join("fleeting").await;
    alice.join("kept").await;
    result_of(&alice.call("send_message", json!({"room_id": "kept", "text": "something to keep"})).await);
    alice.join("occupied").await;
    let left = Instant::now();
    result_of(&alice.call("leave_room", json!({"room_id": "fleeting"})).await);
    result_of(&alice.call("leave_room", json!({"room_id": "kept"})).await);

    let deleted = watcher.notification("room_deleted").await;
    assert_eq!(deleted["params"], json!({"room_id": "fleeting", "room_name": "fleeting"}));
    assert!(left.elapsed() >= Duration::from_secs(1), "not before it was empty for the expiry time");
    // Every other room was as old; give the sweeps more than the expiry
    // time again to (wrongly) take one of them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(named(&watcher.sync().await, "room_deleted").is_empty());
    assert_eq!(room_ids(&mut watcher).await, set(&["general", "kept", "lobby", "occupied"]));
    // An expired room can be created again.
    let reply = alice.call("join_room", json!({"room_name": "fleeting"})).await;
    assert_eq!(result_of(&reply)["recent_messages"], json!([]));
    result_of(&alice.call("leave_room", json!({"room_id": "fleeting"})).await);
    let deleted = watcher.notification("room_deleted").await;
    assert_eq!(deleted["params"]["room_id"], "fleeting");

    // After a restart the expired room stays gone, and the rule holds for
    // what was loaded: "occupied" is empty now that alice is gone and
    // expires, "kept" has a message, general and lobby are permanent.
    // Logging in costs a password hash; take the token before the clock
    // of the restarted server starts, and give it a longer expiry so the
    // first look comes surely before it.
    let token = server.token("bob").await;
    server.config.chat.empty_room_expiry_secs = 3;
    server.restart().await;
    let mut watcher = RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap();
    assert_eq!(room_ids(&mut watcher).await, set(&["general", "kept", "lobby", "occupied"]));
    let deleted = watcher.notification("room_deleted").await;
    assert_eq!(deleted["params"]["room_id"], "occupied");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(named(&watcher.sync().await, "room_deleted").is_empty());
    assert_eq!(room_ids(&mut watcher).await, set(&["general", "kept", "lobby"]));
    let kept = watcher.call("get_history", json!({"room_id": "kept"})).await;
    assert_eq!(error_code(&kept), -32006, "kept exists (bob is just not in it)");
}
