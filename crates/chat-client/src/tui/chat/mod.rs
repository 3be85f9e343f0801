//! The interactive chat: log in, join a room, then one loop that reacts to
//! what the user types and to what the server sends.

mod commands;
mod completion;
mod direct_watch;
mod directs;
mod display;
mod input;
mod ledger;
mod message_actions;
mod outbox;
mod output;
mod read_markers;
mod sending;
mod slash;
mod startup;
mod typing;
mod updates;

use std::{
    collections::{BTreeMap, VecDeque},
    io::IsTerminal,
    time::Instant,
};

use anyhow::{Context, Result};
use chat_api::{ErrorCode, MessageId, RoomId, RoomInfo, RoomName, ServerEvent, UserName};
use chat_client::{
    CallError, ConnectError, RestClient, ServerUrl, Session, SessionEvent, SessionEvents, SessionOptions,
};

use self::{
    completion::Vocabulary,
    direct_watch::DirectWatch,
    input::{FromInput, Input},
    ledger::Ledger,
    outbox::Outbox,
    output::Output,
    read_markers::ReadMarkers,
    slash::Line,
    typing::{OthersTyping, OwnTyping},
};
use super::{
    credentials::{self, Credentials},
    render::{self, Painter, TimeStyle, View},
    token_store::TokenStore,
};

/// How a chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user left.
    Quit,
    /// The server removed the user (kicked or banned); already shown.
    Removed,
}

/// `chat`.
pub(crate) async fn run(
    server: ServerUrl,
    user: Option<UserName>,
    username: Option<UserName>,
    token: Option<String>,
    room: RoomName,
) -> Result<Outcome> {
    let store = TokenStore::locate()?;
    let rest = RestClient::new(server.clone());
    let mut credentials = credentials::for_chat(&rest, &store, user, username, token).await?;
    let (session, events) = connect(&rest, &store, &mut credentials).await?;
    let vocabulary = Vocabulary::default();
    let (input, output) = input::start(vocabulary.clone())?;
    let mut chat = Chat {
        painter: Painter::for_stdout(),
        markers: ReadMarkers::start(session.clone()),
        session,
        events,
        input,
        output,
        rest,
        store,
        me: credentials.username,
        current: None,
        prompt_room: None,
        own_typing: OwnTyping::default(),
        others_typing: OthersTyping::default(),
        sent_ids: VecDeque::new(),
        outbox: Outbox::default(),
        told_why_waiting: false,
        removed: false,
        kicked: false,
        events_done: false,
        ledger: Ledger::default(),
        directs: DirectWatch::default(),
        vocabulary,
        known_rooms: BTreeMap::new(),
        bell: std::io::stdout().is_terminal(),
    };
    let who = match (&chat.me, credentials.role) {
        (Some(me), Some(role)) => format!("{me} ({role})"),
        (Some(me), None) => me.to_string(),
        (None, _) => "the given token".to_owned(),
    };
    chat.out_notice(&format!("connected to {server} as {who}; /help lists the commands"));
    chat.start(room).await;
    let outcome = chat.run().await;
    chat.session.close();
    outcome
}

/// Connects; when the server refuses the token, asks to log in again.
async fn connect(
    rest: &RestClient,
    store: &TokenStore,
    credentials: &mut Credentials,
) -> Result<(Session, SessionEvents)> {
    loop {
        match Session::connect(rest.server().clone(), credentials.token.clone(), SessionOptions::default()).await {
            Err(ConnectError::TokenRejected) if credentials::stdin_is_terminal() => {
                eprintln!(
                    "{}",
                    Painter::for_stderr()
                        .error("the server did not accept the token (it may have expired); log in again")
                );
                let username = credentials.username.as_ref().map(ToString::to_string);
                *credentials = credentials::log_in_interactively(rest, store, username).await?;
            }
            result => return result.with_context(|| format!("connecting to {}", rest.server())),
        }
    }
}

/// What the loop does after a line.
enum Flow {
    /// Ask for the next line.
    Continue,
    /// The input thread was already asked for something else (a password);
    /// its answer comes first, and only then the next line. Asking for a
    /// line now would queue a prompt that could swallow the password.
    AwaitingInput,
    Quit,
}

