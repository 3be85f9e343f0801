//! What the tests of contract version 2 share: a `chat` on a screen, other
//! users driven through the client library, and reading message ids off
//! the screen.

use chat_api::{MessageId, MessageText, RoomId, RoomName};
use chat_client::{ServerUrl, Session, SessionEvents, SessionOptions};

use crate::{
    pty::Screen,
    support::{Cli, TestServer, WAIT},
};

/// `chat` with `token`, once its prompt shows `prompt`.
pub(crate) fn chat(cli: &Cli, token: &str, who: &'static str, prompt: &str) -> Screen {
    let mut screen = Screen::spawn(cli, &["chat", "--token", token], who);
    screen.wait_for("the prompt", |s| last_row(s).starts_with(prompt));
    screen
}

/// The bottom row of a screen: where the prompt is.
pub(crate) fn last_row(screen: &str) -> &str {
    screen.lines().last().unwrap_or_default()
}

/// Runs a blocking pty scenario within a bound.
pub(crate) async fn scenario<T: Send + 'static>(run: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::time::timeout(WAIT * 4, tokio::task::spawn_blocking(run))
        .await
        .expect("the scenario finishes")
        .expect("no panic")
}

/// Another user, through the client library.
pub(crate) async fn someone(server: &TestServer, username: &str, password: &str) -> (Session, SessionEvents) {
    let url = ServerUrl::parse(&server.url).expect("server URL");
    let token = server.token(username, password).await;
    Session::connect(url, token, SessionOptions::default()).await.expect("the library connects")
}

/// Joins `room` and says `text` there; returns the message's id.
pub(crate) async fn say(session: &Session, room: &str, text: &str) -> MessageId {
    let room = RoomName::parse(room).expect("room name");
    let joined = session.join_room(&room).await.expect("join");
    session.send_message(&joined.room_id, &MessageText::parse(text).expect("text")).await.expect("send").message_id
}

/// The id shown after the first message row that contains `text`
/// (`… text  #12`; a command typed with the same text has none).
#[track_caller]
pub(crate) fn id_after(screen: &str, text: &str) -> i64 {
    screen
        .lines()
        .filter(|row| row.contains(text))
        .find_map(|row| row.trim_end().rsplit_once("  #").and_then(|(_, id)| id.parse().ok()))
        .unwrap_or_else(|| panic!("no message row shows {text:?} with its id; the screen:\n{screen}"))
}

/// `general`.
pub(crate) fn general() -> RoomId {
    RoomId::general()
}
