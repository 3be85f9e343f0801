//! The chat screen's life: connect with the stored token, rejoin the
//! user's rooms (`my_rooms`), then turn each session event into a change on
//! the page until the user logs out or the server ends the session.
//!
//! The session (from `chat_client`) does the hard part: it reconnects by
//! itself and delivers missed messages exactly once. The page only mirrors
//! what it is told, and keeps per-room state so switching rooms is instant.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet, HashMap},
    rc::Rc,
    time::Duration,
};

use chat_api::{MessageId, RoomId, RoomInfo, ServerEvent};
use chat_client::{
    ConnectError, RestClient, ServerUrl, Session, SessionEvent, SessionEvents, SessionOptions, backoff::Backoff,
};
use futures_channel::oneshot;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use crate::{
    actions, announcements,
    compose::Compose,
    direct::{self, Direct},
    dom, edits, login, mentions, messages, moderation, notices, presence, reactions, rooms,
    search::Search,
    storage::{self, Account},
    topic, unread,
    view::{self, View},
};

pub(crate) use crate::log::RoomLog;

/// The server the page was served from: the app talks to nothing else.
pub(crate) fn server() -> ServerUrl {
    let origin = web_sys::window().and_then(|window| window.location().origin().ok()).unwrap_or_default();
    ServerUrl::parse(&origin).unwrap_or_else(|_| wasm_bindgen::throw_str("the page's origin is not a server URL"))
}

/// One signed-in page.
pub(crate) struct App {
    pub(crate) session: Session,
    pub(crate) account: Account,
    pub(crate) view: View,
    pub(crate) state: RefCell<State>,
    root: Element,
}

/// What the page knows, per room.
#[derive(Default)]
pub(crate) struct State {
    /// Every room on the server, with its user count.
    pub(crate) rooms: BTreeMap<RoomId, RoomInfo>,
    /// The rooms this user is in, in the order joined.
    pub(crate) joined: Vec<RoomId>,
    /// The room on screen.
    pub(crate) current: Option<RoomId>,
    /// Messages received per room, by id.
    pub(crate) logs: HashMap<RoomId, RoomLog>,
    /// Who is in each joined room.
    pub(crate) presence: HashMap<RoomId, BTreeSet<String>>,
    /// Who is typing in each room, until when (ms since the epoch).
    pub(crate) typing: HashMap<RoomId, BTreeMap<String, f64>>,
    /// The user's direct conversations.
    pub(crate) directs: BTreeMap<RoomId, Direct>,
    /// Unread counts per room and conversation (absent: none).
    pub(crate) unread: HashMap<RoomId, unread::Counts>,
    /// The newest read marker sent or heard of, per room.
    pub(crate) marked: HashMap<RoomId, MessageId>,
    /// What the message box is for.
    pub(crate) compose: Compose,
    /// The search on screen.
    pub(crate) search: Option<Search>,
    /// Set while the session has ended and the user may come back.
    pub(crate) come_back: Option<oneshot::Sender<()>>,
    /// Set once the user logged out: nothing more to do.
    pub(crate) closed: bool,
}

impl State {
    pub(crate) fn current_room(&self) -> Option<RoomId> {
        self.current.clone()
    }
}

/// Connects with `account`'s token and shows the chat screen; a refused
/// token goes back to the sign-in form.
pub(crate) fn start(root: &Element, account: Account) {
    let root = root.clone();
    spawn_local(async move {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        let (session, events) = loop {
            match Session::connect(server(), account.token.clone(), SessionOptions::default()).await {
                Ok(connected) => break connected,
                Err(ConnectError::TokenRejected) => {
                    storage::forget();
                    return login::show(&root, Some("Your session has ended; log in again."));
                }
                Err(ConnectError::Banned) => {
                    let said = RestClient::new(server()).ban_description(&account.token).await;
                    storage::forget();
                    let text =
                        said.map_or_else(|| "This account is banned.".to_owned(), |s| format!("This account is {s}."));
                    return login::show(&root, Some(&text));
                }
                Err(error) => {
                    dom::clear(&root);
                    let text = format!("Cannot reach the server ({error}); trying again…");
                    let _ =
                        root.append_child(&dom::el("p").id("connection").attr("role", "status").text(&text).build());
                    gloo_timers::future::sleep(backoff.next_delay()).await;
                }
            }
        };
        let view = view::build(&root, &account.username, account.role);
        let app = Rc::new(App { session, account, view, state: RefCell::default(), root });
        actions::wire(&app);
        moderation::build(&app);
        set_connection("connected");
        app.load_rooms().await;
        rooms::rejoin_mine(&app).await;
        direct::load(&app).await;
        presence::expire_typing_forever(Rc::downgrade(&app));
        run(app, events).await;
    });
}

/// Shows the connection state in the header.
pub(crate) fn set_connection(text: &str) {
    dom::set_text("connection", text);
}