struct Chat {
    painter: Painter,
    session: Session,
    events: SessionEvents,
    input: Input,
    output: Output,
    rest: RestClient,
    store: TokenStore,
    /// Who this is, when known. A pasted token may not say; then the first
    /// echo of a message this client sent tells.
    me: Option<UserName>,
    /// The room messages go to.
    current: Option<RoomId>,
    /// The room the prompt on screen names. A line typed under a prompt for
    /// another room than `current` (it changed meanwhile) is not sent.
    prompt_room: Option<RoomId>,
    own_typing: OwnTyping,
    others_typing: OthersTyping,
    /// Ids of messages sent while `me` is unknown.
    sent_ids: VecDeque<MessageId>,
    /// Lines typed and not sent yet.
    outbox: Outbox,
    /// Why lines wait has been said since the queue was last empty.
    told_why_waiting: bool,
    /// Kicked or banned: the next line ends the chat (but `/reconnect`
    /// after a kick).
    removed: bool,
    /// The end was a kick, which the user may come back from.
    kicked: bool,
    events_done: bool,
    /// The messages shown, as they are now.
    ledger: Ledger,
    markers: ReadMarkers,
    directs: DirectWatch,
    /// What Tab completes.
    vocabulary: Vocabulary,
    /// Every room with its topic: from `list_rooms` at the start, then kept
    /// up to date by `room_created`, `room_updated` and `room_deleted`.
    known_rooms: BTreeMap<RoomId, RoomInfo>,
    /// Ring the terminal's bell when someone mentions the user.
    bell: bool,
}

