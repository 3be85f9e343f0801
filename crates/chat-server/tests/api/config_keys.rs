//! Configuration keys not covered elsewhere, each shown to take effect
//! through the running server, and the binary refusing a bad value.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chat_api::{Role, RoomName, Timestamp, UserId, UserName, http::LoginResponse};
use chat_server::{
    auth::{SECRET_FILE, Tokens},
    config::{InitialUser, Secret},
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use crate::support::{PASSWORD, RawClient, RawClientExt, TestDatabase, TestServer, refused_status, result_of, within};

const BINARY: &str = env!("CARGO_BIN_EXE_bidirectional-chat-server");

#[tokio::test]
async fn default_rooms_exist_on_a_fresh_server() {
    let server = TestServer::spawn_with(|c| {
        c.chat.default_rooms = vec![RoomName::parse("Lobby").unwrap(), RoomName::parse("random").unwrap()];
    })
    .await;
    let mut alice = server.raw("alice").await;
    let rooms = result_of(&alice.call("list_rooms", json!({})).await)["rooms"].clone();
    assert_eq!(
        rooms,
        json!([
            {"room_id": "general", "room_name": "general", "user_count": 0},
            {"room_id": "lobby", "room_name": "Lobby", "user_count": 0},
            {"room_id": "random", "room_name": "random", "user_count": 0},
        ])
    );
}

#[tokio::test]
async fn token_ttl_secs_sets_when_tokens_expire() {
    let server = TestServer::spawn_with(|c| c.auth.token_ttl_secs = 120).await;
    let before = Timestamp::now().unix_seconds();
    let login: LoginResponse = server.login("alice", "alice123").await.json().await.unwrap();
    let after = Timestamp::now().unix_seconds();
    assert!(
        (before + 120..=after + 120).contains(&login.expires_at),
        "expires_at {} for a login between {before} and {after}",
        login.expires_at
    );
}

#[tokio::test]
async fn without_demo_accounts_the_demo_logins_do_not_exist() {
    let server = TestServer::spawn_with(|c| c.admin.demo_accounts = false).await;
    for (name, password, _) in chat_server::DEMO_ACCOUNTS {
        assert_eq!(server.login(name, password).await.status(), 401, "{name}");
    }
}

#[tokio::test]
async fn configured_users_are_created_with_their_roles() {
    let server = TestServer::spawn_with(|c| {
        c.admin.demo_accounts = false;
        c.admin.users = vec![
            InitialUser { username: "root".into(), password: Secret::new(PASSWORD), role: Role::Admin },
            InitialUser { username: "warden".into(), password: Secret::new(PASSWORD), role: Role::Moderator },
            InitialUser { username: "pleb".into(), password: Secret::new(PASSWORD), role: Role::User },
        ];
    })
    .await;
    for (name, role) in [("root", "admin"), ("warden", "moderator"), ("pleb", "user")] {
        let response = server.login(name, PASSWORD).await;
        assert_eq!(response.status(), 200, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["role"], role, "{name}");
    }
    // The role is real, not just reported.
    let mut root = server.raw("root").await;
    result_of(&root.call("broadcast_announcement", json!({"message": "hello", "level": "info"})).await);
}

fn upgrade_from(
    server: &TestServer,
    token: &str,
    origin: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("{}?token={token}", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("Origin", HeaderValue::from_str(origin).unwrap());
    request
}

#[tokio::test]
async fn cors_lets_the_listed_origin_in_and_keeps_others_out() {
    let server = TestServer::spawn_with(|c| c.server.cors = vec!["https://app.example".to_owned()]).await;
    let token = server.token("alice").await;

    let mut listed = RawClient::connect_request(upgrade_from(&server, &token, "https://app.example")).await.unwrap();
    listed.join("general").await;
    let other = RawClient::connect_request(upgrade_from(&server, &token, "https://evil.example")).await;
    assert_eq!(refused_status(&other), Some(403));

    let http = reqwest::Client::new();
    let allow_origin = |response: &reqwest::Response| {
        response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
    };
    let health = http.get(server.url("/health")).header("Origin", "https://app.example").send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(allow_origin(&health).as_deref(), Some("https://app.example"));

    let preflight = http
        .request(reqwest::Method::OPTIONS, server.url("/auth/login"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(allow_origin(&preflight).as_deref(), Some("https://app.example"));
    let methods = preflight.headers()["access-control-allow-methods"].to_str().unwrap().to_owned();
    assert!(methods.contains("POST"), "{methods}");

    let foreign = http.get(server.url("/health")).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(allow_origin(&foreign), None, "browsers get no permission for other origins");
}

#[tokio::test]
async fn a_configured_jwt_secret_signs_tokens_and_no_secret_file_is_written() {
    let secret = "a-configured-secret-that-is-long-enough-0123";
    let server = TestServer::spawn_with(|c| c.auth.jwt_secret = Some(Secret::new(secret))).await;
    let login: LoginResponse = server.login("alice", "alice123").await.json().await.unwrap();
    let ours = Tokens::new(secret.as_bytes(), 3600);
    assert_eq!(ours.verify(&login.token).unwrap().user_id, login.user_id, "the server signs with it");

    let (token, _) = ours.issue(UserId(login.user_id.0), &UserName::parse("alice").unwrap(), Role::User).unwrap();
    let mut alice = RawClient::connect(&server.ws_url(), Some(&token)).await.expect("and accepts what it signs");
    alice.join("general").await;
    assert!(!server.data_dir().join(SECRET_FILE).exists());
}

/// Runs the real binary in an empty directory (so no `config.toml` or
/// `.env` is picked up) with only the given variables.
fn binary(env: &[(&str, &str)]) -> (Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BINARY);
    command.current_dir(dir.path()).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.env("CHAT_DATA_DIR", dir.path().join("data")).env("PORT", "0");
    for (key, value) in env {
        command.env(key, value);
    }
    (command.spawn().unwrap(), dir)
}

/// Waits for the process to exit, killing it after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_invalid_value_stops_the_binary_with_an_error_naming_the_key() {
    let (mut child, _dir) = binary(&[("CHAT__CHAT__MAX_MESSAGE_LENGTH", "0")]);
    let status = wait_at_most(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("chat.max_message_length"), "stderr: {stderr}");
}

#[test]
fn a_bad_value_is_reported_once_naming_the_key_and_the_valid_values_without_a_backtrace() {
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), "[server]\nprot = 1\n").unwrap();
    let cases: [(&str, &str, &[&str]); 4] = [
        ("CHAT__LOGGING__FORMAT", "xml", &["logging.format", "`xml`", "`pretty`, `json`, `compact`"]),
        ("CHAT__SERVER__PORT", "lots", &["server.port", "\"lots\""]),
        ("CHAT__CHAT__MAX_MESSAGE_LENGTH", "0", &["chat.max_message_length", "between 1 and"]),
        ("CHAT_CONFIG_FILE", file.path().to_str().unwrap(), &["`server`", "`prot`", "`max_connections`"]),
    ];
    for (variable, value, expected) in cases {
        let (mut child, _dir) = binary(&[(variable, value), ("RUST_BACKTRACE", "1")]);
        let status = wait_at_most(&mut child, Duration::from_secs(10));
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{variable}={value}: {status}; stderr: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{variable}={value}: one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        for wanted in expected {
            assert_eq!(stderr.matches(wanted).count(), 1, "{variable}={value}: {wanted} once in: {stderr}");
        }
        for unwanted in ["Caused by", "backtrace", "enum LogFormat", "variant constructor"] {
            assert!(!stderr.to_lowercase().contains(&unwanted.to_lowercase()), "{variable}={value}: {stderr}");
        }
    }
}

