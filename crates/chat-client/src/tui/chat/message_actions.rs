//! Commands that act on messages and rooms of contract version 2: reply,
//! edit, delete, react, search, topic, block, role, moderation log.
//!
//! Edits, deletes, reactions and topics succeed silently: the server's
//! notification, which every member gets, is what shows them, once.

use chat_api::{Emoji, MessageId, MessageText, Role, RoomTopic, SearchQuery, UserName};

use super::{Chat, Flow};

impl Chat {
    /// The conversation a message belongs to, when it was shown here;
    /// otherwise the current one.
    fn room_of(&self, message: MessageId) -> Option<chat_api::RoomId> {
        self.ledger.get(message).map(|m| m.room_id.clone()).or_else(|| self.current.clone())
    }

    /// The user's own newest message in the current conversation.
    fn own_last(&mut self, what: &str) -> Option<MessageId> {
        let found = match (&self.current, &self.me) {
            (Some(room), Some(me)) => self.ledger.last_own(room, me).map(|m| m.message_id),
            _ => None,
        };
        if found.is_none() {
            self.out_error(
                &format!("no message of yours here to {what}"),
                Some(&format!("/{what} <message id>, the number after a message")),
            );
        }
        found
    }

    pub(super) async fn reply(&mut self, to: MessageId, text: MessageText) {
        let Some(room) = self.room_of(to) else {
            return self.out_error("you are not in a room", Some("/join <room>"));
        };
        match self.session.send_reply(&room, &text, to).await {
            Ok(sent) => {
                self.own_typing.finished();
                self.show_own(&room, sent, text, Some(to));
            }
            Err(error) => self.out_call_error(&format!("cannot reply to #{to}"), &error),
        }
    }

    pub(super) async fn edit(&mut self, message: Option<MessageId>, text: MessageText) {
        let Some(id) = message.or_else(|| self.own_last("edit")) else { return };
        if let Err(error) = self.session.edit_message(id, &text).await {
            self.out_call_error(&format!("cannot edit #{id}"), &error);
        }
    }

    pub(super) async fn delete(&mut self, message: Option<MessageId>) {
        let Some(id) = message.or_else(|| self.own_last("delete")) else { return };
        if let Err(error) = self.session.delete_message(id).await {
            self.out_call_error(&format!("cannot delete #{id}"), &error);
        }
    }

    pub(super) async fn react(&mut self, id: MessageId, emoji: Emoji, add: bool) {
        let result = if add {
            self.session.add_reaction(id, &emoji).await
        } else {
            self.session.remove_reaction(id, &emoji).await
        };
        match result {
            // A message never shown here gets no line from the
            // notification, so say it here.
            Ok(()) if self.ledger.get(id).is_none() => {
                let done = if add { "reacted" } else { "took back" };
                self.out_notice(&format!("{done} {emoji} on #{id}"));
            }
            Ok(()) => {}
            Err(error) => {
                let what = if add { "react to" } else { "take back the reaction on" };
                self.out_call_error(&format!("cannot {what} #{id}"), &error);
            }
        }
    }

    pub(super) async fn search(&mut self, query: SearchQuery) {
        match self.session.search_messages(&query, None, None, None).await {
            Ok(found) => {
                for message in &found.messages {
                    self.vocabulary.add_user(message.username.as_str());
                }
                let lines = self.painter.search_results(query.as_str(), &found.messages, found.has_more, &self.view());
                self.out(lines.join("\n"));
            }
            Err(error) => self.out_call_error("cannot search", &error),
        }
    }

    pub(super) async fn topic(&mut self, topic: Option<RoomTopic>) {
        let Some(room) = self.current.clone().filter(|room| !room.is_direct()) else {
            return self.out_error("topics belong to rooms", Some("/switch <room> first"));
        };
        let Some(topic) = topic else {
            let line = match self.known_rooms.get(&room) {
                Some(info) => self.painter.topic(&info.room_name, info.topic.as_ref()),
                None => self.painter.notice(&format!("the topic of #{room} is not known yet")),
            };
            return self.out(line);
        };
        if let Err(error) = self.session.set_room_topic(&room, &topic).await {
            self.out_call_error(&format!("cannot set the topic of #{room}"), &error);
        }
    }

    pub(super) async fn block(&mut self, user: UserName, block: bool) {
        let (result, done, verb) = if block {
            (self.session.block_user(&user).await, "blocked", "block")
        } else {
            (self.session.unblock_user(&user).await, "unblocked", "unblock")
        };
        match result {
            Ok(()) => self.out_notice(&format!("{done} {user}")),
            Err(error) => self.out_call_error(&format!("cannot {verb} {user}"), &error),
        }
    }

    pub(super) async fn blocked(&mut self) {
        match self.session.list_blocked().await {
            Ok(users) if users.is_empty() => self.out_notice("you have blocked nobody"),
            Ok(users) => {
                let names: Vec<String> = users.iter().map(ToString::to_string).collect();
                self.out_notice(&format!("blocked: {}", names.join(", ")));
            }
            Err(error) => self.out_call_error("cannot list blocked users", &error),
        }
    }

    pub(super) async fn set_role(&mut self, user: UserName, role: Role) {
        match self.session.set_role(&user, role).await {
            Ok(()) => self.out_notice(&format!("{user} is now {role}")),
            Err(error) => self.out_call_error(&format!("cannot make {user} {role}"), &error),
        }
    }

    pub(super) async fn moderation_log(&mut self, count: usize) {
        let limit = u32::try_from(count).unwrap_or(u32::MAX);
        match self.session.moderation_log(None, Some(limit)).await {
            Ok(log) => {
                let lines = self.painter.moderation_log(&log.entries);
                self.out(lines.join("\n"));
            }
            Err(error) => self.out_call_error("cannot read the moderation log", &error),
        }
    }

    /// Says the current room's topic, when it has one (after a join).
    pub(super) fn say_topic(&mut self, room: &chat_api::RoomId) {
        let Some(info) = self.known_rooms.get(room) else { return };
        if info.topic.as_ref().is_some_and(|topic| !topic.is_empty()) {
            let line = self.painter.topic(&info.room_name, info.topic.as_ref());
            self.out(line);
        }
    }

    /// Runs one of the commands above.
    pub(super) async fn message_command(&mut self, command: super::slash::Command) -> Flow {
        use super::slash::Command;
        match command {
            Command::Msg { user, text } => self.message_directly(user, text).await,
            Command::Dm(user) => self.open_direct(user).await,
            Command::Dms => self.list_directs().await,
            Command::Reply { to, text } => self.reply(to, text).await,
            Command::Edit { message, text } => self.edit(message, text).await,
            Command::Delete(message) => self.delete(message).await,
            Command::React { message, emoji } => self.react(message, emoji, true).await,
            Command::Unreact { message, emoji } => self.react(message, emoji, false).await,
            Command::Search(query) => self.search(query).await,
            Command::Topic(topic) => self.topic(topic).await,
            Command::Block(user) => self.block(user, true).await,
            Command::Unblock(user) => self.block(user, false).await,
            Command::Blocked => self.blocked().await,
            Command::Role { user, role } => self.set_role(user, role).await,
            Command::ModLog(count) => self.moderation_log(count).await,
            other => tracing::debug!(?other, "not a message command"),
        }
        Flow::Continue
    }
}
