//! What the slash commands do.

use chat_api::{RoomId, RoomName};

use super::display;
use super::{
    Chat, Flow,
    slash::{self, Command},
};
use crate::tui::{credentials, render};

impl Chat {
    pub(super) async fn command(&mut self, command: Command) -> Flow {
        match command {
            Command::Help => {
                let lines = self.painter.help().join("\n");
                self.out(lines);
            }
            Command::Quit => return Flow::Quit,
            Command::Rooms => self.rooms().await,
            Command::Join(room) => self.join(room).await,
            Command::Switch(room) => {
                if self.is_joined(&room.id()) {
                    self.current = Some(room.id());
                    self.refresh_status();
                    self.out_notice(&format!("now talking in #{room}"));
                    self.show_unread(&room.id(), slash::DEFAULT_HISTORY);
                } else {
                    self.out_error(&format!("you are not in #{room}"), Some(&format!("/join {room}")));
                }
            }
            Command::Leave(room) => self.leave(room).await,
            Command::Who => {
                let Some(room) = self.current.clone() else {
                    self.out_error("you are not in a room", Some("/join <room>"));
                    return Flow::Continue;
                };
                match self.session.list_users(&room).await {
                    Ok(users) => {
                        let line = self.painter.user_list(&room, &users, &self.view());
                        self.out(line);
                    }
                    Err(error) => self.out_call_error("cannot list users", &error),
                }
            }
            Command::History(count) => self.history(count).await,
            Command::Me(action) => self.say(&format!("/me {action}")).await,
            Command::Profile(user) => {
                let Some(user) = user.or_else(|| self.me.clone()) else {
                    self.out_error("whose profile?", Some("/profile <user>"));
                    return Flow::Continue;
                };
                match self.session.get_profile(&user).await {
                    Ok(profile) => {
                        let lines = self.painter.profile(&profile, &self.view()).join("\n");
                        self.out(lines);
                    }
                    Err(error) => self.out_call_error(&format!("cannot show {user}"), &error),
                }
            }
            Command::Nick(name) => match self.session.update_profile(Some(name), None).await {
                Ok(profile) => self.out_notice(&format!("your display name is now {}", profile.display_name)),
                Err(error) => self.out_call_error("cannot change your display name", &error),
            },
            Command::Kick { user, reason } => match self.session.kick_user(&user, &reason).await {
                Ok(true) => self.out_notice(&format!("kicked {user}")),
                Ok(false) => self.out_notice(&format!("{user} is not online; nobody was kicked")),
                Err(error) => self.out_call_error(&format!("cannot kick {user}"), &error),
            },
            Command::Ban { user, duration, reason } => match self.session.ban_user(&user, &reason, duration).await {
                Ok(_) => {
                    let how_long =
                        duration.map_or_else(|| "permanently".to_owned(), |d| format!("for {}", humanize(d.as_secs())));
                    self.out_notice(&format!("banned {user} {how_long}"));
                }
                Err(error) => self.out_call_error(&format!("cannot ban {user}"), &error),
            },
            Command::Unban(user) => match self.session.unban_user(&user).await {
                Ok(_) => self.out_notice(&format!("{user} is no longer banned")),
                Err(error) => self.out_call_error(&format!("cannot unban {user}"), &error),
            },
            Command::Announce { level, text } => {
                if let Err(error) = self.session.broadcast_announcement(&text, level).await {
                    self.out_call_error("cannot announce", &error);
                }
            }
            Command::DeleteRoom(room) => match self.session.delete_room(&room).await {
                Ok(()) => {
                    self.out_notice(&format!("deleted #{room}"));
                    if self.current.as_ref() == Some(&room) {
                        self.switch_away_from(&room);
                    }
                }
                Err(error) => self.out_call_error(&format!("cannot delete #{room}"), &error),
            },
            Command::Msg { .. }
            | Command::Dm(_)
            | Command::Dms
            | Command::Reply { .. }
            | Command::Edit { .. }
            | Command::Delete(_)
            | Command::React { .. }
            | Command::Unreact { .. }
            | Command::Search(_)
            | Command::Topic(_)
            | Command::Block(_)
            | Command::Unblock(_)
            | Command::Blocked
            | Command::Role { .. }
            | Command::ModLog(_) => return self.message_command(command).await,
            Command::Login => match self.me.clone() {
                Some(me) => match self.input.read_password(format!("Password for {me}")) {
                    // The answer arrives as `FromInput::Password`.
                    Ok(()) => return Flow::AwaitingInput,
                    Err(error) => self.out_error(&error.to_string(), None),
                },
                None => self.out_error(
                    "this token does not say whose it is",
                    Some("restart with `bidirectional-chat-client chat --username NAME`"),
                ),
            },
        }
        Flow::Continue
    }

    /// `/rooms`: every room, with the user's unread counts.
    async fn rooms(&mut self) {
        let rooms = match self.session.list_rooms().await {
            Ok(rooms) => rooms,
            Err(error) => return self.out_call_error("cannot list rooms", &error),
        };
        let mine = match self.session.my_rooms().await {
            Ok(mine) => mine,
            Err(error) => {
                tracing::debug!(%error, "my_rooms failed; listing without unread counts");
                Vec::new()
            }
        };
        for room in &rooms {
            self.vocabulary.add_room(room.room_name.as_str());
            self.known_rooms.insert(room.room_id.clone(), room.clone());
        }
        let lines = self.painter.room_overview(&rooms, &mine, &self.session.rooms(), self.current.as_ref());
        self.out(lines.join("\n"));
    }

