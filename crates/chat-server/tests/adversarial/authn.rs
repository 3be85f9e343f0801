//! Point 3: authentication cannot be bypassed, secrets stay out of the
//! logs, and login does not tell unknown users from wrong passwords.

use std::time::{Duration, Instant};

use chat_api::{Role, UserName};
use chat_server::config::Secret;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use crate::{
    common::{
        ServerData, ServerProcess, hmac_token, median, now, read_text, unsigned_token, with_claims, ws_call, ws_connect,
    },
    support::{PASSWORD, RawClient, TestServer, error_code, refused_status},
};

const SECRET: &str = "adversarial-test-secret-0123456789abcdef";

async fn server_with_secret() -> TestServer {
    TestServer::spawn_with(|c| c.auth.jwt_secret = Some(Secret::new(SECRET))).await
}

/// Status of a `/ws` handshake with the token in the header, and with it in
/// the query string. None = accepted.
async fn statuses(server: &TestServer, token: &str) -> (Option<u16>, Option<u16>) {
    let header = refused_status(&RawClient::connect(&server.ws_url(), Some(token)).await);
    let url = format!("{}?token={}", server.ws_url(), token);
    let query = match url.clone().into_client_request() {
        Ok(request) => refused_status(&RawClient::connect_request(request).await),
        Err(_) => Some(400),
    };
    (header, query)
}

async fn user_id(server: &TestServer, name: &str) -> i64 {
    server.token(name).await;
    let response = server.login(name, PASSWORD).await;
    response.json::<Value>().await.unwrap()["user_id"].as_i64().unwrap()
}

fn claims(sub: i64, role: &str) -> Value {
    json!({"sub": sub.to_string(), "name": "x", "role": role, "iat": now(), "exp": now() + 3600})
}

#[tokio::test]
async fn forged_altered_and_out_of_time_tokens_never_open_a_socket() {
    let server = server_with_secret().await;
    let me = user_id(&server, "mallory").await;
    let admin = 1; // the first demo account
    let secret = SECRET.as_bytes();
    let good = hmac_token(Algorithm::HS256, secret, &claims(me, "user"));
    assert_eq!(statuses(&server, &good).await, (None, None), "the control token must work");

    let mut forged_role = claims(me, "user");
    forged_role["role"] = json!("admin");
    let mut no_exp = claims(me, "user");
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut future_nbf = claims(me, "user");
    future_nbf["nbf"] = json!(now() + 3600);
    let mut expired = claims(me, "user");
    expired["exp"] = json!(now() - 1);
    let mut long_expired = claims(me, "user");
    long_expired["exp"] = json!(now() - 86_400);
    long_expired["iat"] = json!(now() - 2 * 86_400);
    let mut sub_number = claims(me, "user");
    sub_number["sub"] = json!(me);
    let mut sub_text = claims(me, "user");
    sub_text["sub"] = json!("admin");

    let table: Vec<(&str, String)> = vec![
        ("alg none", unsigned_token("none", &claims(admin, "admin"))),
        ("alg None", unsigned_token("None", &claims(admin, "admin"))),
        ("alg NONE", unsigned_token("NONE", &claims(admin, "admin"))),
        ("alg none with the real signature kept", {
            let signed = hmac_token(Algorithm::HS256, secret, &claims(me, "user"));
            let header = unsigned_token("none", &claims(me, "user"));
            format!("{}{}", header, signed.rsplit('.').next().unwrap())
        }),
        ("HS384 with the right secret", hmac_token(Algorithm::HS384, secret, &claims(me, "user"))),
        ("HS512 with the right secret", hmac_token(Algorithm::HS512, secret, &claims(me, "user"))),
        ("RS256 header over an HMAC signature", {
            let signed = hmac_token(Algorithm::HS256, secret, &claims(me, "user"));
            let body = signed.split('.').nth(1).unwrap().to_owned();
            let header = unsigned_token("RS256", &claims(me, "user"));
            format!("{}.{}.{}", header.split('.').next().unwrap(), body, signed.rsplit('.').next().unwrap())
        }),
        (
            "another secret",
            hmac_token(Algorithm::HS256, b"some-other-secret-of-enough-length!!", &claims(admin, "admin")),
        ),
        ("an empty secret", hmac_token(Algorithm::HS256, b"", &claims(admin, "admin"))),
        ("claims swapped to the admin, signature kept", with_claims(&good, &claims(admin, "admin"))),
        ("role raised, signature kept", with_claims(&good, &forged_role)),
        ("no exp", hmac_token(Algorithm::HS256, secret, &no_exp)),
        ("expired a second ago", hmac_token(Algorithm::HS256, secret, &expired)),
        ("expired yesterday", hmac_token(Algorithm::HS256, secret, &long_expired)),
        ("not valid before an hour from now", hmac_token(Algorithm::HS256, secret, &future_nbf)),
        ("sub of no user", hmac_token(Algorithm::HS256, secret, &claims(999_999, "admin"))),
        ("sub as a number", hmac_token(Algorithm::HS256, secret, &sub_number)),
        ("sub as a name", hmac_token(Algorithm::HS256, secret, &sub_text)),
        ("two parts", good.rsplit_once('.').unwrap().0.to_owned()),
        ("garbage", "not-a-token".to_owned()),
        ("signature truncated", good[..good.len() - 2].to_owned()),
    ];
    for (what, token) in &table {
        let (header, query) = statuses(&server, token).await;
        assert_eq!(header, Some(401), "{what} (Authorization header) must be refused with 401");
        assert!(matches!(query, Some(401 | 400)), "{what} (?token=) must be refused, got {query:?}");
    }
}