async fn run(app: Rc<App>, mut events: SessionEvents) {
    loop {
        while let Some(event) = events.next().await {
            app.handle(event);
        }
        let (sender, receiver) = oneshot::channel();
        {
            let mut state = app.state.borrow_mut();
            if state.closed {
                return;
            }
            state.come_back = Some(sender);
        }
        // A kick: wait for the Reconnect button (a logout drops the sender).
        if receiver.await.is_err() {
            return;
        }
        match app.session.come_back(&mut events).await {
            Ok(()) => {
                app.view.reconnect.set_hidden(true);
                notices::clear();
                set_connection("connected");
            }
            Err(error) => {
                notices::show(&format!("Could not reconnect: {error}"));
                app.view.reconnect.set_hidden(false);
            }
        }
    }
}

impl App {
    /// Fetches the room list with user counts.
    pub(crate) async fn load_rooms(&self) {
        match self.session.list_rooms().await {
            Ok(list) => {
                self.state.borrow_mut().rooms = list.into_iter().map(|room| (room.room_id.clone(), room)).collect();
                rooms::render(self);
            }
            Err(error) => notices::show(&notices::call_failed(&error)),
        }
    }

    /// Signs out: revokes the token, forgets it, back to the sign-in form.
    pub(crate) fn log_out(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.come_back = None;
        }
        self.session.close();
        storage::forget();
        let token = self.account.token.clone();
        spawn_local(async move {
            let _ = RestClient::new(server()).logout(&token).await;
        });
        login::show(&self.root, Some("You have logged out."));
    }

    fn handle(self: &Rc<Self>, event: SessionEvent) {
        match event {
            SessionEvent::Server(event) => self.on_server_event(event),
            SessionEvent::ConnectionLost { .. } => set_connection("reconnecting…"),
            SessionEvent::Reconnected(report) => {
                set_connection("connected");
                for gone in &report.gone {
                    rooms::deleted(self, gone);
                }
                if !report.gaps.is_empty() {
                    notices::show("Some older messages were missed while away; scroll up to load them.");
                }
                let app = self.clone();
                // The session caught up the rooms and the conversations it
                // knew; the lists bring counts and conversations started
                // while away.
                spawn_local(async move {
                    app.load_rooms().await;
                    direct::load(&app).await;
                    unread::read_current(&app);
                });
            }
            SessionEvent::TokenRejected => {
                self.state.borrow_mut().closed = true;
                self.session.close();
                storage::forget();
                login::show(&self.root, Some("Your session has ended; log in again."));
            }
            SessionEvent::Ended(reason) => {
                set_connection("offline");
                notices::show(&notices::ended(&reason));
                let kicked = matches!(reason, chat_client::EndReason::Kicked { .. });
                self.view.reconnect.set_hidden(!kicked);
                if !kicked {
                    storage::forget();
                }
            }
        }
    }

    fn on_server_event(self: &Rc<Self>, event: ServerEvent) {
        match event {
            ServerEvent::MessageReceived(message) => {
                presence::typing_stopped(self, &message.room_id, message.username.as_str());
                messages::received(self, message);
            }
            ServerEvent::UserJoined(change) => {
                rooms::set_count(self, &change.room_id, change.user_count);
                presence::joined(self, &change.room_id, change.username.as_str());
            }
            ServerEvent::UserLeft(change) => {
                rooms::set_count(self, &change.room_id, change.user_count);
                presence::left(self, &change.room_id, change.username.as_str());
            }
            ServerEvent::UserKicked(kicked) => {
                if let Some(room) = &kicked.room_id {
                    let line = format!("{} was kicked: {}", kicked.username, kicked.reason);
                    messages::system_line(self, room, &line);
                    presence::left(self, room, kicked.username.as_str());
                }
            }
            ServerEvent::SystemAnnouncement(announcement) => announcements::show(&self.view, &announcement),
            ServerEvent::RoomCreated(created) => {
                let room = created.room_info;
                self.state.borrow_mut().rooms.insert(room.room_id.clone(), room);
                rooms::render(self);
            }
            ServerEvent::RoomDeleted(deleted) => {
                notices::show(&format!("Room #{} was deleted.", deleted.room_name));
                rooms::deleted(self, &deleted.room_id);
            }
            ServerEvent::UserStartedTyping(typing) => {
                presence::typing_started(self, &typing.room_id, typing.username.as_str())
            }
            ServerEvent::UserStoppedTyping(typing) => {
                presence::typing_stopped(self, &typing.room_id, typing.username.as_str())
            }
            ServerEvent::MessageEdited(edit) => {
                edits::edited(self, &edit.room_id, edit.message_id, &edit.text, edit.edited_at)
            }
            ServerEvent::MessageDeleted(gone) => edits::deleted(self, &gone.room_id, gone.message_id),
            ServerEvent::ReactionAdded(change) => reactions::changed(self, &change, true),
            ServerEvent::ReactionRemoved(change) => reactions::changed(self, &change, false),
            ServerEvent::ReadMarkerUpdated(marker) => unread::marker_updated(self, &marker),
            ServerEvent::Mentioned(mention) => mentions::elsewhere(self, &mention.message),
            ServerEvent::RoomUpdated(update) => topic::updated(self, update),
        }
    }
}
