//! Lines of contract version 2: replies, edits, deletes, reactions,
//! mentions, topics, unread counts, direct conversations, search results
//! and the moderation log.

use chat_api::{
    Message, MessageId, Reaction, RoomId, RoomInfo, RoomName, RoomTopic,
    notifications::{MessageDeleted, MessageEdited, ReactionChange},
    rpc::{DirectChat, ModerationEntry, MyRoom},
};
use chrono::Local;
use colored::Color;

use super::{Painter, TimeStyle, View, clock, conversation_name, sanitize, users};

/// What a reply answers, as far as the client knows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Quoted<'a> {
    /// The message replied to.
    Found(&'a Message),
    /// It was deleted.
    Deleted,
}

/// Most characters of a quoted message.
const EXCERPT: usize = 40;

/// The first line of a text, shortened, made safe to print.
pub(crate) fn excerpt(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let mut shown: String = sanitize::line(first).chars().take(EXCERPT).collect();
    if shown.chars().count() < text.chars().count() {
        shown.push('…');
    }
    shown
}

/// A room rejoined at the start: `#rust (3 unread, 1 mention)`.
pub(crate) fn rejoined(room: &RoomName, unread: u64, mentions: u64) -> String {
    let name = sanitize::line(room.as_str());
    match (unread, mentions) {
        (0, _) => format!("#{name}"),
        (unread, 0) => format!("#{name} ({unread} unread)"),
        (unread, 1) => format!("#{name} ({unread} unread, 1 mention)"),
        (unread, mentions) => format!("#{name} ({unread} unread, {mentions} mentions)"),
    }
}

impl Painter {
    /// `↳ reply to #12 <bob> what it said`.
    pub(super) fn reply_line(&self, to: MessageId, quoted: Option<Quoted<'_>>, view: &View<'_>) -> String {
        let what = match quoted {
            Some(Quoted::Found(original)) => {
                format!(" <{}> {}", self.name(&original.username, view), excerpt(original.text.as_str()))
            }
            Some(Quoted::Deleted) => " (message deleted)".to_owned(),
            None => String::new(),
        };
        self.dim(&format!("↳ reply to #{to}{what}"))
    }

    /// `👍 2 (alice, bob)  🎉 1 (carol)`.
    pub(super) fn reactions(&self, reactions: &[Reaction]) -> String {
        let parts: Vec<String> = reactions
            .iter()
            .map(|reaction| {
                let who: Vec<String> = reaction.usernames.iter().map(|u| sanitize::line(u.as_str()).into()).collect();
                format!("{} {} ({})", sanitize::line(reaction.emoji.as_str()), reaction.count, who.join(", "))
            })
            .collect();
        self.paint(&parts.join("  "), Color::BrightBlack)
    }

    /// Who wrote `message`, and the start of it: `#12 <bob> hello…`.
    fn about(&self, id: MessageId, known: Option<&Message>, view: &View<'_>) -> String {
        match known {
            Some(message) => {
                format!("#{id} <{}> {}", self.name(&message.username, view), excerpt(message.text.as_str()))
            }
            None => format!("#{id}"),
        }
    }

    /// A message was edited: `✎ #12 <bob> edited: new text`.
    pub(crate) fn edited(&self, edit: &MessageEdited, before: Option<&Message>, view: &View<'_>) -> String {
        let room = self.room_prefix(&edit.room_id, view);
        let who = match before {
            Some(message) => format!("#{} <{}>", edit.message_id, self.name(&message.username, view)),
            None => format!("#{}", edit.message_id),
        };
        let text = sanitize::lines(edit.text.as_str()).join(" / ");
        format!("{} {room}{who} {}", self.dim("✎"), self.dim(&format!("edited: {text}")))
    }

    /// A message was deleted: `✗ #12 <bob> hello… message deleted`.
    pub(crate) fn deleted(&self, deleted: &MessageDeleted, before: Option<&Message>, view: &View<'_>) -> String {
        let room = self.room_prefix(&deleted.room_id, view);
        let about = self.about(deleted.message_id, before, view);
        self.dim(&format!("✗ {room}{about}: message deleted"))
    }

    /// `bob reacted 👍 to #12 <alice> hello…` (or took it back).
    pub(crate) fn reaction(
        &self,
        change: &ReactionChange,
        added: bool,
        target: Option<&Message>,
        view: &View<'_>,
    ) -> String {
        let room = self.room_prefix(&change.room_id, view);
        let verb = if added { "reacted" } else { "took back" };
        let link = if added { "to" } else { "on" };
        format!(
            "{room}{} {verb} {} {link} {}",
            self.name(&change.username, view),
            sanitize::line(change.emoji.as_str()),
            self.about(change.message_id, target, view)
        )
    }

    /// A mention in a conversation not on screen:
    /// `▶ bob mentioned you in #ops: text  #45`.
    pub(crate) fn mentioned(&self, message: &Message, view: &View<'_>) -> String {
        let text = sanitize::lines(message.text.as_str()).join(" / ");
        let line = format!(
            "▶ {} mentioned you in {}: {text}",
            sanitize::line(message.username.as_str()),
            conversation_name(&message.room_id, view.me)
        );
        format!("{}{}", self.bold(&line, Color::BrightYellow), self.dim(&format!("  #{}", message.message_id)))
    }

    /// A room's topic changed.
    pub(crate) fn room_updated(&self, room: &RoomInfo) -> String {
        match room.topic.as_ref().filter(|topic| !topic.is_empty()) {
            Some(topic) => {
                format!("* topic of #{}: {}", sanitize::line(room.room_name.as_str()), sanitize::line(topic.as_str()))
            }
            None => format!("* the topic of #{} was cleared", sanitize::line(room.room_name.as_str())),
        }
    }