    pub(super) fn is_joined(&self, room: &RoomId) -> bool {
        self.session.rooms().iter().any(|name| &name.id() == room)
    }

    pub(super) async fn join(&mut self, room: RoomName) {
        let id = room.id();
        if self.is_joined(&id) {
            self.current = Some(id.clone());
            self.refresh_status();
            self.out_notice(&format!("now talking in #{room}"));
            self.show_unread(&id, slash::DEFAULT_HISTORY);
            return;
        }
        match self.session.join_room(&room).await {
            Ok(joined) => {
                self.current = Some(joined.room_id.clone());
                self.refresh_status();
                for user in &joined.users {
                    self.vocabulary.add_user(user.as_str());
                }
                self.vocabulary.add_room(joined.room_name.as_str());
                let header = self.painter.joined(&joined.room_name, &joined.users, &self.view());
                self.out(header);
                self.say_topic(&joined.room_id);
                for message in &joined.messages {
                    self.show_message(message, display::Arrival::Catching);
                }
            }
            Err(error) => self.out_call_error(&format!("cannot join #{room}"), &error),
        }
    }

    async fn leave(&mut self, room: Option<RoomName>) {
        let Some(id) = room.as_ref().map(RoomName::id).or_else(|| self.current.clone()) else {
            self.out_error("you are not in a room", None);
            return;
        };
        if id.is_direct() {
            // Nothing to leave on the server: the conversation stays, and
            // new messages in it are still shown.
            let name = render::conversation_name(&id, self.me.as_ref());
            self.out_notice(&format!("closed the conversation with {name}"));
            return self.switch_away_from(&id);
        }
        if !self.is_joined(&id) {
            self.out_error(&format!("you are not in #{id}"), None);
            return;
        }
        match self.session.leave_room(&id).await {
            Ok(()) => {
                self.out_notice(&format!("left #{id}"));
                if self.current.as_ref() == Some(&id) {
                    self.switch_away_from(&id);
                }
            }
            Err(error) => self.out_call_error(&format!("cannot leave #{id}"), &error),
        }
    }

    /// After leaving or deleting the current room at the user's request
    /// (the next prompt shows the change): talk in another joined room.
    fn switch_away_from(&mut self, gone: &RoomId) {
        self.current = self.session.rooms().iter().map(RoomName::id).find(|id| id != gone);
        self.refresh_status();
        match self.current.clone() {
            Some(room) => self.out_notice(&format!("now talking in #{room}")),
            None => self.out_notice("you are in no room now; /join <room> to talk"),
        }
    }

    /// The current room vanished (deleted by someone, or found gone after a
    /// reconnect): talk in another joined room, and say so. A line being
    /// typed under the old prompt is not sent anywhere (see `prompt_room`).
    pub(super) fn current_room_vanished(&mut self, room: &RoomId) {
        self.current = self.session.rooms().iter().map(RoomName::id).find(|id| id != room);
        self.refresh_status();
        match self.current.clone() {
            Some(now) => self.out_notice(&format!("#{room} was deleted; now talking in #{now}")),
            None => self.out_error(&format!("#{room} was deleted; you are in no room now"), Some("/join <room>")),
        }
    }

    async fn history(&mut self, count: usize) {
        let Some(room) = self.current.clone() else {
            self.out_error("you are not in a room", Some("/join <room>"));
            return;
        };
        match self.session.recent_history(&room, count).await {
            Ok(messages) => {
                let name = render::conversation_name(&room, self.me.as_ref());
                let heading = match messages.len() {
                    0 => format!("{name} has no messages yet"),
                    1 => format!("the last message of {name}:"),
                    n => format!("the last {n} messages of {name}:"),
                };
                let heading = self.painter.notice(&heading);
                self.show_again(heading, &messages);
            }
            Err(error) => self.out_call_error("cannot read the history", &error),
        }
    }

    pub(super) async fn finish_login(&mut self, password: Option<String>) {
        let (Some(password), Some(me)) = (password, self.me.clone()) else {
            self.out_notice("login cancelled");
            return;
        };
        match credentials::log_in(&self.rest, &self.store, me.as_str(), &password).await {
            Ok((saved, _)) => {
                self.session.set_token(saved.token);
                self.out_notice("logged in again; reconnecting");
            }
            Err(error) => self.out_error(&format!("{error:#}"), Some("/login to try again")),
        }
    }
}

/// `7200` → `2h`.
fn humanize(seconds: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(604_800, "w"), (86_400, "d"), (3600, "h"), (60, "m")];
    UNITS
        .iter()
        .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
        .map_or_else(|| format!("{seconds}s"), |(size, unit)| format!("{}{unit}", seconds / size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(humanize(7200), "2h");
        assert_eq!(humanize(90), "90s");
        assert_eq!(humanize(600), "10m");
        assert_eq!(humanize(1_209_600), "2w");
    }
}
