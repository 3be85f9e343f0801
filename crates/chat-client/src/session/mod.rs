//! A session: one logged-in user's connection that heals itself.
//!
//! [`Session::connect`] opens the first connection and hands back the
//! session (for calls) and its [`SessionEvents`] (everything the server
//! pushes, plus connection news). Behind them a supervisor task feeds
//! notifications through the room bookkeeping and, when the connection
//! drops, reconnects with backoff, re-joins every room with
//! `since_message_id`, and delivers what was missed before any new live
//! message, each message exactly once.
//!
//! The close code decides what happens after a drop: 4001 (kicked) and
//! 4003 (banned) end the session; anything else (1001 restart, 4008 too
//! slow, a network failure) reconnects. A refused handshake with HTTP 401
//! pauses until [`Session::set_token`] provides a new token.

mod connection;
mod features;
mod room_list;
mod rooms;
mod supervisor;

use std::{sync::Arc, time::Duration};

use chat_api::{
    Avatar, DisplayName, Message, MessageId, MessageText, Profile, Reason, RoomId, RoomInfo, RoomName, ServerEvent,
    UserName,
    notifications::AnnouncementLevel,
    rpc::{ChatApiClient, HistoryResult, MAX_HISTORY_LIMIT, SendMessageResult},
};
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

use self::connection::RpcClient;
use crate::{CallError, ConnectError, ServerUrl, runtime};

/// Tunables of a session. The defaults suit people; tests shorten them.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Wait before the first reconnect attempt; doubles per attempt.
    pub first_retry: Duration,
    /// Longest wait between reconnect attempts.
    pub max_retry: Duration,
    /// How long a call may wait for its answer.
    pub request_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// WebSocket ping interval; no answer for twice this drops the
    /// connection and reconnects. Native only: a browser's WebSocket
    /// cannot send pings, and the browser notices a dead network itself.
    pub ping_interval: Duration,
    /// Notifications jsonrpsee buffers per method name. When one buffer
    /// overflows, the session reconnects and catches up rather than lose
    /// messages silently.
    pub buffer_per_notification: usize,
    /// Events buffered for the front end before the supervisor waits.
    pub event_capacity: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_millis(500),
            max_retry: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            buffer_per_notification: 1024,
            event_capacity: 1024,
        }
    }
}

/// Something for the front end to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A notification from the server. `message_received` is delivered once
    /// per message, also across reconnects. The `user_kicked` sent to the
    /// kicked user's own connections becomes [`SessionEvent::Ended`].
    Server(ServerEvent),
    /// The connection dropped; the session is reconnecting in the background.
    ConnectionLost {
        /// What happened, for people.
        cause: String,
    },
    /// Connected again and every room re-joined. The missed messages follow
    /// as `Server(MessageReceived)` events, oldest first.
    Reconnected(Reconnected),
    /// The server refused the token (expired, or the account changed). The
    /// session waits for [`Session::set_token`].
    TokenRejected,
    /// The session is over and will not reconnect.
    Ended(EndReason),
}

/// Details of a reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnected {
    /// How many attempts it took.
    pub attempts: u32,
    /// The rooms re-joined.
    pub rooms: Vec<RoomName>,
    /// Rooms that were deleted while the session was away.
    pub gone: Vec<RoomId>,
    /// How many messages were missed and follow this event.
    pub missed: usize,
    /// Rooms where more was missed than could be fetched; their oldest
    /// missed messages are left out.
    pub gaps: Vec<RoomId>,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// A moderator kicked this user (close 4001).
    Kicked {
        /// The moderator's reason, when the server sent one.
        reason: Option<String>,
    },
    /// The account is banned (close 4003 or HTTP 403 on reconnect).
    Banned {
        /// The server's reason, when it sent one.
        reason: Option<String>,
        /// Until when, when the server said (see [`BanLength`]).
        length: Option<BanLength>,
    },
}

/// How long a ban lasts, as the server describes it: in the close reason
/// when it says, otherwise in the 403 answer a banned token gets from `/ws`
/// (`banned until <RFC 3339 time>` or `banned permanently`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanLength {
    /// The ban ends at this time.
    Until(chat_api::Timestamp),
    /// The ban does not end by itself.
    Permanent,
}

impl BanLength {
    /// Finds `until <time>` or `permanently` in a server's text.
    pub fn from_description(text: &str) -> Option<Self> {
        if let Some((_, after)) = text.split_once("until ") {
            let time = after.split_whitespace().next()?.trim_end_matches([':', ',', ';', ')']);
            let parsed = chrono::DateTime::parse_from_rfc3339(time).ok()?;
            return Some(Self::Until(chat_api::Timestamp::from_unix_millis(parsed.timestamp_millis())));
        }
        text.contains("permanently").then_some(Self::Permanent)
    }
}

/// What a successful join returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// Canonical id.
    pub room_id: RoomId,
    /// Name as first spelled.
    pub room_name: RoomName,
    /// Users in the room, this one included.
    pub users: Vec<UserName>,
    /// Messages this session has not delivered before, oldest first: on a
    /// first join the room's newest messages.
    pub messages: Vec<Message>,
}

