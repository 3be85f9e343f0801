//! The start of a chat: the room asked for on screen, every other room the
//! user is in (on any device, from `my_rooms`) joined behind it with its
//! unread count, and the direct conversations that wait to be read.

use std::time::Duration;

use chat_api::{ErrorCode, RoomId, RoomName, rpc::MyRoom};
use chat_client::{CallError, Joined};

use super::Chat;
use crate::tui::render;

/// Joins are rate limited per user; past this many refusals in a row a
/// room is left for the user to `/join`.
const JOIN_ATTEMPTS: usize = 5;

impl Chat {
    pub(super) async fn start(&mut self, first: RoomName) {
        self.load_rooms().await;
        self.join(first.clone()).await;
        let mine = match self.session.my_rooms().await {
            Ok(mine) => mine,
            // A server that predates `my_rooms`: only the first room.
            Err(error) if error.is(ErrorCode::MethodNotFound) => Vec::new(),
            Err(error) => {
                self.out_call_error("cannot list your rooms", &error);
                Vec::new()
            }
        };
        self.rejoin(&first.id(), &mine).await;
        self.poll_directs().await;
    }

    /// Fills the room cache (topics, names for completion).
    async fn load_rooms(&mut self) {
        match self.session.list_rooms().await {
            Ok(rooms) => {
                for room in rooms {
                    self.vocabulary.add_room(room.room_name.as_str());
                    self.known_rooms.insert(room.room_id.clone(), room);
                }
            }
            Err(error) => tracing::debug!(%error, "listing rooms at the start failed"),
        }
    }

    /// Joins the user's other rooms without showing them: their unread
    /// messages wait until the user switches there.
    async fn rejoin(&mut self, first: &RoomId, mine: &[MyRoom]) {
        let mut summary = Vec::new();
        for room in mine {
            if let Some(read) = room.last_read_message_id {
                self.markers.known(&room.room_id, read);
            }
            if &room.room_id == first {
                continue;
            }
            let joined = match self.join_patiently(&room.room_name).await {
                Ok(joined) => joined,
                Err(error) => {
                    self.out_call_error(&format!("cannot rejoin #{}", room.room_name), &error);
                    continue;
                }
            };
            for user in &joined.users {
                self.vocabulary.add_user(user.as_str());
            }
            for message in &joined.messages {
                let unread = room.last_read_message_id.is_none_or(|read| message.message_id > read);
                if unread {
                    self.ledger.record_unshown(message);
                } else {
                    self.ledger.record(message);
                }
            }
            summary.push(render::rejoined(&room.room_name, room.unread_count, room.mention_count));
        }
        if !summary.is_empty() {
            let line = self.painter.notice(&format!("also in {}; /switch <room> to go there", summary.join(", ")));
            self.out(line);
        }
    }

    /// A join that waits out the per-user join rate limit.
    async fn join_patiently(&self, room: &RoomName) -> Result<Joined, CallError> {
        let mut attempt = 1;
        loop {
            match self.session.join_room(room).await {
                Err(CallError::Refused { kind: Some(ErrorCode::RateLimited), retry_after, .. })
                    if attempt < JOIN_ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
                }
                result => return result,
            }
        }
    }
}
