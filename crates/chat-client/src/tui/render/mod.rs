//! Everything the client prints, and the only module that knows colours.
//!
//! Every piece of text that came from the network goes through
//! [`sanitize`] here before it is printed. Colours are on only when stdout
//! is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`.

mod conversation;
pub(crate) mod sanitize;

pub(crate) use self::conversation::{Quoted, rejoined};

use std::ffi::OsStr;

use chat_api::{
    Message, Profile, RoomId, RoomInfo, RoomName, ServerEvent, Timestamp, UserName, notifications::AnnouncementLevel,
};
use chat_client::{BanLength, EndReason, Reconnected};
use chrono::{DateTime, Local};
use colored::{Color, Colorize};

/// Colours for other people's names: stable per user, never the colour of
/// one's own name (green) or of errors (red).
const NAME_COLORS: [Color; 8] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::BrightCyan,
    Color::BrightMagenta,
    Color::BrightYellow,
    Color::BrightBlue,
];

/// Whether to colour: only for a terminal, never with `NO_COLOR` set to
/// anything non-empty (<https://no-color.org>), never on a dumb terminal.
pub(crate) fn colors_wanted(is_terminal: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty) && term != Some(OsStr::new("dumb"))
}

/// How much of a timestamp to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeStyle {
    /// `14:05`, with the date only when it is not today (the chat view).
    Clock,
    /// `2026-11-21 14:05:09` (history and tail output).
    Full,
}

/// What the reader already knows, so lines can leave it out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    /// The reader's username, to colour their own messages.
    pub(crate) me: Option<&'a UserName>,
    /// The room on screen; lines about other rooms are tagged with theirs.
    pub(crate) current_room: Option<&'a RoomId>,
    /// Timestamp detail.
    pub(crate) time: TimeStyle,
}

/// Formats lines, with or without colour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Painter {
    color: bool,
}

impl Painter {
    /// For stdout, deciding colour from the environment. Also tells the
    /// `colored` crate, so nothing else can colour behind our back.
    pub(crate) fn for_stdout() -> Self {
        use std::io::IsTerminal;
        let color = colors_wanted(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        );
        colored::control::set_override(color);
        Self { color }
    }