/// The stream of [`SessionEvent`]s. Ends after [`SessionEvent::Ended`] or
/// once the session is closed.
#[derive(Debug)]
pub struct SessionEvents {
    rx: mpsc::Receiver<SessionEvent>,
    stop: CancellationToken,
    ended: bool,
}

impl SessionEvents {
    /// The next event; `None` once the session is over.
    pub async fn next(&mut self) -> Option<SessionEvent> {
        if self.ended {
            return None;
        }
        let event = tokio::select! {
            biased;
            event = self.rx.recv() => event,
            () = self.stop.cancelled() => None,
        };
        self.ended = matches!(event, None | Some(SessionEvent::Ended(_)));
        event
    }
}

/// State shared by the session handle and its supervisor. Locks are held
/// only for bookkeeping, never across an `.await`.
#[derive(Debug)]
struct Shared {
    server: ServerUrl,
    options: SessionOptions,
    token: watch::Sender<String>,
    client: watch::Sender<Option<Arc<RpcClient>>>,
    rooms: Mutex<rooms::Rooms>,
    events: mpsc::Sender<SessionEvent>,
    stop: CancellationToken,
}

/// How long the session's account is banned for, asked over HTTP; bounded
/// in time, since it only adds detail to a notice.
async fn ban_length(shared: &Shared) -> Option<BanLength> {
    let token = shared.token.borrow().clone();
    let rest = crate::RestClient::new(shared.server.clone());
    let description = runtime::timeout(shared.options.connect_timeout, rest.ban_description(&token)).await.ok()??;
    BanLength::from_description(&description)
}

/// A logged-in connection to one server. Cloning shares it; dropping the
/// last clone closes it.
#[derive(Debug, Clone)]
pub struct Session {
    shared: Arc<Shared>,
    _stop_on_drop: Arc<DropGuard>,
}

impl Session {
    /// Connects with `token`. Fails at once (no retry) when the server is
    /// unreachable or refuses the token, so the caller can ask the user.
    pub async fn connect(
        server: ServerUrl,
        token: String,
        options: SessionOptions,
    ) -> Result<(Session, SessionEvents), ConnectError> {
        let first = connection::open(&server, &token, &options).await?;
        let (events, rx) = mpsc::channel(options.event_capacity.max(1));
        let stop = CancellationToken::new();
        let shared = Arc::new(Shared {
            server,
            options,
            token: watch::Sender::new(token),
            client: watch::Sender::new(Some(first.client.clone())),
            rooms: Mutex::new(rooms::Rooms::default()),
            events,
            stop: stop.clone(),
        });
        // Subscribed before the task starts, so a `set_token` right after
        // this returns is not missed.
        let token_changes = shared.token.subscribe();
        runtime::spawn(supervisor::supervise(shared.clone(), first, token_changes));
        let session = Session { shared, _stop_on_drop: Arc::new(stop.clone().drop_guard()) };
        Ok((session, SessionEvents { rx, stop, ended: false }))
    }

    /// The server this session talks to.
    pub fn server(&self) -> &ServerUrl {
        &self.shared.server
    }

