//! Live connections, rooms and fan-out.
//!
//! The hub knows who is connected and which connection is in which room. It
//! delivers pre-serialized [`Frame`]s by `try_send` into each connection's
//! bounded outbox and never waits on a socket. Locks are private, short and
//! never held across an `.await`: a map of connections, a map of users, a
//! map of rooms, and one lock per room for its membership.

mod connection;
mod frame;
mod outbox;
mod relay;
mod room;
pub(crate) mod stats;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    ops::Bound,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chat_api::{
    CloseCode, MessageId, RoomId, RoomInfo, ServerEvent, Timestamp, UserId, UserName, notifications::Kicked,
};
use parking_lot::{Mutex, RwLock};
use tokio::time::Instant;

use crate::store::RoomRecord;

pub(crate) use connection::{ConnId, Connection, Identity};
pub(crate) use frame::{Encoding, Frame};
pub(crate) use outbox::{Outbox, OutboxEvent, OutboxLimits};
pub(crate) use relay::{EndedSession, Eviction, EvictionNotice, Relay};
pub(crate) use room::{JoinRefused, Joined, Room, TypingRefused};

use relay::RelaySlot;

/// How long a typing indicator lasts without a new `start_typing`.
pub(crate) const TYPING_TIMEOUT: Duration = Duration::from_secs(5);

/// The registry of live connections and rooms.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    connections: RwLock<HashMap<ConnId, Arc<Connection>>>,
    by_user: Mutex<HashMap<UserId, Vec<Arc<Connection>>>>,
    /// Connected users by username key, for direct messages from other
    /// nodes (which name their two users by key).
    by_key: Mutex<HashMap<String, UserId>>,
    rooms: RwLock<BTreeMap<RoomId, Arc<Room>>>,
    /// Bans issued while this server runs, with their end. A connection
    /// checks here right after registering, to catch a ban that landed
    /// between its authentication and its registration.
    recent_bans: Mutex<HashMap<UserId, Option<Timestamp>>>,
    /// Accounts deleted while this server runs (ids are never reused), for
    /// the same look after registering. Grows by one per deletion.
    deleted: Mutex<HashSet<UserId>>,
    next_id: AtomicU64,
    /// The other nodes, in cluster mode.
    relay: RelaySlot,
}

impl Hub {
    /// An empty hub.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Plugs in the other nodes: from now on, what reaches this node's
    /// users reaches theirs too.
    pub(crate) fn set_relay(&self, relay: Arc<dyn Relay>) {
        let _ = self.relay.set(relay);
    }

    fn relay(&self) -> Option<&Arc<dyn Relay>> {
        self.relay.get()
    }

    /// A fresh connection id.
    pub(crate) fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Adds a connection.
    pub(crate) fn register(&self, conn: &Arc<Connection>) {
        self.connections.write().insert(conn.id(), Arc::clone(conn));
        self.by_user.lock().entry(conn.user_id()).or_default().push(Arc::clone(conn));
        self.by_key.lock().insert(conn.username().key(), conn.user_id());
    }

    /// The connected user with this username key (lower case), if any.
    pub(crate) fn connected_user_named(&self, key: &str) -> Option<UserId> {
        self.by_key.lock().get(key).copied()
    }

    /// Removes a connection from every room and from the registry. Returns
    /// whether it was the user's last connection.
    pub(crate) fn unregister(&self, conn: &Connection) -> bool {
        for room_id in conn.rooms() {
            if let Some(room) = self.room(&room_id) {
                room.leave(conn);
            }
        }
        self.connections.write().remove(&conn.id());
        let mut by_user = self.by_user.lock();
        let Some(conns) = by_user.get_mut(&conn.user_id()) else { return true };
        conns.retain(|c| c.id() != conn.id());
        let last = conns.is_empty();
        if last {
            by_user.remove(&conn.user_id());
            self.by_key.lock().remove(&conn.username().key());
        }
        last
    }

    /// Number of live connections.
    pub(crate) fn connection_count(&self) -> usize {
        self.connections.read().len()
    }

    /// Whether the user has any live connection.
    pub(crate) fn is_online(&self, user: UserId) -> bool {
        self.by_user.lock().contains_key(&user)
    }

