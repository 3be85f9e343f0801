//! Kicks, bans, announcements and room deletion, and who may do them.

use std::time::{Duration, Instant};

use chat_api::{Role, Timestamp};
use chat_server::{
    config::{InitialUser, Secret},
    store::AuditAction,
};
use serde_json::{Value, json};

use crate::support::{
    PASSWORD, RawClient, RawClientExt, TestServer, drain, error_code, named, refused_status, result_of, within,
};

const FORBIDDEN: i64 = -32002;
const NOT_FOUND: i64 = -32003;
const INVALID_PARAMS: i64 = -32602;

async fn kick(actor: &mut RawClient, target: &str, reason: &str) -> Value {
    actor.call("kick_user", json!({"target_username": target, "reason": reason})).await
}

async fn ban(actor: &mut RawClient, target: &str, reason: &str, duration_seconds: Option<u64>) -> Value {
    let mut params = json!({"target_username": target, "reason": reason});
    if let Some(seconds) = duration_seconds {
        params["duration_seconds"] = json!(seconds);
    }
    actor.call("ban_user", params).await
}

async fn unban(actor: &mut RawClient, target: &str) -> Value {
    actor.call("unban_user", json!({"target_username": target})).await
}

/// The text frames a connection still receives, and its close frame.
async fn last_words(client: &mut RawClient) -> (Vec<Value>, Option<(u16, String)>) {
    drain(client.inner()).await
}

/// The error body of a refused login.
async fn refused_login(server: &TestServer, username: &str, password: &str) -> (u16, Value) {
    let response = server.login(username, password).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn presence(frame: &Value) -> (&str, &str, &Value) {
    let p = &frame["params"];
    (p["room_id"].as_str().unwrap_or("null"), p["username"].as_str().unwrap(), &p["user_count"])
}

#[tokio::test]
async fn a_kicked_user_is_told_why_and_then_disconnected_with_4001() {
    let server = TestServer::spawn().await;
    let mut bob = server.raw_in("bob", "general").await;
    bob.join("lobby").await;
    let mut alice = server.raw_in("alice", "general").await;
    alice.join("lobby").await;
    let _carol = server.raw_in("carol", "general").await;
    let mut moderator = server.raw("moderator").await;

    let reply = kick(&mut moderator, "bob", "spamming").await;
    assert_eq!(result_of(&reply), &json!(true));

    let (frames, close) = last_words(&mut bob).await;
    let last = frames.last().expect("bob receives the kick notice before the close");
    assert_eq!(last["method"], "user_kicked", "{frames:?}");
    assert_eq!(last["params"], json!({"username": "bob", "reason": "spamming", "room_id": null}));
    assert_eq!(named(&frames, "user_kicked").len(), 1, "bob is told once, not once per room: {frames:?}");
    assert_eq!(close, Some((4001, "kicked: spamming".to_owned())));

    // The kick's notices were queued before the moderator got the answer,
    // so alice's next round trip sees all of them.
    let seen = alice.sync().await;
    for (room, remaining) in [("general", 2), ("lobby", 1)] {
        let about_bob: Vec<&Value> =
            seen.iter().filter(|f| f["params"]["room_id"] == room && f["params"]["username"] == "bob").collect();
        assert_eq!(about_bob.len(), 2, "{room}: {seen:?}");
        assert_eq!(about_bob[0]["method"], "user_kicked");
        assert_eq!(about_bob[0]["params"], json!({"username": "bob", "reason": "spamming", "room_id": room}));
        assert_eq!(about_bob[1]["method"], "user_left");
        assert_eq!(presence(about_bob[1]), (room, "bob", &json!(remaining)));
    }
}

#[tokio::test]
async fn kicking_a_user_closes_every_one_of_their_connections() {
    let server = TestServer::spawn().await;
    let mut phone = server.raw_in("bob", "general").await;
    let mut laptop = server.raw_in("bob", "general").await;
    let mut idle = server.raw("bob").await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut moderator = server.raw("moderator").await;

    assert_eq!(result_of(&kick(&mut moderator, "bob", "").await), &json!(true));

    for connection in [&mut phone, &mut laptop, &mut idle] {
        let (frames, close) = last_words(connection).await;
        let notices = named(&frames, "user_kicked");
        assert_eq!(notices.len(), 1, "{frames:?}");
        assert_eq!(notices[0]["params"]["room_id"], Value::Null);
        assert_eq!(close.map(|(code, _)| code), Some(4001));
    }
    let seen = alice.sync().await;
    assert_eq!(named(&seen, "user_kicked").len(), 1, "{seen:?}");
    let left = named(&seen, "user_left");
    assert_eq!(left.len(), 1, "one user left, however many connections: {seen:?}");
    assert_eq!(presence(left[0]), ("general", "bob", &json!(1)));
}

#[tokio::test]
async fn kicking_a_user_who_is_offline_returns_false() {
    let server = TestServer::spawn().await;
    let mut moderator = server.raw("moderator").await;
    assert_eq!(result_of(&kick(&mut moderator, "bob", "not even here").await), &json!(false));
}

#[tokio::test]
async fn a_kick_is_not_a_ban_so_the_user_can_come_back() {
    let server = TestServer::spawn().await;
    let mut bob = server.raw_in("bob", "general").await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut moderator = server.raw("moderator").await;
    kick(&mut moderator, "bob", "cool down").await;
    assert_eq!(last_words(&mut bob).await.1.map(|(code, _)| code), Some(4001));
    alice.notification("user_left").await;

    let mut bob_again = server.raw("bob").await;
    let joined = bob_again.join("general").await;
    assert_eq!(joined["existing_users"], json!(["alice", "bob"]));
    let back = alice.notification("user_joined").await;
    assert_eq!(presence(&back), ("general", "bob", &json!(2)));
}

#[tokio::test]
async fn a_banned_user_is_disconnected_with_4003_and_the_room_sees_them_leave() {
    let server = TestServer::spawn().await;
    let mut phone = server.raw_in("bob", "general").await;
    let mut laptop = server.raw("bob").await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut moderator = server.raw("moderator").await;

    assert_eq!(result_of(&ban(&mut moderator, "bob", "abuse", None).await), &json!(true));

    for connection in [&mut phone, &mut laptop] {
        let (_, close) = last_words(connection).await;
        assert_eq!(close, Some((4003, "banned: abuse".to_owned())));
    }
    let seen = alice.sync().await;
    let left = named(&seen, "user_left");
    assert_eq!(left.len(), 1, "{seen:?}");
    assert_eq!(presence(left[0]), ("general", "bob", &json!(1)));
    assert!(named(&seen, "user_kicked").is_empty(), "a ban is not announced as a kick: {seen:?}");
}

#[tokio::test]
async fn a_banned_user_cannot_log_in_or_reuse_a_token_until_unbanned() {
    let server = TestServer::spawn().await;
    let old_token = server.token("bob").await;
    let mut moderator = server.raw("moderator").await;
    ban(&mut moderator, "bob", "abuse", None).await;

    let (status, body) = refused_login(&server, "bob", "bob123").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "banned");
    assert!(body["error"]["message"].as_str().unwrap().contains("permanently"), "{body}");
    let refused = RawClient::connect(&server.ws_url(), Some(&old_token)).await;
    assert_eq!(refused_status(&refused), Some(403));

    assert_eq!(result_of(&unban(&mut moderator, "bob").await), &json!(true));
    assert_eq!(server.login("bob", "bob123").await.status(), 200);
    let mut bob = RawClient::connect(&server.ws_url(), Some(&old_token)).await.unwrap();
    bob.join("general").await;
}