#[tokio::test]
async fn tokens_of_deleted_and_banned_accounts_are_refused() {
    let server = server_with_secret().await;
    let doomed = server.token("doomed").await;
    let banned = server.token("troll").await;
    assert_eq!(statuses(&server, &doomed).await, (None, None));

    // Delete through a second handle on the live storage.
    let store = server.store().await;
    assert!(store.delete_user(&UserName::parse("doomed").unwrap()).await.unwrap());
    store.close().await;
    assert_eq!(statuses(&server, &doomed).await, (Some(401), Some(401)), "deleted account");

    let mut moderator = server.raw("moderator").await;
    let reply = moderator.call("ban_user", json!({"target_username": "troll", "reason": "x"})).await;
    assert_eq!(reply["result"], true, "{reply}");
    assert_eq!(statuses(&server, &banned).await, (Some(403), Some(403)), "banned account");

    // A new account with the same name is a new id: the old token stays dead.
    server.token("doomed").await;
    assert_eq!(statuses(&server, &doomed).await, (Some(401), Some(401)), "re-registered name, old token");
}

#[tokio::test]
async fn a_token_from_before_a_demotion_carries_no_privilege() {
    let server = server_with_secret().await;
    server.token("boss").await;
    server.token("minion").await;
    let store = server.store().await;
    let boss = UserName::parse("boss").unwrap();
    assert!(store.set_role(&boss, Role::Admin).await.unwrap());
    let response = server.login("boss", PASSWORD).await.json::<Value>().await.unwrap();
    assert_eq!(response["role"], "admin");
    let admin_token = response["token"].as_str().unwrap().to_owned();

    // A connection opened while still admin, and one opened afterwards.
    let mut before = ws_connect(&server.ws_url(), &admin_token).await;
    let ok =
        ws_call(&mut before, 1, "broadcast_announcement", json!({"message": "still admin", "level": "info"})).await;
    assert!(ok.get("result").is_some(), "{ok}");

    assert!(store.set_role(&boss, Role::User).await.unwrap());
    store.close().await;
    let mut after = ws_connect(&server.ws_url(), &admin_token).await;
    ws_call(&mut after, 1, "join_room", json!({"room_name": "demoted"})).await;

    for ws in [&mut before, &mut after] {
        let calls = [
            ("broadcast_announcement", json!({"message": "x", "level": "info"})),
            ("delete_room", json!({"room_id": "demoted"})),
            ("kick_user", json!({"target_username": "minion", "reason": "x"})),
            ("ban_user", json!({"target_username": "minion", "reason": "x"})),
            ("unban_user", json!({"target_username": "minion"})),
        ];
        for (n, (method, params)) in calls.into_iter().enumerate() {
            let reply = ws_call(ws, 10 + n as u64, method, params).await;
            assert_eq!(error_code(&reply), -32002, "{method} with a pre-demotion token: {reply}");
        }
        let profile = ws_call(ws, 20, "get_profile", json!({"username": "boss"})).await;
        assert_eq!(profile["result"]["profile"]["role"], "user");
    }
}

#[tokio::test]
async fn a_token_that_expires_during_the_session_ends_it_on_both_endpoints() {
    let server = server_with_secret().await;
    let me = user_id(&server, "shortlived").await;
    let mut watcher = server.raw("watcher").await;
    watcher.call("join_room", json!({"room_name": "general"})).await;
    let mut c = claims(me, "user");
    c["exp"] = json!(now() + 3);
    let token = hmac_token(Algorithm::HS256, SECRET.as_bytes(), &c);
    let mut rpc = RawClient::connect(&server.ws_url(), Some(&token)).await.unwrap();
    let joined = rpc.call("join_room", json!({"room_name": "general"})).await;
    assert!(joined.get("result").is_some(), "{joined}");
    let text_url = format!("{}/text?token={token}", server.ws_url());
    let mut text = RawClient::connect(&text_url, None).await.unwrap();
    watcher.notification("user_joined").await;

    // Neither connection sends anything: the server ends both at expiry,
    // and the room is told the user left.
    let started = Instant::now();
    assert_eq!(rpc.close_frame().await, Some((4002, "token expired".to_owned())));
    assert_eq!(text.close_frame().await, Some((4002, "token expired".to_owned())));
    assert!(started.elapsed() < Duration::from_secs(5), "closed {:?} after the start", started.elapsed());
    let left = watcher.notification("user_left").await;
    assert_eq!(left["params"]["username"], "shortlived");
}

