//! The client library compiled to WebAssembly, running in headless Chromium
//! against a real server: the same session code as the terminal client,
//! over the browser's WebSocket and `fetch`.
//!
//! Run by `scripts/wasm-tests.sh`, which starts the server and passes its
//! address in `CHAT_TEST_SERVER` when these tests are compiled. Natively
//! this file is empty.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chat_api::{MessageText, Reason, RoomName, ServerEvent, UserName};
use chat_client::{
    ConnectError, EndReason, RestClient, ServerUrl, Session, SessionEvent, SessionEvents, SessionOptions,
};
use futures_util::future::{Either, select};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Longest wait for anything the server should do at once.
const PATIENCE: Duration = Duration::from_secs(10);

fn server() -> ServerUrl {
    // Read at build time: a page has no environment. Linting builds
    // without it, so this is not `env!`.
    let Some(address) = option_env!("CHAT_TEST_SERVER") else {
        panic!("build with CHAT_TEST_SERVER=http://host:port (scripts/wasm-tests.sh does)")
    };
    ServerUrl::parse(address).unwrap()
}

async fn token(username: &str, password: &str) -> String {
    RestClient::new(server()).login(username, password).await.unwrap().token
}

async fn connect(username: &str, password: &str) -> (Session, SessionEvents) {
    let token = token(username, password).await;
    Session::connect(server(), token, SessionOptions::default()).await.unwrap()
}

/// The first event that `wanted` accepts, or a panic after [`PATIENCE`].
async fn next_matching(events: &mut SessionEvents, wanted: impl Fn(&SessionEvent) -> bool) -> SessionEvent {
    let search = std::pin::pin!(async {
        loop {
            match events.next().await {
                Some(event) if wanted(&event) => return event,
                Some(_) => continue,
                None => panic!("the session ended first"),
            }
        }
    });
    let timer = std::pin::pin!(gloo_timers::future::sleep(PATIENCE));
    match select(search, timer).await {
        Either::Left((event, _)) => event,
        Either::Right(_) => panic!("nothing matching within {PATIENCE:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_message_sent_from_the_browser_reaches_another_session() {
    let (alice, _alice_events) = connect("alice", "alice123").await;
    let (bob, mut bob_events) = connect("bob", "bob123").await;
    let room = RoomName::parse("wasm-room").unwrap();
    bob.join_room(&room).await.unwrap();
    let joined = alice.join_room(&room).await.unwrap();
    assert_eq!(joined.room_id, room.id());

    let text = MessageText::parse("hello from wasm").unwrap();
    let sent = alice.send_message(&room.id(), &text).await.unwrap();
    let received = next_matching(&mut bob_events, |event| {
        matches!(event, SessionEvent::Server(ServerEvent::MessageReceived(m)) if m.message_id == sent.message_id)
    })
    .await;
    let SessionEvent::Server(ServerEvent::MessageReceived(message)) = received else { unreachable!() };
    assert_eq!(message.text, text);
    assert_eq!(message.username.as_str(), "alice");

    let history = bob.recent_history(&room.id(), 10).await.unwrap();
    assert!(history.iter().any(|m| m.message_id == sent.message_id));
}

#[wasm_bindgen_test]
async fn a_refused_token_is_told_apart_from_an_unreachable_server() {
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl".to_owned();
    let refused = Session::connect(server(), forged, SessionOptions::default()).await.unwrap_err();
    assert!(matches!(refused, ConnectError::TokenRejected), "{refused:?}");

    // Nothing listens on port 9 of this host.
    let nowhere = ServerUrl::parse("http://127.0.0.1:9").unwrap();
    let options = SessionOptions { connect_timeout: Duration::from_secs(5), ..SessionOptions::default() };
    let unreachable = Session::connect(nowhere, token("bob", "bob123").await, options).await.unwrap_err();
    assert!(matches!(unreachable, ConnectError::Unreachable { .. }), "{unreachable:?}");
}

#[wasm_bindgen_test]
async fn a_kick_ends_the_browser_session_with_the_moderators_reason() {
    let (moderator, _moderator_events) = connect("moderator", "mod123").await;
    let username = UserName::parse(&format!("kicked{}", js_sys::Date::now() as u64 % 1_000_000)).unwrap();
    RestClient::new(server()).register(username.as_str(), "long-enough-password", None).await.unwrap();
    let (target, mut events) = connect(username.as_str(), "long-enough-password").await;
    target.join_room(&RoomName::parse("general").unwrap()).await.unwrap();

    let reason = Reason::parse("testing the close code").unwrap();
    assert!(moderator.kick_user(&username, &reason).await.unwrap());
    let ended = next_matching(&mut events, |event| matches!(event, SessionEvent::Ended(_))).await;
    assert_eq!(ended, SessionEvent::Ended(EndReason::Kicked { reason: Some("testing the close code".to_owned()) }));
}

#[wasm_bindgen_test]
async fn a_ban_ends_the_session_and_refuses_the_next_connection_as_a_ban() {
    let (moderator, _moderator_events) = connect("moderator", "mod123").await;
    let username = UserName::parse(&format!("banned{}", js_sys::Date::now() as u64 % 1_000_000)).unwrap();
    RestClient::new(server()).register(username.as_str(), "long-enough-password", None).await.unwrap();
    let token = token(username.as_str(), "long-enough-password").await;
    let (_target, mut events) = Session::connect(server(), token.clone(), SessionOptions::default()).await.unwrap();

    let reason = Reason::parse("spam").unwrap();
    assert!(moderator.ban_user(&username, &reason, Some(Duration::from_secs(3600))).await.unwrap());
    let ended = next_matching(&mut events, |event| matches!(event, SessionEvent::Ended(_))).await;
    let SessionEvent::Ended(EndReason::Banned { length, .. }) = ended else { panic!("{ended:?}") };
    assert!(matches!(length, Some(chat_client::BanLength::Until(_))), "{length:?}");

    // The browser cannot read the handshake's 403; the session asks.
    let again = Session::connect(server(), token, SessionOptions::default()).await.unwrap_err();
    assert!(matches!(again, ConnectError::Banned), "{again:?}");
}
