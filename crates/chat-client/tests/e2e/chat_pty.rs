//! The interactive `chat`, driven in pseudo terminals the way a person
//! would use it.

use expectrl::Expect;

use crate::{
    pty::{self, Terminal, expect, expect_exit},
    support::{Cli, TestServer, WAIT},
};

fn chat(cli: &Cli, token: &str) -> Terminal {
    pty::spawn(cli, &["chat", "--token", token])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arriving_mid_line_does_not_garble_the_line_being_typed() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let bob_token = server.token("bob", "bob123").await;
    let url = server.url.clone();
    let scenario = tokio::task::spawn_blocking(move || {
        let alice_cli = Cli::for_url(&url);
        let bob_cli = Cli::for_url(&url);

        let mut alice = chat(&alice_cli, &alice_token);
        expect(&mut alice, "alice", "joined #general");
        expect(&mut alice, "alice", "#general> ");

        let mut bob = chat(&bob_cli, &bob_token);
        expect(&mut bob, "bob", "joined #general");
        expect(&mut bob, "bob", "#general> ");
        expect(&mut alice, "alice", "bob joined #general");

        // Alice is halfway through a line…
        alice.send("half-typed").unwrap();
        expect(&mut alice, "alice", "half-typed");
        expect(&mut bob, "bob", "alice is typing");

        // …when Bob's message arrives, above her line, which is redrawn.
        bob.send("hello from bob\r").unwrap();
        expect(&mut alice, "alice", "<bob> hello from bob");
        expect(&mut alice, "alice", "#general> half-typed");

        // Her line is intact: finishing it sends all of it.
        alice.send(" and finished\r").unwrap();
        expect(&mut bob, "bob", "<alice> half-typed and finished");
        expect(&mut alice, "alice", "<alice> half-typed and finished");

        // Hostile text is shown defused: a right-to-left override would
        // make "exe.txt" read as "txt.exe".
        bob.send("see file\u{202E}txt.exe\r").unwrap();
        expect(&mut alice, "alice", "see file\u{FFFD}txt.exe");

        // Commands: unknown ones get a hint, refused ones the server's reason.
        alice.send("/jion rust\r").unwrap();
        expect(&mut alice, "alice", "did you mean /join");
        alice.send("/kick bob\r").unwrap();
        expect(&mut alice, "alice", "cannot kick bob");

        // Rooms: join another, the prompt follows; /switch back.
        alice.send("/join rust\r").unwrap();
        expect(&mut alice, "alice", "joined #rust");
        expect(&mut alice, "alice", "#rust> ");
        alice.send("/switch general\r").unwrap();
        expect(&mut alice, "alice", "#general> ");

        alice.send("/quit\r").unwrap();
        expect_exit(&mut alice, "alice after /quit");
        // Ctrl-D leaves too. Sent once alice's leaving is on bob's screen,
        // so that the key does not race the line editor's redraw around
        // that line (once, under load, it went unanswered).
        expect(&mut bob, "bob", "alice left #general");
        bob.send("\u{4}").unwrap();
        expect_exit(&mut bob, "bob after Ctrl-D");
        let alice_status = alice.get_process().wait().expect("alice exits");
        let bob_status = bob.get_process().wait().expect("bob exits");
        (format!("{alice_status:?}"), format!("{bob_status:?}"))
    });
    let (alice_status, bob_status) =
        tokio::time::timeout(WAIT * 4, scenario).await.expect("the scenario finishes").expect("no panic");
    assert!(alice_status.contains("Exited") && alice_status.ends_with(", 0)"), "{alice_status}");
    assert!(bob_status.contains("Exited") && bob_status.ends_with(", 0)"), "{bob_status}");
}

/// Tokens in the expiry test live this long. The server counts whole
/// seconds, so a token lasts between one second less and this; what has to
/// fit in that is a login, a reconnect and one message on a loaded machine.
const SHORT_TOKEN_SECS: u64 = 8;

/// Long enough for a token of [`SHORT_TOKEN_SECS`] to have run out (a
/// clock, not a readiness wait).
fn wait_out_a_token() {
    std::thread::sleep(std::time::Duration::from_secs(SHORT_TOKEN_SECS + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_logs_in_again_without_leaving_the_room() {
    let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let short_lived = |config: &mut chat_server::config::Config| config.auth.token_ttl_secs = SHORT_TOKEN_SECS;
    let server = TestServer::start_with(data, "127.0.0.1:0".parse().unwrap(), short_lived).await;
    let token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    let scenario = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &token);
        expect(&mut alice, "alice", "joined #general");
        expect(&mut alice, "alice", "#general> ");
        wait_out_a_token();
        alice.send("too late\r").unwrap();
        expect(&mut alice, "alice", "/login");
        expect(&mut alice, "alice", "#general> ");

        // Twice, so a stale prompt left over from the first round would
        // show up as the password being sent as a message.
        for round in ["first", "second"] {
            if round == "second" {
                wait_out_a_token();
            }
            alice.send("/login\r").unwrap();
            // Typed the moment the prompt shows: the client must be ready
            // for it by then, and must not echo it.
            expect(&mut alice, "alice", "Password for alice");
            alice.send("alice123\r").unwrap();
            let shown = expect(&mut alice, "alice", "reconnected");
            assert!(!shown.contains("alice123"), "the password was echoed: {shown:?}");
            expect(&mut alice, "alice", "#general> ");
            alice.send(format!("back for the {round} time\r")).unwrap();
            expect(&mut alice, "alice", &format!("<alice> back for the {round} time"));
        }
        alice.send("/quit\r").unwrap();
        expect_exit(&mut alice, "alice after /quit");
    });
    tokio::time::timeout(WAIT * 4, scenario).await.expect("the scenario finishes").expect("no panic");
    let history = Cli::new(&server);
    let output =
        history.run(&["history", "--room", "general", "--token", &server.token("bob", "bob123").await], "").await;
    let text = crate::support::stdout(&output);
    assert!(!text.contains("alice123"), "the password was sent as a message: {text}");
    assert!(text.contains("back for the second time"), "{text}");
}
