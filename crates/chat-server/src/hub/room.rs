//! One room's live membership and fan-out.
//!
//! Each room has its own lock, held only for synchronous work (never across
//! an `.await`), so rooms never wait on each other. Delivery is `try_send`
//! into each connection's bounded outbox: a slow reader is cut off, never
//! waited for.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Duration,
};

use chat_api::{
    Message, MessageId, RoomId, RoomInfo, RoomName, RoomTopic, ServerEvent, UserId, UserName,
    notifications::{PresenceChange, Typing},
};
use parking_lot::RwLock;
use tokio::time::Instant;

use super::{Connection, Frame, relay::RelaySlot};

/// A live room.
#[derive(Debug)]
pub(crate) struct Room {
    id: RoomId,
    name: RoomName,
    state: RwLock<Members>,
    /// Highest message id delivered to this room's connections. Written
    /// under the read lock by the single publisher (the storage completer),
    /// read under the write lock by joins; see [`Room::join`].
    last_published: AtomicI64,
    /// What the room is about.
    topic: RwLock<Option<RoomTopic>>,
    /// Who created it (none for start-up rooms); may set its topic.
    created_by: Option<UserId>,
    /// Set once a message is known to be stored in the room: such a room
    /// never expires (see `service::room_expiry`).
    written: AtomicBool,
    /// The other nodes, in cluster mode.
    relay: RelaySlot,
}

#[derive(Debug)]
struct Members {
    /// Users present through this node's connections.
    by_user: HashMap<UserId, Member>,
    /// Users present through other nodes only or as well, with the nodes.
    /// A user is present in the room when in either map.
    remote: HashMap<UserId, RemoteMember>,
    /// When the last member left (or the room was loaded or made), which
    /// is what the expiry of empty rooms counts from.
    idle_since: Instant,
}

#[derive(Debug)]
struct RemoteMember {
    username: UserName,
    nodes: HashSet<String>,
}

impl Members {
    /// Distinct users present, on any node.
    fn count(&self) -> usize {
        self.by_user.len() + self.remote.keys().filter(|u| !self.by_user.contains_key(u)).count()
    }

    fn is_present(&self, user: UserId) -> bool {
        self.by_user.contains_key(&user) || self.remote.contains_key(&user)
    }

    /// Every present user's name, sorted.
    fn names(&self) -> Vec<UserName> {
        let mut users: Vec<UserName> = self.by_user.values().map(|m| m.username.clone()).collect();
        users
            .extend(self.remote.iter().filter(|(u, _)| !self.by_user.contains_key(u)).map(|(_, m)| m.username.clone()));
        users.sort_by_key(UserName::key);
        users
    }
}

#[derive(Debug)]
struct Member {
    username: UserName,
    conns: Vec<Arc<Connection>>,
    typing_until: Option<Instant>,
}

/// What a join found.
#[derive(Debug)]
pub(crate) struct Joined {
    /// Distinct users in the room now.
    pub user_count: usize,
    /// Their names, sorted.
    pub users: Vec<UserName>,
    /// Messages up to this id were published before the connection was
    /// added; later ones reach it live. Reading history up to here and no
    /// further means nothing is missed and nothing arrives twice.
    pub published_upto: MessageId,
    /// False when the connection was already in the room.
    pub newly_joined: bool,
    /// The history the join asked for, when memory had all of it: the
    /// newest messages after the asked-for id, up to `published_upto`.
    pub history: Option<Vec<Message>>,
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinRefused {
    /// The room is at its user limit.
    Full,
    /// The join would tell the room, and the caller's admission refused
    /// it; retry after this long.
    TooFast(Duration),
}

/// Why `start_typing` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypingRefused {
    /// The connection is not in the room.
    NotInRoom,
    /// The indicator would tell the room, and the caller's admission
    /// refused it; retry after this long.
    TooFast(Duration),
}

