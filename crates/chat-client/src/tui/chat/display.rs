//! Showing messages: each once, with what it replies to, the bell when it
//! mentions the user, and the read marker moved for the conversation on
//! screen.

use chat_api::{Message, RoomId};

use super::Chat;
use crate::tui::render::{self, Quoted};

/// How a message reached the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// Just sent by someone: a mention rings the bell.
    Live,
    /// Part of a join, a `/dm` or catching up: shown, no bell.
    Catching,
}

impl Chat {
    /// Shows a message unless it was shown already.
    pub(super) fn show_message(&mut self, message: &Message, arrival: Arrival) {
        if !self.ledger.record(message) {
            return;
        }
        let line = self.message_line(message, arrival);
        self.out(line);
        self.after_shown(message);
    }

    /// Shows messages that may have been shown before (`/history`): all of
    /// them, under a heading.
    pub(super) fn show_again(&mut self, heading: String, messages: &[Message]) {
        let mut lines = vec![heading];
        for message in messages {
            self.ledger.record(message);
            lines.push(self.message_line(message, Arrival::Catching));
        }
        self.out(lines.join("\n"));
        if let Some(last) = messages.last() {
            self.after_shown(last);
        }
    }

    fn message_line(&self, message: &Message, arrival: Arrival) -> String {
        let quoted = message.reply_to.and_then(|id| match self.ledger.get(id) {
            Some(original) => Some(Quoted::Found(original)),
            None if self.ledger.was_deleted(id) => Some(Quoted::Deleted),
            None => None,
        });
        let view = self.view();
        let mut line = self.painter.message_quoting(message, &view, quoted);
        if arrival == Arrival::Live && self.bell && render::mentions_reader(message, &view) {
            line.push('\u{7}');
        }
        line
    }

    /// Bookkeeping once a message is on screen.
    fn after_shown(&mut self, message: &Message) {
        self.vocabulary.add_user(message.username.as_str());
        if message.room_id.is_direct() {
            self.directs.shown(&message.room_id, message.message_id);
            self.learn_peer(&message.room_id);
        }
        if self.current.as_ref() == Some(&message.room_id) {
            self.markers.shown(&message.room_id, message.message_id);
        }
    }

    /// Remembers who the other participant of a direct conversation is,
    /// from its id and this user's name.
    pub(super) fn learn_peer(&mut self, room: &RoomId) {
        if self.directs.peer_of(room).is_some() {
            return;
        }
        let (Some(me), Some((a, b))) = (self.me.as_ref(), room.direct_keys()) else { return };
        let other = if me.key() == a { b } else { a };
        if let Ok(other) = chat_api::UserName::parse(other) {
            self.directs.peer(room, &other);
        }
    }

    /// Shows what was remembered in `room` but not printed (a room joined
    /// at the start, read on no device since), at most `most` of the
    /// newest, and marks the room read.
    pub(super) fn show_unread(&mut self, room: &RoomId, most: usize) {
        let waiting = self.ledger.take_unshown(room);
        if !waiting.is_empty() {
            let skipped = waiting.len().saturating_sub(most);
            let name = render::conversation_name(room, self.me.as_ref());
            let heading = match (waiting.len(), skipped) {
                (1, _) => format!("1 unread message in {name}:"),
                (n, 0) => format!("{n} unread messages in {name}:"),
                (n, _) => format!("{n} unread messages in {name}; the newest {most} (/history shows more):"),
            };
            let heading = self.painter.notice(&heading);
            self.show_again(heading, &waiting[skipped..]);
        }
        if let Some(newest) = self.ledger.newest(room) {
            self.markers.shown(room, newest);
        }
    }
}
