//! `bidirectional-chat-server user …`, run against a live server's data
//! directory.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use serde_json::json;

use crate::support::{RawClient, TestServer};

fn operator(server: &TestServer, args: &[&str], stdin: &str) -> Output {
    let scratch = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bidirectional-chat-server"))
        .args(["--data-dir", server.data_dir().to_str().unwrap(), "user"])
        .envs(server.storage_env())
        .args(args)
        .current_dir(scratch.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoting_a_user_takes_effect_on_a_running_server() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw("alice").await;
    let refused = alice.call("kick_user", json!({"target_username": "bob", "reason": "x"})).await;
    assert_eq!(refused["error"]["code"], -32002);

    let out = tokio::task::block_in_place(|| operator(&server, &["set-role", "alice", "moderator"], ""));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice is now moderator");

    // The same connection, no reconnect: privileged calls read the role now.
    let allowed = alice.call("kick_user", json!({"target_username": "bob", "reason": "x"})).await;
    assert_eq!(allowed["result"], false, "bob is offline: {allowed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_can_be_replaced_from_stdin() {
    let server = TestServer::spawn().await;
    let out = tokio::task::block_in_place(|| operator(&server, &["set-password", "admin"], "a-much-better-password\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.login("admin", "admin123").await.status(), 401);
    assert_eq!(server.login("admin", "a-much-better-password").await.status(), 200);

    let short = tokio::task::block_in_place(|| operator(&server, &["set-password", "admin"], "short\n"));
    assert!(!short.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_and_unknown_names() {
    let server = TestServer::spawn().await;
    let out = tokio::task::block_in_place(|| operator(&server, &["delete", "bob"], ""));
    assert!(out.status.success());
    assert_eq!(server.login("bob", "bob123").await.status(), 401);

    let missing = tokio::task::block_in_place(|| operator(&server, &["delete", "nobody"], ""));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user named nobody"));
    let bad_role = tokio::task::block_in_place(|| operator(&server, &["set-role", "alice", "root"], ""));
    assert!(!bad_role.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_account_ends_its_live_sessions_and_its_presence() {
    let server = TestServer::spawn().await;
    let mut watcher = server.raw("alice").await;
    watcher.call("join_room", json!({"room_name": "general"})).await;
    let mut doomed = server.raw("doomed").await;
    doomed.call("join_room", json!({"room_name": "general"})).await;
    let token = server.token("doomed").await;
    let text_url = format!("{}/text?token={token}", server.ws_url());
    let mut doomed_text = RawClient::connect(&text_url, None).await.unwrap();
    watcher.notification("user_joined").await;

    let out = tokio::task::block_in_place(|| operator(&server, &["delete", "doomed"], ""));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The separate process's deletion reaches the running server's live
    // connections, on both endpoints, without any call from them.
    assert_eq!(doomed.close_frame().await, Some((4002, "account deleted".to_owned())));
    assert_eq!(doomed_text.close_frame().await, Some((4002, "account deleted".to_owned())));
    let left = watcher.notification("user_left").await;
    assert_eq!(left["params"]["username"], "doomed");

    // The name taken again is a new account, listed once.
    let mut again = server.raw("doomed").await;
    again.call("join_room", json!({"room_name": "general"})).await;
    let users = watcher.call("list_users", json!({"room_id": "general"})).await;
    assert_eq!(users["result"]["users"], json!(["alice", "doomed"]), "{users}");
}
