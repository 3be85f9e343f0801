//! Each user's rooms, read markers, and search.

use chat_api::{
    MessageId, RoomId, SearchQuery, ServerEvent,
    notifications::ReadMarker,
    rpc::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, MyRoom, SearchResult},
};

use super::{ChatService, ServiceError};
use crate::hub::{Connection, Frame};

impl ChatService {
    /// `my_rooms`: the rooms the user joined and has not left, with counts.
    pub(crate) async fn my_rooms(&self, conn: &Connection) -> Result<Vec<MyRoom>, ServiceError> {
        let _turn = self.reads.enter(conn.user_id()).await;
        let rooms = self.store.my_rooms(conn.user_id()).await?;
        Ok(rooms
            .into_iter()
            .map(|(name, record)| MyRoom {
                user_count: self.hub.room(&record.room_id).map_or(0, |room| room.info().user_count),
                room_id: record.room_id,
                room_name: name,
                last_message_id: record.last_message_id,
                last_read_message_id: record.last_read,
                unread_count: record.unread,
                mention_count: record.mentions,
            })
            .collect())
    }

    /// `mark_read`: moves the user's marker forward (never past the newest
    /// message) and tells their other connections.
    pub(crate) async fn mark_read(
        &self,
        conn: &Connection,
        room_id: RoomId,
        message_id: MessageId,
    ) -> Result<(), ServiceError> {
        if room_id.is_direct() {
            self.conversation(conn, &room_id).await?;
        } else {
            self.room(&room_id)?;
            let remembered = conn.in_room(&room_id) || {
                let _turn = self.reads.enter(conn.user_id()).await;
                self.store.read_marker(conn.user_id(), room_id.clone()).await?.is_some()
            };
            if !remembered {
                return Err(ServiceError::NotMember(room_id));
            }
        }
        self.limits.check_mark(conn.user_id()).map_err(ServiceError::RateLimited)?;
        // A marker past every message would hide the next ones as read.
        let upto = message_id.min(self.store.log().last_message_id().await?);
        if !self.store.mark_read(conn.user_id(), room_id.clone(), upto).await? {
            return Ok(());
        }
        let frame = Frame::event(&ServerEvent::ReadMarkerUpdated(ReadMarker { room_id, message_id: upto }));
        self.hub.send_to_user(conn.user_id(), &frame, Some(conn.id()));
        Ok(())
    }

    /// `search_messages`: newest first, in rooms anyone may join and the
    /// caller's own direct conversations.
    pub(crate) async fn search(
        &self,
        conn: &Connection,
        query: SearchQuery,
        room_id: Option<RoomId>,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<SearchResult, ServiceError> {
        let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
        if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
            return Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_SEARCH_LIMIT}")));
        }
        if let Some(room) = &room_id {
            if room.is_direct() {
                self.conversation(conn, room).await?;
            } else {
                self.room(room)?;
            }
        }
        self.limits.check_search(conn.user_id()).map_err(ServiceError::RateLimited)?;
        let _turn = self.reads.enter(conn.user_id()).await;
        let (messages, has_more) = self.store.log().search(query, conn.user_id(), room_id, before, limit).await?;
        Ok(SearchResult { messages, has_more })
    }
}
