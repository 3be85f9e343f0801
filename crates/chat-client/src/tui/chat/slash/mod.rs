//! What a line typed in the chat means: a message, or a slash command with
//! its arguments already parsed into the contract's types.

use std::time::Duration;

use chat_api::{
    DisplayName, Emoji, MessageId, MessageText, Reason, Role, RoomId, RoomName, RoomTopic, SearchQuery, UserName,
    notifications::AnnouncementLevel,
};

mod messages;

/// The largest `/history` that is fetched.
pub(crate) const MAX_HISTORY: usize = 1000;
/// `/history` without a count.
pub(crate) const DEFAULT_HISTORY: usize = 20;

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// Nothing to do.
    Empty,
    /// A message for the current room (`//text` sends `/text`).
    Message(String),
    /// A slash command.
    Command(Command),
}

/// The slash commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Quit,
    Rooms,
    Join(RoomName),
    Switch(RoomName),
    Leave(Option<RoomName>),
    Who,
    History(usize),
    Me(String),
    Profile(Option<UserName>),
    Nick(DisplayName),
    Kick {
        user: UserName,
        reason: Reason,
    },
    Ban {
        user: UserName,
        duration: Option<Duration>,
        reason: Reason,
    },
    Unban(UserName),
    Announce {
        level: AnnouncementLevel,
        text: MessageText,
    },
    DeleteRoom(RoomId),
    Login,
    /// `/msg <user> <text>`: a direct message, without switching to it.
    Msg {
        user: UserName,
        text: MessageText,
    },
    /// `/dm <user>`: talk in the direct conversation with a user.
    Dm(UserName),
    /// `/dms`: the direct conversations, with unread counts.
    Dms,
    Reply {
        to: MessageId,
        text: MessageText,
    },
    /// `None`: the user's own last message in the current conversation.
    Edit {
        message: Option<MessageId>,
        text: MessageText,
    },
    Delete(Option<MessageId>),
    React {
        message: MessageId,
        emoji: Emoji,
    },
    Unreact {
        message: MessageId,
        emoji: Emoji,
    },
    Search(SearchQuery),
    /// `None` shows the topic; an empty topic clears it.
    Topic(Option<RoomTopic>),
    Block(UserName),
    Unblock(UserName),
    Blocked,
    Role {
        user: UserName,
        role: Role,
    },
    ModLog(usize),
}

/// Why a line could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SlashError {
    /// `/something` that is not a command.
    #[error("unknown command /{name}")]
    Unknown {
        /// What was typed after the slash.
        name: String,
        /// The closest command, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A known command with wrong arguments.
    #[error("{problem}")]
    Usage {
        /// How to call it.
        usage: &'static str,
        /// What was wrong.
        problem: String,
    },
}

impl SlashError {
    /// A hint to print after the error.
    pub(crate) fn hint(&self) -> String {
        match self {
            SlashError::Unknown { suggestion: Some(name), .. } => {
                format!(
                    "did you mean /{name}? /help lists every command; start with // to send a line beginning with /"
                )
            }
            SlashError::Unknown { suggestion: None, .. } => {
                "/help lists every command; start with // to send a line beginning with /".to_owned()
            }
            SlashError::Usage { usage, .. } => format!("usage: {usage}"),
        }
    }
}

const COMMANDS: &[&str] = &[
    "help",
    "quit",
    "exit",
    "rooms",
    "join",
    "switch",
    "leave",
    "who",
    "history",
    "me",
    "profile",
    "nick",
    "kick",
    "ban",
    "unban",
    "announce",
    "delete-room",
    "login",
    "msg",
    "dm",
    "dms",
    "reply",
    "edit",
    "delete",
    "react",
    "unreact",
    "search",
    "topic",
    "block",
    "unblock",
    "blocked",
    "role",
    "modlog",
];

/// Every command name, for completion.
pub(crate) fn command_names() -> &'static [&'static str] {
    COMMANDS
}