impl Chat {
    fn view(&self) -> View<'_> {
        View { me: self.me.as_ref(), current_room: self.current.as_ref(), time: TimeStyle::Clock }
    }

    fn prompt(&self) -> String {
        let Some(room) = &self.current else {
            return "(no room)> ".to_owned();
        };
        if room.is_direct() {
            return match self.directs.peer_of(room) {
                Some(peer) => format!("@{peer}> "),
                None => format!("{}> ", render::conversation_name(room, self.me.as_ref())),
            };
        }
        // The name as first spelled; room names are validated ASCII.
        match self.session.rooms().into_iter().find(|name| &name.id() == room) {
            Some(name) => format!("#{name}> "),
            None => format!("#{room}> "),
        }
    }

    fn out(&mut self, line: String) {
        self.output.line(line);
    }

    fn out_notice(&mut self, text: &str) {
        let line = self.painter.notice(text);
        self.out(line);
    }

    fn out_error(&mut self, text: &str, hint: Option<&str>) {
        let mut line = self.painter.error(text);
        if let Some(hint) = hint {
            line.push('\n');
            line.push_str(&self.painter.hint(hint));
        }
        self.out(line);
    }

    fn out_call_error(&mut self, what: &str, error: &CallError) {
        let hint = match error {
            CallError::NotConnected | CallError::ConnectionLost => Some("reconnecting; try again in a moment"),
            error if error.is(ErrorCode::NotAuthenticated) => Some("your session expired: type /login"),
            error if error.is(ErrorCode::NotMember) => Some("/join the room first"),
            _ => None,
        };
        self.out_error(&format!("{what}: {error}"), hint);
    }

    async fn run(&mut self) -> Result<Outcome> {
        self.ask_line()?;
        loop {
            let resend_at = self.outbox.wake_at();
            let typing_ends = self.others_typing.next_expiry();
            tokio::select! {
                reply = self.input.next() => {
                    let Some(reply) = reply else { return Ok(self.outcome()) };
                    match reply {
                        FromInput::Closed => return Ok(self.outcome()),
                        FromInput::Failed(error) => anyhow::bail!("the terminal failed: {error}"),
                        FromInput::Keystroke => self.key_pressed(),
                        FromInput::Line(line) => {
                            if self.removed {
                                if self.kicked && line.trim() == "/reconnect" {
                                    self.come_back().await;
                                    self.ask_line()?;
                                    continue;
                                }
                                return Ok(Outcome::Removed);
                            }
                            match self.handle_line(&line).await {
                                Flow::Quit => return Ok(Outcome::Quit),
                                Flow::Continue => self.ask_line()?,
                                Flow::AwaitingInput => {}
                            }
                        }
                        FromInput::Password(password) => {
                            self.finish_login(password).await;
                            self.ask_line()?;
                        }
                    }
                }
                event = self.events.next(), if !self.events_done => match event {
                    Some(event) => self.show(event).await,
                    None => self.events_done = true,
                },
                () = sleep_until(resend_at), if resend_at.is_some() => self.flush().await,
                () = tokio::time::sleep_until(self.directs.poll_at()),
                    if !self.removed && self.directs.enabled() && self.session.is_connected() => {
                    self.poll_directs().await;
                }
                () = sleep_until(typing_ends.map(tokio::time::Instant::from_std)), if typing_ends.is_some() => {
                    self.others_typing.expire(Instant::now());
                    self.refresh_status();
                }
            }
        }
    }

    /// Back after a kick, in the same rooms (see [`Session::come_back`]).
    async fn come_back(&mut self) {
        match self.session.come_back(&mut self.events).await {
            Ok(()) => {
                self.removed = false;
                self.kicked = false;
                self.events_done = false;
                self.out_notice("connecting again");
            }
            Err(error) => {
                let error = anyhow::Error::new(error);
                self.out_error(
                    &format!("cannot come back: {error:#}"),
                    Some("/reconnect to try again, Enter to leave"),
                );
            }
        }
    }

    /// Asks for the next line, remembering which room its prompt names.
    fn ask_line(&mut self) -> Result<()> {
        self.prompt_room = self.current.clone();
        self.input.read_line(self.prompt())
    }

    /// Shows who is typing on the status row.
    fn refresh_status(&mut self) {
        let text = self.others_typing.status(self.current.as_ref());
        self.output.status(&text);
    }

    fn outcome(&self) -> Outcome {
        if self.removed { Outcome::Removed } else { Outcome::Quit }
    }

    fn key_pressed(&mut self) {
        let Some(room) = self.current.clone() else { return };
        if !self.own_typing.key_pressed(&room, Instant::now()) {
            return;
        }
        let session = self.session.clone();
        tokio::spawn(async move {
            if let Err(error) = session.start_typing(&room).await {
                tracing::debug!(%error, "start_typing failed");
            }
        });
    }

    fn typing_abandoned(&mut self) {
        let Some(room) = self.own_typing.finished() else { return };
        let session = self.session.clone();
        tokio::spawn(async move {
            if let Err(error) = session.stop_typing(&room).await {
                tracing::debug!(%error, "stop_typing failed");
            }
        });
    }

    async fn handle_line(&mut self, line: &str) -> Flow {
        match slash::parse(line) {
            Err(error) => {
                self.typing_abandoned();
                self.out_error(&error.to_string(), Some(&error.hint()));
                Flow::Continue
            }
            Ok(Line::Empty) => {
                self.typing_abandoned();
                Flow::Continue
            }
            Ok(Line::Message(text)) => {
                if self.prompt_room != self.current {
                    // The prompt named a room that is gone (or changed
                    // meanwhile): sending elsewhere would surprise.
                    let was = self.prompt_room.as_ref().map_or_else(|| "no room".to_owned(), |room| format!("#{room}"));
                    self.out_error(
                        &format!("not sent: it was typed for {was}: {}", sending::excerpt(&text)),
                        Some("press Up to get it back, then Enter to send it here"),
                    );
                    return Flow::Continue;
                }
                self.say(&text).await;
                Flow::Continue
            }
            Ok(Line::Command(command)) => {
                self.typing_abandoned();
                self.command(command).await
            }
        }
    }

    async fn show(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Server(ServerEvent::MessageReceived(message)) => {
                if self.me.is_none() && self.sent_ids.contains(&message.message_id) {
                    self.me = Some(message.username.clone());
                    self.sent_ids.clear();
                }
                self.others_typing.stopped(&message.room_id, &message.username);
                self.refresh_status();
                self.show_message(&message, display::Arrival::Live);
            }
            SessionEvent::Server(ServerEvent::UserStartedTyping(typing)) => {
                let is_me = self.me.as_ref().is_some_and(|me| me.key() == typing.username.key());
                if !is_me {
                    self.others_typing.started(&typing.room_id, &typing.username, Instant::now());
                    self.refresh_status();
                }
            }
            SessionEvent::Server(ServerEvent::UserStoppedTyping(typing)) => {
                self.others_typing.stopped(&typing.room_id, &typing.username);
                self.refresh_status();
            }
            SessionEvent::Server(event) if updates::is_update(&event) => self.show_update(event),
            SessionEvent::Server(event) => {
                self.note_rooms(&event);
                if let Some(line) = self.painter.event(&event, &self.view()) {
                    self.out(line);
                }
                if let ServerEvent::RoomDeleted(deleted) = &event
                    && self.current.as_ref() == Some(&deleted.room_id)
                {
                    self.current_room_vanished(&deleted.room_id);
                }
            }
            SessionEvent::ConnectionLost { cause } => {
                let line = self.painter.connection_lost(&cause);
                self.out(line);
            }
            SessionEvent::Reconnected(report) => {
                let line = self.painter.reconnected(&report);
                self.out(line);
                if let Some(room) = self.current.clone().filter(|room| report.gone.contains(room)) {
                    self.current_room_vanished(&room);
                }
                self.outbox.reconnected();
                self.flush().await;
            }
            SessionEvent::TokenRejected => {
                self.out_error(
                    "the server no longer accepts your token (it may have expired)",
                    Some("type /login to log in again"),
                );
            }
            SessionEvent::Ended(reason) => {
                self.removed = true;
                self.kicked = matches!(reason, chat_client::EndReason::Kicked { .. });
                let mut lines = vec![self.painter.ended(&reason)];
                let unsent = self.outbox.clear();
                if unsent > 0 {
                    lines.push(self.painter.notice(&format!("{unsent} waiting line(s) were not sent")));
                }
                let rooms: Vec<String> = self.session.rooms().iter().map(|name| format!("#{name}")).collect();
                if self.kicked && !rooms.is_empty() {
                    lines.push(self.painter.notice(&format!(
                        "type /reconnect to come back to {}, or press Enter to leave",
                        rooms.join(", ")
                    )));
                } else {
                    lines.push(self.painter.notice("press Enter to leave"));
                }
                self.out(lines.join("\n"));
            }
        }
    }
}

/// Sleeps until `at`; never wakes without one (the branch is disabled then).
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
