//! The scriptable commands: `rooms`, `send`, `history`, `search`, `tail`. Data goes to
//! stdout, one item per line; notes go to stderr; nothing ever prompts.
//!
//! They act as an account chosen explicitly (see
//! [`credentials::token_for_script`]), and none of them creates a room
//! unless asked to (`send --create`): joining creates a missing room, so
//! each first checks that the room exists.

use std::io::{IsTerminal, Read, Write};

use anyhow::{Context, Result};
use chat_api::{ErrorCode, MessageText, RoomId, RoomName, SearchQuery, ServerEvent, UserName};
use chat_client::{ServerUrl, Session, SessionEvent, SessionEvents, SessionOptions};

use super::{
    credentials::{self, Credentials},
    exit::CliError,
    render::{self, Painter, TimeStyle, View},
    token_store::TokenStore,
};

/// Who a scripted command acts as, and where.
#[derive(Debug)]
pub(crate) struct Who {
    server: ServerUrl,
    token: Option<String>,
    user: Option<UserName>,
}

impl Who {
    pub(crate) fn new(server: ServerUrl, auth: super::args::TokenArg, user: Option<UserName>) -> Self {
        Self { server, token: auth.token, user }
    }
}

async fn connect(who: Who) -> Result<(Session, SessionEvents, Credentials)> {
    let Who { server, token, user } = who;
    let store = TokenStore::locate()?;
    let credentials = credentials::token_for_script(&server, token, user.as_ref(), &store)?;
    let (session, events) = Session::connect(server.clone(), credentials.token.clone(), SessionOptions::default())
        .await
        .with_context(|| format!("connecting to {server}"))?;
    Ok((session, events, credentials))
}

/// `name` as the credentials say, for notes.
fn acting_as(credentials: &Credentials) -> String {
    credentials.username.as_ref().map_or_else(|| "the given token's user".to_owned(), ToString::to_string)
}

/// Fails with [`CliError::NoSuchRoom`] unless `room` exists, without
/// joining it (a join would create it). `list_users` answers any user with
/// -32003 for a missing room and needs no membership or paging; should a
/// server refuse it to non-members, the room list is asked instead.
async fn ensure_exists(session: &Session, room: &RoomName) -> Result<()> {
    let id = room.id();
    let exists = match session.list_users(&id).await {
        Ok(_) => true,
        Err(error) if error.is(ErrorCode::NotFound) => false,
        Err(error) if error.is(ErrorCode::NotMember) || error.is(ErrorCode::Forbidden) => {
            session.list_rooms().await.context("listing rooms")?.iter().any(|info| info.room_id == id)
        }
        Err(error) => return Err(error).with_context(|| format!("looking up #{room}")),
    };
    if exists { Ok(()) } else { Err(no_such_room(&id)) }
}

fn no_such_room(room: &RoomId) -> anyhow::Error {
    CliError::NoSuchRoom(format!("there is no room #{room}")).into()
}

/// Joins a room that [`ensure_exists`] found. Should it be deleted in
/// between, the join would bring it back; that window is one round trip.
async fn join_existing(session: &Session, room: &RoomName) -> Result<chat_client::Joined> {
    ensure_exists(session, room).await?;
    session.join_room(room).await.map_err(|error| match error {
        error if error.is(ErrorCode::NotFound) => no_such_room(&room.id()),
        error => anyhow::Error::new(error).context(format!("joining #{room}")),
    })
}

/// `rooms`.
pub(crate) async fn rooms(who: Who, json: bool) -> Result<()> {
    let (session, _events, _) = connect(who).await?;
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
/// Only `--create` lets it create a missing room. Says on stderr who sent it.
pub(crate) async fn send(who: Who, room: RoomName, create: bool, words: Vec<String>) -> Result<()> {
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
    let (session, _events, credentials) = connect(who).await?;
    let joined = if create {
        session.join_room(&room).await.with_context(|| format!("joining #{room}"))?
    } else {
        join_existing(&session, &room).await.map_err(|error| match error.downcast::<CliError>() {
            Ok(CliError::NoSuchRoom(text)) => {
                CliError::NoSuchRoom(format!("{text}; pass --create to create it")).into()
            }
            Ok(other) => other.into(),
            Err(error) => error,
        })?
    };
    let sent = session.send_message(&joined.room_id, &text).await.with_context(|| format!("sending to #{room}"))?;
    session.close();
    println!("{}", sent.message_id);
    eprintln!("sent to #{} as {}", joined.room_name, acting_as(&credentials));
    Ok(())
}

/// `history`.
pub(crate) async fn history(who: Who, room: RoomName, limit: u32, json: bool) -> Result<()> {
    let (session, _events, credentials) = connect(who).await?;
    let joined = join_existing(&session, &room).await?;
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

/// `search`: the matches, newest first, each with its conversation. It
/// joins nothing: search covers every room anyone may join and the user's
/// own direct conversations without membership.
pub(crate) async fn search(who: Who, room: Option<RoomName>, limit: u32, json: bool, words: Vec<String>) -> Result<()> {
    let query = SearchQuery::parse(&words.join(" "))
        .map_err(|error| CliError::Usage(format!("cannot search for this: {error}")))?;
    let (session, _events, credentials) = connect(who).await?;
    let room = room.map(|room| room.id());
    let found = session.search_messages(&query, room.as_ref(), None, Some(limit)).await.context("searching")?;
    session.close();
    let painter = Painter::for_stdout();
    let view = View { me: credentials.username.as_ref(), current_room: None, time: TimeStyle::Full };
    let mut out = std::io::stdout().lock();
    for message in &found.messages {
        let line = if json { serde_json::to_string(message)? } else { painter.message(message, &view) };
        if writeln!(out, "{line}").is_err() {
            break; // The reader went away (e.g. `| head`): that is fine.
        }
    }
    if found.has_more {
        eprintln!("{}", Painter::for_stderr().notice(&format!("more than {limit} found; --limit shows more")));
    }
    Ok(())
}

/// `tail`: prints what happens in the room until Ctrl-C, the server ends
/// the session, or stdout is closed.
pub(crate) async fn tail(who: Who, room: RoomName, json: bool) -> Result<()> {
    let (session, mut events, credentials) = connect(who).await?;
    let joined = join_existing(&session, &room).await?;
    let painter = Painter::for_stdout();
    let notes = Painter::for_stderr();
    let view = View { me: credentials.username.as_ref(), current_room: Some(&joined.room_id), time: TimeStyle::Full };
    eprintln!(
        "{}",
        notes.notice(&format!("following #{} as {} (Ctrl-C to stop)", joined.room_name, acting_as(&credentials)))
    );
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
        ServerEvent::MessageEdited(edit) => &edit.room_id == room,
        ServerEvent::MessageDeleted(deleted) => &deleted.room_id == room,
        ServerEvent::ReactionAdded(change) | ServerEvent::ReactionRemoved(change) => &change.room_id == room,
        ServerEvent::RoomUpdated(updated) => &updated.room_info.room_id == room,
        // About the reader, not the room.
        ServerEvent::ReadMarkerUpdated(_) | ServerEvent::Mentioned(_) => false,
        ServerEvent::UserJoined(change) | ServerEvent::UserLeft(change) => &change.room_id == room,
        ServerEvent::UserKicked(kick) => kick.room_id.as_ref() == Some(room),
        ServerEvent::SystemAnnouncement(_) | ServerEvent::RoomCreated(_) | ServerEvent::RoomDeleted(_) => true,
        ServerEvent::UserStartedTyping(_) | ServerEvent::UserStoppedTyping(_) => false,
    }
}
