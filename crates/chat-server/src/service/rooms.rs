//! Joining, leaving, listing and deleting rooms.

use std::sync::Arc;

use chat_api::{
    MessageId, RoomId, RoomName, RoomTopic, ServerEvent,
    notifications::{RoomCreated, RoomDeleted, RoomUpdated},
    rpc::{
        DEFAULT_ROOMS_LIMIT, JOIN_CATCH_UP_LIMIT, JOIN_RECENT_MESSAGES, JoinRoomResult, ListRoomsResult,
        MAX_ROOMS_LIMIT,
    },
};

use super::{ChatService, ServiceError};
use crate::{
    domain::permissions::{self, Action},
    hub::{Connection, Frame, JoinRefused, Room},
    store::{AuditAction, AuditEntry, RoomCreation},
};

impl ChatService {
    /// `join_room`: creates the room if needed, adds the connection and
    /// returns what it missed.
    pub(crate) async fn join_room(
        &self,
        conn: &Arc<Connection>,
        name: RoomName,
        since: Option<MessageId>,
    ) -> Result<JoinRoomResult, ServiceError> {
        if name.len() > self.settings.max_room_name_length {
            return Err(ServiceError::Invalid(format!(
                "room name must be at most {} characters",
                self.settings.max_room_name_length
            )));
        }
        let id = name.id();
        // Joining makes the user present in a room, which tells its
        // members, at most at the rate of the user's join bucket. A new room
        // is paid for before it is created, so a refused join creates nothing.
        let mut paid = false;
        let (room, created) = match self.hub.room(&id) {
            Some(room) => (room, false),
            None => {
                self.limits.check_join(conn.user_id()).map_err(ServiceError::RateLimited)?;
                paid = true;
                self.limits.check_room_creation(conn.user_id()).map_err(ServiceError::RateLimited)?;
                match self.store.create_room_within(name, self.settings.max_rooms, conn.user_id()).await? {
                    RoomCreation::Created(record) => self.hub.add_room(record, MessageId(0)),
                    RoomCreation::Existed(record) => {
                        (self.store.log().at_published(|upto| self.hub.add_room(record, upto)).0, false)
                    }
                    RoomCreation::AtLimit => return Err(ServiceError::TooManyRooms(self.settings.max_rooms)),
                }
            }
        };
        let limit = if since.is_some() { JOIN_CATCH_UP_LIMIT } else { JOIN_RECENT_MESSAGES };
        let after = since.unwrap_or(MessageId(0));
        let history = |upto| self.store.log().recent(&id, after, upto, limit as usize);
        let admit = || if paid { Ok(()) } else { self.limits.check_join(conn.user_id()) };
        let joined =
            self.hub.join(conn, &room, self.settings.max_users_per_room, history, admit).map_err(|refused| {
                match refused {
                    JoinRefused::Full => ServiceError::RoomFull(id.clone()),
                    JoinRefused::TooFast(wait) => ServiceError::RateLimited(wait),
                }
            })?;
        // A concurrent delete_room may have removed the room between the
        // look-up and the join; do not leave the connection in a ghost.
        if !self.hub.room(&id).is_some_and(|current| Arc::ptr_eq(&current, &room)) {
            self.hub.leave(conn, &id);
            return Err(ServiceError::room_not_found(&id));
        }
        if created {
            self.hub.broadcast(&Frame::event(&ServerEvent::RoomCreated(RoomCreated { room_info: room.info() })));
        }
        if joined.newly_joined {
            // The user's rooms outlive the connection; what was said
            // before they first joined does not count as unread.
            self.store.remember_room(conn.user_id(), id.clone(), joined.published_upto).await?;
        }
        let recent = match joined.history {
            Some(history) => history,
            None => {
                let _turn = self.reads.enter(conn.user_id()).await;
                self.store.log().range(id.clone(), since, joined.published_upto, limit).await?
            }
        };
        Ok(JoinRoomResult {
            room_id: id,
            room_name: room.name().clone(),
            user_count: joined.user_count,
            existing_users: joined.users,
            recent_messages: recent,
        })
    }

    /// `leave_room`: also takes the room off the user's rooms.
    pub(crate) async fn leave_room(&self, conn: &Connection, room: &RoomId) -> Result<(), ServiceError> {
        if room.is_direct() {
            return Err(ServiceError::Invalid("a direct conversation cannot be left".to_owned()));
        }
        if self.hub.room(room).is_none() {
            return Err(ServiceError::room_not_found(room));
        }
        if !self.hub.leave(conn, room) {
            return Err(ServiceError::NotMember(room.clone()));
        }
        self.store.forget_room(conn.user_id(), room.clone()).await?;
        Ok(())
    }

