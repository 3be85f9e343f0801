//! Point 4: every method against every role, and every moderation method
//! against every target role (user, moderator, admin, self). The expected
//! outcomes are written out here, independently of the server's own rule
//! table, so a change to the rules has to change this table too.

use chat_api::Role;
use chat_server::{
    config::{InitialUser, Secret},
    store::AuditAction,
};
use serde_json::{Value, json};

use crate::support::{RawClient, TestServer};

const PW: &str = "authz-password-1";

fn account(name: &str, role: Role) -> InitialUser {
    InitialUser { username: name.to_owned(), password: Secret::new(PW), role }
}

async fn spawn() -> TestServer {
    TestServer::spawn_with(|c| {
        c.admin.demo_accounts = false;
        c.admin.users = vec![
            account("usr1", Role::User),
            account("usr2", Role::User),
            account("mod1", Role::Moderator),
            account("mod2", Role::Moderator),
            account("adm1", Role::Admin),
            account("adm2", Role::Admin),
        ];
    })
    .await
}

async fn connect(server: &TestServer, name: &str) -> RawClient {
    let response = server.login(name, PW).await;
    assert_eq!(response.status(), 200, "login {name}");
    let token = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap()
}

/// `Ok(result)` or `Err(code)`.
async fn outcome(client: &mut RawClient, method: &str, params: Value) -> Result<Value, i64> {
    let reply = client.call(method, params).await;
    match reply.get("error") {
        Some(e) => Err(e["code"].as_i64().unwrap()),
        None => Ok(reply["result"].clone()),
    }
}

const FORBIDDEN: i64 = -32002;
const NOT_MEMBER: i64 = -32006;

#[tokio::test]
async fn every_method_against_every_role() {
    let server = spawn().await;
    for (actor, role) in [("usr1", Role::User), ("mod1", Role::Moderator), ("adm1", Role::Admin)] {
        let mut c = connect(&server, actor).await;
        let mine = format!("room-of-{actor}");
        let admin = role == Role::Admin;
        let is = |allowed: bool, got: &Result<Value, i64>, what: &str| {
            if allowed {
                assert!(got.is_ok(), "{actor} ({role}) {what}: expected success, got {got:?}");
            } else {
                assert_eq!(got.as_ref().err(), Some(&FORBIDDEN), "{actor} ({role}) {what}: expected -32002");
            }
        };

        // Every role: the user-level methods.
        let joined = outcome(&mut c, "join_room", json!({"room_name": mine})).await;
        is(true, &joined, "join_room");
        for (method, params) in [
            ("send_message", json!({"room_id": mine, "text": "hi"})),
            ("list_rooms", json!({})),
            ("list_users", json!({"room_id": mine})),
            ("get_history", json!({"room_id": mine})),
            ("start_typing", json!({"room_id": mine})),
            ("stop_typing", json!({"room_id": mine})),
            ("get_profile", json!({"username": "adm2"})),
            ("update_profile", json!({"display_name": format!("{actor} renamed")})),
        ] {
            is(true, &outcome(&mut c, method, params).await, method);
        }
        // update_profile changes the caller's own profile and nobody else's.
        let other = outcome(&mut c, "get_profile", json!({"username": "usr2"})).await.unwrap();
        assert_eq!(other["profile"]["display_name"], "usr2");
        let own = outcome(&mut c, "get_profile", json!({"username": actor})).await.unwrap();
        assert_eq!(own["profile"]["display_name"], format!("{actor} renamed"));

        // Membership binds every role, admins included.
        for (method, params) in [
            ("send_message", json!({"room_id": "general", "text": "hi"})),
            ("get_history", json!({"room_id": "general"})),
            ("start_typing", json!({"room_id": "general"})),
            ("leave_room", json!({"room_id": "general"})),
        ] {
            let got = outcome(&mut c, method, params).await;
            assert_eq!(got, Err(NOT_MEMBER), "{actor} {method} in a room it has not joined");
        }
        is(true, &outcome(&mut c, "leave_room", json!({"room_id": mine})).await, "leave_room");

        // Admin-only methods.
        let victim_room = format!("doomed-by-{actor}");
        outcome(&mut c, "join_room", json!({"room_name": victim_room})).await.unwrap();
        let announce = outcome(&mut c, "broadcast_announcement", json!({"message": "hear ye", "level": "info"})).await;
        is(admin, &announce, "broadcast_announcement");
        is(admin, &outcome(&mut c, "delete_room", json!({"room_id": victim_room})).await, "delete_room");
        let general = outcome(&mut c, "delete_room", json!({"room_id": "general"})).await;
        assert_eq!(general, Err(FORBIDDEN), "{actor}: nobody deletes general");
    }
}