/// Parses one input line.
pub(crate) fn parse(input: &str) -> Result<Line, SlashError> {
    let trimmed = input.trim_end_matches(['\r', '\n']);
    if trimmed.trim().is_empty() {
        return Ok(Line::Empty);
    }
    if let Some(escaped) = trimmed.strip_prefix("//") {
        return Ok(Line::Message(format!("/{escaped}")));
    }
    let Some(body) = trimmed.strip_prefix('/') else {
        return Ok(Line::Message(trimmed.to_owned()));
    };
    let (name, rest) = match body.split_once(char::is_whitespace) {
        Some((name, rest)) => (name, rest.trim()),
        None => (body, ""),
    };
    let command = match name.to_ascii_lowercase().as_str() {
        "help" | "?" => Command::Help,
        "quit" | "exit" | "q" => Command::Quit,
        "rooms" | "list" => Command::Rooms,
        "who" | "users" => Command::Who,
        "login" => Command::Login,
        "join" | "j" => Command::Join(room_name(rest, "/join <room>")?),
        "switch" | "s" => Command::Switch(room_name(rest, "/switch <room>")?),
        "leave" | "part" => {
            Command::Leave(if rest.is_empty() { None } else { Some(room_name(rest, "/leave [room]")?) })
        }
        "history" => Command::History(history_count(rest)?),
        "me" => {
            if rest.is_empty() {
                return Err(usage("/me <action>", "say what you do"));
            }
            Command::Me(rest.to_owned())
        }
        "profile" | "whois" => {
            Command::Profile(if rest.is_empty() { None } else { Some(user_name(rest, "/profile [user]")?) })
        }
        "nick" => Command::Nick(DisplayName::parse(rest).map_err(|e| usage("/nick <display name>", e))?),
        "kick" => {
            let (user, rest) = first_word(rest);
            let user = user_name(user, "/kick <user> [reason]")?;
            let reason = Reason::parse(rest).map_err(|e| usage("/kick <user> [reason]", e))?;
            Command::Kick { user, reason }
        }
        "ban" => {
            let (user, rest) = first_word(rest);
            let user = user_name(user, BAN_USAGE)?;
            let (duration, reason) = first_word(rest);
            let duration = parse_duration(duration).map_err(|problem| usage(BAN_USAGE, problem))?;
            let reason = Reason::parse(reason).map_err(|e| usage(BAN_USAGE, e))?;
            Command::Ban { user, duration, reason }
        }
        "unban" => Command::Unban(user_name(rest, "/unban <user>")?),
        "announce" => {
            const USAGE: &str = "/announce [info|warning|error] <text>";
            let (first, after) = first_word(rest);
            let (level, text) = match first.parse::<AnnouncementLevel>() {
                Ok(level) => (level, after),
                Err(_) => (AnnouncementLevel::Info, rest),
            };
            let text = MessageText::parse(text).map_err(|e| usage(USAGE, e))?;
            Command::Announce { level, text }
        }
        "delete-room" | "deleteroom" => {
            let room = RoomId::parse(rest.trim_start_matches('#')).map_err(|e| usage("/delete-room <room>", e))?;
            Command::DeleteRoom(room)
        }
        "msg" | "tell" => {
            let (user, text) = first_word(rest);
            let user = user_name(user, messages::MSG_USAGE)?;
            Command::Msg { user, text: messages::text(text, messages::MSG_USAGE)? }
        }
        "dm" | "query" => Command::Dm(user_name(rest, "/dm <user>")?),
        "dms" | "directs" => Command::Dms,
        "reply" | "re" => messages::reply(rest)?,
        "edit" => messages::edit(rest)?,
        "delete" | "del" => messages::delete(rest)?,
        "react" => {
            let (message, emoji) = messages::reaction(rest, messages::REACT_USAGE)?;
            Command::React { message, emoji }
        }
        "unreact" => {
            let (message, emoji) = messages::reaction(rest, messages::UNREACT_USAGE)?;
            Command::Unreact { message, emoji }
        }
        "search" | "find" => Command::Search(SearchQuery::parse(rest).map_err(|e| usage("/search <words>", e))?),
        "topic" => messages::topic(rest)?,
        "block" => Command::Block(user_name(rest, "/block <user>")?),
        "unblock" => Command::Unblock(user_name(rest, "/unblock <user>")?),
        "blocked" => Command::Blocked,
        "role" => {
            const USAGE: &str = "/role <user> <user|moderator|admin>";
            let (user, role) = first_word(rest);
            let user = user_name(user, USAGE)?;
            let role = role.parse::<Role>().map_err(|e| usage(USAGE, e))?;
            Command::Role { user, role }
        }
        "modlog" => Command::ModLog(messages::log_count(rest)?),
        _ => {
            return Err(SlashError::Unknown { name: name.to_owned(), suggestion: closest(name) });
        }
    };
    Ok(Line::Command(command))
}