#[tokio::test]
async fn the_binary_serves_on_the_configured_port_and_stops_on_sigterm() {
    let database = TestDatabase::create().await;
    let storage = database.as_ref().map(TestDatabase::env).unwrap_or_default();
    let mut env = vec![("CHAT__LOGGING__FORMAT", "json"), ("CHAT__ADMIN__DEMO_ACCOUNTS", "false")];
    env.extend(storage.iter().map(|(key, value)| (*key, value.as_str())));
    let (mut child, dir) = binary(&env);
    let stdout = child.stdout.take().unwrap();
    // The log names the address it bound (port 0 picks one).
    let address = within(
        "the listening log line",
        tokio::task::spawn_blocking(move || {
            for line in BufReader::new(stdout).lines() {
                let line: Value = serde_json::from_str(&line.unwrap()).unwrap_or_default();
                if line["fields"]["message"] == "listening" {
                    return line["fields"]["address"].as_str().unwrap().to_owned();
                }
            }
            panic!("the server never said where it listens");
        }),
    )
    .await
    .unwrap();

    let health: Value = reqwest::get(format!("http://{address}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    // The database file, or on PostgreSQL the signing secret alone.
    let kept = if database.is_some() { SECRET_FILE } else { chat_server::store::DATABASE_FILE };
    assert!(dir.path().join("data").join(kept).exists(), "CHAT_DATA_DIR is used");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || wait_at_most(&mut child, Duration::from_secs(10))).await.unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status}");
}
