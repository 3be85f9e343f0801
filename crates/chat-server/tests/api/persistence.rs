//! What survives a restart, catching up after being away, history paging,
//! and graceful shutdown.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::support::{PASSWORD, RawClient, RawClientExt, TestServer, error_code, on_postgres, result_of};

const INVALID_PARAMS: i64 = -32602;
const NOT_FOUND: i64 = -32003;
const NOT_MEMBER: i64 = -32006;

fn texts(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix} {i}")).collect()
}

fn ids_of(messages: &Value) -> Vec<i64> {
    messages.as_array().unwrap().iter().map(|m| m["message_id"].as_i64().unwrap()).collect()
}

fn texts_of(messages: &Value) -> Vec<&str> {
    messages.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn accounts_rooms_and_history_survive_a_restart() {
    let mut server = TestServer::spawn().await;
    assert_eq!(server.register("carol", PASSWORD).await.status(), 201);
    let mut alice = server.raw_in("alice", "Archive").await;
    let before = alice.send_many("archive", &texts("kept", 3)).await;
    drop(alice);

    server.restart().await;

    assert_eq!(server.login("carol", PASSWORD).await.status(), 200);
    let mut alice = server.raw("alice").await;
    let rooms = result_of(&alice.call("list_rooms", json!({})).await)["rooms"].clone();
    let archive = rooms.as_array().unwrap().iter().find(|r| r["room_id"] == "archive").cloned();
    assert_eq!(archive.map(|r| r["room_name"].clone()), Some(json!("Archive")), "{rooms}");
    let joined = alice.join("archive").await;
    assert_eq!(ids_of(&joined["recent_messages"]), before);
    assert_eq!(texts_of(&joined["recent_messages"]), ["kept 1", "kept 2", "kept 3"]);
}

#[tokio::test]
async fn joins_after_a_restart_see_old_and_new_messages_as_one_history() {
    let mut server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let old = alice.send_many("general", &texts("old", 3)).await;
    drop(alice);

    server.restart().await;

    let mut alice = server.raw_in("alice", "general").await;
    let new = alice.send_many("general", &texts("new", 2)).await;
    let mut bob = server.raw("bob").await;
    let joined = bob.join("general").await;
    let everything: Vec<i64> = old.iter().chain(&new).copied().collect();
    assert_eq!(ids_of(&joined["recent_messages"]), everything, "stored before the restart, then since");
    let since_old =
        result_of(&bob.call("join_room", json!({"room_name": "general", "since_message_id": old[1]})).await).clone();
    assert_eq!(ids_of(&since_old["recent_messages"]), everything[2..].to_vec());
    let since_new =
        result_of(&bob.call("join_room", json!({"room_name": "general", "since_message_id": new[0]})).await).clone();
    assert_eq!(ids_of(&since_new["recent_messages"]), [new[1]]);
}

#[tokio::test]
async fn message_ids_keep_increasing_across_restarts() {
    let mut server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let first = alice.send_many("general", &texts("before", 2)).await;
    // The newest ids belong to a room that is then deleted: they must not
    // be handed out again either.
    alice.join("doomed").await;
    let doomed = alice.send_many("doomed", &texts("doomed", 2)).await;
    let mut admin = server.raw("admin").await;
    result_of(&admin.call("delete_room", json!({"room_id": "doomed"})).await);
    drop((alice, admin));

    server.restart().await;

    let mut alice = server.raw_in("alice", "general").await;
    let after = alice.send_many("general", &texts("after", 2)).await;
    let newest_before = first.iter().chain(&doomed).max().copied().unwrap();
    assert!(after[0] > newest_before, "ids before {first:?} {doomed:?}, after {after:?}");
    assert!(after[0] < after[1]);
}

#[tokio::test]
async fn a_token_issued_before_a_restart_still_opens_a_connection() {
    let mut server = TestServer::spawn().await;
    let token = server.token("alice").await;
    server.restart().await;

    let mut alice = RawClient::connect(&server.ws_url(), Some(&token)).await.expect("the old token is accepted");
    alice.join("general").await;
    let secret = server.data_dir().join(chat_server::auth::SECRET_FILE);
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{} is private", secret.display());
}

#[tokio::test]
async fn joining_with_since_message_id_returns_what_was_missed() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let mut bob = server.raw_in("bob", "general").await;
    let seen = alice.send_many("general", &texts("seen", 3)).await;
    let last_seen = *seen.last().unwrap();
    drop(bob);

    let missed = alice.send_many("general", &texts("missed", 4)).await;
    bob = server.raw("bob").await;
    let joined =
        result_of(&bob.call("join_room", json!({"room_name": "general", "since_message_id": last_seen})).await).clone();
    assert_eq!(ids_of(&joined["recent_messages"]), missed, "only what came after, oldest first");
    assert_eq!(texts_of(&joined["recent_messages"]), ["missed 1", "missed 2", "missed 3", "missed 4"]);

    let joined_again = result_of(
        &bob.call("join_room", json!({"room_name": "general", "since_message_id": *missed.last().unwrap()})).await,
    )
    .clone();
    assert_eq!(joined_again["recent_messages"], json!([]), "nothing missed since the newest");
}

