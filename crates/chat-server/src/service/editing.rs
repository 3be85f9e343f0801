//! Edits, deletes and reactions: changes to stored messages, published in
//! commit order to whoever can see the message.

use chat_api::{
    Emoji, MessageId, MessageText, Role, ServerEvent,
    notifications::{MessageDeleted, MessageEdited, ReactionChange},
    rpc::EditMessageResult,
};
use tokio::sync::oneshot;

use super::{ChatService, ServiceError, conversation::Conversation};
use crate::{
    domain::permissions::{self, Action},
    hub::{Connection, Frame},
    store::{AuditAction, AuditEntry, StoreError},
};

impl ChatService {
    /// `edit_message`: the author only; counts as a send.
    pub(crate) async fn edit_message(
        &self,
        conn: &Connection,
        id: MessageId,
        text: MessageText,
    ) -> Result<EditMessageResult, ServiceError> {
        self.check_text(&text)?;
        let conversation = self.message_conversation(conn, id).await?;
        self.limits.check_message(conn.user_id()).map_err(ServiceError::RateLimited)?;
        let (tx, rx) = oneshot::channel();
        let hub = std::sync::Arc::clone(&self.hub);
        self.store
            .log()
            .edit(id, conn.user_id(), text, move |edited| {
                if let Ok(edit) = &edited {
                    let event = ServerEvent::MessageEdited(MessageEdited {
                        message_id: edit.message_id,
                        room_id: edit.room_id.clone(),
                        text: edit.text.clone(),
                        edited_at: edit.edited_at,
                    });
                    conversation.publish(&hub, &Frame::event(&event));
                }
                let _ = tx.send(edited);
            })
            .await?;
        let edit = rx.await.map_err(|_| StoreError::Closed)?.map_err(|e| message_error(e, id))?;
        Ok(EditMessageResult { message_id: edit.message_id, edited_at: edit.edited_at })
    }

    /// `delete_message`: the author, or a moderator in a room (never in a
    /// direct conversation). Another user's message deleted is logged,
    /// without its text.
    pub(crate) async fn delete_message(&self, conn: &Connection, id: MessageId) -> Result<(), ServiceError> {
        let conversation = self.message_conversation(conn, id).await?;
        let actor = self.current_account(conn).await?;
        let in_room = matches!(conversation, Conversation::Room(_));
        let may_moderate = in_room && permissions::may(actor.role, Action::DeleteMessage).is_ok();
        let me = conn.user_id();
        let (tx, rx) = oneshot::channel();
        let hub = std::sync::Arc::clone(&self.hub);
        self.store
            .log()
            .delete(
                id,
                move |meta| {
                    if meta.user_id == me || may_moderate {
                        Ok(())
                    } else {
                        Err(StoreError::NotAllowed("only its author or a moderator may delete a message".to_owned()))
                    }
                },
                move |removed| {
                    if let Ok(gone) = &removed {
                        let event = ServerEvent::MessageDeleted(MessageDeleted {
                            message_id: gone.meta.message_id,
                            room_id: gone.meta.room_id.clone(),
                        });
                        conversation.publish(&hub, &Frame::event(&event));
                    }
                    let _ = tx.send(removed);
                },
            )
            .await?;
        let gone = rx.await.map_err(|_| StoreError::Closed)?.map_err(|e| message_error(e, id))?;
        if gone.meta.user_id != me {
            debug_assert!(actor.role >= Role::Moderator);
            self.store
                .audit(AuditEntry {
                    actor_id: actor.id,
                    actor: actor.username,
                    action: AuditAction::DeleteMessage,
                    target: gone.meta.username.to_string(),
                    reason: None,
                    detail: Some(format!("message {}", id.0)),
                    room_id: Some(gone.meta.room_id),
                    until: None,
                })
                .await?;
        }
        Ok(())
    }

    /// `add_reaction` / `remove_reaction`: a change notifies everyone who
    /// sees the message; a no-op notifies nobody.
    pub(crate) async fn react(
        &self,
        conn: &Connection,
        id: MessageId,
        emoji: Emoji,
        add: bool,
    ) -> Result<(), ServiceError> {
        let conversation = self.message_conversation(conn, id).await?;
        self.limits.check_reaction(conn.user_id()).map_err(ServiceError::RateLimited)?;
        let (tx, rx) = oneshot::channel();
        let hub = std::sync::Arc::clone(&self.hub);
        let user = (conn.user_id(), conn.username().clone());
        let username = conn.username().clone();
        self.store
            .log()
            .react(id, user, emoji.clone(), add, move |outcome| {
                if let Ok(done) = &outcome
                    && done.changed
                {
                    let change = ReactionChange { message_id: id, room_id: done.meta.room_id.clone(), username, emoji };
                    let event =
                        if add { ServerEvent::ReactionAdded(change) } else { ServerEvent::ReactionRemoved(change) };
                    conversation.publish(&hub, &Frame::event(&event));
                }
                let _ = tx.send(outcome);
            })
            .await?;
        rx.await.map_err(|_| StoreError::Closed)?.map_err(|e| message_error(e, id))?;
        Ok(())
    }

    /// Where message `id` lives, if the caller may see it: a message that
    /// does not exist and one the caller cannot see are both "not found".
    async fn message_conversation(&self, conn: &Connection, id: MessageId) -> Result<Conversation, ServiceError> {
        let meta = {
            let _turn = self.reads.enter(conn.user_id()).await;
            self.store.log().meta(id).await?
        };
        let not_found = || ServiceError::NotFound(format!("message {}", id.0));
        let meta = meta.ok_or_else(not_found)?;
        match self.conversation_of_message(conn, &meta.room_id).await {
            Err(ServiceError::NotFound(_)) => Err(not_found()),
            other => other,
        }
    }
}

/// The service error for a refused change to message `id`.
fn message_error(e: StoreError, id: MessageId) -> ServiceError {
    match e {
        StoreError::NoSuchMessage => ServiceError::NotFound(format!("message {}", id.0)),
        StoreError::NotAllowed(why) => ServiceError::Forbidden(why),
        StoreError::Limit(why) => ServiceError::Invalid(why),
        other => other.into(),
    }
}
