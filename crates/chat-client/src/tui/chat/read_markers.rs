//! Moving the read marker as messages are shown (`mark_read`).
//!
//! Every message shown in the conversation on screen is read; calling
//! `mark_read` once per message would be a call per line of a busy room.
//! So the chat only notes the newest id per conversation, and one task
//! sends what was noted, the newest wins: at most one call in flight, and
//! a burst of messages costs one or two calls. Markers only move forward
//! on the server, so a call that arrives late changes nothing.

use std::{collections::HashMap, sync::Arc};

use chat_api::{MessageId, RoomId};
use chat_client::Session;
use parking_lot::Mutex;
use tokio::{sync::Notify, task::JoinHandle};

/// The chat's end of the marking task.
#[derive(Debug)]
pub(crate) struct ReadMarkers {
    /// Noted and not sent yet, per conversation.
    wanted: Arc<Mutex<HashMap<RoomId, MessageId>>>,
    wake: Arc<Notify>,
    /// The newest id known read per conversation (here or on another
    /// device), so nothing older is sent.
    read: HashMap<RoomId, MessageId>,
    task: JoinHandle<()>,
}

impl ReadMarkers {
    pub(crate) fn start(session: Session) -> Self {
        let wanted: Arc<Mutex<HashMap<RoomId, MessageId>>> = Arc::default();
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(send_marks(session, wanted.clone(), wake.clone()));
        Self { wanted, wake, read: HashMap::new(), task }
    }

    /// Everything up to `id` in `room` was shown on screen.
    pub(crate) fn shown(&mut self, room: &RoomId, id: MessageId) {
        if self.read.get(room).is_some_and(|read| *read >= id) {
            return;
        }
        self.read.insert(room.clone(), id);
        let mut wanted = self.wanted.lock();
        let entry = wanted.entry(room.clone()).or_insert(id);
        *entry = (*entry).max(id);
        drop(wanted);
        self.wake.notify_one();
    }

    /// The server's marker, from `my_rooms` or another device.
    pub(crate) fn known(&mut self, room: &RoomId, id: MessageId) {
        let read = self.read.entry(room.clone()).or_insert(id);
        *read = (*read).max(id);
    }
}

impl Drop for ReadMarkers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn send_marks(session: Session, wanted: Arc<Mutex<HashMap<RoomId, MessageId>>>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let batch = std::mem::take(&mut *wanted.lock());
        for (room, id) in batch {
            // A lost mark is harmless: the next message shown marks again,
            // and the count is only advice.
            if let Err(error) = session.mark_read(&room, id).await {
                tracing::debug!(%error, %room, "mark_read failed");
            }
        }
    }
}