    /// For stderr (errors), deciding colour from the environment.
    pub(crate) fn for_stderr() -> Self {
        use std::io::IsTerminal;
        let color = colors_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        );
        Self { color }
    }

    /// Without colour (tests, files).
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Self { color: false }
    }

    fn paint(&self, text: &str, color: Color) -> String {
        if self.color { text.color(color).to_string() } else { text.to_owned() }
    }

    fn bold(&self, text: &str, color: Color) -> String {
        if self.color { text.color(color).bold().to_string() } else { text.to_owned() }
    }

    fn dim(&self, text: &str) -> String {
        if self.color { text.dimmed().to_string() } else { text.to_owned() }
    }

    fn name(&self, user: &UserName, view: &View<'_>) -> String {
        let text = sanitize::line(user.as_str());
        if view.me.is_some_and(|me| me.key() == user.key()) {
            self.bold(&text, Color::Green)
        } else {
            self.paint(&text, name_color(user))
        }
    }

    fn room_tag(&self, room: &RoomId, view: &View<'_>) -> String {
        self.paint(&conversation_name(room, view.me), Color::BrightBlack)
    }

    /// `#room ` when `room` is not the one on screen.
    fn room_prefix(&self, room: &RoomId, view: &View<'_>) -> String {
        if view.current_room == Some(room) { String::new() } else { format!("{} ", self.room_tag(room, view)) }
    }

    /// One chat message; continuation lines are indented under the text. A
    /// text starting with `/me ` is shown as an action.
    pub(crate) fn message(&self, message: &Message, view: &View<'_>) -> String {
        self.message_quoting(message, view, None)
    }

    /// A message, with what it replies to when that is known: the reply
    /// line above the text, the id (for `/reply`, `/react`) and "(edited)"
    /// after it, the reactions below. A message that mentions the reader
    /// starts with `▶` and, in colour, stands out.
    pub(crate) fn message_quoting(&self, message: &Message, view: &View<'_>, quoted: Option<Quoted<'_>>) -> String {
        let time = self.dim(&clock(message.timestamp, view.time, Local::now()));
        let room = self.room_prefix(&message.room_id, view);
        let name = self.name(&message.username, view);
        let marker = if mentions_reader(message, view) { "▶ " } else { "" };
        let text = message.text.as_str();
        let (head, body) = match text.strip_prefix("/me ") {
            Some(action) => (format!("{marker}{time} {room}* {name} "), action),
            None => (format!("{marker}{time} {room}<{name}> "), text),
        };
        let mut rows: Vec<String> = Vec::new();
        if let Some(to) = message.reply_to {
            rows.push(self.reply_line(to, quoted, view));
        }
        let highlight = !marker.is_empty();
        rows.extend(
            sanitize::lines(body)
                .iter()
                .map(|part| if highlight { self.bold(part, Color::BrightYellow) } else { part.to_string() }),
        );
        if let Some(last) = rows.last_mut() {
            if message.edited_at.is_some() {
                last.push_str(&self.dim(" (edited)"));
            }
            last.push_str(&self.dim(&format!("  #{}", message.message_id)));
        }
        if !message.reactions.is_empty() {
            rows.push(self.reactions(&message.reactions));
        }
        let indent = " ".repeat(visible_width(&head));
        let mut out = head;
        out.push_str(&rows.join(&format!("\n{indent}")));
        out
    }

    /// A server event other than a message, or `None` for events the chat
    /// does not print as a line (typing is shown separately).
    pub(crate) fn event(&self, event: &ServerEvent, view: &View<'_>) -> Option<String> {
        let line = match event {
            ServerEvent::MessageReceived(message) => return Some(self.message(message, view)),
            ServerEvent::UserJoined(change) => format!(
                "→ {} joined {} ({})",
                self.name(&change.username, view),
                self.room_tag(&change.room_id, view),
                users(change.user_count)
            ),
            ServerEvent::UserLeft(change) => format!(
                "← {} left {} ({})",
                self.name(&change.username, view),
                self.room_tag(&change.room_id, view),
                users(change.user_count)
            ),
            ServerEvent::UserKicked(kick) => {
                let place = match &kick.room_id {
                    Some(room) => format!(" from {}", self.room_tag(room, view)),
                    None => String::new(),
                };
                let line =
                    format!("✗ {} was kicked{place}{}", self.name(&kick.username, view), reason(kick.reason.as_str()));
                return Some(self.bold(&line, Color::Red));
            }
            ServerEvent::SystemAnnouncement(announcement) => {
                return Some(self.announcement(announcement.level, &announcement.message));
            }
            ServerEvent::RoomCreated(created) => {
                format!("* room {} was created", self.room_name_tag(&created.room_info.room_name))
            }
            ServerEvent::RoomDeleted(deleted) => {
                format!("* room {} was deleted", self.room_name_tag(&deleted.room_name))
            }
            ServerEvent::UserStartedTyping(_)
            | ServerEvent::UserStoppedTyping(_)
            | ServerEvent::ReadMarkerUpdated(_) => return None,
            ServerEvent::MessageEdited(edit) => return Some(self.edited(edit, None, view)),
            ServerEvent::MessageDeleted(deleted) => return Some(self.deleted(deleted, None, view)),
            ServerEvent::ReactionAdded(change) => return Some(self.reaction(change, true, None, view)),
            ServerEvent::ReactionRemoved(change) => return Some(self.reaction(change, false, None, view)),
            ServerEvent::Mentioned(mentioned) => return Some(self.mentioned(&mentioned.message, view)),
            ServerEvent::RoomUpdated(updated) => self.room_updated(&updated.room_info),
        };
        Some(self.system(&line))
    }

    fn room_name_tag(&self, room: &RoomName) -> String {
        format!("#{}", sanitize::line(room.as_str()))
    }

    /// A system line (joins, leaves, rooms): dimmed.
    pub(crate) fn system(&self, text: &str) -> String {
        self.dim(text)
    }

    /// An announcement, coloured by level.
    pub(crate) fn announcement(&self, level: AnnouncementLevel, text: &str) -> String {
        let body = sanitize::lines(text).join(" / ");
        let (label, color) = match level {
            AnnouncementLevel::Info => ("📢 announcement", Color::BrightBlue),
            AnnouncementLevel::Warning => ("⚠ announcement", Color::Yellow),
            AnnouncementLevel::Error => ("‼ announcement", Color::Red),
        };
        self.bold(&format!("{label}: {body}"), color)
    }

    /// Neutral information from the client itself.
    pub(crate) fn notice(&self, text: &str) -> String {
        self.paint(&format!("-- {}", sanitize::line(text)), Color::BrightBlack)
    }

    /// An error or refusal, e.g. the server's reason for refusing a command.
    pub(crate) fn error(&self, text: &str) -> String {
        self.bold(&format!("error: {}", sanitize::line(text)), Color::Red)
    }

    /// A hint that follows an error.
    pub(crate) fn hint(&self, text: &str) -> String {
        self.paint(&format!("hint: {}", sanitize::line(text)), Color::Yellow)
    }

    /// The line shown when the connection drops.
    pub(crate) fn connection_lost(&self, cause: &str) -> String {
        self.paint(&format!("-- connection lost ({}); reconnecting…", sanitize::line(cause)), Color::Yellow)
    }

    /// The one line shown after a reconnect.
    pub(crate) fn reconnected(&self, report: &Reconnected) -> String {
        let mut parts = vec!["-- reconnected".to_owned()];
        if !report.rooms.is_empty() {
            let rooms: Vec<String> = report.rooms.iter().map(|r| self.room_name_tag(r)).collect();
            parts.push(format!("rejoined {}", rooms.join(", ")));
        }
        parts.push(match report.missed {
            0 => "nothing missed".to_owned(),
            1 => "1 missed message follows".to_owned(),
            n => format!("{n} missed messages follow"),
        });
        for room in &report.gone {
            parts.push(format!("#{} was deleted meanwhile", sanitize::line(room.as_str())));
        }
        for room in &report.gaps {
            parts.push(format!("older messages of #{} were skipped", sanitize::line(room.as_str())));
        }
        self.paint(&parts.join("; "), Color::Green)
    }

    /// Why the session ended for good.
    pub(crate) fn ended(&self, reason: &EndReason) -> String {
        let text = ended_text(reason);
        let mut chars = text.chars();
        let capitalized: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
        self.bold(&format!("{capitalized}. Not reconnecting."), Color::Red)
    }

    /// The header printed after joining a room.
    pub(crate) fn joined(&self, room: &RoomName, people: &[UserName], view: &View<'_>) -> String {
        let names: Vec<String> = people.iter().map(|u| self.name(u, view)).collect();
        self.paint(
            &format!("-- joined {} ({}: {})", self.room_name_tag(room), users(people.len()), names.join(", ")),
            Color::Green,
        )
    }

    /// `/rooms` and the `rooms` command: one line per room.
    pub(crate) fn room_list(&self, rooms: &[RoomInfo], joined: &[RoomName], current: Option<&RoomId>) -> Vec<String> {
        let width = rooms.iter().map(|r| r.room_name.len()).max().unwrap_or(0);
        let with_markers = current.is_some() || !joined.is_empty();
        rooms
            .iter()
            .map(|room| {
                let name = sanitize::line(room.room_name.as_str());
                if !with_markers {
                    return format!("#{name:<width$}  {}", users(room.user_count));
                }
                let marker = if current == Some(&room.room_id) {
                    "*"
                } else if joined.iter().any(|j| j.id() == room.room_id) {
                    "+"
                } else {
                    " "
                };
                let padded = format!("{marker} #{name:<width$}");
                let padded = if marker == " " { padded } else { self.bold(&padded, Color::Green) };
                format!("{padded}  {}", users(room.user_count))
            })
            .collect()
    }

    /// `/who`.
    pub(crate) fn user_list(&self, room: &RoomId, people: &[UserName], view: &View<'_>) -> String {
        let names: Vec<String> = people.iter().map(|u| self.name(u, view)).collect();
        format!("{} {}: {}", self.room_tag(room, view), users(people.len()), names.join(", "))
    }

    /// `/profile`.
    pub(crate) fn profile(&self, profile: &Profile, view: &View<'_>) -> Vec<String> {
        let avatar = profile.avatar;
        vec![
            format!(
                "{} ({}) — {}",
                self.name(&profile.username, view),
                sanitize::line(profile.display_name.as_str()),
                profile.role
            ),
            format!("  cat: a {} {} {}", avatar.expression, avatar.color, avatar.breed.as_str().replace('_', " ")),
            format!("  member since {}", clock(profile.created_at, TimeStyle::Full, Local::now())),
            format!("  last seen {}", clock(profile.last_seen, TimeStyle::Full, Local::now())),
        ]
    }

    /// `/help`.
    pub(crate) fn help(&self) -> Vec<String> {
        let rows: &[(&str, &str)] = &[
            ("text + Enter", "send to the current room (Tab completes commands, @users and #rooms)"),
            ("/join <room>", "join (or create) a room and switch to it"),
            ("/switch <room>", "show and send to another joined room"),
            ("/leave [room]", "leave the current (or named) room"),
            ("/rooms", "list rooms (* current, + yours) with unread counts and topics"),
            ("/who", "who is in the current room"),
            ("/history [n]", "show the last n messages (default 20)"),
            ("/me <action>", "send an action: * you <action>"),
            ("/msg <user> <text>", "send a direct message"),
            ("/dm <user>", "talk in the direct conversation with a user"),
            ("/dms", "list direct conversations with unread counts"),
            ("/reply <id> <text>", "answer message #id"),
            ("/edit [id] <text>", "change your message (default: your last one here)"),
            ("/delete [id]", "delete a message (default: your last one here)"),
            ("/react <id> <emoji>", "react to a message (/unreact takes it back)"),
            ("/search <words>", "search messages, newest first"),
            ("/topic [text | -]", "show, set or (-) clear the room's topic"),
            ("/block <user>", "stop a user writing to you directly (/unblock, /blocked)"),
            ("/profile [user]", "show a profile (yours by default)"),
            ("/nick <name>", "change your display name"),
            ("/kick <user> [reason]", "moderators: disconnect a user"),
            ("/ban <user> <duration> [reason]", "moderators: ban for 30s, 10m, 2h, 7d, 1w or `permanent`"),
            ("/unban <user>", "moderators: lift a ban"),
            ("/modlog [n]", "moderators: the latest moderation actions"),
            ("/announce [info|warning|error] <text>", "admins: announce to everyone"),
            ("/delete-room <room>", "admins: delete a room and its history"),
            ("/role <user> <role>", "admins: make a user a user, moderator or admin"),
            ("/login", "log in again (after the session expired)"),
            ("/help", "this list"),
            ("/quit", "leave (also Ctrl-C or Ctrl-D)"),
        ];
        let width = rows.iter().map(|(c, _)| c.chars().count()).max().unwrap_or(0);
        rows.iter()
            .map(|(command, what)| format!("  {} {what}", self.paint(&format!("{command:<width$}"), Color::Cyan)))
            .collect()
    }
}