#[tokio::test]
async fn every_moderation_method_against_every_target_role() {
    let server = spawn().await;
    // (actor, target, allowed) for kick, ban and unban alike.
    let table: &[(&str, &str, bool)] = &[
        ("usr1", "usr2", false),
        ("usr1", "mod2", false),
        ("usr1", "adm2", false),
        ("usr1", "usr1", false),
        ("mod1", "usr2", true),
        ("mod1", "mod2", false),
        ("mod1", "adm2", false),
        ("mod1", "mod1", false),
        ("adm1", "usr2", true),
        ("adm1", "mod2", true),
        ("adm1", "adm2", true),
        ("adm1", "adm1", false),
    ];
    let mut bans_allowed = 0;
    for (actor, target, allowed) in table {
        let mut c = connect(&server, actor).await;
        let kick = outcome(&mut c, "kick_user", json!({"target_username": target, "reason": "table"})).await;
        let ban =
            outcome(&mut c, "ban_user", json!({"target_username": target, "reason": "table", "duration_seconds": 60}))
                .await;
        let unban = outcome(&mut c, "unban_user", json!({"target_username": target})).await;
        if *allowed {
            bans_allowed += 1;
            assert_eq!(kick, Ok(json!(false)), "{actor} kicks {target} (offline)");
            assert_eq!(ban, Ok(json!(true)), "{actor} bans {target}");
            assert_eq!(unban, Ok(json!(true)), "{actor} unbans {target}");
        } else {
            for (what, got) in [("kick", kick), ("ban", ban), ("unban", unban)] {
                assert_eq!(got, Err(FORBIDDEN), "{actor} must not {what} {target}");
            }
        }
        // An unknown target: forbidden for users (role first), not found otherwise.
        let ghost = outcome(&mut c, "kick_user", json!({"target_username": "ghost", "reason": ""})).await;
        let expected = if actor.starts_with("usr") { FORBIDDEN } else { -32003 };
        assert_eq!(ghost, Err(expected), "{actor} kicks an unknown user");
    }
    // Targets online: an allowed kick really disconnects, a refused one does not.
    let mut target = connect(&server, "usr2").await;
    let mut moderator = connect(&server, "mod1").await;
    let mut peer = connect(&server, "mod2").await;
    assert_eq!(
        outcome(&mut moderator, "kick_user", json!({"target_username": "mod2", "reason": "no"})).await,
        Err(FORBIDDEN)
    );
    assert!(outcome(&mut peer, "list_rooms", json!({})).await.is_ok(), "a refused kick leaves the target connected");
    assert_eq!(
        outcome(&mut moderator, "kick_user", json!({"target_username": "usr2", "reason": "yes"})).await,
        Ok(json!(true))
    );
    assert_eq!(target.close_code().await, Some(4001));

    // Refused bans left no trace; allowed ones are each in the audit log once.
    let store = server.store().await;
    assert_eq!(store.audit_count(AuditAction::Ban).await.unwrap(), bans_allowed);
    for name in ["usr1", "usr2", "mod1", "mod2", "adm1", "adm2"] {
        let user = store.user_by_name(&name.parse().unwrap()).await.unwrap().unwrap();
        assert!(store.active_ban(user.id, chat_api::Timestamp::now()).await.unwrap().is_none(), "{name} is banned");
    }
    store.close().await;
}
