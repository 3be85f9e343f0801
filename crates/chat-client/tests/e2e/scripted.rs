//! `rooms`, `send`, `history`, `tail`.

use chat_api::Message;

use crate::support::{Cli, TestServer, assert_exit, assert_success, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_messages_come_back_in_the_history() {
    let server = TestServer::spawn().await;
    let alice = Cli::new(&server);
    alice.login("alice", "alice123").await;

    let first = alice.run(&["send", "--room", "general", "hello", "world"], "").await;
    assert_success(&first);
    let first_id: i64 = stdout(&first).trim().parse().expect("send prints the message id");

    let second = alice.run(&["send", "--room", "general"], "from stdin\n").await;
    assert_success(&second);
    let second_id: i64 = stdout(&second).trim().parse().unwrap();
    assert!(second_id > first_id);

    let history = alice.run(&["history", "--room", "general", "--limit", "2"], "").await;
    assert_success(&history);
    let lines: Vec<String> = stdout(&history).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    // Each message ends with its id, for replying and reacting.
    assert!(lines[0].ends_with(&format!("<alice> hello world  #{first_id}")), "{lines:?}");
    assert!(lines[1].ends_with(&format!("<alice> from stdin  #{second_id}")), "{lines:?}");

    let json = alice.run(&["history", "--room", "general", "--json"], "").await;
    assert_success(&json);
    let messages: Vec<Message> =
        stdout(&json).lines().map(|line| serde_json::from_str(line).expect("one message per line")).collect();
    let ids: Vec<i64> = messages.iter().map(|m| m.message_id.0).collect();
    assert!(ids.ends_with(&[first_id, second_id]), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_lists_rooms_and_send_refuses_bad_input() {
    let server = TestServer::spawn().await;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;
    assert_success(&bob.run(&["send", "--create", "--room", "Lobby", "hi"], "").await);

    let rooms = bob.run(&["rooms"], "").await;
    assert_success(&rooms);
    assert!(stdout(&rooms).contains("#general") && stdout(&rooms).contains("#Lobby"), "{}", stdout(&rooms));

    let json = bob.run(&["rooms", "--json"], "").await;
    assert_success(&json);
    assert!(stdout(&json).lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));

    let control = bob.run(&["send", "--room", "general", "bell\u{7}"], "").await;
    assert_exit(&control, 2);
    let empty = bob.run(&["send", "--room", "general"], "").await;
    assert_exit(&empty, 2);
    assert!(stderr(&empty).contains("message"), "{}", stderr(&empty));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_with_the_authentication_exit_code() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    let output = cli.run(&["rooms", "--token", "not.a.token"], "").await;
    assert_exit(&output, 3);
    assert!(stderr(&output).contains("token"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_messages_and_events_as_they_arrive() {
    let server = TestServer::spawn().await;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;
    let alice = Cli::new(&server);
    alice.login("alice", "alice123").await;

    let mut tail = bob.spawn(&["tail", "--room", "general"]);
    tail.stderr_line(|l| l.contains("following #general")).await;

    assert_success(&alice.run(&["send", "--room", "general", "first"], "").await);
    assert_success(&alice.run(&["send", "--room", "general", "second"], "").await);
    tail.stdout_line(|l| l.contains("<alice> first  #")).await;
    tail.stdout_line(|l| l.contains("<alice> second  #")).await;
    // `send` joins and leaves, and tail shows that too.
    assert!(tail.seen_stdout.iter().any(|l| l.contains("alice joined #general")), "{:?}", tail.seen_stdout);

    let mut json_tail = alice.spawn(&["tail", "--room", "general", "--json"]);
    json_tail.stderr_line(|l| l.contains("following")).await;
    assert_success(&bob.run(&["send", "--room", "general", "as json"], "").await);
    let line = json_tail.stdout_line(|l| l.contains("as json")).await;
    let frame: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(frame["method"], "message_received");
    assert_eq!(frame["params"]["username"], "bob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_tail_stops_with_the_reason_and_does_not_reconnect() {
    let server = TestServer::spawn().await;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;
    let mut tail = bob.spawn(&["tail", "--room", "general"]);
    tail.stderr_line(|l| l.contains("following")).await;

    let moderator = server.token("moderator", "mod123").await;
    let (session, _events) = chat_client::Session::connect(
        chat_client::ServerUrl::parse(&server.url).unwrap(),
        moderator,
        chat_client::SessionOptions::default(),
    )
    .await
    .unwrap();
    let kicked = session
        .kick_user(&chat_api::UserName::parse("bob").unwrap(), &chat_api::Reason::parse("too loud").unwrap())
        .await
        .unwrap();
    assert!(kicked);

    let line = tail.stderr_line(|l| l.contains("kicked")).await;
    assert!(line.contains("too loud"), "{line}");
    assert_eq!(tail.exit_code().await, Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_tail_stops_and_says_for_how_long() {
    let server = TestServer::spawn().await;
    let moderator = server.token("moderator", "mod123").await;
    let (session, _events) = chat_client::Session::connect(
        chat_client::ServerUrl::parse(&server.url).unwrap(),
        moderator,
        chat_client::SessionOptions::default(),
    )
    .await
    .unwrap();
    for (name, password, duration, said) in [
        ("bob", "bob123", None, "banned permanently: spam"),
        ("alice", "alice123", Some(std::time::Duration::from_secs(7200)), "banned until 20"),
    ] {
        let cli = Cli::new(&server);
        cli.login(name, password).await;
        let mut tail = cli.spawn(&["tail", "--room", "general"]);
        tail.stderr_line(|l| l.contains("following")).await;
        session
            .ban_user(&chat_api::UserName::parse(name).unwrap(), &chat_api::Reason::parse("spam").unwrap(), duration)
            .await
            .unwrap();
        let line = tail.stderr_line(|l| l.contains("banned")).await;
        assert!(line.contains(said), "{line}");
        assert_eq!(tail.exit_code().await, Some(4));

        // A banned user cannot come back in either.
        let again = cli.run(&["rooms"], "").await;
        assert_exit(&again, 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_commands_never_create_rooms() {
    let server = TestServer::spawn().await;
    let bob = Cli::new(&server);
    bob.login("bob", "bob123").await;
    let rooms = || async { stdout(&bob.run(&["rooms", "--json"], "").await) };

    for args in [&["history", "--room", "no-such-room"][..], &["tail", "--room", "#no-such-room"]] {
        let output = bob.run(args, "").await;
        assert_exit(&output, 7);
        assert!(stderr(&output).contains("no room #no-such-room"), "{}", stderr(&output));
    }
    // Sending needs --create to make a room, and says so.
    let output = bob.run(&["send", "--room", "no-such-room", "hello?"], "").await;
    assert_exit(&output, 7);
    assert!(stderr(&output).contains("--create"), "{}", stderr(&output));
    assert!(!rooms().await.contains("no-such-room"), "{}", rooms().await);

    // `#room` works as in `/join`, and --create creates.
    let created = bob.run(&["send", "--create", "--room", "#Fresh", "first words"], "").await;
    assert_success(&created);
    assert!(stderr(&created).contains("sent to #Fresh as bob"), "{}", stderr(&created));
    let history = bob.run(&["history", "--room", "#fresh"], "").await;
    assert_success(&history);
    assert!(stdout(&history).contains("<bob> first words"), "{}", stdout(&history));

    // A deleted room stays deleted when somebody reads it.
    let admin = server.token("admin", "admin123").await;
    let (session, _events) = chat_client::Session::connect(
        chat_client::ServerUrl::parse(&server.url).unwrap(),
        admin,
        chat_client::SessionOptions::default(),
    )
    .await
    .unwrap();
    session.delete_room(&chat_api::RoomId::parse("fresh").unwrap()).await.unwrap();
    assert_exit(&bob.run(&["history", "--room", "fresh"], "").await, 7);
    assert_exit(&bob.run(&["send", "--room", "fresh", "anyone?"], "").await, 7);
    assert!(!rooms().await.to_lowercase().contains("fresh"), "{}", rooms().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_prints_matches_newest_first_with_their_room() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    cli.login("bob", "bob123").await;
    for (room, text) in [("general", "the deployment finished"), ("ops", "deploying again"), ("ops", "lunch")] {
        assert_success(&cli.run(&["send", "--room", room, "--create", text], "").await);
    }
    let output = cli.run(&["search", "deploy"], "").await;
    assert_success(&output);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("#ops <bob> deploying again"), "{lines:?}");
    assert!(lines[1].contains("#general <bob> the deployment finished"), "{lines:?}");

    let output = cli.run(&["search", "deploy", "--room", "general", "--json"], "").await;
    assert_success(&output);
    let found: Vec<Message> =
        stdout(&output).lines().map(|line| serde_json::from_str(line).expect("a message per line")).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].text.as_str(), "the deployment finished");
}
