//! Presence across nodes: a join's answer counts and lists members on
//! other nodes; `user_joined`, `user_left` and typing reach them; a user
//! is present while any of their connections, on any node, is in the room.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    client::{Client, messages_in},
    harness::Cluster,
};

const ROOM: &str = "lobby";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_typing_span_the_nodes() {
    let cluster = Cluster::start("presence", 3).await;
    let names = ["anna1", "boris2", "clara3"];
    let tokens = cluster.tokens(&names).await;

    // Wrong join answers are gathered and reported at the end, so that
    // the rest of the test runs all the same.
    let mut problems = Vec::new();
    let (mut anna, joined) = cluster.connect_in(0, names[0], &tokens[0], ROOM).await;
    note(&mut problems, check_members(&mut anna, &joined, &["anna1"]).await);
    let (mut boris, joined) = cluster.connect_in(1, names[1], &tokens[1], ROOM).await;
    note(&mut problems, check_members(&mut boris, &joined, &["anna1", "boris2"]).await);
    anna.expect("user_joined", |p| p == &json!({"room_id": ROOM, "username": "boris2", "user_count": 2})).await;
    let (mut clara, joined) = cluster.connect_in(2, names[2], &tokens[2], ROOM).await;
    note(&mut problems, check_members(&mut clara, &joined, &["anna1", "boris2", "clara3"]).await);
    for member in [&mut anna, &mut boris] {
        member.expect("user_joined", |p| p == &json!({"room_id": ROOM, "username": "clara3", "user_count": 3})).await;
    }
    let listed = boris.ok("list_users", json!({"room_id": ROOM})).await;
    assert_eq!(listed["users"], json!(["anna1", "boris2", "clara3"]), "list_users on node 2");
    let rooms = clara.ok("list_rooms", json!({})).await;
    let lobby = rooms["rooms"].as_array().unwrap().iter().find(|r| r["room_id"] == ROOM).cloned();
    assert_eq!(lobby.map(|r| r["user_count"].clone()), Some(json!(3)), "list_rooms on node 3: {rooms}");

    // Typing, started and stopped on node 1, seen on nodes 2 and 3.
    anna.ok("start_typing", json!({"room_id": ROOM})).await;
    for member in [&mut boris, &mut clara] {
        member.expect("user_started_typing", |p| p == &json!({"room_id": ROOM, "username": "anna1"})).await;
    }
    anna.ok("stop_typing", json!({"room_id": ROOM})).await;
    for member in [&mut boris, &mut clara] {
        member.expect("user_stopped_typing", |p| p == &json!({"room_id": ROOM, "username": "anna1"})).await;
    }
    // Sending stops typing, on every node.
    boris.ok("start_typing", json!({"room_id": ROOM})).await;
    for member in [&mut anna, &mut clara] {
        member.expect("user_started_typing", |p| p == &json!({"room_id": ROOM, "username": "boris2"})).await;
    }
    let sent = boris.send(ROOM, "done typing").await;
    for member in [&mut anna, &mut clara] {
        member.expect("user_stopped_typing", |p| p == &json!({"room_id": ROOM, "username": "boris2"})).await;
        member.expect("message_received", |p| p["message_id"] == sent).await;
    }

    // anna1 opens a second device on node 3: she is already present, so
    // nobody is told; then her node-1 connection goes: she is still
    // present through node 3, so nobody is told either.
    let (mut anna_too, joined) = cluster.connect_in(2, names[0], &tokens[0], ROOM).await;
    note(&mut problems, check_members(&mut anna_too, &joined, &["anna1", "boris2", "clara3"]).await);
    anna.hang_up().await;
    let probe = clara.send(ROOM, "is anna1 still here?").await;
    boris.expect("message_received", |p| p["message_id"] == probe).await;
    let told = |frames: Vec<crate::client::Frame>| -> Vec<String> {
        frames
            .iter()
            .filter(|f| matches!(f.method(), Some("user_joined" | "user_left")))
            .map(|f| format!("{} {}", f.method().unwrap_or_default(), f.params()))
            .collect()
    };
    let boris_told = told(boris.take_buffered());
    let listed = boris.ok("list_users", json!({"room_id": ROOM})).await;
    if boris_told.iter().any(|t| t.contains("anna1")) || listed["users"] != json!(["anna1", "boris2", "clara3"]) {
        clara.expect("message_received", |p| p["message_id"] == probe).await;
        note(
            &mut problems,
            Some(format!(
                "anna1 was present throughout (node 1, then nodes 1 and 3, then node 3), yet boris2 on node 2 was \
             told {boris_told:?} and then listed {}; clara3 on node 3 was told {:?}",
                listed["users"],
                told(clara.take_buffered())
            )),
        );
    }

    // Her last connection goes: every node's members are told.
    anna_too.hang_up().await;
    for member in [&mut boris, &mut clara] {
        member.expect("user_left", |p| p == &json!({"room_id": ROOM, "username": "anna1", "user_count": 2})).await;
    }

    // leave_room on node 2, told on node 3.
    boris.ok("leave_room", json!({"room_id": ROOM})).await;
    clara.expect("user_left", |p| p == &json!({"room_id": ROOM, "username": "boris2", "user_count": 1})).await;

    // A disconnect on node 2 without leaving, told on node 3.
    boris.join(ROOM).await;
    clara.expect("user_joined", |p| p == &json!({"room_id": ROOM, "username": "boris2", "user_count": 2})).await;
    boris.hang_up().await;
    clara.expect("user_left", |p| p == &json!({"room_id": ROOM, "username": "boris2", "user_count": 1})).await;
    let listed = clara.ok("list_users", json!({"room_id": ROOM})).await;
    assert_eq!(listed["users"], json!(["clara3"]));
    let stray = messages_in(&clara.take_buffered(), ROOM);
    assert!(stray.iter().all(|m| m.0 <= probe), "unexpected messages: {stray:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks a join's `existing_users` and `user_count`. When they are wrong,
/// polls `list_users` for a while so that the report says whether this
/// node's view was only late or stays wrong.
async fn check_members(client: &mut Client, joined: &Value, expected: &[&str]) -> Option<String> {
    let existing = &joined["existing_users"];
    if existing == &json!(expected) && joined["user_count"] == json!(expected.len()) {
        return None;
    }
    let started = Instant::now();
    let mut later = Value::Null;
    while started.elapsed() < Duration::from_secs(3) {
        later = client.ok("list_users", json!({"room_id": ROOM})).await["users"].clone();
        if later == json!(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(format!(
        "{} joined on node {} once the others' joins had been answered: expected {expected:?}, got \
         existing_users {existing}, user_count {}; list_users on that node {:?} later: {later}",
        client.user,
        client.node + 1,
        joined["user_count"],
        started.elapsed()
    ))
}

/// Keeps a problem for the end of the test, and prints it now in case a
/// later step fails first.
fn note(problems: &mut Vec<String>, problem: Option<String>) {
    if let Some(problem) = problem {
        eprintln!("problem: {problem}");
        problems.push(problem);
    }
}
