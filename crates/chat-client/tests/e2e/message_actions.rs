//! Replies, edits, deletes, reactions and mentions in `chat`: each shown
//! once, naming the message it is about.

use chat_api::{Emoji, MessageId};

use crate::{
    scenes::{chat, general, id_after, say, someone},
    support::{Cli, TestServer, WAIT},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_edits_reactions_and_deletes_name_the_message_they_touch() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let (bob, _bob_events) = someone(&server, "bob", "bob123").await;
    let question = say(&bob, "general", "is the deploy done?").await;
    let url = server.url.clone();
    let (reacted_tx, reacted_rx) = std::sync::mpsc::channel::<i64>();
    let (bob_reacted_tx, bob_reacted_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice", "#general>");
        let screen = alice.wait_for("bob's question", |s| s.contains("<bob> is the deploy done?"));
        let question = id_after(&screen, "is the deploy done?");

        alice.send(&format!("/reply #{question} yes, since noon\r"));
        let quote = format!("<alice> ↳ reply to #{question} <bob> is the deploy done?");
        let screen = alice.wait_for("her reply", |s| s.contains(&quote) && s.contains("yes, since noon  #"));
        let answer = id_after(&screen, "yes, since noon");

        // Without an id, /edit changes her own last message.
        alice.send("/edit yes, since eleven\r");
        alice.wait_for("the edit", |s| s.contains(&format!("✎ #{answer} <alice> edited: yes, since eleven")));

        alice.send(&format!("/react {question} 👍\r"));
        alice.wait_for("her reaction", |s| s.contains(&format!("alice reacted 👍 to #{question} <bob>")));
        reacted_tx.send(answer).unwrap();
        bob_reacted_rx.recv().unwrap();
        alice.wait_for("bob's reaction", |s| {
            s.contains(&format!("bob reacted 🎉 to #{answer} <alice> yes, since eleven"))
        });

        alice.send("/delete\r");
        alice
            .wait_for("the delete", |s| s.contains(&format!("✗ #{answer} <alice> yes, since eleven: message deleted")));
        alice.send(&format!("/unreact {question} 👍\r"));
        alice.wait_for("the reaction taken back", |s| s.contains(&format!("alice took back 👍 on #{question}")));
        alice.send("\u{4}");
        answer
    });
    let answer =
        tokio::task::spawn_blocking(move || reacted_rx.recv_timeout(WAIT).expect("alice answered")).await.unwrap();
    bob.add_reaction(MessageId(answer), &Emoji::parse("🎉").unwrap()).await.unwrap();
    bob_reacted_tx.send(()).unwrap();
    let answer = tokio::time::timeout(WAIT * 4, client).await.expect("the scenario finishes").expect("no panic");

    // The deleted reply is gone from the history; the question keeps
    // only what was not taken back.
    let history = bob.get_history(&general(), None, 50).await.unwrap();
    assert!(history.messages.iter().all(|m| m.message_id.0 != answer), "{history:?}");
    let asked = history.messages.iter().find(|m| m.message_id == question).expect("the question stays");
    assert!(asked.reactions.is_empty(), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_rings_the_bell_and_stands_out() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let (bob, _bob_events) = someone(&server, "bob", "bob123").await;
    let url = server.url.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice", "#general>");
        ready_tx.send(()).unwrap();
        let screen =
            alice.wait_until("the mention and its bell", |s, bells| s.contains("<bob> lunch, @alice?") && bells > 0);
        let row = screen.lines().find(|row| row.contains("lunch, @alice?")).unwrap();
        assert!(row.starts_with("▶ "), "{row:?}");
        // A message that does not mention her rings nothing.
        let bells = alice.bells();
        alice.wait_for("the next message", |s| s.contains("<bob> never mind"));
        assert_eq!(alice.bells(), bells);
        alice.send("\u{4}");
    });
    tokio::task::spawn_blocking(move || ready_rx.recv_timeout(WAIT).expect("alice is in")).await.unwrap();
    say(&bob, "general", "lunch, @alice?").await;
    say(&bob, "general", "never mind").await;
    tokio::time::timeout(WAIT * 4, client).await.expect("the scenario finishes").expect("no panic");
}