impl Room {
    pub(super) fn new(
        id: RoomId,
        name: RoomName,
        topic: Option<RoomTopic>,
        created_by: Option<UserId>,
        published_upto: MessageId,
        relay: RelaySlot,
    ) -> Self {
        Self {
            id,
            name,
            state: RwLock::new(Members { by_user: HashMap::new(), remote: HashMap::new(), idle_since: Instant::now() }),
            last_published: AtomicI64::new(published_upto.0),
            topic: RwLock::new(topic),
            created_by,
            written: AtomicBool::new(false),
            relay,
        }
    }

    /// Tells the other nodes that `event` happened in this room.
    fn relay_event(&self, event: &ServerEvent, except: Option<UserId>) {
        if let Some(relay) = self.relay.get() {
            relay.room(&self.id, event, except);
        }
    }

    fn relay_presence(&self, user: UserId, username: &UserName, present: bool) {
        if let Some(relay) = self.relay.get() {
            relay.presence(&self.id, user, username, present);
        }
    }

    /// Who created the room, if a user did.
    pub(crate) fn created_by(&self) -> Option<UserId> {
        self.created_by
    }

    /// Replaces the topic.
    pub(crate) fn set_topic(&self, topic: Option<RoomTopic>) {
        *self.topic.write() = topic;
    }

    /// Canonical id.
    pub(crate) fn id(&self) -> &RoomId {
        &self.id
    }

    /// Name as first spelled.
    pub(crate) fn name(&self) -> &RoomName {
        &self.name
    }

    /// Id, name and current user count.
    pub(crate) fn info(&self) -> RoomInfo {
        RoomInfo {
            room_id: self.id.clone(),
            room_name: self.name.clone(),
            user_count: self.state.read().count(),
            topic: self.topic.read().clone(),
        }
    }