#[tokio::test]
async fn a_token_is_refused_from_its_exp_second_on() {
    let server = server_with_secret().await;
    let me = user_id(&server, "edge").await;
    let mut c = claims(me, "user");
    // RFC 7519: valid only while now < exp. The clock only moves on, so
    // this token is at or past its exp second when checked.
    c["exp"] = json!(now());
    let token = hmac_token(Algorithm::HS256, SECRET.as_bytes(), &c);
    assert_eq!(statuses(&server, &token).await, (Some(401), Some(401)));
}

#[tokio::test]
async fn login_answers_unknown_users_and_wrong_passwords_alike_and_in_similar_time() {
    let server = TestServer::spawn().await;
    server.token("realuser").await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    // Warm up (first argon2 run, connection set-up).
    server.login("realuser", "wrong-password-0").await;
    for i in 0..12 {
        for (name, samples) in [("realuser", &mut wrong), ("nosuchuser", &mut unknown)] {
            let started = Instant::now();
            let response = server.login(name, &format!("wrong-password-{i}")).await;
            samples.push(started.elapsed());
            assert_eq!(response.status(), 401);
            bodies.insert(response.text().await.unwrap());
        }
    }
    assert_eq!(bodies.len(), 1, "the answers differ: {bodies:?}");
    let (u, w) = (median(&unknown), median(&wrong));
    eprintln!("login medians: unknown user {u:?}, wrong password {w:?}");
    let ratio = u.as_secs_f64().max(w.as_secs_f64()) / u.as_secs_f64().min(w.as_secs_f64());
    assert!(ratio < 2.0, "timing tells them apart: unknown {u:?} vs wrong password {w:?}");
    // And a name too long or invalid to exist costs the same, too.
    let started = Instant::now();
    let response = server.login(&"x".repeat(200), "wrong-password").await;
    assert_eq!(response.status(), 401);
    assert!(started.elapsed() > w / 3, "an invalid name skips the hash: {:?} vs {w:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_tokens_and_the_secret_never_reach_the_log() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("server.log");
    let data = ServerData::new().await;
    let secret = "log-test-secret-never-print-me-0123456789";
    let env = [("RUST_LOG", "debug"), ("CHAT__LOGGING__FORMAT", "json"), ("JWT_SECRET", secret)];
    let mut server = ServerProcess::start(&data, &env, Some(&log)).await;

    let password = "Pw-registered-7f3a9c";
    let wrong = "Pw-wrong-guess-b81e02";
    let unknown_pw = "Pw-unknown-user-5d44aa";
    let token = server.token("logwatch", password).await;
    assert_eq!(server.login("logwatch", wrong).await, Err(401));
    assert_eq!(server.login("nobody-here", unknown_pw).await, Err(401));
    assert_eq!(server.register("x", "Pw-too-short").await.unwrap(), 400);
    let admin = server.login("admin", "admin123").await.unwrap();

    // Upgrades with the token in the query string (accepted and refused)
    // and in the header, with a call on each.
    let query_url = format!("{}?token={token}", server.ws_url());
    let (mut ws, _) = tokio_tungstenite::connect_async(query_url.as_str()).await.unwrap();
    ws_call(&mut ws, 1, "join_room", json!({"room_name": "general"})).await;
    ws_call(&mut ws, 2, "send_message", json!({"room_id": "general", "text": "hello log"})).await;
    drop(ws);
    let bogus = format!("{}.Zm9yZ2Vk.c2lnbmF0dXJlLWJvZ3Vz", token.split('.').next().unwrap());
    let refused = tokio_tungstenite::connect_async(format!("{}?token={bogus}", server.ws_url())).await;
    assert!(refused.is_err());
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {admin}")).unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws_call(&mut ws, 1, "list_rooms", json!({})).await;
    drop(ws);

    server.sigterm();
    server.wait_exit(Duration::from_secs(15)).await.expect("exit after SIGTERM");
    let text = read_text(&log);
    assert!(text.contains("logged in") && text.contains("logwatch"), "the log was not captured:\n{text}");
    let signature = |t: &str| t.rsplit('.').next().unwrap().to_owned();
    for (what, needle) in [
        ("a registered password", password.to_owned()),
        ("a wrong password", wrong.to_owned()),
        ("an unknown user's password", unknown_pw.to_owned()),
        ("a too-short password", "Pw-too-short".to_owned()),
        ("the signing secret", secret.to_owned()),
        ("a token", token.clone()),
        ("a token's signature", signature(&token)),
        ("the admin token's signature", signature(&admin)),
        ("a refused token's signature", signature(&bogus)),
        ("a query string", "token=".to_owned()),
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(&needle)) {
            panic!("{what} appears in the log: {line}");
        }
    }
}
