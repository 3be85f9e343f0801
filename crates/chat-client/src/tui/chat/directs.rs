//! Direct conversations: `/msg`, `/dm`, `/dms`, and the look at what
//! waits unread when the chat starts (see [`super::direct_watch`]).

use chat_api::{ErrorCode, Message, MessageId, MessageText, RoomId, UserName, rpc::SendMessageResult};

use super::{Chat, display::Arrival, slash::DEFAULT_HISTORY};
use crate::tui::render;

/// Messages fetched when a conversation has something new.
const CATCH_UP: u32 = 50;

impl Chat {
    /// `/msg <user> <text>`: sends without leaving the current conversation.
    pub(super) async fn message_directly(&mut self, user: UserName, text: MessageText) {
        let opened = match self.session.open_direct(&user, None).await {
            Ok(opened) => opened,
            Err(error) => return self.out_call_error(&format!("cannot write to {user}"), &error),
        };
        self.directs.peer(&opened.room_id, &user);
        self.vocabulary.add_user(user.as_str());
        // Whatever came in since the last look is news; show it first.
        self.catch_up_direct(&opened.room_id, opened.recent_messages);
        match self.session.send_message(&opened.room_id, &text).await {
            Ok(sent) => self.show_own(&opened.room_id, sent, text, None),
            Err(error) => self.out_call_error(&format!("not sent to {user}"), &error),
        }
    }

    /// `/dm <user>`: makes the direct conversation the current one; the
    /// first time, shows its recent messages.
    pub(super) async fn open_direct(&mut self, user: UserName) {
        let opened = match self.session.open_direct(&user, None).await {
            Ok(opened) => opened,
            Err(error) => return self.out_call_error(&format!("cannot talk with {user}"), &error),
        };
        let room = opened.room_id.clone();
        self.directs.peer(&room, &user);
        self.vocabulary.add_user(user.as_str());
        self.current = Some(room.clone());
        self.refresh_status();
        let name = render::conversation_name(&room, self.me.as_ref());
        if self.directs.open(&room) {
            let recent = &opened.recent_messages[opened.recent_messages.len().saturating_sub(DEFAULT_HISTORY)..];
            let heading = match recent.len() {
                0 => format!("talking with {name}; no messages yet"),
                _ => format!("talking with {name}; the latest messages:"),
            };
            let heading = self.painter.notice(&heading);
            self.show_again(heading, recent);
        } else {
            self.out_notice(&format!("now talking with {name}"));
            self.catch_up_direct(&room, opened.recent_messages);
        }
        if let Some(newest) = self.ledger.newest(&room) {
            self.markers.shown(&room, newest);
        }
    }

    /// `/dms`.
    pub(super) async fn list_directs(&mut self) {
        match self.session.list_direct().await {
            Ok(chats) => {
                for chat in &chats {
                    self.directs.peer(&chat.room_id, &chat.username);
                    self.vocabulary.add_user(chat.username.as_str());
                }
                let lines = self.painter.direct_list(&chats, &self.view());
                self.out(lines.join("\n"));
            }
            Err(error) => self.out_call_error("cannot list direct conversations", &error),
        }
    }

    /// One look at `list_direct`: the first says what waits unread; later
    /// ones show what arrived since.
    pub(super) async fn poll_directs(&mut self) {
        self.directs.polled(tokio::time::Instant::now());
        let chats = match self.session.list_direct().await {
            Ok(chats) => chats,
            Err(error) if error.is(ErrorCode::MethodNotFound) => return self.directs.unsupported(),
            Err(error) => return tracing::debug!(%error, "list_direct failed"),
        };
        for chat in &chats {
            self.directs.peer(&chat.room_id, &chat.username);
            self.vocabulary.add_user(chat.username.as_str());
        }
        if !self.directs.started() {
            self.directs
                .start(chats.iter().filter_map(|c| Some((c.room_id.clone(), c.last_message.as_ref()?.message_id))));
            let waiting: Vec<String> = chats
                .iter()
                .filter(|c| c.unread_count > 0)
                .map(|c| format!("@{} ({} unread)", c.username, c.unread_count))
                .collect();
            if !waiting.is_empty() {
                self.out_notice(&format!("direct messages from {}; /dm <user> to read them", waiting.join(", ")));
            }
            return;
        }
        for chat in chats {
            let newest = chat.last_message.as_ref().map(|m| m.message_id);
            let super::direct_watch::Found::NewAfter(after) = self.directs.check(&chat.room_id, newest) else {
                continue;
            };
            match self.session.get_history(&chat.room_id, None, CATCH_UP).await {
                Ok(page) => {
                    let new: Vec<Message> =
                        page.messages.into_iter().filter(|m| after.is_none_or(|after| m.message_id > after)).collect();
                    self.catch_up_direct(&chat.room_id, new);
                }
                Err(error) => tracing::debug!(%error, room = %chat.room_id, "catching up a direct conversation failed"),
            }
            if let Some(newest) = newest {
                // Shown or not (deleted meanwhile), it is not news twice.
                self.directs.shown(&chat.room_id, newest);
            }
        }
    }

    /// Shows the messages of a direct conversation that were not shown.
    fn catch_up_direct(&mut self, room: &RoomId, messages: Vec<Message>) {
        for message in &messages {
            self.show_message(message, Arrival::Live);
        }
        if let Some(last) = messages.last() {
            self.directs.shown(room, last.message_id);
        }
    }

    /// The user's own message in a direct conversation, from the answer to
    /// sending it, so that it shows even before (or without) the echo.
    pub(super) fn show_own(
        &mut self,
        room: &RoomId,
        sent: SendMessageResult,
        text: MessageText,
        reply_to: Option<MessageId>,
    ) {
        if !room.is_direct() {
            return;
        }
        let Some(me) = self.me.clone() else { return };
        let mut message = Message::plain(sent.message_id, room.clone(), me, text, sent.timestamp);
        message.reply_to = reply_to;
        self.show_message(&message, Arrival::Catching);
    }
}
