//! Sending, history and typing.

use std::sync::Arc;

use chat_api::{
    MessageId, MessageText, RoomId,
    rpc::{DEFAULT_HISTORY_LIMIT, HistoryResult, MAX_HISTORY_LIMIT, SendMessageResult},
};
use tokio::sync::oneshot;

use super::{ChatService, ServiceError};
use crate::{
    hub::{Connection, Frame, TypingRefused},
    store::{NewMessage, StoreError},
};

impl ChatService {
    /// `send_message`: answered only after the message is committed. The
    /// storage completer publishes it right after the commit, in id order,
    /// so every member sees messages in id order.
    pub async fn send_message(
        &self,
        conn: &Connection,
        room_id: RoomId,
        text: MessageText,
    ) -> Result<SendMessageResult, ServiceError> {
        let started = std::time::Instant::now();
        let room = self.joined_room(conn, &room_id)?;
        let max = self.settings.max_message_length;
        if text.char_len() > max {
            return Err(ServiceError::Invalid(format!("message must be at most {max} characters")));
        }
        self.limits.check_message(conn.user_id()).map_err(ServiceError::RateLimited)?;
        self.hub.stop_typing(conn.user_id(), &room);

        let message = NewMessage { room_id, user_id: conn.user_id(), username: conn.username().clone(), text };
        let (stored_tx, stored_rx) = oneshot::channel();
        let publish_to = Arc::clone(&room);
        let sender = conn.user_id();
        self.store
            .append_message(message, move |stored| {
                // Publish, then answer: once the sender has its answer, every
                // member has the message queued.
                if let Ok(message) = &stored {
                    publish_to.publish_message(message, &Frame::message(message, sender));
                }
                // The caller may have disconnected; the message stands.
                let _ = stored_tx.send(stored);
            })
            .await?;
        match stored_rx.await.map_err(|_| StoreError::Closed)? {
            Ok(message) => {
                self.stored.increment(1);
                self.send_seconds.record(started.elapsed().as_secs_f64());
                Ok(SendMessageResult { message_id: message.message_id, timestamp: message.timestamp })
            }
            Err(StoreError::NoSuchRoom) => Err(ServiceError::room_not_found(&room.id().clone())),
            Err(e) => Err(e.into()),
        }
    }

    /// `get_history`: a page of older messages, oldest first.
    pub async fn history(
        &self,
        conn: &Connection,
        room_id: RoomId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<HistoryResult, ServiceError> {
        self.joined_room(conn, &room_id)?;
        let limit = limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
        if !(1..=MAX_HISTORY_LIMIT).contains(&limit) {
            return Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_HISTORY_LIMIT}")));
        }
        let _turn = self.reads.enter(conn.user_id()).await;
        let (messages, has_more) = self.store.history(room_id, before, limit).await?;
        Ok(HistoryResult { messages, has_more })
    }

    /// `start_typing`. Telling the room takes one from the user's typing
    /// bucket; repeating it while typing is free.
    pub fn start_typing(&self, conn: &Connection, room_id: &RoomId) -> Result<(), ServiceError> {
        let room = self.joined_room(conn, room_id)?;
        let admit = || self.limits.check_typing(conn.user_id());
        self.hub.start_typing(conn, &room, admit).map_err(|refused| match refused {
            TypingRefused::NotInRoom => ServiceError::NotMember(room_id.clone()),
            TypingRefused::TooFast(wait) => ServiceError::RateLimited(wait),
        })
    }

    /// `stop_typing`.
    pub fn stop_typing(&self, conn: &Connection, room_id: &RoomId) -> Result<(), ServiceError> {
        let room = self.joined_room(conn, room_id)?;
        self.hub.stop_typing(conn.user_id(), &room);
        Ok(())
    }
}
