//! What comes in from the other nodes: their committed messages, handed
//! to this node's hub in id order by the sequencer, and every envelope on
//! the subject.

use std::{collections::HashMap, sync::Arc, time::Instant};

use chat_api::{RoomId, ServerEvent, UserId, UserName, notifications::Mentioned};
use futures_util::StreamExt as _;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::{
    drop_node,
    wire::{Body, Envelope},
};
use crate::{
    hub::{Encoding, Frame, Hub},
    service::Accounts,
    store::{Appended, RoomRecord, Store},
};

/// Delivers a message another node committed to this node's connections,
/// as the sender's node delivered it to its own.
pub(super) fn deliver_message(hub: &Hub, appended: &Appended) {
    let message = &appended.message;
    let frame = Frame::message(message, appended.author);
    let mut reached: Vec<UserId> = Vec::new();
    if let Some((a, b)) = message.room_id.direct_keys() {
        for key in [a, b] {
            if let Some(user) = hub.connected_user_named(key) {
                hub.send_to_user_local(user, &frame, None);
                reached.push(user);
            }
        }
    } else if let Some(room) = hub.room(&message.room_id) {
        room.publish_message(message, &frame);
    }
    if appended.mentioned.is_empty() {
        return;
    }
    let notice = Frame::event(&ServerEvent::Mentioned(Mentioned { message: message.clone() }));
    for user in &appended.mentioned {
        for conn in hub.connections_of(*user) {
            let sees_it = reached.contains(user) || conn.in_room(&message.room_id);
            if !sees_it && conn.encoding() == Encoding::JsonRpc {
                conn.push(&notice);
            }
        }
    }
}

/// What comes in from the other nodes.
pub(super) struct Inbound {
    pub(super) node: String,
    pub(super) nats: async_nats::Client,
    pub(super) accounts: Arc<Accounts>,
    pub(super) store: Arc<Store>,
    pub(super) hub: Arc<Hub>,
    pub(super) nodes: Arc<Mutex<HashMap<String, Instant>>>,
    pub(super) outbox: mpsc::UnboundedSender<Body>,
}

impl Inbound {
    pub(super) async fn run(self, mut subscription: async_nats::Subscriber) {
        while let Some(message) = subscription.next().await {
            let envelope: Envelope = match serde_json::from_slice(&message.payload) {
                Ok(envelope) => envelope,
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring an unreadable cluster message");
                    continue;
                }
            };
            if envelope.from == self.node {
                continue;
            }
            if let Body::Evict { eviction } = &envelope.body {
                self.nodes.lock().insert(envelope.from.clone(), Instant::now());
                let had = self.hub.evict_local(eviction);
                if let Some(reply) = message.reply {
                    let answer: &'static [u8] = if had { b"true" } else { b"false" };
                    let _ = self.nats.publish(reply, answer.into()).await;
                }
                continue;
            }
            self.handle(envelope.from, envelope.body).await;
        }
    }

    async fn handle(&self, from: String, body: Body) {
        let known = self.nodes.lock().insert(from.clone(), Instant::now()).is_some();
        if !known && !matches!(body, Body::Bye) {
            // A node we did not know (new, or back after the TTL): tell it
            // who is here.
            self.send_snapshot();
        }
        match body {
            Body::Commits { messages } => {
                if let Some(remote) = self.store.remote_commits() {
                    remote.committed_elsewhere(messages.into_iter().map(Appended::from).collect());
                }
            }
            Body::Everyone { event } => {
                if let Some(event) = event.parse() {
                    self.everyone(event).await;
                }
            }
            Body::Room { room_id, event, except } => {
                if let (Some(event), Some(room)) = (event.parse(), self.hub.room(&room_id)) {
                    if matches!(
                        event,
                        ServerEvent::MessageEdited(_)
                            | ServerEvent::MessageDeleted(_)
                            | ServerEvent::ReactionAdded(_)
                            | ServerEvent::ReactionRemoved(_)
                    ) {
                        self.store.log().changed_elsewhere(&room_id);
                    }
                    room.publish_local(&Frame::event(&event), except);
                }
            }
            Body::User { user, event } => {
                if let Some(event) = event.parse() {
                    if let ServerEvent::MessageEdited(e) = &event {
                        self.store.log().changed_elsewhere(&e.room_id);
                    }
                    self.hub.send_to_user_local(user, &Frame::event(&event), None);
                }
            }
            Body::Presence { room_id, user, username, present } => {
                if let Some(room) = self.room(&room_id).await {
                    room.remote_presence(&from, user, &username, present);
                }
            }
            Body::Evict { eviction } => {
                self.hub.evict_local(&eviction);
            }
            Body::Unbanned { user } => self.hub.note_unban(user),
            Body::SessionEnded { ended } => self.accounts.session_ended_elsewhere(&ended),
            Body::Heartbeat => {}
            Body::Hello => self.send_snapshot(),
            Body::Snapshot { present } => self.apply_snapshot(&from, present).await,
            Body::Bye => {
                self.nodes.lock().remove(&from);
                drop_node(&self.hub, &from);
            }
        }
    }

    fn send_snapshot(&self) {
        let _ = self.outbox.send(Body::Snapshot { present: self.hub.local_presence() });
    }

    /// Makes what is known of `from`'s users exactly `present`.
    async fn apply_snapshot(&self, from: &str, present: Vec<(RoomId, UserId, UserName)>) {
        for room in self.hub.rooms() {
            for (user, name) in room.remote_members_of(from) {
                if !present.iter().any(|(r, u, _)| r == room.id() && *u == user) {
                    room.remote_presence(from, user, &name, false);
                }
            }
        }
        for (room_id, user, name) in present {
            if let Some(room) = self.room(&room_id).await {
                room.remote_presence(from, user, &name, true);
            }
        }
    }

    /// The live room, loaded from PostgreSQL if another node created it.
    async fn room(&self, id: &RoomId) -> Option<Arc<crate::hub::Room>> {
        if let Some(room) = self.hub.room(id) {
            return Some(room);
        }
        let record = self.store.rooms().await.ok()?.into_iter().find(|r| r.id == *id)?;
        Some(self.store.log().at_published(|upto| self.hub.add_room(record, upto)).0)
    }

    /// A notification for everyone, with what it changes here first.
    async fn everyone(&self, event: ServerEvent) {
        match &event {
            ServerEvent::RoomCreated(created) => {
                let info = &created.room_info;
                if self.hub.room(&info.room_id).is_none() {
                    let created_by = self
                        .store
                        .rooms()
                        .await
                        .ok()
                        .and_then(|rooms| rooms.into_iter().find(|r| r.id == info.room_id))
                        .and_then(|r| r.created_by);
                    let record = RoomRecord {
                        id: info.room_id.clone(),
                        name: info.room_name.clone(),
                        topic: info.topic.clone(),
                        created_by,
                    };
                    self.store.log().at_published(|upto| self.hub.add_room(record, upto));
                }
            }
            ServerEvent::RoomDeleted(deleted) => {
                self.hub.remove_room(&deleted.room_id);
                self.store.log().room_deleted(&deleted.room_id);
            }
            ServerEvent::RoomUpdated(updated) => {
                if let Some(room) = self.hub.room(&updated.room_info.room_id) {
                    room.set_topic(updated.room_info.topic.clone());
                }
            }
            _ => {}
        }
        self.hub.broadcast_local(&Frame::event(&event));
    }
}