fn usage(usage: &'static str, problem: impl ToString) -> SlashError {
    SlashError::Usage { usage, problem: problem.to_string() }
}

fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

fn room_name(text: &str, usage_text: &'static str) -> Result<RoomName, SlashError> {
    let text = text.trim().trim_start_matches('#');
    if text.is_empty() {
        return Err(usage(usage_text, "which room?"));
    }
    if text.contains(char::is_whitespace) {
        return Err(usage(usage_text, "room names have no spaces"));
    }
    RoomName::parse(text).map_err(|e| usage(usage_text, e))
}

fn user_name(text: &str, usage_text: &'static str) -> Result<UserName, SlashError> {
    let text = text.trim().trim_start_matches('@');
    if text.is_empty() {
        return Err(usage(usage_text, "which user?"));
    }
    UserName::parse(text).map_err(|e| usage(usage_text, e))
}

fn history_count(text: &str) -> Result<usize, SlashError> {
    if text.is_empty() {
        return Ok(DEFAULT_HISTORY);
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_HISTORY).contains(&n) => Ok(n),
        _ => Err(usage("/history [n]", format!("n must be a number from 1 to {MAX_HISTORY}"))),
    }
}

const BAN_USAGE: &str = "/ban <user> <duration|permanent> [reason]";

/// A ban's length: `30s`, `10m`, `2h`, `7d`, `1w`, or `permanent` (`None`).
/// The unit is required: `/ban bob 5` could mean anything, and a ban that
/// is 300 times shorter (or longer) than meant is not a detail. A missing
/// length is refused too, so a reason is never mistaken for one and no ban
/// is permanent by accident.
pub(crate) fn parse_duration(text: &str) -> Result<Option<Duration>, String> {
    const UNITS: &str = "give a length with a unit (30s, 10m, 2h, 7d, 1w) or `permanent`";
    if text.is_empty() {
        return Err(format!("how long? {UNITS}"));
    }
    if matches!(text.to_ascii_lowercase().as_str(), "permanent" | "permanently" | "forever" | "perm") {
        return Ok(None);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!("{text:?} is not a length; {UNITS}"));
    }
    if unit.is_empty() {
        return Err(format!("{text} what? {UNITS}, e.g. {text}m"));
    }
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("unknown unit {unit:?}; {UNITS}")),
    };
    match digits.parse::<u64>().ok().and_then(|amount| amount.checked_mul(seconds_per)) {
        Some(0) => Err(format!("a ban of {text} would end at once; {UNITS}")),
        Some(seconds) => Ok(Some(Duration::from_secs(seconds))),
        None => Err(format!("{text} is too long; use `permanent`")),
    }
}

/// The command whose name is within two edits of `typed`, if any.
fn closest(typed: &str) -> Option<&'static str> {
    let typed = typed.to_ascii_lowercase();
    COMMANDS
        .iter()
        .map(|name| (edit_distance(&typed, name), *name))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
