//! Who is in which room, who is typing, and who hears about it.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{PASSWORD, RawClientExt, TestServer, error_code, methods, named, result_of, within};

const NOT_FOUND: i64 = -32003;
const NOT_MEMBER: i64 = -32006;

fn presence(frame: &Value) -> Value {
    frame["params"].clone()
}

#[tokio::test]
async fn user_joined_goes_to_the_other_members_only() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut outsider = server.raw("carol").await;
    let mut bob = server.raw_in("bob", "general").await;

    let joined = alice.notification("user_joined").await;
    assert_eq!(presence(&joined), json!({"room_id": "general", "username": "bob", "user_count": 2}));
    assert!(named(&bob.sync().await, "user_joined").is_empty(), "the joiner is not told about itself");
    assert!(named(&outsider.sync().await, "user_joined").is_empty(), "non-members are not told");
}

#[tokio::test]
async fn joining_a_room_you_are_already_in_notifies_nobody() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    alice.notification("user_joined").await;

    let again = bob.join("general").await;
    assert_eq!(again["user_count"], 2);
    let mut bob_laptop = server.raw_in("bob", "general").await;
    let from_laptop = bob_laptop.join("general").await;
    assert_eq!(from_laptop["user_count"], 2, "a second device is the same user");

    let seen = alice.sync().await;
    assert!(named(&seen, "user_joined").is_empty(), "{seen:?}");
}

#[tokio::test]
async fn a_user_leaves_a_room_only_when_their_last_connection_closes() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let phone = server.raw_in("bob", "general").await;
    let laptop = server.raw_in("bob", "general").await;
    alice.sync().await;

    phone.hang_up().await;
    let seen = alice.sync().await;
    assert!(named(&seen, "user_left").is_empty(), "bob is still there on his laptop: {seen:?}");
    let users = alice.call("list_users", json!({"room_id": "general"})).await;
    assert_eq!(result_of(&users)["users"], json!(["alice", "bob"]));

    laptop.hang_up().await;
    let left = alice.notification("user_left").await;
    assert_eq!(presence(&left), json!({"room_id": "general", "username": "bob", "user_count": 1}));
}

#[tokio::test]
async fn an_abrupt_disconnect_also_sends_user_left() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let bob = server.raw_in("bob", "general").await;
    alice.notification("user_joined").await;

    // No close frame: the TCP connection just goes away.
    drop(bob);
    let left = alice.notification("user_left").await;
    assert_eq!(presence(&left), json!({"room_id": "general", "username": "bob", "user_count": 1}));
}

#[tokio::test]
async fn leave_room_tells_the_remaining_members() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    assert_eq!(result_of(&bob.call("leave_room", json!({"room_id": "general"})).await), &Value::Null);
    let left = alice.notification("user_left").await;
    assert_eq!(presence(&left), json!({"room_id": "general", "username": "bob", "user_count": 1}));
    let again = bob.call("leave_room", json!({"room_id": "general"})).await;
    assert_eq!(error_code(&again), NOT_MEMBER);
}

#[tokio::test]
async fn list_users_is_sorted_and_counts_each_user_once() {
    let server = TestServer::spawn().await;
    for name in ["Zoe", "amy", "Mia"] {
        assert_eq!(server.register(name, PASSWORD).await.status(), 201);
    }
    let _zoe = server.raw_in("Zoe", "club").await;
    let _amy_phone = server.raw_in("amy", "club").await;
    let _amy_laptop = server.raw_in("amy", "club").await;
    let mut mia = server.raw("Mia").await;

    let joined = mia.join("club").await;
    assert_eq!(joined["existing_users"], json!(["amy", "Mia", "Zoe"]), "the joiner included, sorted");
    assert_eq!(joined["user_count"], 3, "distinct users, not connections");
    let users = mia.call("list_users", json!({"room_id": "CLUB"})).await;
    assert_eq!(result_of(&users)["users"], json!(["amy", "Mia", "Zoe"]));
    let rooms = result_of(&mia.call("list_rooms", json!({})).await)["rooms"].clone();
    let club = rooms.as_array().unwrap().iter().find(|r| r["room_id"] == "club").unwrap().clone();
    assert_eq!(club["user_count"], 3);
    assert_eq!(error_code(&mia.call("list_users", json!({"room_id": "nowhere"})).await), NOT_FOUND);
}

#[tokio::test]
async fn creating_a_room_by_joining_it_tells_every_connected_client() {
    let server = TestServer::spawn().await;
    let mut bob = server.raw("bob").await;
    let mut alice = server.raw("alice").await;

    let joined = alice.join("Lobby").await;
    assert_eq!((joined["room_id"].clone(), joined["room_name"].clone()), (json!("lobby"), json!("Lobby")));
    for client in [&mut bob, &mut alice] {
        let created = client.notification("room_created").await;
        assert_eq!(
            created["params"],
            json!({"room_info": {"room_id": "lobby", "room_name": "Lobby", "user_count": 1}})
        );
    }

    let mut carol = server.raw("carol").await;
    let joined = carol.join("LOBBY").await;
    assert_eq!(joined["room_id"], "lobby");
    assert_eq!(joined["room_name"], "Lobby", "the first spelling is kept");
    assert_eq!(joined["user_count"], 2);
    let seen = bob.sync().await;
    assert!(named(&seen, "room_created").is_empty(), "joining an existing room creates nothing: {seen:?}");
}