#[tokio::test]
async fn a_timed_ban_tells_the_user_until_when() {
    let server = TestServer::spawn().await;
    let mut moderator = server.raw("moderator").await;
    ban(&mut moderator, "bob", "", Some(3600)).await;

    let (status, body) = refused_login(&server, "bob", "bob123").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "banned");
    let message = body["error"]["message"].as_str().unwrap();
    let until = message.strip_prefix("banned until ").unwrap_or_else(|| panic!("{message}"));
    let until: Timestamp = serde_json::from_value(json!(until)).unwrap();
    let expected = Timestamp::now().unix_seconds() + 3600;
    assert!((until.unix_seconds() - expected).abs() <= 10, "{message}");
}

#[tokio::test]
async fn a_timed_ban_ends_by_itself() {
    let server = TestServer::spawn().await;
    let mut moderator = server.raw("moderator").await;
    let banned_at = Instant::now();
    ban(&mut moderator, "bob", "", Some(1)).await;
    assert_eq!(server.login("bob", "bob123").await.status(), 403);

    // The ban runs on the wall clock; poll its end, bounded.
    within("the one-second ban to end", async {
        while server.login("bob", "bob123").await.status() == 403 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(banned_at.elapsed() >= Duration::from_millis(900), "ended after {:?}", banned_at.elapsed());
    assert_eq!(server.login("bob", "bob123").await.status(), 200);
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    PlainUser,
    AnotherModerator,
    AnotherAdmin,
    Myself,
}

/// The contract's rule, written out independently of the server's.
fn allowed(actor: Role, target: Target) -> bool {
    let refused = matches!(
        (actor, target),
        (Role::User, _) | (_, Target::Myself) | (Role::Moderator, Target::AnotherModerator | Target::AnotherAdmin)
    );
    !refused
}

#[tokio::test]
async fn who_may_kick_ban_and_unban_whom() {
    let server = TestServer::spawn_with(|c| {
        c.admin.users = vec![
            InitialUser { username: "admin2".into(), password: Secret::new(PASSWORD), role: Role::Admin },
            InitialUser { username: "mod2".into(), password: Secret::new(PASSWORD), role: Role::Moderator },
        ];
    })
    .await;
    let actors = [("alice", Role::User), ("moderator", Role::Moderator), ("admin", Role::Admin)];
    let targets = [Target::PlainUser, Target::AnotherModerator, Target::AnotherAdmin, Target::Myself];
    let mut wrong = Vec::new();
    let mut fresh = 0;
    for (actor_name, role) in actors {
        let mut actor = server.raw(actor_name).await;
        for target in targets {
            let target_name = match target {
                Target::PlainUser => {
                    fresh += 1;
                    let name = format!("target{fresh}");
                    assert_eq!(server.register(&name, PASSWORD).await.status(), 201);
                    name
                }
                Target::AnotherModerator => "mod2".to_owned(),
                Target::AnotherAdmin if actor_name == "admin" => "admin2".to_owned(),
                Target::AnotherAdmin => "admin".to_owned(),
                Target::Myself => actor_name.to_owned(),
            };
            // In this order, so an allowed ban is lifted by the unban.
            for method in ["kick_user", "ban_user", "unban_user"] {
                let reply = match method {
                    "kick_user" => kick(&mut actor, &target_name, "table").await,
                    "ban_user" => ban(&mut actor, &target_name, "table", Some(3600)).await,
                    _ => unban(&mut actor, &target_name).await,
                };
                let got = if reply.get("result").is_some() { Ok(()) } else { Err(error_code(&reply)) };
                let expected = if allowed(role, target) { Ok(()) } else { Err(FORBIDDEN) };
                if got != expected {
                    wrong.push(format!("{actor_name} {method} {target:?} ({target_name}): {reply}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "unexpected outcomes:\n{}", wrong.join("\n"));
    for name in ["mod2", "admin2", "target1", "target2", "target3"] {
        assert_eq!(server.login(name, PASSWORD).await.status(), 200, "{name} is left unbanned");
    }
}

#[tokio::test]
async fn moderating_an_unknown_user_is_not_found() {
    let server = TestServer::spawn().await;
    let mut moderator = server.raw("moderator").await;
    assert_eq!(error_code(&kick(&mut moderator, "nobody-here", "").await), NOT_FOUND);
    assert_eq!(error_code(&ban(&mut moderator, "nobody-here", "", None).await), NOT_FOUND);
    assert_eq!(error_code(&unban(&mut moderator, "nobody-here").await), NOT_FOUND);
}

#[tokio::test]
async fn only_admins_may_announce_or_delete_rooms() {
    let server = TestServer::spawn().await;
    server.raw_in("bob", "scratch").await;
    for name in ["alice", "moderator"] {
        let mut client = server.raw(name).await;
        let announced = client.call("broadcast_announcement", json!({"message": "hi", "level": "info"})).await;
        assert_eq!(error_code(&announced), FORBIDDEN, "{name} announcing");
        let deleted = client.call("delete_room", json!({"room_id": "scratch"})).await;
        assert_eq!(error_code(&deleted), FORBIDDEN, "{name} deleting a room");
    }
    let mut admin = server.raw("admin").await;
    let announced = admin.call("broadcast_announcement", json!({"message": "hi", "level": "info"})).await;
    assert_eq!(result_of(&announced), &Value::Null);
    let deleted = admin.call("delete_room", json!({"room_id": "scratch"})).await;
    assert_eq!(result_of(&deleted), &Value::Null);
}

#[tokio::test]
async fn an_announcement_reaches_every_connected_client() {
    let server = TestServer::spawn().await;
    let mut lonely = server.raw("alice").await;
    let mut member = server.raw_in("bob", "general").await;
    let mut admin = server.raw("admin").await;
    let params = json!({"message": "maintenance at noon", "level": "warning"});
    assert_eq!(result_of(&admin.call("broadcast_announcement", params).await), &Value::Null);

    for client in [&mut lonely, &mut member, &mut admin] {
        let frame = client.notification("system_announcement").await;
        let p = &frame["params"];
        assert_eq!(p["message"], "maintenance at noon");
        assert_eq!(p["level"], "warning");
        let text = p["timestamp"].as_str().unwrap();
        assert!(text.ends_with('Z'), "UTC: {text}");
        let at: Timestamp = serde_json::from_value(p["timestamp"].clone()).unwrap();
        assert!((at.unix_seconds() - Timestamp::now().unix_seconds()).abs() <= 60, "{text}");
    }
}

#[tokio::test]
async fn an_announcement_with_an_unknown_level_is_refused_as_invalid_params() {
    let server = TestServer::spawn().await;
    let mut admin = server.raw("admin").await;
    let reply = admin.call("broadcast_announcement", json!({"message": "hi", "level": "critical"})).await;
    assert_eq!(error_code(&reply), INVALID_PARAMS);
    let reply = admin.call("broadcast_announcement", json!({"message": "hi"})).await;
    assert_eq!(error_code(&reply), INVALID_PARAMS, "level is required");
}

#[tokio::test]
async fn deleting_a_room_tells_everyone_and_removes_it_with_its_history() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "Scratch").await;
    alice.send_many("scratch", &["one".to_owned(), "two".to_owned()]).await;
    let mut bob = server.raw("bob").await;
    let mut admin = server.raw("admin").await;

    let reply = admin.call("delete_room", json!({"room_id": "scratch"})).await;
    assert_eq!(result_of(&reply), &Value::Null);
    for client in [&mut alice, &mut bob, &mut admin] {
        let frame = client.notification("room_deleted").await;
        assert_eq!(frame["params"], json!({"room_id": "scratch", "room_name": "Scratch"}));
    }
    let rooms = result_of(&admin.call("list_rooms", json!({})).await)["rooms"].clone();
    assert!(rooms.as_array().unwrap().iter().all(|r| r["room_id"] != "scratch"), "{rooms}");
    let send = alice.call("send_message", json!({"room_id": "scratch", "text": "anyone?"})).await;
    assert_eq!(error_code(&send), NOT_FOUND, "the deleted room is gone for its former members too");

    let joined = alice.join("scratch").await;
    assert_eq!(joined["room_name"], "scratch", "a new room, with the new spelling");
    assert_eq!(joined["recent_messages"], json!([]));
    let created = bob.notification("room_created").await;
    assert_eq!(created["params"]["room_info"], json!({"room_id": "scratch", "room_name": "scratch", "user_count": 1}));
    let history = alice.call("get_history", json!({"room_id": "scratch"})).await;
    assert_eq!(result_of(&history), &json!({"messages": [], "has_more": false}));
}

#[tokio::test]
async fn the_general_room_cannot_be_deleted() {
    let server = TestServer::spawn().await;
    let mut admin = server.raw("admin").await;
    assert_eq!(error_code(&admin.call("delete_room", json!({"room_id": "general"})).await), FORBIDDEN);
    assert_eq!(error_code(&admin.call("delete_room", json!({"room_id": "General"})).await), FORBIDDEN);
}

#[tokio::test]
async fn deleting_an_unknown_room_is_not_found() {
    let server = TestServer::spawn().await;
    let mut admin = server.raw("admin").await;
    assert_eq!(error_code(&admin.call("delete_room", json!({"room_id": "nowhere"})).await), NOT_FOUND);
}

#[tokio::test]
async fn kicks_bans_and_unbans_are_written_to_the_audit_log() {
    let mut server = TestServer::spawn().await;
    let _bob = server.raw("bob").await;
    let mut alice = server.raw("alice").await;
    let mut moderator = server.raw("moderator").await;
    assert_eq!(error_code(&kick(&mut alice, "bob", "").await), FORBIDDEN);
    assert_eq!(result_of(&kick(&mut moderator, "bob", "one").await), &json!(true));
    assert_eq!(result_of(&ban(&mut moderator, "bob", "two", Some(60)).await), &json!(true));
    assert_eq!(result_of(&unban(&mut moderator, "bob").await), &json!(true));
    assert_eq!(error_code(&ban(&mut moderator, "admin", "", None).await), FORBIDDEN);
    server.stop().await;

    let store = server.store().await;
    let counts = [
        (AuditAction::Kick, store.audit_count(AuditAction::Kick).await.unwrap()),
        (AuditAction::Ban, store.audit_count(AuditAction::Ban).await.unwrap()),
        (AuditAction::Unban, store.audit_count(AuditAction::Unban).await.unwrap()),
    ];
    store.close().await;
    assert_eq!(
        counts,
        [(AuditAction::Kick, 1), (AuditAction::Ban, 1), (AuditAction::Unban, 1)],
        "refusals are not logged"
    );
}