    /// Whether a connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.shared.client.borrow().as_ref().is_some_and(|client| client.is_connected())
    }

    /// The rooms this session is in, in the order they were joined.
    pub fn rooms(&self) -> Vec<RoomName> {
        self.shared.rooms.lock().names()
    }

    /// Comes back after a kick: connects again with the same token, re-joins
    /// every room the session was in and delivers what was missed meanwhile
    /// (a [`SessionEvent::Reconnected`] and the messages, each once), then
    /// carries on as before. For a session whose events ended with
    /// [`SessionEvent::Ended`]; a running or closed session is left as it is.
    /// A kick does not reconnect by itself: the moderator meant it, and it
    /// is for the user to decide to come back.
    pub async fn come_back(&self, events: &mut SessionEvents) -> Result<(), ConnectError> {
        if !events.ended || self.shared.stop.is_cancelled() {
            return Ok(());
        }
        let token = self.shared.token.subscribe();
        let current = token.borrow().clone();
        let connection = connection::open(&self.shared.server, &current, &self.shared.options).await?;
        events.ended = false;
        runtime::spawn(supervisor::come_back(self.shared.clone(), connection, token));
        Ok(())
    }

    /// Replaces the token (after logging in again). The session reconnects
    /// with it at once, re-joining its rooms without missing messages.
    pub fn set_token(&self, token: String) {
        self.shared.token.send_replace(token);
    }

    /// Ends the session: no more reconnects, and the connection closes.
    pub fn close(&self) {
        self.shared.stop.cancel();
        self.shared.client.send_replace(None);
    }

    fn client(&self) -> Result<Arc<RpcClient>, CallError> {
        self.shared.client.borrow().clone().ok_or(CallError::NotConnected)
    }

    /// Joins (or creates) a room. Joining a room the session is already in
    /// returns just the messages it has not delivered yet.
    pub async fn join_room(&self, name: &RoomName) -> Result<Joined, CallError> {
        let id = name.id();
        let client = self.client()?;
        let ticket = self.shared.rooms.lock().begin_join(name);
        match client.join_room(name.clone(), ticket.since).await {
            Ok(answer) => {
                let messages =
                    self.shared.rooms.lock().finish_join(&id, answer.room_name.clone(), answer.recent_messages);
                Ok(Joined {
                    room_id: answer.room_id,
                    room_name: answer.room_name,
                    users: answer.existing_users,
                    messages,
                })
            }
            Err(error) => {
                let released = self.shared.rooms.lock().abort_join(&id, ticket);
                for message in released {
                    // Held while the join was pending; show them after all.
                    let event = SessionEvent::Server(ServerEvent::MessageReceived(message));
                    if self.shared.events.send(event).await.is_err() {
                        break;
                    }
                }
                Err(error.into())
            }
        }
    }

    /// Leaves a room. When the connection is down the room is simply not
    /// re-joined.
    pub async fn leave_room(&self, room: &RoomId) -> Result<(), CallError> {
        let result = match self.client() {
            Ok(client) => client.leave_room(room.clone()).await.map_err(CallError::from),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) | Err(CallError::NotConnected | CallError::ConnectionLost) => {
                self.shared.rooms.lock().remove(room);
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Sends a message; answered once the server has stored it.
    pub async fn send_message(&self, room: &RoomId, text: &MessageText) -> Result<SendMessageResult, CallError> {
        Ok(self.client()?.send_message(room.clone(), text.clone(), None).await?)
    }

    /// Every room on the server, in id order (at most 100,000).
    pub async fn list_rooms(&self) -> Result<Vec<RoomInfo>, CallError> {
        Ok(room_list::all_rooms(&*self.client()?).await?.0)
    }

    /// Who is in a room now.
    pub async fn list_users(&self, room: &RoomId) -> Result<Vec<UserName>, CallError> {
        Ok(self.client()?.list_users(room.clone()).await?.users)
    }

    /// One page of history before `before` (newest page when `None`).
    pub async fn get_history(
        &self,
        room: &RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<HistoryResult, CallError> {
        Ok(self.client()?.get_history(room.clone(), before, Some(limit)).await?)
    }

    /// The newest `count` messages of a room (oldest first), paging as
    /// needed.
    pub async fn recent_history(&self, room: &RoomId, count: usize) -> Result<Vec<Message>, CallError> {
        let mut collected: Vec<Message> = Vec::new();
        let mut before = None;
        while collected.len() < count {
            let want = (count - collected.len()).min(MAX_HISTORY_LIMIT as usize) as u32;
            let page = self.get_history(room, before, want).await?;
            let Some(oldest) = page.messages.first().map(|m| m.message_id) else {
                break;
            };
            let mut page_messages = page.messages;
            page_messages.append(&mut collected);
            collected = page_messages;
            if !page.has_more {
                break;
            }
            before = Some(oldest);
        }
        let excess = collected.len().saturating_sub(count);
        collected.drain(..excess);
        Ok(collected)
    }

    /// Tells the room this user is typing (the server expires it after 5 s).
    pub async fn start_typing(&self, room: &RoomId) -> Result<(), CallError> {
        Ok(self.client()?.start_typing(room.clone()).await?)
    }

    /// Tells the room this user stopped typing.
    pub async fn stop_typing(&self, room: &RoomId) -> Result<(), CallError> {
        Ok(self.client()?.stop_typing(room.clone()).await?)
    }

    /// Any user's profile.
    pub async fn get_profile(&self, user: &UserName) -> Result<Profile, CallError> {
        Ok(self.client()?.get_profile(user.clone()).await?.profile)
    }

    /// Changes this user's display name and/or avatar.
    pub async fn update_profile(
        &self,
        display_name: Option<DisplayName>,
        avatar: Option<Avatar>,
    ) -> Result<Profile, CallError> {
        Ok(self.client()?.update_profile(display_name, avatar).await?.profile)
    }

    /// Disconnects a user (moderators). `false` when they were offline.
    pub async fn kick_user(&self, user: &UserName, reason: &Reason) -> Result<bool, CallError> {
        Ok(self.client()?.kick_user(user.clone(), reason.clone()).await?)
    }

    /// Bans a user for `duration`, or for good (moderators).
    pub async fn ban_user(
        &self,
        user: &UserName,
        reason: &Reason,
        duration: Option<Duration>,
    ) -> Result<bool, CallError> {
        let seconds = duration.map(|d| d.as_secs().max(1));
        Ok(self.client()?.ban_user(user.clone(), reason.clone(), seconds).await?)
    }

    /// Lifts a ban (moderators).
    pub async fn unban_user(&self, user: &UserName) -> Result<bool, CallError> {
        Ok(self.client()?.unban_user(user.clone()).await?)
    }

    /// Announces something to everyone connected (admins).
    pub async fn broadcast_announcement(&self, text: &MessageText, level: AnnouncementLevel) -> Result<(), CallError> {
        Ok(self.client()?.broadcast_announcement(text.clone(), level).await?)
    }

    /// Deletes a room and its history (admins).
    pub async fn delete_room(&self, room: &RoomId) -> Result<(), CallError> {
        Ok(self.client()?.delete_room(room.clone()).await?)
    }
}
