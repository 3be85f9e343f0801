//! The scriptable commands: `rooms`, `send`, `history`, `tail`. Data goes to
//! stdout, one item per line; notes go to stderr; nothing ever prompts.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, Result};
use chat_api::{MessageText, RoomName, ServerEvent};
use chat_client::{ServerUrl, Session, SessionEvent, SessionEvents, SessionOptions};

use super::{
    credentials::{self, Credentials},
    exit::CliError,
    render::{self, Painter, TimeStyle, View},
    token_store::TokenStore,
};

async fn connect(server: ServerUrl, token: Option<String>) -> Result<(Session, SessionEvents, Credentials)> {
    let store = TokenStore::locate()?;
    let credentials = credentials::token_for_script(&server, token, &store)?;
    let (session, events) = Session::connect(server.clone(), credentials.token.clone(), SessionOptions::default())
        .await
        .with_context(|| format!("connecting to {server}"))?;
    Ok((session, events, credentials))
}

/// `rooms`.
pub(crate) async fn rooms(server: ServerUrl, token: Option<String>, json: bool) -> Result<()> {
    let (session, _events, _) = connect(server, token).await?;
    let rooms = session.list_rooms().await.context("listing rooms")?;
    session.close();
    let mut out = std::io::stdout().lock();
    if json {
        for room in &rooms {
            writeln!(out, "{}", serde_json::to_string(room)?)?;
        }
    } else {
        for line in Painter::for_stdout().room_list(&rooms, &[], None) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// `send`: the words given, or all of stdin. Prints the new message's id.
pub(crate) async fn send(server: ServerUrl, token: Option<String>, room: RoomName, words: Vec<String>) -> Result<()> {
    let text = if words.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(CliError::Usage("no text to send: give it as arguments or pipe it on stdin".to_owned()).into());
        }
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the message from stdin")?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        words.join(" ")
    };
    let text =
        MessageText::parse(&text).map_err(|error| CliError::Usage(format!("cannot send this message: {error}")))?;
    let (session, _events, _) = connect(server, token).await?;
    let joined = session.join_room(&room).await.with_context(|| format!("joining #{room}"))?;
    let sent = session.send_message(&joined.room_id, &text).await.with_context(|| format!("sending to #{room}"))?;
    session.close();
    println!("{}", sent.message_id);
    Ok(())
}

/// `history`.
pub(crate) async fn history(
    server: ServerUrl,
    token: Option<String>,
    room: RoomName,
    limit: u32,
    json: bool,
) -> Result<()> {
    let (session, _events, credentials) = connect(server, token).await?;
    let joined = session.join_room(&room).await.with_context(|| format!("joining #{room}"))?;
    let messages = session
        .recent_history(&joined.room_id, limit as usize)
        .await
        .with_context(|| format!("reading the history of #{room}"))?;
    session.close();
    let painter = Painter::for_stdout();
    let view = View { me: credentials.username.as_ref(), current_room: Some(&joined.room_id), time: TimeStyle::Full };
    let mut out = std::io::stdout().lock();
    for message in &messages {
        let line = if json { serde_json::to_string(message)? } else { painter.message(message, &view) };
        if writeln!(out, "{line}").is_err() {
            break; // The reader went away (e.g. `| head`): that is fine.
        }
    }
    Ok(())
}

/// `tail`: prints what happens in the room until Ctrl-C, the server ends
/// the session, or stdout is closed.
pub(crate) async fn tail(server: ServerUrl, token: Option<String>, room: RoomName, json: bool) -> Result<()> {
    let (session, mut events, credentials) = connect(server, token).await?;
    let joined = session.join_room(&room).await.with_context(|| format!("joining #{room}"))?;
    let painter = Painter::for_stdout();
    let notes = Painter::for_stderr();
    let view = View { me: credentials.username.as_ref(), current_room: Some(&joined.room_id), time: TimeStyle::Full };
    eprintln!("{}", notes.notice(&format!("following #{} (Ctrl-C to stop)", joined.room_name)));
    let mut out = std::io::stdout().lock();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let event = tokio::select! {
            _ = &mut interrupted => break,
            event = events.next() => event,
        };
        let Some(event) = event else { break };
        let line = match event {
            SessionEvent::Server(event) => {
                if !concerns(&event, &joined.room_id) {
                    continue;
                }
                if json {
                    event.to_frame().context("cannot encode a notification")?
                } else {
                    match painter.event(&event, &view) {
                        Some(line) => line,
                        None => continue,
                    }
                }
            }
            SessionEvent::ConnectionLost { cause } => {
                eprintln!("{}", notes.connection_lost(&cause));
                continue;
            }
            SessionEvent::Reconnected(report) => {
                eprintln!("{}", notes.reconnected(&report));
                continue;
            }
            SessionEvent::TokenRejected => {
                session.close();
                return Err(CliError::NotLoggedIn(
                    "the server no longer accepts the token; run `bidirectional-chat-client login` again".to_owned(),
                )
                .into());
            }
            SessionEvent::Ended(reason) => {
                return Err(CliError::Removed(render::ended_text(&reason)).into());
            }
        };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    session.close();
    Ok(())
}

/// Whether a `tail` of `room` prints `event`: everything about the room,
/// plus announcements and room list changes; typing is left out.
fn concerns(event: &ServerEvent, room: &chat_api::RoomId) -> bool {
    match event {
        ServerEvent::MessageReceived(message) => &message.room_id == room,
        ServerEvent::UserJoined(change) | ServerEvent::UserLeft(change) => &change.room_id == room,
        ServerEvent::UserKicked(kick) => kick.room_id.as_ref() == Some(room),
        ServerEvent::SystemAnnouncement(_) | ServerEvent::RoomCreated(_) | ServerEvent::RoomDeleted(_) => true,
        ServerEvent::UserStartedTyping(_) | ServerEvent::UserStoppedTyping(_) => false,
    }
}
