//! Where a message lives: a room, whose members are its connections, or a
//! direct conversation, whose members are two users with all their
//! connections. Every call that names a `room_id` goes through
//! [`ChatService::conversation`], so the two kinds are told apart, and
//! access to a direct conversation checked, in one place.

use std::sync::Arc;

use chat_api::RoomId;

use super::{ChatService, ServiceError};
use crate::{
    hub::{Connection, Encoding, Frame, Hub, Room},
    store::DirectRecord,
};

/// A room the connection has joined, or a direct conversation of its user.
#[derive(Debug, Clone)]
pub(super) enum Conversation {
    /// A room.
    Room(Arc<Room>),
    /// A direct conversation.
    Direct(DirectRecord),
}

impl Conversation {
    /// Delivers a frame to everyone in it: the room's connections, or every
    /// JSON-RPC connection of both users (text clients live in one room and
    /// could not tell a direct message from it).
    pub(super) fn publish(&self, hub: &Hub, frame: &Frame) {
        match self {
            Conversation::Room(room) => room.publish(frame, None),
            Conversation::Direct(direct) => {
                for user in [direct.user_a, direct.user_b] {
                    hub.send_to_user(user, frame, None);
                }
            }
        }
    }

    /// Whether `conn` receives what is published here.
    pub(super) fn reaches(&self, conn: &Connection) -> bool {
        match self {
            Conversation::Room(room) => conn.in_room(room.id()),
            Conversation::Direct(direct) => direct.includes(conn.user_id()) && conn.encoding() == Encoding::JsonRpc,
        }
    }
}

impl ChatService {
    /// The conversation `room_id` names, if the caller may use it: a room
    /// this connection joined, or a direct conversation of its user.
    /// Somebody else's direct conversation is "not found", whatever the
    /// caller's role, so that its existence is not confirmed either.
    pub(super) async fn conversation(&self, conn: &Connection, room_id: &RoomId) -> Result<Conversation, ServiceError> {
        if !room_id.is_direct() {
            return Ok(Conversation::Room(self.joined_room(conn, room_id)?));
        }
        let not_found = || ServiceError::NotFound(format!("conversation {room_id}"));
        let me = conn.username().key();
        if room_id.direct_keys().is_none_or(|(a, b)| a != me && b != me) {
            return Err(not_found());
        }
        let _turn = self.reads.enter(conn.user_id()).await;
        match self.store.direct(room_id.clone()).await? {
            Some(direct) if direct.includes(conn.user_id()) => Ok(Conversation::Direct(direct)),
            _ => Err(not_found()),
        }
    }

    /// The conversation a stored message belongs to, for anyone who may
    /// read it: a member of the room (any connection of the user in it), or
    /// a participant of the direct conversation.
    pub(super) async fn conversation_of_message(
        &self,
        conn: &Connection,
        room_id: &RoomId,
    ) -> Result<Conversation, ServiceError> {
        if room_id.is_direct() {
            return self.conversation(conn, room_id).await;
        }
        let room = self.room(room_id)?;
        if !conn.in_room(room_id) {
            return Err(ServiceError::NotMember(room_id.clone()));
        }
        Ok(Conversation::Room(room))
    }
}