#[tokio::test]
async fn joining_without_since_returns_the_newest_fifty_messages() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let sent = alice.send_many("general", &texts("m", 55)).await;

    let mut bob = server.raw("bob").await;
    let joined = bob.join("general").await;
    assert_eq!(ids_of(&joined["recent_messages"]), sent[5..].to_vec());
    let page = result_of(&bob.call("get_history", json!({"room_id": "general"})).await).clone();
    assert_eq!(ids_of(&page["messages"]), sent[5..].to_vec(), "get_history pages 50 by default");
    assert_eq!(page["has_more"], true);
}

#[tokio::test]
async fn a_long_absence_returns_the_newest_missed_messages_and_history_pages_back_to_the_rest() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let last_seen = *alice.send_many("general", &texts("seen", 1)).await.last().unwrap();
    let missed = alice.send_many("general", &texts("missed", 210)).await;

    let mut bob = server.raw("bob").await;
    let joined =
        result_of(&bob.call("join_room", json!({"room_name": "general", "since_message_id": last_seen})).await).clone();
    let caught_up = ids_of(&joined["recent_messages"]);
    assert_eq!(caught_up, missed[10..].to_vec(), "the newest 200 after since_message_id");
    let rest =
        bob.call("get_history", json!({"room_id": "general", "before_message_id": caught_up[0], "limit": 200})).await;
    let rest = result_of(&rest).clone();
    let mut older = ids_of(&rest["messages"]);
    assert_eq!(older.split_off(1), missed[..10].to_vec(), "the gap, reached by paging back");
    assert_eq!(older, [last_seen]);
}

#[tokio::test]
async fn history_pages_backwards_oldest_first() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let sent = alice.send_many("general", &texts("m", 7)).await;

    let page = |before: Option<i64>| {
        let mut params = json!({"room_id": "general", "limit": 3});
        if let Some(id) = before {
            params["before_message_id"] = json!(id);
        }
        params
    };
    let newest = result_of(&alice.call("get_history", page(None)).await).clone();
    assert_eq!(ids_of(&newest["messages"]), sent[4..].to_vec());
    assert_eq!(newest["has_more"], true);
    let older = result_of(&alice.call("get_history", page(Some(sent[4]))).await).clone();
    assert_eq!(ids_of(&older["messages"]), sent[1..4].to_vec());
    assert_eq!(older["has_more"], true);
    let oldest = result_of(&alice.call("get_history", page(Some(sent[1]))).await).clone();
    assert_eq!(ids_of(&oldest["messages"]), sent[..1].to_vec());
    assert_eq!(oldest["has_more"], false);

    let all = result_of(&alice.call("get_history", json!({"room_id": "general"})).await).clone();
    assert_eq!(ids_of(&all["messages"]), sent, "default limit covers all seven");
    assert_eq!(all["has_more"], false);
}

#[tokio::test]
async fn history_refuses_bad_limits_strangers_and_unknown_rooms() {
    let server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    for limit in [0, 201] {
        let reply = alice.call("get_history", json!({"room_id": "general", "limit": limit})).await;
        assert_eq!(error_code(&reply), INVALID_PARAMS, "limit {limit}");
    }
    let reply = alice.call("get_history", json!({"room_id": "general", "limit": 200})).await;
    result_of(&reply);

    let mut bob = server.raw("bob").await;
    assert_eq!(error_code(&bob.call("get_history", json!({"room_id": "general"})).await), NOT_MEMBER);
    assert_eq!(error_code(&bob.call("get_history", json!({"room_id": "nowhere"})).await), NOT_FOUND);
}

#[tokio::test]
async fn stopping_the_server_closes_connections_with_1001_and_keeps_acknowledged_messages() {
    let mut server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    let acknowledged = alice.send_many("general", &["last words".to_owned()]).await;

    let ((), close) = tokio::join!(server.stop(), alice.close_code());
    assert_eq!(close, Some(1001));

    server.restart().await;
    let mut bob = server.raw_in("bob", "general").await;
    let history = result_of(&bob.call("get_history", json!({"room_id": "general"})).await).clone();
    assert_eq!(ids_of(&history["messages"]), acknowledged);
    assert_eq!(texts_of(&history["messages"]), ["last words"]);
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The files the server keeps in its data directory: on SQLite the
/// database with its WAL and shared-memory files; on both, the secret.
fn data_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let database: &[&str] = if on_postgres() { &[] } else { &["chat.db", "chat.db-wal", "chat.db-shm"] };
    database.iter().chain(&[chat_server::auth::SECRET_FILE]).map(|f| dir.join(f)).collect()
}

#[tokio::test]
async fn a_fresh_data_directory_is_private_to_the_server() {
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = parent.path().join("fresh");
    let server = TestServer::spawn_with(|c| c.chat.data_dir = dir.clone()).await;
    let mut alice = server.raw_in("alice", "general").await;
    alice.send_many("general", &texts("private", 2)).await;

    assert_eq!(mode_of(&dir), 0o700, "{}", dir.display());
    for file in data_files(&dir) {
        assert_eq!(mode_of(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn an_open_data_directory_is_tightened_on_start() {
    let mut server = TestServer::spawn().await;
    let mut alice = server.raw_in("alice", "general").await;
    alice.send_many("general", &texts("before", 2)).await;
    drop(alice);
    server.stop().await;
    let dir = server.data_dir().to_path_buf();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in data_files(&dir) {
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }

    server.restart().await;
    let mut alice = server.raw_in("alice", "general").await;
    alice.send_many("general", &texts("after", 1)).await;

    assert_eq!(mode_of(&dir), 0o700, "{}", dir.display());
    for file in data_files(&dir) {
        assert_eq!(mode_of(&file), 0o600, "{}", file.display());
    }
}