    /// `set_room_topic`: the room's creator or a moderator. Counts as a
    /// send, since everyone connected is told.
    pub(crate) async fn set_room_topic(
        &self,
        conn: &Connection,
        room_id: RoomId,
        topic: RoomTopic,
    ) -> Result<(), ServiceError> {
        if room_id.is_direct() {
            return Err(ServiceError::Invalid("a direct conversation has no topic".to_owned()));
        }
        let room = self.room(&room_id)?;
        if room.created_by() != Some(conn.user_id()) {
            let actor = self.current_account(conn).await?;
            permissions::may(actor.role, Action::SetTopic).map_err(|_| {
                ServiceError::Forbidden("only the room's creator or a moderator may set its topic".to_owned())
            })?;
        }
        self.limits.check_message(conn.user_id()).map_err(ServiceError::RateLimited)?;
        let record = self
            .store
            .set_topic(room_id.clone(), topic)
            .await?
            .ok_or_else(|| ServiceError::room_not_found(&room_id))?;
        room.set_topic(record.topic);
        self.hub.broadcast(&Frame::event(&ServerEvent::RoomUpdated(RoomUpdated { room_info: room.info() })));
        Ok(())
    }

    /// `list_rooms`: one page of rooms by id, and whether more follow.
    pub(crate) fn list_rooms(
        &self,
        after: Option<&RoomId>,
        limit: Option<u32>,
    ) -> Result<ListRoomsResult, ServiceError> {
        let limit = limit.unwrap_or(DEFAULT_ROOMS_LIMIT);
        if !(1..=MAX_ROOMS_LIMIT).contains(&limit) {
            return Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_ROOMS_LIMIT}")));
        }
        let (rooms, has_more) = self.hub.room_page(after, limit as usize);
        Ok(ListRoomsResult { rooms, has_more })
    }

    /// `list_users`: for a direct conversation, its two users.
    pub(crate) async fn list_users(
        &self,
        conn: &Connection,
        room: &RoomId,
    ) -> Result<Vec<chat_api::UserName>, ServiceError> {
        if room.is_direct() {
            self.conversation(conn, room).await?;
            let _turn = self.reads.enter(conn.user_id()).await;
            let keys = room.direct_keys().map(|(a, b)| [a.to_owned(), b.to_owned()]).unwrap_or_default();
            let names = keys.iter().filter_map(|k| chat_api::UserName::parse(k).ok()).collect();
            return Ok(self.store.users_named(names).await?.into_iter().map(|(_, name)| name).collect());
        }
        Ok(self.room(room)?.users())
    }

    /// `delete_room` (admins): removes the room and its history.
    pub(crate) async fn delete_room(&self, conn: &Connection, room: RoomId) -> Result<(), ServiceError> {
        let actor = self.current_account(conn).await?;
        permissions::may(actor.role, Action::DeleteRoom).map_err(|d| ServiceError::Forbidden(d.to_string()))?;
        if room == RoomId::general() {
            return Err(ServiceError::Forbidden("the general room cannot be deleted".to_owned()));
        }
        if room.is_direct() {
            return Err(ServiceError::Invalid("a direct conversation cannot be deleted".to_owned()));
        }
        let name = self.room(&room)?.name().clone();
        if !self.store.delete_room(room.clone()).await? {
            return Err(ServiceError::room_not_found(&room));
        }
        self.store
            .audit(AuditEntry {
                actor_id: actor.id,
                actor: actor.username,
                action: AuditAction::DeleteRoom,
                target: room.to_string(),
                reason: None,
                detail: None,
                room_id: Some(room.clone()),
                until: None,
            })
            .await?;
        self.hub.remove_room(&room);
        self.hub.broadcast(&Frame::event(&ServerEvent::RoomDeleted(RoomDeleted { room_id: room, room_name: name })));
        Ok(())
    }

    pub(super) fn room(&self, id: &RoomId) -> Result<Arc<Room>, ServiceError> {
        self.hub.room(id).ok_or_else(|| ServiceError::room_not_found(id))
    }

    /// The room, if this connection has joined it.
    pub(super) fn joined_room(&self, conn: &Connection, id: &RoomId) -> Result<Arc<Room>, ServiceError> {
        let room = self.room(id)?;
        if !conn.in_room(id) {
            return Err(ServiceError::NotMember(id.clone()));
        }
        Ok(room)
    }
}
