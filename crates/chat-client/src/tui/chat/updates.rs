//! Notifications of contract version 2 that change what was shown: edits,
//! deletes, reactions, read markers, mentions elsewhere, topics. A line
//! on screen cannot be redrawn once it scrolled up, so each is a new line
//! that names the message (`#12 <bob> what it said`), from the ledger.

use chat_api::ServerEvent;

use super::{Chat, display::Arrival};

/// Whether [`Chat::show_update`] handles `event`.
pub(super) fn is_update(event: &ServerEvent) -> bool {
    matches!(
        event,
        ServerEvent::MessageEdited(_)
            | ServerEvent::MessageDeleted(_)
            | ServerEvent::ReactionAdded(_)
            | ServerEvent::ReactionRemoved(_)
            | ServerEvent::ReadMarkerUpdated(_)
            | ServerEvent::Mentioned(_)
            | ServerEvent::RoomUpdated(_)
    )
}

impl Chat {
    pub(super) fn show_update(&mut self, event: ServerEvent) {
        let line = match event {
            ServerEvent::MessageEdited(edit) => {
                let before = self.ledger.edit(&edit);
                self.painter.edited(&edit, before.as_ref(), &self.view())
            }
            ServerEvent::MessageDeleted(deleted) => {
                let before = self.ledger.delete(&deleted);
                self.painter.deleted(&deleted, before.as_ref(), &self.view())
            }
            ServerEvent::ReactionAdded(change) | ServerEvent::ReactionRemoved(change)
                if self.ledger.get(change.message_id).is_none() =>
            {
                // Reactions to messages never shown here (older than what
                // was fetched) would be noise without context.
                self.vocabulary.add_user(change.username.as_str());
                return;
            }
            ServerEvent::ReactionAdded(change) => {
                self.vocabulary.add_user(change.username.as_str());
                let target = self.ledger.react(&change, true).cloned();
                self.painter.reaction(&change, true, target.as_ref(), &self.view())
            }
            ServerEvent::ReactionRemoved(change) => {
                let target = self.ledger.react(&change, false).cloned();
                self.painter.reaction(&change, false, target.as_ref(), &self.view())
            }
            ServerEvent::ReadMarkerUpdated(marker) => {
                // Read on another device: not unread here either.
                self.markers.known(&marker.room_id, marker.message_id);
                self.ledger.read_elsewhere(&marker.room_id, marker.message_id);
                return;
            }
            ServerEvent::Mentioned(mentioned) => {
                let message = mentioned.message;
                if self.current.as_ref() == Some(&message.room_id) || self.is_joined(&message.room_id) {
                    // In a conversation this chat follows, the message
                    // itself says it (with the bell) if it is not shown yet.
                    self.show_message(&message, Arrival::Live);
                    return;
                }
                if !self.ledger.record(&message) {
                    return;
                }
                let mut line = self.painter.mentioned(&message, &self.view());
                if self.bell {
                    line.push('\u{7}');
                }
                line
            }
            ServerEvent::RoomUpdated(updated) => {
                let info = updated.room_info;
                let line = self.painter.system(&self.painter.room_updated(&info));
                self.known_rooms.insert(info.room_id.clone(), info);
                line
            }
            _ => return,
        };
        self.out(line);
    }

    /// Keeps the room cache and the completion words in step with room
    /// and presence events.
    pub(super) fn note_rooms(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::RoomCreated(created) => {
                self.vocabulary.add_room(created.room_info.room_name.as_str());
                self.known_rooms.insert(created.room_info.room_id.clone(), created.room_info.clone());
            }
            ServerEvent::RoomDeleted(deleted) => {
                self.vocabulary.remove_room(deleted.room_name.as_str());
                self.known_rooms.remove(&deleted.room_id);
            }
            ServerEvent::UserJoined(change) | ServerEvent::UserLeft(change) => {
                self.vocabulary.add_user(change.username.as_str());
            }
            _ => {}
        }
    }
}
