//! Rooms in `chat` with contract version 2: rejoined from `my_rooms` on
//! start with their unread counts, topics, search and completion.

use chat_api::RoomName;

use crate::{
    scenes::{chat, last_row, say, scenario, someone},
    support::{Cli, TestServer},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_rejoins_every_room_of_the_user_and_says_what_is_unread() {
    let server = TestServer::spawn().await;
    // Alice joined #rust on another device; then bob wrote there.
    let (alice_elsewhere, _events) = someone(&server, "alice", "alice123").await;
    alice_elsewhere.join_room(&RoomName::parse("rust").unwrap()).await.unwrap();
    alice_elsewhere.close();
    let (bob, _bob_events) = someone(&server, "bob", "bob123").await;
    say(&bob, "rust", "anyone tried the new borrow checker, @alice?").await;
    say(&bob, "rust", "it is quite nice").await;
    let alice_token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    scenario(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice", "#general>");
        alice.wait_for("the rejoined room", |s| s.contains("also in #rust (2 unread, 1 mention)"));

        alice.send("/rooms\r");
        alice.wait_for("the unread counts", |s| {
            s.lines().any(|row| row.starts_with("+ #rust") && row.contains("2 unread, 1 mention"))
        });

        // Going there shows what waited, once.
        alice.send("/switch rust\r");
        let screen = alice.wait_for("the unread messages", |s| {
            s.contains("2 unread messages in #rust") && s.contains("<bob> it is quite nice")
        });
        assert_eq!(screen.matches("it is quite nice").count(), 1, "{screen}");
        assert!(last_row(&screen).starts_with("#rust>"), "{screen}");
        alice.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_set_in_chat_reaches_everyone_and_shows_on_join() {
    let server = TestServer::spawn().await;
    let alice_token = server.token("alice", "alice123").await;
    let bob_token = server.token("bob", "bob123").await;
    let url = server.url.clone();
    scenario(move || {
        let (alice_cli, bob_cli) = (Cli::for_url(&url), Cli::for_url(&url));
        let mut alice = chat(&alice_cli, &alice_token, "alice", "#general>");
        let mut bob = chat(&bob_cli, &bob_token, "bob", "#general>");
        // Alice creates the room, so she may set its topic.
        alice.send("/join lounge\r");
        alice.wait_for("#lounge", |s| last_row(s).starts_with("#lounge>"));
        alice.send("/topic cozy chats only\r");
        alice.wait_for("the new topic", |s| s.contains("* topic of #lounge: cozy chats only"));
        bob.wait_for("the new topic", |s| s.contains("* topic of #lounge: cozy chats only"));

        bob.send("/rooms\r");
        bob.wait_for("the topic in the list", |s| {
            s.lines().any(|row| row.contains("#lounge") && row.contains("— cozy chats only"))
        });
        bob.send("/join lounge\r");
        bob.wait_for("the topic on joining", |s| s.contains("-- topic of #lounge: cozy chats only"));
        // Bob did not create the room and is no moderator.
        bob.send("/topic mine now\r");
        bob.wait_for("the refusal", |s| s.contains("cannot set the topic of #lounge"));
        alice.send("\u{4}");
        bob.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_words_by_their_start_newest_first() {
    let server = TestServer::spawn().await;
    let (bob, _bob_events) = someone(&server, "bob", "bob123").await;
    say(&bob, "general", "the deployment finished").await;
    say(&bob, "ops", "deploying again tomorrow").await;
    say(&bob, "general", "unrelated chatter").await;
    let alice_token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    scenario(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice", "#general>");
        alice.send("/search deploy\r");
        let screen = alice.wait_for("the results", |s| s.contains("2 messages found for \"deploy\""));
        let newer = screen.find("#ops <bob> deploying again tomorrow").expect("the newer match, with its room");
        let older = screen.find("#general <bob> the deployment finished").expect("the older match, with its room");
        assert!(newer < older, "newest first: {screen}");
        let results = &screen[screen.find("messages found").unwrap()..];
        assert!(!results.contains("unrelated chatter"), "{screen}");
        alice.send("\u{4}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_completes_commands_rooms_and_users() {
    let server = TestServer::spawn().await;
    let (bob, _bob_events) = someone(&server, "bob", "bob123").await;
    say(&bob, "general", "hi all").await;
    say(&bob, "rustaceans", "crabs welcome").await;
    let alice_token = server.token("alice", "alice123").await;
    let url = server.url.clone();
    scenario(move || {
        let cli = Cli::for_url(&url);
        let mut alice = chat(&cli, &alice_token, "alice", "#general>");
        alice.send("/jo\t");
        alice.wait_for("the command completed", |s| last_row(s).trim_end() == "#general> /join");
        alice.send("rusta\t");
        alice.wait_for("the room completed", |s| last_row(s).trim_end() == "#general> /join rustaceans");
        alice.send("\r");
        alice.wait_for("the room joined", |s| last_row(s).starts_with("#rustaceans>"));
        alice.send("thanks @bo\t");
        alice.wait_for("the name completed", |s| last_row(s).trim_end() == "#rustaceans> thanks @bob");
        alice.send("!\r");
        alice.wait_for("the message", |s| s.contains("<alice> thanks @bob!"));
        alice.send("\u{4}");
    })
    .await;
}
