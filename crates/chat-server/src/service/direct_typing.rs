//! Typing indicators in direct conversations. Rooms keep theirs in the
//! hub, beside their members; a direct conversation has no live state, so
//! its indicators live here: who is typing where, until when, with one
//! timer per indicator that ends it after [`TYPING_TIMEOUT`].

use std::{collections::HashMap, sync::Arc};

use chat_api::{RoomId, ServerEvent, UserId, notifications::Typing};
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{RateLimits, ServiceError, conversation::Conversation};
use crate::{
    hub::{Connection, Frame, Hub, TYPING_TIMEOUT},
    store::DirectRecord,
};

#[derive(Debug)]
pub(super) struct DirectTyping {
    hub: Arc<Hub>,
    until: Arc<Mutex<HashMap<(RoomId, UserId), Instant>>>,
}

impl DirectTyping {
    pub(super) fn new(hub: Arc<Hub>) -> Self {
        Self { hub, until: Arc::default() }
    }

    /// Marks the user as typing, telling the other user when it starts
    /// (which takes one from the typing bucket).
    pub(super) fn start(
        &self,
        conn: &Connection,
        direct: DirectRecord,
        limits: &RateLimits,
    ) -> Result<(), ServiceError> {
        let key = (direct.room_id.clone(), conn.user_id());
        let deadline = Instant::now() + TYPING_TIMEOUT;
        {
            let mut until = self.until.lock();
            if let Some(current) = until.get_mut(&key) {
                *current = deadline;
                return Ok(());
            }
            limits.check_typing(conn.user_id()).map_err(ServiceError::RateLimited)?;
            until.insert(key.clone(), deadline);
        }
        let event = Typing { room_id: direct.room_id.clone(), username: conn.username().clone() };
        let other = Conversation::Direct(direct.clone());
        tell_other(&self.hub, &other, conn.user_id(), &ServerEvent::UserStartedTyping(event.clone()));
        let (hub, until) = (Arc::clone(&self.hub), Arc::clone(&self.until));
        let user = conn.user_id();
        tokio::spawn(async move {
            let mut wake = deadline;
            loop {
                tokio::time::sleep_until(wake).await;
                let mut typing = until.lock();
                match typing.get(&key) {
                    Some(later) if *later > Instant::now() => wake = *later,
                    Some(_) => {
                        typing.remove(&key);
                        drop(typing);
                        tell_other(&hub, &other, user, &ServerEvent::UserStoppedTyping(event));
                        break;
                    }
                    // Stopped explicitly; that told the other user already.
                    None => break,
                }
            }
        });
        Ok(())
    }

    /// Ends the user's indicator, telling the other user if it was on.
    pub(super) fn stop(&self, conn: &Connection, direct: &DirectRecord) {
        let user = conn.user_id();
        if self.until.lock().remove(&(direct.room_id.clone(), user)).is_some() {
            let event = Typing { room_id: direct.room_id.clone(), username: conn.username().clone() };
            tell_other(&self.hub, &Conversation::Direct(direct.clone()), user, &ServerEvent::UserStoppedTyping(event));
        }
    }
}

/// Delivers a typing event to the participant who is not `typist`.
fn tell_other(hub: &Hub, conversation: &Conversation, typist: UserId, event: &ServerEvent) {
    let Conversation::Direct(direct) = conversation else { return };
    hub.send_to_user(direct.other(typist), &Frame::event(event), None);
}
