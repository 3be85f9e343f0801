//! Losing the server and coming back.

use std::{collections::BTreeMap, time::Duration};

use crate::support::{Cli, TestServer, assert_success, stdout};

/// Sends `text` to #general with `token`; returns the message id.
async fn send(cli: &Cli, token: &str, text: &str) -> i64 {
    let output = cli.run(&["send", "--room", "general", "--token", token, text], "").await;
    assert_success(&output);
    stdout(&output).trim().parse().expect("send prints a message id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_while_the_client_was_away_appear_once_after_it_is_back() {
    let server = TestServer::spawn().await;
    let addr = server.addr;
    let alice_token = server.token("alice", "alice123").await;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;

    let mut tail = bob.spawn(&["tail", "--room", "general", "--json"]);
    tail.stderr_line(|l| l.contains("following #general")).await;
    let alice = Cli::new(&server);
    let before = send(&alice, &alice_token, "before the outage").await;
    tail.stdout_line(|l| l.contains("before the outage")).await;

    // The server goes down; the client notices and starts knocking.
    let data = server.stop().await;
    tail.stderr_line(|l| l.contains("connection lost")).await;

    // Meanwhile the room goes on, on the same data but where the client
    // cannot see it.
    let elsewhere = TestServer::start(data, "127.0.0.1:0".parse().unwrap()).await;
    let alice_elsewhere = Cli::for_url(&elsewhere.url);
    let mut missed = Vec::new();
    for text in ["missed one", "missed two", "missed three"] {
        missed.push(send(&alice_elsewhere, &alice_token, text).await);
    }
    let data = elsewhere.stop().await;

    // The server comes back where the client looks for it.
    let back = TestServer::start(data, addr).await;
    tail.stderr_line(|l| l.contains("reconnected")).await;
    for text in ["missed one", "missed two", "missed three"] {
        tail.stdout_line(|l| l.contains(text)).await;
    }
    let after = send(&Cli::new(&back), &alice_token, "after the outage").await;
    tail.stdout_line(|l| l.contains("after the outage")).await;

    // Each message exactly once, in order.
    let lines = tail.stdout_so_far(Duration::from_millis(500)).await;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut order = Vec::new();
    for line in &lines {
        let frame: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
        if frame["method"] == "message_received" {
            let id = frame["params"]["message_id"].as_i64().expect("an id");
            *seen.entry(id).or_default() += 1;
            order.push(id);
        }
    }
    let mut expected = vec![before];
    expected.extend(&missed);
    expected.push(after);
    assert_eq!(order, expected, "every message once and in order; lines: {lines:?}");
    assert!(seen.values().all(|count| *count == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expired_while_away_asks_for_a_new_login() {
    let short_lived = |config: &mut chat_server::config::Config| config.auth.token_ttl_secs = 2;
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let server = TestServer::start_with(data, "127.0.0.1:0".parse().unwrap(), short_lived).await;
    let addr = server.addr;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;
    let mut tail = bob.spawn(&["tail", "--room", "general"]);
    tail.stderr_line(|l| l.contains("following")).await;

    let data = server.stop().await;
    tail.stderr_line(|l| l.contains("connection lost")).await;
    // Let the token run out (a clock, not a readiness wait).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _back = TestServer::start_with(data, addr, short_lived).await;

    tail.stderr_line(|l| l.contains("login")).await;
    assert_eq!(tail.exit_code().await, Some(3));
}

/// Joins are rate limited per user on the server; a session in more rooms
/// than the join burst waits as told while rejoining instead of failing
/// the reconnect (which would then fail the same way for ever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_in_more_rooms_than_the_join_burst_rejoins_them_all() {
    use chat_api::RoomName;
    use chat_client::{CallError, ServerUrl, Session, SessionEvent, SessionOptions};

    let limited = |config: &mut chat_server::config::Config| {
        config.rate_limit.enabled = true;
        config.rate_limit.join_burst = 2;
        config.rate_limit.joins_per_minute = 600;
    };
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let server = TestServer::start_with(data, "127.0.0.1:0".parse().unwrap(), limited).await;
    let addr = server.addr;
    let token = server.token("bob", "bob123").await;
    let options = SessionOptions {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        ..SessionOptions::default()
    };
    let url = ServerUrl::parse(&server.url).unwrap();
    let (session, mut events) = Session::connect(url, token, options).await.unwrap();
    let rooms = ["one", "two", "three", "four", "five"];
    for room in rooms {
        let name = RoomName::parse(room).unwrap();
        loop {
            match session.join_room(&name).await {
                Ok(_) => break,
                Err(CallError::Refused { retry_after: Some(wait), .. }) => tokio::time::sleep(wait).await,
                Err(other) => panic!("joining {room}: {other}"),
            }
        }
    }

    let data = server.stop().await;
    let _back = TestServer::start_with(data, addr, limited).await;
    let reconnected = tokio::time::timeout(crate::support::WAIT, async {
        loop {
            match events.next().await {
                Some(SessionEvent::Reconnected(reconnected)) => break reconnected,
                Some(_) => {}
                None => panic!("the session ended"),
            }
        }
    })
    .await
    .expect("the session reconnects");
    let mut rejoined: Vec<&str> = reconnected.rooms.iter().map(RoomName::as_str).collect();
    rejoined.sort_unstable();
    assert_eq!(rejoined, ["five", "four", "one", "three", "two"]);
}