    /// Adds a room if no room has its id; returns the room and whether it
    /// was added.
    pub(crate) fn add_room(&self, record: RoomRecord, published_upto: MessageId) -> (Arc<Room>, bool) {
        let mut rooms = self.rooms.write();
        if let Some(room) = rooms.get(&record.id) {
            return (Arc::clone(room), false);
        }
        let id = record.id.clone();
        let room = Arc::new(Room::new(
            record.id,
            record.name,
            record.topic,
            record.created_by,
            published_upto,
            Arc::clone(&self.relay),
        ));
        rooms.insert(id, Arc::clone(&room));
        (room, true)
    }

    /// A room by id.
    pub(crate) fn room(&self, id: &RoomId) -> Option<Arc<Room>> {
        self.rooms.read().get(id).cloned()
    }

    /// Up to `limit` rooms with their user counts, sorted by id, starting
    /// after `after` (from the first without it), and whether more follow.
    pub(crate) fn room_page(&self, after: Option<&RoomId>, limit: usize) -> (Vec<RoomInfo>, bool) {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        // Only the page is cloned under the lock; counting members takes
        // each room's own lock, after this one is released.
        let (page, has_more) = {
            let rooms = self.rooms.read();
            let mut range = rooms.range::<RoomId, _>((from, Bound::Unbounded));
            let page: Vec<Arc<Room>> = range.by_ref().take(limit).map(|(_, room)| Arc::clone(room)).collect();
            (page, range.next().is_some())
        };
        (page.iter().map(|r| r.info()).collect(), has_more)
    }

    /// Every room, in id order.
    pub(crate) fn rooms(&self) -> Vec<Arc<Room>> {
        self.rooms.read().values().cloned().collect()
    }

    /// Removes a room; its connections simply stop being in it (everyone is
    /// told by the caller with `room_deleted`).
    pub(crate) fn remove_room(&self, id: &RoomId) -> Option<Arc<Room>> {
        let room = self.rooms.write().remove(id)?;
        room.drain();
        Some(room)
    }