#[tokio::test]
async fn typing_is_shown_to_the_other_members_only() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    let mut carol = server.raw_in("carol", "general").await;
    let mut outsider = server.raw_in("moderator", "elsewhere").await;

    assert_eq!(result_of(&alice.call("start_typing", json!({"room_id": "general"})).await), &Value::Null);
    for member in [&mut bob, &mut carol] {
        let typing = member.notification("user_started_typing").await;
        assert_eq!(typing["params"], json!({"room_id": "general", "username": "alice"}));
    }
    assert!(named(&alice.sync().await, "user_started_typing").is_empty(), "the typer is not told");
    assert!(named(&outsider.sync().await, "user_started_typing").is_empty());
}

#[tokio::test]
async fn typing_again_within_five_seconds_does_not_notify_again() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    for _ in 0..3 {
        result_of(&alice.call("start_typing", json!({"room_id": "general"})).await);
    }
    let seen = bob.sync().await;
    assert_eq!(named(&seen, "user_started_typing").len(), 1, "{seen:?}");
}

#[tokio::test]
async fn stop_typing_tells_the_other_members() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    result_of(&alice.call("start_typing", json!({"room_id": "general"})).await);
    assert_eq!(result_of(&alice.call("stop_typing", json!({"room_id": "general"})).await), &Value::Null);

    let seen = bob.sync().await;
    let typing: Vec<&str> = methods(&seen).into_iter().filter(|m| m.contains("typing")).collect();
    assert_eq!(typing, ["user_started_typing", "user_stopped_typing"]);
    assert_eq!(named(&seen, "user_stopped_typing")[0]["params"], json!({"room_id": "general", "username": "alice"}));
}

#[tokio::test]
async fn sending_a_message_stops_typing() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    result_of(&alice.call("start_typing", json!({"room_id": "general"})).await);
    alice.send_many("general", &["done typing".to_owned()]).await;

    // The message was published before alice got her answer.
    let seen = bob.sync().await;
    let order: Vec<&str> = methods(&seen).into_iter().filter(|m| *m != "user_joined").collect();
    assert_eq!(order, ["user_started_typing", "user_stopped_typing", "message_received"]);
}

#[tokio::test]
async fn leaving_while_typing_stops_typing_first() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    result_of(&alice.call("start_typing", json!({"room_id": "general"})).await);
    result_of(&alice.call("leave_room", json!({"room_id": "general"})).await);

    let seen = bob.sync().await;
    let order: Vec<&str> = methods(&seen).into_iter().filter(|m| *m != "user_joined").collect();
    assert_eq!(order, ["user_started_typing", "user_stopped_typing", "user_left"]);
}

#[tokio::test]
async fn typing_stops_by_itself_after_five_seconds() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    let started = tokio::time::Instant::now();
    result_of(&alice.call("start_typing", json!({"room_id": "general"})).await);
    bob.notification("user_started_typing").await;

    // From here on only the server's typing timer is due; with the clock
    // paused the runtime jumps to it as soon as it is idle. The wait is
    // one hop (timer → socket → this test), so no request has to cross
    // the wire while virtual time races ahead.
    tokio::time::pause();
    let stopped = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match bob.inner().next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["method"] == "user_stopped_typing" {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended: {other:?}"),
            }
        }
    })
    .await
    .expect("typing never expired");
    let elapsed = started.elapsed();
    tokio::time::resume();

    assert_eq!(stopped["params"], json!({"room_id": "general", "username": "alice"}));
    assert!(elapsed >= Duration::from_secs(5), "expired after {elapsed:?}");
    // Still healthy afterwards.
    within("a call after the pause", alice.call("list_rooms", json!({}))).await;
}

#[tokio::test]
async fn typing_in_a_room_you_have_not_joined_is_refused() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    for method in ["start_typing", "stop_typing"] {
        assert_eq!(error_code(&alice.call(method, json!({"room_id": "general"})).await), NOT_MEMBER, "{method}");
        assert_eq!(error_code(&alice.call(method, json!({"room_id": "nowhere"})).await), NOT_FOUND, "{method}");
    }
}

#[tokio::test]
async fn a_client_that_closes_cleanly_gets_a_close_frame_back() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    alice
        .send(Message::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: 1000.into(),
            reason: "bye".into(),
        })))
        .await;
    let reply = within("the server's close frame", alice.inner().next()).await;
    assert!(matches!(reply, Some(Ok(Message::Close(_)))), "got {reply:?}");
}