/// "You were kicked: <reason>", without colour.
pub(crate) fn ended_text(reason: &EndReason) -> String {
    let (what, why) = match reason {
        EndReason::Kicked { reason } => ("you were kicked".to_owned(), reason),
        EndReason::Banned { reason, length } => {
            let how_long = match length {
                Some(BanLength::Until(until)) => format!(" until {}", clock(*until, TimeStyle::Full, Local::now())),
                Some(BanLength::Permanent) => " permanently".to_owned(),
                None => String::new(),
            };
            (format!("you are banned{how_long}"), reason)
        }
    };
    let why = why.as_deref().map(|r| format!(": {}", sanitize::line(r))).unwrap_or_default();
    format!("{what}{why}")
}

/// A stable colour for a user: FNV-1a of the case-folded name.
pub(crate) fn name_color(user: &UserName) -> Color {
    let hash = user
        .key()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    NAME_COLORS[(hash % NAME_COLORS.len() as u64) as usize]
}

/// How a conversation is named to its reader: `#room`, or `@bob` for the
/// direct conversation with bob.
pub(crate) fn conversation_name(room: &RoomId, me: Option<&UserName>) -> String {
    if let Some((a, b)) = room.direct_keys() {
        let mine = me.map(UserName::key);
        let other = if mine.as_deref() == Some(a) { b } else { a };
        return format!("@{}", sanitize::line(other));
    }
    format!("#{}", sanitize::line(room.as_str()))
}

/// Whether `message` mentions the reader (someone else's message).
pub(crate) fn mentions_reader(message: &Message, view: &View<'_>) -> bool {
    let Some(me) = view.me else { return false };
    message.username.key() != me.key() && message.mentions.iter().any(|user| user.key() == me.key())
}

fn users(count: usize) -> String {
    if count == 1 { "1 user".to_owned() } else { format!("{count} users") }
}

fn reason(text: &str) -> String {
    if text.trim().is_empty() { String::new() } else { format!(": {}", sanitize::line(text)) }
}

/// A timestamp in local time.
pub(crate) fn clock(timestamp: Timestamp, style: TimeStyle, now: DateTime<Local>) -> String {
    let local = timestamp.as_datetime().with_timezone(&Local);
    match style {
        TimeStyle::Full => local.format("%Y-%m-%d %H:%M:%S").to_string(),
        TimeStyle::Clock if local.date_naive() == now.date_naive() => local.format("%H:%M").to_string(),
        TimeStyle::Clock => local.format("%b %d %H:%M").to_string(),
    }
}

/// Printed width of a line that may hold colour codes (ASCII prefixes).
fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

#[cfg(test)]
mod tests;
