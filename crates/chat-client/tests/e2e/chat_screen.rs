//! What a person sees in `chat`: each line once, the typing status on one
//! row that is redrawn, nothing lost when the connection or the rate limit
//! gets in the way.

use crate::{
    pty::{Screen, status_row},
    support::{Cli, TestServer, WAIT, stdout},
};

fn chat(cli: &Cli, token: &str, who: &'static str) -> Screen {
    let mut screen = Screen::spawn(cli, &["chat", "--token", token], who);
    screen.wait_for("the prompt", |s| s.contains("#general>"));
    screen
}

/// Runs a blocking pty scenario within a bound.
async fn scenario<T: Send + 'static>(run: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(WAIT * 4, tokio::task::spawn_blocking(run))
        .await
        .expect("the scenario finishes")
        .expect("no panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_lines_show_once_and_typing_lives_on_one_status_row() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let bob_token = server.token("bob", "bob123").await;
    let url = server.url.clone();
    scenario(move || {
        let (alice_cli, bob_cli) = (Cli::for_url(&url), Cli::for_url(&url));
        let mut alice = chat(&alice_cli, &alice_token, "alice");
        let mut bob = chat(&bob_cli, &bob_token, "bob");
        alice.wait_for("bob joining", |s| s.contains("bob joined #general"));

        for round in 1..=3 {
            bob.send("typing ");
            let screen = alice
                .wait_for("bob typing on the status row", |s| status_row(s, "#general>") == Some("bob is typing…"));
            assert_eq!(screen.matches("is typing").count(), 1, "{screen}");
            bob.send(&format!("round {round}\r"));
            let said = format!("<bob> typing round {round}");
            let screen = alice.wait_for("bob's message", |s| s.contains(&said) && !s.contains("is typing"));
            assert_eq!(status_row(&screen, "#general>"), Some(""), "{screen}");
        }

        // Alice's own line: the typed copy goes, the server's echo stays.
        alice.send("only once please\r");
        alice.wait_for("her message", |s| s.contains("<alice> only once please"));
        alice.send("/who\r");
        let screen = alice.wait_for("the answer to /who", |s| s.contains("/who") && s.matches("alice").count() > 3);
        assert_eq!(screen.matches("only once please").count(), 1, "{screen}");
        // A command stays on screen as typed.
        assert!(screen.contains("#general> /who"), "{screen}");
        bob.send("\u{4}");
        alice.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_typed_while_reconnecting_are_sent_in_order_once_back() {
    let server = TestServer::spawn().await;
    let addr = server.addr;
    let alice_token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (lost_tx, lost_rx) = std::sync::mpsc::channel::<()>();
    let (restarted_tx, restarted_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice");
        ready_tx.send(()).unwrap();
        lost_rx.recv().unwrap();
        alice.wait_for("the connection lost", |s| s.contains("connection lost"));
        for line in ["first while away", "second while away", "third while away"] {
            alice.send(&format!("{line}\r"));
            alice.wait_for("the line kept", |s| s.contains("waiting to send") && s.contains(line));
        }
        restarted_tx.send(()).unwrap();
        alice.wait_for("the lines sent", |s| s.contains("<alice> third while away"));
        alice.send("\u{4}");
    });
    tokio::task::spawn_blocking(move || ready_rx.recv_timeout(WAIT).expect("alice connected")).await.unwrap();
    let data = server.stop().await;
    lost_tx.send(()).unwrap();
    tokio::task::spawn_blocking(move || restarted_rx.recv_timeout(WAIT * 2).expect("the lines were typed"))
        .await
        .unwrap();
    let back = TestServer::start(data, addr).await;
    tokio::time::timeout(WAIT * 4, client).await.expect("the scenario finishes").expect("no panic");

    let history = Cli::new(&back);
    let output =
        history.run(&["history", "--room", "general", "--token", &back.token("bob", "bob123").await], "").await;
    let text = stdout(&output);
    let positions: Vec<usize> = ["first while away", "second while away", "third while away"]
        .iter()
        .map(|line| text.find(line).unwrap_or_else(|| panic!("{line} was lost: {text}")))
        .collect();
    assert!(positions.is_sorted(), "out of order: {text}");
    assert_eq!(text.matches("while away").count(), 3, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_burst_is_paced_to_the_rate_limit_and_nothing_is_lost() {
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let strict = |config: &mut chat_server::config::Config| {
        config.rate_limit.enabled = true;
        config.rate_limit.message_burst = 2;
        config.rate_limit.messages_per_minute = 600;
    };
    let server = TestServer::start_with(data, "127.0.0.1:0".parse().unwrap(), strict).await;
    let alice_token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    scenario(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice");
        // Without bracketed paste a terminal sends a paste as typed lines.
        alice.send("pasted 1\rpasted 2\rpasted 3\rpasted 4\rpasted 5\rpasted 6\r");
        let screen = alice.wait_for("every line", |s| s.contains("<alice> pasted 6"));
        assert!(screen.contains("sending too fast"), "the limit was never hit: {screen}");
        let shown: Vec<usize> =
            (1..=6).map(|i| screen.find(&format!("<alice> pasted {i}")).expect("each line")).collect();
        assert!(shown.is_sorted(), "{screen}");
        assert!(!screen.contains("not sent"), "{screen}");
        alice.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_current_room_moves_the_prompt_to_another() {
    let server = TestServer::spawn().await;
    let admin_token = server.token("admin", "admin123").await;
    let url = server.url.clone();
    scenario(move || {
        let cli = Cli::for_url(&url);
        let mut admin = chat(&cli, &admin_token, "admin");
        admin.send("/join doomed\r");
        admin.wait_for("the new room's prompt", |s| s.lines().last().is_some_and(|l| l.starts_with("#doomed>")));
        admin.send("/delete-room doomed\r");
        let screen = admin
            .wait_for("the prompt back in #general", |s| s.lines().last().is_some_and(|l| l.starts_with("#general>")));
        assert!(screen.contains("now talking in #general"), "{screen}");
        admin.send("still here\r");
        admin.wait_for("the message in #general", |s| s.contains("<admin> still here"));
        admin.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_deleted_by_someone_else_moves_the_prompt_and_sends_nothing_astray() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let admin = server.token("admin", "admin123").await;
    let url = server.url.clone();
    let (typed_tx, typed_rx) = std::sync::mpsc::channel::<()>();
    let (deleted_tx, deleted_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice");
        alice.send("/join doomed\r");
        alice.wait_for("#doomed", |s| s.lines().last().is_some_and(|l| l.starts_with("#doomed>")));
        alice.send("meant for doomed");
        alice.wait_for("the half line", |s| s.contains("#doomed> meant for doomed"));
        typed_tx.send(()).unwrap();
        deleted_rx.recv().unwrap();
        alice.wait_for("the switch", |s| s.contains("#doomed was deleted; now talking in #general"));
        alice.send("\r");
        let screen = alice.wait_for("the refusal", |s| s.contains("not sent: it was typed for #doomed"));
        assert!(!screen.contains("<alice> meant for doomed"), "{screen}");
        alice.wait_for("the new prompt", |s| s.lines().last().is_some_and(|l| l.starts_with("#general>")));
        alice.send("hello general\r");
        alice.wait_for("the message in #general", |s| s.contains("<alice> hello general"));
        alice.send("\u{4}");
    });
    let url = chat_client::ServerUrl::parse(&server.url).unwrap();
    let (session, _events) =
        chat_client::Session::connect(url, admin, chat_client::SessionOptions::default()).await.unwrap();
    tokio::task::spawn_blocking(move || typed_rx.recv_timeout(WAIT).expect("alice typed")).await.unwrap();
    session.delete_room(&chat_api::RoomId::parse("doomed").unwrap()).await.unwrap();
    deleted_tx.send(()).unwrap();
    tokio::time::timeout(WAIT * 4, client).await.expect("the scenario finishes").expect("no panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_user_can_come_back_to_all_their_rooms() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let moderator = server.token("moderator", "mod123").await;
    let url = server.url.clone();
    let (kick_tx, kick_rx) = std::sync::mpsc::channel::<()>();
    let (kicked_tx, kicked_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice");
        alice.send("/join rust\r");
        alice.wait_for("#rust", |s| s.lines().last().is_some_and(|l| l.starts_with("#rust>")));
        kick_tx.send(()).unwrap();
        alice.wait_for("the offer", |s| s.contains("type /reconnect to come back to #general, #rust"));
        kicked_rx.recv().unwrap();
        alice.send("/reconnect\r");
        alice.wait_for("the rooms again", |s| s.contains("rejoined #general, #rust"));
        alice.send("back in rust\r");
        alice.wait_for("the message", |s| s.contains("<alice> back in rust"));
        alice.send("\u{4}");
    });
    let url = chat_client::ServerUrl::parse(&server.url).unwrap();
    let (session, _events) =
        chat_client::Session::connect(url, moderator, chat_client::SessionOptions::default()).await.unwrap();
    tokio::task::spawn_blocking(move || kick_rx.recv_timeout(WAIT).expect("alice joined #rust")).await.unwrap();
    let user = chat_api::UserName::parse("alice").unwrap();
    assert!(session.kick_user(&user, &chat_api::Reason::parse("cool off").unwrap()).await.unwrap());
    kicked_tx.send(()).unwrap();
    tokio::time::timeout(WAIT * 4, client).await.expect("the scenario finishes").expect("no panic");
}