    /// Joins a connection to a room; `admit` is asked only when the join
    /// makes the user present there (see [`Room::join`]).
    pub(crate) fn join(
        &self,
        conn: &Arc<Connection>,
        room: &Room,
        max_users: usize,
        history: impl FnOnce(MessageId) -> Option<Vec<chat_api::Message>>,
        admit: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<Joined, JoinRefused> {
        room.join(conn, max_users, history, admit)
    }

    /// Removes a connection from a room; false if it was not in it.
    pub(crate) fn leave(&self, conn: &Connection, room: &RoomId) -> bool {
        self.room(room).is_some_and(|r| r.leave(conn))
    }

    /// Sends a frame to every live connection, on every node.
    pub(crate) fn broadcast(&self, frame: &Frame) {
        if let (Some(relay), Some(event)) = (self.relay(), frame.notification()) {
            relay.everyone(event);
        }
        self.broadcast_local(frame);
    }

    /// Sends a frame to every live connection of this node.
    pub(crate) fn broadcast_local(&self, frame: &Frame) {
        let conns: Vec<Arc<Connection>> = self.connections.read().values().cloned().collect();
        for conn in conns {
            conn.push(frame);
        }
    }

    /// Sends `frame` to every JSON-RPC connection of `user`, on every
    /// node, except the connection `except`.
    pub(crate) fn send_to_user(&self, user: UserId, frame: &Frame, except: Option<ConnId>) {
        if let (Some(relay), Some(event)) = (self.relay(), frame.notification()) {
            relay.user(user, event);
        }
        self.send_to_user_local(user, frame, except);
    }

    /// Sends `frame` to every JSON-RPC connection of `user` on this node.
    pub(crate) fn send_to_user_local(&self, user: UserId, frame: &Frame, except: Option<ConnId>) {
        for conn in self.connections_of(user) {
            if Some(conn.id()) != except && conn.encoding() == Encoding::JsonRpc {
                conn.push(frame);
            }
        }
    }

    /// Closes every connection of a user on every node, telling them and
    /// their rooms first. Returns whether the user had a connection on any
    /// node.
    pub(crate) async fn evict(&self, eviction: &Eviction) -> bool {
        let elsewhere = self.relay().map(|relay| relay.evict(eviction));
        let here = self.evict_local(eviction);
        match elsewhere {
            Some(elsewhere) => elsewhere.await || here,
            None => here,
        }
    }

    /// Closes the connections a revoked token opened, on every node.
    pub(crate) fn end_session(&self, ended: &EndedSession) {
        if let Some(relay) = self.relay() {
            relay.session_ended(ended);
        }
        self.end_session_local(ended);
    }

    /// [`Hub::end_session`] on this node only.
    pub(crate) fn end_session_local(&self, ended: &EndedSession) {
        for conn in self.connections_of(ended.user) {
            if conn.identity().token_id.as_str() == ended.token_id {
                conn.close(CloseCode::SessionEnded, "logged out");
            }
        }
    }

    /// [`Hub::evict`] on this node only.
    pub(crate) fn evict_local(&self, eviction: &Eviction) -> bool {
        let code = CloseCode::from_code(eviction.code).unwrap_or(CloseCode::PolicyViolation);
        match &eviction.notice {
            EvictionNotice::Silent => self.disconnect_user(eviction.user, None, |_| None, code, &eviction.reason),
            EvictionNotice::Banned { line, until } => {
                self.note_ban(eviction.user, *until);
                let own = Frame::system(line.clone());
                self.disconnect_user(eviction.user, Some(&own), |_| None, code, &eviction.reason)
            }
            EvictionNotice::Kicked { username, reason } => {
                let notice = |room_id| {
                    Frame::event(&ServerEvent::UserKicked(Kicked {
                        username: username.clone(),
                        reason: reason.clone(),
                        room_id,
                    }))
                };
                let own = notice(None);
                self.disconnect_user(
                    eviction.user,
                    Some(&own),
                    |room| Some(notice(Some(room.clone()))),
                    code,
                    &eviction.reason,
                )
            }
        }
    }

    /// Who is present in which room through this node's connections, for
    /// the other nodes.
    pub(crate) fn local_presence(&self) -> Vec<(RoomId, UserId, UserName)> {
        self.rooms()
            .iter()
            .flat_map(|room| room.local_members().into_iter().map(|(u, n)| (room.id().clone(), u, n)))
            .collect()
    }

    /// The user's live connections.
    pub(crate) fn connections_of(&self, user: UserId) -> Vec<Arc<Connection>> {
        self.by_user.lock().get(&user).cloned().unwrap_or_default()
    }

    /// Disconnects every connection of a user: `own_notice` goes to those
    /// connections first, then each room they were in gets
    /// `room_notice(room)` (if any) and `user_left`, then the connections
    /// close with `code`. Returns whether the user had any connection.
    pub(crate) fn disconnect_user(
        &self,
        user: UserId,
        own_notice: Option<&Frame>,
        room_notice: impl Fn(&RoomId) -> Option<Frame>,
        code: CloseCode,
        reason: &str,
    ) -> bool {
        let conns = self.connections_of(user);
        if let Some(frame) = own_notice {
            for conn in &conns {
                conn.push(frame);
            }
        }
        let mut rooms: Vec<RoomId> = conns.iter().flat_map(|c| c.rooms()).collect();
        rooms.sort();
        rooms.dedup();
        for room_id in rooms {
            if let Some(room) = self.room(&room_id) {
                room.remove_user(user, room_notice(&room_id).as_ref());
            }
        }
        for conn in &conns {
            conn.close(code, reason);
        }
        !conns.is_empty()
    }

    /// Records a ban so that connections registering from now on see it.
    pub(crate) fn note_ban(&self, user: UserId, until: Option<Timestamp>) {
        self.recent_bans.lock().insert(user, until);
    }

    /// Records a deleted account so that connections registering from now
    /// on see it.
    pub(crate) fn note_deleted(&self, user: UserId) {
        self.deleted.lock().insert(user);
    }

    /// Whether the account was deleted while this server runs.
    pub(crate) fn was_deleted(&self, user: UserId) -> bool {
        self.deleted.lock().contains(&user)
    }

    /// The users this node holds as banned.
    pub(crate) fn banned_users(&self) -> Vec<UserId> {
        self.recent_bans.lock().keys().copied().collect()
    }

    /// Forgets a lifted ban, on every node.
    pub(crate) fn lift_ban(&self, user: UserId) {
        if let Some(relay) = self.relay() {
            relay.unbanned(user);
        }
        self.note_unban(user);
    }

    /// Forgets a lifted ban on this node.
    pub(crate) fn note_unban(&self, user: UserId) {
        self.recent_bans.lock().remove(&user);
    }

    /// Whether a ban issued while this server runs still holds at `now`.
    pub(crate) fn recently_banned(&self, user: UserId, now: Timestamp) -> bool {
        let mut bans = self.recent_bans.lock();
        match bans.get(&user) {
            None => false,
            Some(None) => true,
            Some(Some(until)) if *until > now => true,
            Some(Some(_)) => {
                bans.remove(&user);
                false
            }
        }
    }

    /// Asks every connection to close with `code` (server shutdown).
    pub(crate) fn close_all(&self, code: CloseCode, reason: &str) {
        let conns: Vec<Arc<Connection>> = self.connections.read().values().cloned().collect();
        for conn in conns {
            conn.close(code, reason);
        }
    }

    /// Marks the connection's user as typing in `room` and keeps one timer
    /// per typing user that clears it after [`TYPING_TIMEOUT`] without a
    /// new call. `admit` is asked only when the room is to be told.
    pub(crate) fn start_typing(
        &self,
        conn: &Connection,
        room: &Arc<Room>,
        admit: impl FnOnce() -> Result<(), Duration>,
    ) -> Result<(), TypingRefused> {
        let until = Instant::now() + TYPING_TIMEOUT;
        if room.start_typing(conn, until, admit)? {
            let room = Arc::clone(room);
            let user = conn.user_id();
            tokio::spawn(async move {
                let mut deadline = until;
                loop {
                    tokio::time::sleep_until(deadline).await;
                    match room.stop_typing(user, Some(Instant::now())) {
                        Some(later) => deadline = later,
                        None => break,
                    }
                }
            });
        }
        Ok(())
    }

    /// Clears the user's typing state in `room` (explicit stop, or a sent
    /// message).
    pub(crate) fn stop_typing(&self, user: UserId, room: &Room) {
        room.stop_typing(user, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_pages_follow_the_id_order_from_after_the_cursor() {
        let hub = Hub::new();
        for name in ["b", "d", "a", "c"] {
            let name = chat_api::RoomName::parse(name).unwrap();
            hub.add_room(RoomRecord { id: name.id(), name, topic: None, created_by: None }, MessageId(0));
        }
        let ids = |page: &(Vec<RoomInfo>, bool)| page.0.iter().map(|r| r.room_id.to_string()).collect::<Vec<_>>();
        let first = hub.room_page(None, 2);
        assert_eq!((ids(&first), first.1), (vec!["a".to_owned(), "b".to_owned()], true));
        let rest = hub.room_page(Some(&RoomId::parse("b").unwrap()), 2);
        assert_eq!((ids(&rest), rest.1), (vec!["c".to_owned(), "d".to_owned()], false), "exactly full: no more");
        let between = hub.room_page(Some(&RoomId::parse("bb").unwrap()), 10);
        assert_eq!(ids(&between), vec!["c", "d"], "a cursor that names no room");
        assert_eq!(hub.room_page(Some(&RoomId::parse("d").unwrap()), 10), (Vec::new(), false));
    }

    #[test]
    fn recent_bans_hold_until_they_end_or_are_lifted() {
        let hub = Hub::new();
        let at = Timestamp::from_unix_millis;
        assert!(!hub.recently_banned(UserId(1), at(0)));
        hub.note_ban(UserId(1), None);
        hub.note_ban(UserId(2), Some(at(1_000)));
        assert!(hub.recently_banned(UserId(1), at(5_000)));
        assert!(hub.recently_banned(UserId(2), at(999)));
        assert!(!hub.recently_banned(UserId(2), at(1_000)));
        hub.note_unban(UserId(1));
        assert!(!hub.recently_banned(UserId(1), at(5_000)));
    }
}
