//! Direct conversations in `chat`: `/msg`, `/dm`, `/dms`.

use crate::{
    scenes::{chat, last_row, scenario},
    support::{Cli, TestServer},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_reaches_the_other_user_who_answers_in_the_conversation() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let bob_token = server.token("bob", "bob123").await;
    let url = server.url.clone();
    scenario(move || {
        let (alice_cli, bob_cli) = (Cli::for_url(&url), Cli::for_url(&url));
        let mut alice = chat(&alice_cli, &alice_token, "alice", "#general>");
        let mut bob = chat(&bob_cli, &bob_token, "bob", "#general>");

        // Sent from #general, shown there tagged with the conversation.
        alice.send("/msg bob psst, bob\r");
        alice.wait_for("her direct message", |s| s.contains("@bob <alice> psst, bob"));
        let screen = bob.wait_for("alice's direct message", |s| s.contains("@alice <alice> psst, bob"));
        assert_eq!(screen.matches("psst, bob").count(), 1, "{screen}");

        bob.send("/dms\r");
        bob.wait_for("the conversation listed as unread", |s| {
            s.lines().any(|row| row.contains("@alice") && row.contains("1 unread"))
        });

        // In the conversation, a plain line goes to alice.
        bob.send("/dm alice\r");
        let screen = bob.wait_for("the conversation's prompt", |s| last_row(s).starts_with("@alice>"));
        assert!(screen.contains("talking with @alice"), "{screen}");
        bob.send("hello alice, privately\r");
        bob.wait_for("his own line", |s| s.contains("<bob> hello alice, privately"));
        alice.wait_for("bob's answer", |s| s.contains("@bob <bob> hello alice, privately"));

        alice.send("/dms\r");
        alice.wait_for("the conversation in her list", |s| {
            s.lines().any(|row| row.contains("@bob") && row.contains("hello alice, privately"))
        });
        // Nobody else saw any of it in #general.
        alice.send("/switch general\r");
        alice.wait_for("back in #general", |s| last_row(s).starts_with("#general>"));
        alice.send("\u{4}");
        bob.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_user_cannot_write_directly() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let bob_token = server.token("bob", "bob123").await;
    let url = server.url.clone();
    scenario(move || {
        let (alice_cli, bob_cli) = (Cli::for_url(&url), Cli::for_url(&url));
        let mut alice = chat(&alice_cli, &alice_token, "alice", "#general>");
        alice.send("/block bob\r");
        alice.wait_for("the block", |s| s.contains("blocked bob"));
        let mut bob = chat(&bob_cli, &bob_token, "bob", "#general>");
        bob.send("/msg alice are you there?\r");
        let screen = bob.wait_for("the refusal", |s| s.contains("cannot write to alice"));
        assert!(!screen.contains("<bob> are you there?"), "{screen}");
        alice.send("/blocked\r");
        alice.wait_for("the list", |s| s.contains("blocked: bob"));
        alice.send("\u{4}");
        bob.send("\u{4}");
    })
    .await;
}
