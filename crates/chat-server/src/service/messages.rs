//! Sending, history and typing, in rooms and direct conversations.

use chat_api::{
    MessageId, MessageText, RoomId, ServerEvent, UserId,
    notifications::Mentioned,
    rpc::{DEFAULT_HISTORY_LIMIT, HistoryResult, MAX_HISTORY_LIMIT, SendMessageResult},
};
use tokio::sync::oneshot;

use super::{ChatService, ServiceError, conversation::Conversation};
use crate::{
    domain::mentions,
    hub::{Connection, Frame, TypingRefused},
    store::{Appended, NewMessage, StoreError},
};

impl ChatService {
    /// `send_message`: answered only after the message is committed. The
    /// storage completer publishes it right after the commit, in id order,
    /// so every member sees messages in id order.
    pub(crate) async fn send_message(
        &self,
        conn: &Connection,
        room_id: RoomId,
        text: MessageText,
        reply_to: Option<MessageId>,
    ) -> Result<SendMessageResult, ServiceError> {
        let started = std::time::Instant::now();
        let conversation = self.conversation(conn, &room_id).await?;
        self.check_text(&text)?;
        if let Conversation::Direct(direct) = &conversation {
            let other = direct.other(conn.user_id());
            let _turn = self.reads.enter(conn.user_id()).await;
            if self.store.blocks(other, conn.user_id()).await? {
                return Err(ServiceError::Forbidden("you cannot write to this user".to_owned()));
            }
        }
        self.limits.check_message(conn.user_id()).map_err(ServiceError::RateLimited)?;
        self.stop_typing_in(conn, &conversation);

        let mut message = NewMessage::plain(room_id, conn.user_id(), conn.username().clone(), text);
        message.reply_to = reply_to;
        message.mentions = self.mentioned_in(conn, &message, &conversation).await?;
        let (stored_tx, stored_rx) = oneshot::channel();
        let publish_to = conversation.clone();
        let hub = std::sync::Arc::clone(&self.hub);
        let sender = conn.user_id();
        self.store
            .log()
            .append(message, move |stored| {
                // Publish, then answer: once the sender has its answer, every
                // member has the message queued.
                if let Ok(appended) = &stored {
                    publish_appended(&hub, &publish_to, appended, sender);
                }
                // The caller may have disconnected; the message stands.
                let _ = stored_tx.send(stored);
            })
            .await?;
        match stored_rx.await.map_err(|_| StoreError::Closed)? {
            Ok(Appended { message, .. }) => {
                self.stored.increment(1);
                self.send_seconds.record(started.elapsed().as_secs_f64());
                Ok(SendMessageResult { message_id: message.message_id, timestamp: message.timestamp })
            }
            Err(StoreError::NoSuchRoom) => Err(ServiceError::room_not_found(&conversation_id(&conversation))),
            Err(StoreError::NoSuchMessage) => {
                Err(ServiceError::NotFound(format!("message {} in this room", reply_to.map_or(0, |id| id.0))))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The text's length against the server's own limit (the type checks
    /// the protocol's).
    pub(super) fn check_text(&self, text: &MessageText) -> Result<(), ServiceError> {
        let max = self.settings.max_message_length;
        if text.char_len() > max {
            return Err(ServiceError::Invalid(format!("message must be at most {max} characters")));
        }
        Ok(())
    }

    /// The registered users a new message mentions. In a direct
    /// conversation only its two users count: nobody else may read it.
    async fn mentioned_in(
        &self,
        conn: &Connection,
        message: &NewMessage,
        conversation: &Conversation,
    ) -> Result<Vec<(UserId, chat_api::UserName)>, ServiceError> {
        let names = mentions::candidates(message.text.as_str());
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.reads.enter(conn.user_id()).await;
        let mut found = self.store.users_named(names).await?;
        if let Conversation::Direct(direct) = conversation {
            found.retain(|(user, _)| direct.includes(*user));
        }
        Ok(found)
    }

    /// `get_history`: a page of older messages, oldest first.
    pub(crate) async fn history(
        &self,
        conn: &Connection,
        room_id: RoomId,
        before: Option<MessageId>,
        limit: Option<u32>,
    ) -> Result<HistoryResult, ServiceError> {
        self.conversation(conn, &room_id).await?;
        let limit = limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
        if !(1..=MAX_HISTORY_LIMIT).contains(&limit) {
            return Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_HISTORY_LIMIT}")));
        }
        let _turn = self.reads.enter(conn.user_id()).await;
        let (messages, has_more) = self.store.log().history(room_id, before, limit).await?;
        Ok(HistoryResult { messages, has_more })
    }

    /// `start_typing`. Telling the room takes one from the user's typing
    /// bucket; repeating it while typing is free.
    pub(crate) async fn start_typing(&self, conn: &Connection, room_id: &RoomId) -> Result<(), ServiceError> {
        match self.conversation(conn, room_id).await? {
            Conversation::Room(room) => {
                let admit = || self.limits.check_typing(conn.user_id());
                self.hub.start_typing(conn, &room, admit).map_err(|refused| match refused {
                    TypingRefused::NotInRoom => ServiceError::NotMember(room_id.clone()),
                    TypingRefused::TooFast(wait) => ServiceError::RateLimited(wait),
                })
            }
            Conversation::Direct(direct) => self.direct_typing.start(conn, direct, &self.limits),
        }
    }

    /// `stop_typing`.
    pub(crate) async fn stop_typing(&self, conn: &Connection, room_id: &RoomId) -> Result<(), ServiceError> {
        let conversation = self.conversation(conn, room_id).await?;
        self.stop_typing_in(conn, &conversation);
        Ok(())
    }

    fn stop_typing_in(&self, conn: &Connection, conversation: &Conversation) {
        match conversation {
            Conversation::Room(room) => self.hub.stop_typing(conn.user_id(), room),
            Conversation::Direct(direct) => self.direct_typing.stop(conn, direct),
        }
    }
}

fn conversation_id(conversation: &Conversation) -> RoomId {
    match conversation {
        Conversation::Room(room) => room.id().clone(),
        Conversation::Direct(direct) => direct.room_id.clone(),
    }
}

/// Delivers a stored message to its conversation, and `mentioned` to the
/// connections of mentioned users that do not receive the message itself.
/// Runs on the storage completer, in id order.
fn publish_appended(hub: &crate::hub::Hub, conversation: &Conversation, appended: &Appended, sender: UserId) {
    let message = &appended.message;
    let frame = Frame::message(message, sender);
    match conversation {
        Conversation::Room(room) => room.publish_message(message, &frame),
        Conversation::Direct(_) => conversation.publish(hub, &frame),
    }
    if appended.mentioned.is_empty() {
        return;
    }
    let notice = Frame::event(&ServerEvent::Mentioned(Mentioned { message: message.clone() }));
    for user in &appended.mentioned {
        for conn in hub.connections_of(*user) {
            if !conversation.reaches(&conn) {
                conn.push(&notice);
            }
        }
    }
}