    /// The topic shown on joining or on `/topic`.
    pub(crate) fn topic(&self, room: &RoomName, topic: Option<&RoomTopic>) -> String {
        let room = sanitize::line(room.as_str());
        match topic.filter(|topic| !topic.is_empty()) {
            Some(topic) => {
                self.paint(&format!("-- topic of #{room}: {}", sanitize::line(topic.as_str())), Color::Green)
            }
            None => self.notice(&format!("#{room} has no topic")),
        }
    }

    /// `/rooms` in the chat: every room, marked `*` (current) or `+`
    /// (yours), with unread and mention counts and the topic.
    pub(crate) fn room_overview(
        &self,
        rooms: &[RoomInfo],
        mine: &[MyRoom],
        joined: &[RoomName],
        current: Option<&RoomId>,
    ) -> Vec<String> {
        let width = rooms.iter().map(|r| r.room_name.len()).max().unwrap_or(0);
        rooms
            .iter()
            .map(|room| {
                let name = sanitize::line(room.room_name.as_str());
                let counts = mine.iter().find(|m| m.room_id == room.room_id);
                let is_mine = counts.is_some() || joined.iter().any(|j| j.id() == room.room_id);
                let marker = if current == Some(&room.room_id) {
                    "*"
                } else if is_mine {
                    "+"
                } else {
                    " "
                };
                let padded = format!("{marker} #{name:<width$}");
                let padded = if marker == " " { padded } else { self.bold(&padded, Color::Green) };
                let mut line = format!("{padded}  {}", users(room.user_count));
                if let Some(counts) = counts.filter(|c| c.unread_count > 0) {
                    let unread = match counts.mention_count {
                        0 => format!("{} unread", counts.unread_count),
                        1 => format!("{} unread, 1 mention", counts.unread_count),
                        n => format!("{} unread, {n} mentions", counts.unread_count),
                    };
                    let unread = if counts.mention_count > 0 {
                        self.bold(&unread, Color::BrightYellow)
                    } else {
                        self.bold(&unread, Color::Cyan)
                    };
                    line.push_str(&format!("  {unread}"));
                }
                if let Some(topic) = room.topic.as_ref().filter(|t| !t.is_empty()) {
                    line.push_str(&self.dim(&format!("  — {}", sanitize::line(topic.as_str()))));
                }
                line
            })
            .collect()
    }

    /// `/dms`: one line per direct conversation, most recent first.
    pub(crate) fn direct_list(&self, chats: &[DirectChat], view: &View<'_>) -> Vec<String> {
        if chats.is_empty() {
            return vec![self.notice("no direct conversations yet; /msg <user> <text> starts one")];
        }
        chats
            .iter()
            .map(|chat| {
                let name = format!("@{}", sanitize::line(chat.username.as_str()));
                let mut line = if view.current_room == Some(&chat.room_id) {
                    self.bold(&format!("* {name}"), Color::Green)
                } else {
                    format!("  {name}")
                };
                if chat.unread_count > 0 {
                    line.push_str(&format!("  {}", self.bold(&format!("{} unread", chat.unread_count), Color::Cyan)));
                }
                if let Some(last) = &chat.last_message {
                    let when = clock(last.timestamp, TimeStyle::Clock, Local::now());
                    line.push_str(&self.dim(&format!(
                        "  {when} <{}> {}",
                        sanitize::line(last.username.as_str()),
                        excerpt(last.text.as_str())
                    )));
                }
                line
            })
            .collect()
    }

    /// `/search`: the matches, newest first, each with its conversation.
    pub(crate) fn search_results(&self, query: &str, messages: &[Message], more: bool, view: &View<'_>) -> Vec<String> {
        let query = sanitize::line(query);
        let heading = match messages.len() {
            0 => format!("nothing found for {query:?}"),
            1 => format!("1 message found for {query:?}, newest first:"),
            n if more => format!("the newest {n} messages found for {query:?}:"),
            n => format!("{n} messages found for {query:?}, newest first:"),
        };
        // Every result names its conversation, the current one included.
        let everywhere = View { current_room: None, time: TimeStyle::Full, ..*view };
        std::iter::once(self.notice(&heading)).chain(messages.iter().map(|m| self.message(m, &everywhere))).collect()
    }

    /// `/modlog`: newest first.
    pub(crate) fn moderation_log(&self, entries: &[ModerationEntry]) -> Vec<String> {
        if entries.is_empty() {
            return vec![self.notice("the moderation log is empty")];
        }
        entries
            .iter()
            .map(|entry| {
                let mut line = format!(
                    "{} {} {}",
                    self.dim(&clock(entry.timestamp, TimeStyle::Full, Local::now())),
                    sanitize::line(entry.actor.as_str()),
                    entry.action.as_str()
                );
                if let Some(target) = &entry.target {
                    line.push_str(&format!(" {}", sanitize::line(target.as_str())));
                }
                if let Some(room) = &entry.room_id {
                    line.push_str(&format!(" in #{}", sanitize::line(room.as_str())));
                }
                if let Some(reason) = entry.reason.as_deref().filter(|r| !r.trim().is_empty()) {
                    line.push_str(&format!(": {}", sanitize::line(reason)));
                }
                if let Some(until) = entry.until {
                    line.push_str(&format!(" (until {})", clock(until, TimeStyle::Full, Local::now())));
                }
                line
            })
            .collect()
    }
}