    /// Since when nobody has been in the room; `None` while somebody is.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        let state = self.state.read();
        (state.by_user.is_empty() && state.remote.is_empty()).then_some(state.idle_since)
    }

    /// Whether a message is known to be stored in the room.
    pub(crate) fn known_written(&self) -> bool {
        self.written.load(Ordering::Relaxed)
    }

    /// Records that a message is stored in the room.
    pub(crate) fn mark_written(&self) {
        self.written.store(true, Ordering::Relaxed);
    }

    /// Usernames present, sorted.
    pub(crate) fn users(&self) -> Vec<UserName> {
        self.state.read().names()
    }

    /// The users present through this node's connections.
    pub(crate) fn local_members(&self) -> Vec<(UserId, UserName)> {
        self.state.read().by_user.iter().map(|(u, m)| (*u, m.username.clone())).collect()
    }

    /// Another node says `user` is (or no longer is) present here through
    /// it. The local members are told when that changes whether the user
    /// is present at all.
    pub(crate) fn remote_presence(&self, node: &str, user: UserId, username: &UserName, present: bool) {
        let mut state = self.state.write();
        let was = state.is_present(user);
        if present {
            state
                .remote
                .entry(user)
                .or_insert_with(|| RemoteMember { username: username.clone(), nodes: HashSet::new() })
                .nodes
                .insert(node.to_owned());
        } else if let Some(member) = state.remote.get_mut(&user) {
            member.nodes.remove(node);
            if member.nodes.is_empty() {
                state.remote.remove(&user);
            }
        }
        let now = state.is_present(user);
        if was == now {
            return;
        }
        if !now && state.by_user.is_empty() && state.remote.is_empty() {
            state.idle_since = Instant::now();
        }
        let change = PresenceChange { room_id: self.id.clone(), username: username.clone(), user_count: state.count() };
        let event = if now { ServerEvent::UserJoined(change) } else { ServerEvent::UserLeft(change) };
        deliver(&state, &Frame::event(&event), Some(user));
    }

    /// Forgets every user present through `node` (it stopped answering).
    pub(crate) fn drop_node(&self, node: &str) {
        let users: Vec<(UserId, UserName)> = {
            let state = self.state.read();
            state.remote.iter().filter(|(_, m)| m.nodes.contains(node)).map(|(u, m)| (*u, m.username.clone())).collect()
        };
        for (user, name) in users {
            self.remote_presence(node, user, &name, false);
        }
    }

    /// The users present through `node`.
    pub(crate) fn remote_members_of(&self, node: &str) -> Vec<(UserId, UserName)> {
        let state = self.state.read();
        state.remote.iter().filter(|(_, m)| m.nodes.contains(node)).map(|(u, m)| (*u, m.username.clone())).collect()
    }

    /// Adds a connection. The first connection of a user makes them a
    /// member and tells the others (`user_joined`); that case alone asks
    /// `admit` first, so a refusal changes nothing and tells nobody.
    /// `history` is asked, under the room's lock, for the messages up to
    /// the last one published, which makes its answer meet the live ones
    /// with no gap.
    pub(super) fn join(
        &self,
        conn: &Arc<Connection>,
        max_users: usize,
        history: impl FnOnce(MessageId) -> Option<Vec<Message>>,
        admit: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<Joined, JoinRefused> {
        let mut state = self.state.write();
        let user = conn.user_id();
        let newly_joined;
        match state.by_user.get_mut(&user) {
            Some(member) => {
                newly_joined = !member.conns.iter().any(|c| c.id() == conn.id());
                if newly_joined {
                    member.conns.push(Arc::clone(conn));
                }
            }
            None => {
                let elsewhere = state.remote.contains_key(&user);
                if !elsewhere && state.count() >= max_users {
                    return Err(JoinRefused::Full);
                }
                admit().map_err(JoinRefused::TooFast)?;
                newly_joined = true;
                state.by_user.insert(
                    user,
                    Member { username: conn.username().clone(), conns: vec![Arc::clone(conn)], typing_until: None },
                );
                if !elsewhere {
                    let event = ServerEvent::UserJoined(PresenceChange {
                        room_id: self.id.clone(),
                        username: conn.username().clone(),
                        user_count: state.count(),
                    });
                    deliver(&state, &Frame::event(&event), Some(user));
                }
                self.relay_presence(user, conn.username(), true);
            }
        }
        conn.add_room(self.id.clone());
        let users = state.names();
        let published_upto = MessageId(self.last_published.load(Ordering::Acquire));
        Ok(Joined { user_count: state.count(), users, published_upto, newly_joined, history: history(published_upto) })
    }

    /// Removes a connection. When it was the user's last one here, the
    /// others get `user_stopped_typing` (if they were typing) and
    /// `user_left`. Returns whether the connection was in the room.
    pub(super) fn leave(&self, conn: &Connection) -> bool {
        conn.remove_room(&self.id);
        let mut state = self.state.write();
        let user = conn.user_id();
        let Some(member) = state.by_user.get_mut(&user) else { return false };
        let before = member.conns.len();
        member.conns.retain(|c| c.id() != conn.id());
        let was_in = member.conns.len() != before;
        if member.conns.is_empty() {
            self.remove_member(&mut state, user);
        }
        was_in
    }

    /// Removes a user with all their connections (kick, ban). Returns
    /// whether they were here. `before_leaving` is delivered to the
    /// remaining members ahead of `user_left`.
    pub(super) fn remove_user(&self, user: UserId, before_leaving: Option<&Frame>) -> bool {
        let mut state = self.state.write();
        let Some(member) = state.by_user.get(&user) else { return false };
        for conn in &member.conns {
            conn.remove_room(&self.id);
        }
        if let Some(frame) = before_leaving {
            deliver(&state, frame, Some(user));
            if let Some(event) = frame.notification() {
                self.relay_event(event, Some(user));
            }
        }
        self.remove_member(&mut state, user);
        true
    }

    fn remove_member(&self, state: &mut Members, user: UserId) {
        let Some(member) = state.by_user.remove(&user) else { return };
        if state.by_user.is_empty() && state.remote.is_empty() {
            state.idle_since = Instant::now();
        }
        if member.typing_until.is_some() {
            let event =
                ServerEvent::UserStoppedTyping(Typing { room_id: self.id.clone(), username: member.username.clone() });
            deliver(state, &Frame::event(&event), None);
            self.relay_event(&event, Some(user));
        }
        self.relay_presence(user, &member.username, false);
        if state.remote.contains_key(&user) {
            // Still present through another node.
            return;
        }
        let event = ServerEvent::UserLeft(PresenceChange {
            room_id: self.id.clone(),
            username: member.username,
            user_count: state.count(),
        });
        deliver(state, &Frame::event(&event), None);
    }

    /// Every connection in the room, for closing them when it is deleted.
    pub(super) fn drain(&self) -> Vec<Arc<Connection>> {
        let mut state = self.state.write();
        let conns: Vec<Arc<Connection>> = state.by_user.drain().flat_map(|(_, m)| m.conns).collect();
        for conn in &conns {
            conn.remove_room(&self.id);
        }
        conns
    }

    /// Delivers a stored message to every connection in the room, the
    /// sender's included. Called in id order by the storage completer.
    pub(crate) fn publish_message(&self, message: &Message, frame: &Frame) {
        let state = self.state.read();
        self.last_published.fetch_max(message.message_id.0, Ordering::AcqRel);
        self.mark_written();
        deliver(&state, frame, None);
    }

    /// Delivers a frame to every connection in the room, on every node,
    /// optionally except one user's.
    pub(crate) fn publish(&self, frame: &Frame, except: Option<UserId>) {
        if let Some(event) = frame.notification() {
            self.relay_event(event, except);
        }
        self.publish_local(frame, except);
    }

    /// [`Room::publish`] on this node only.
    pub(crate) fn publish_local(&self, frame: &Frame, except: Option<UserId>) {
        deliver(&self.state.read(), frame, except);
    }

    /// Marks the user as typing until `until`. Returns true when they were
    /// not typing before: the others are then told, which `admit` must
    /// allow first (the caller then starts a timer). A repeat while typing
    /// only moves the deadline, tells nobody and asks nothing. Errors when
    /// the connection is not in the room.
    pub(super) fn start_typing(
        &self,
        conn: &Connection,
        until: Instant,
        admit: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<bool, TypingRefused> {
        let mut state = self.state.write();
        let member = state.by_user.get_mut(&conn.user_id()).ok_or(TypingRefused::NotInRoom)?;
        if !member.conns.iter().any(|c| c.id() == conn.id()) {
            return Err(TypingRefused::NotInRoom);
        }
        let started = member.typing_until.is_none();
        if started {
            admit().map_err(TypingRefused::TooFast)?;
        }
        member.typing_until = Some(until);
        if started {
            let event =
                ServerEvent::UserStartedTyping(Typing { room_id: self.id.clone(), username: member.username.clone() });
            deliver(&state, &Frame::event(&event), Some(conn.user_id()));
            self.relay_event(&event, Some(conn.user_id()));
        }
        Ok(started)
    }

    /// Clears the user's typing state, telling the others if it was set.
    /// With `only_if_due`, clears it only when its deadline has passed and
    /// returns the later deadline otherwise (the timer then sleeps again).
    pub(super) fn stop_typing(&self, user: UserId, only_if_due: Option<Instant>) -> Option<Instant> {
        let mut state = self.state.write();
        let member = state.by_user.get_mut(&user)?;
        let until = member.typing_until?;
        if let Some(now) = only_if_due
            && until > now
        {
            return Some(until);
        }
        member.typing_until = None;
        let event =
            ServerEvent::UserStoppedTyping(Typing { room_id: self.id.clone(), username: member.username.clone() });
        deliver(&state, &Frame::event(&event), Some(user));
        self.relay_event(&event, Some(user));
        None
    }
}

/// Pushes a frame to every member connection. Synchronous by design: it is
/// called with the room's lock held and must never wait.
fn deliver(state: &Members, frame: &Frame, except: Option<UserId>) {
    for (user, member) in &state.by_user {
        if Some(*user) == except {
            continue;
        }
        for conn in &member.conns {
            conn.push(frame);
        }
    }
}
