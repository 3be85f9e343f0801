//! What a line typed in the chat means: a message, or a slash command with
//! its arguments already parsed into the contract's types.

use std::time::Duration;

use chat_api::{DisplayName, MessageText, Reason, RoomId, RoomName, UserName, notifications::AnnouncementLevel};

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
    Kick { user: UserName, reason: Reason },
    Ban { user: UserName, duration: Option<Duration>, reason: Reason },
    Unban(UserName),
    Announce { level: AnnouncementLevel, text: MessageText },
    DeleteRoom(RoomId),
    Login,
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
];

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
mod tests {
    use super::*;

    fn command(line: &str) -> Command {
        match parse(line) {
            Ok(Line::Command(command)) => command,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn error(line: &str) -> SlashError {
        parse(line).expect_err(line)
    }

    #[test]
    fn plain_text_is_a_message_and_blank_is_nothing() {
        assert_eq!(parse("hello /world").unwrap(), Line::Message("hello /world".into()));
        assert_eq!(parse("   ").unwrap(), Line::Empty);
        assert_eq!(parse("//join is a command").unwrap(), Line::Message("/join is a command".into()));
    }

    #[test]
    fn room_commands_take_room_names_with_or_without_hash() {
        assert_eq!(command("/join #Rust"), Command::Join(RoomName::parse("Rust").unwrap()));
        assert_eq!(command("/switch general"), Command::Switch(RoomName::parse("general").unwrap()));
        assert_eq!(command("/leave"), Command::Leave(None));
        assert!(matches!(error("/join"), SlashError::Usage { .. }));
        assert!(matches!(error("/join two words"), SlashError::Usage { .. }));
        assert!(matches!(error("/join ../etc"), SlashError::Usage { .. }));
    }

    #[test]
    fn history_takes_an_optional_bounded_count() {
        assert_eq!(command("/history"), Command::History(DEFAULT_HISTORY));
        assert_eq!(command("/history 5"), Command::History(5));
        assert!(matches!(error("/history 0"), SlashError::Usage { .. }));
        assert!(matches!(error("/history lots"), SlashError::Usage { .. }));
    }

    #[test]
    fn kick_and_ban_split_user_duration_and_reason() {
        assert_eq!(
            command("/kick bob spamming the room"),
            Command::Kick {
                user: UserName::parse("bob").unwrap(),
                reason: Reason::parse("spamming the room").unwrap()
            }
        );
        assert_eq!(
            command("/kick @bob"),
            Command::Kick { user: UserName::parse("bob").unwrap(), reason: Reason::default() }
        );
        assert_eq!(
            command("/ban bob 2h flooding"),
            Command::Ban {
                user: UserName::parse("bob").unwrap(),
                duration: Some(Duration::from_secs(7200)),
                reason: Reason::parse("flooding").unwrap()
            }
        );
        assert_eq!(
            command("/ban bob permanent being rude"),
            Command::Ban {
                user: UserName::parse("bob").unwrap(),
                duration: None,
                reason: Reason::parse("being rude").unwrap()
            }
        );
        assert_eq!(
            command("/ban bob forever"),
            Command::Ban { user: UserName::parse("bob").unwrap(), duration: None, reason: Reason::default() }
        );
        assert!(matches!(error("/ban"), SlashError::Usage { usage: BAN_USAGE, .. }));
        // A reason where the length belongs is not a permanent ban.
        assert!(matches!(error("/ban bob being rude"), SlashError::Usage { usage: BAN_USAGE, .. }));
        assert!(matches!(error("/ban bob"), SlashError::Usage { usage: BAN_USAGE, .. }));
    }

    #[test]
    fn ban_lengths_need_a_unit() {
        assert_eq!(parse_duration("30s"), Ok(Some(Duration::from_secs(30))));
        assert_eq!(parse_duration("10m"), Ok(Some(Duration::from_secs(600))));
        assert_eq!(parse_duration("2h"), Ok(Some(Duration::from_secs(7200))));
        assert_eq!(parse_duration("7d"), Ok(Some(Duration::from_secs(604_800))));
        assert_eq!(parse_duration("1w"), Ok(Some(Duration::from_secs(604_800))));
        assert_eq!(parse_duration("permanent"), Ok(None));
        assert_eq!(parse_duration("Permanent"), Ok(None));
        // A bare number is refused with the fix in the message.
        let bare = parse_duration("5").unwrap_err();
        assert!(bare.contains("5m") && bare.contains("permanent"), "{bare}");
        for bad in ["", "0m", "0", "10x", "spam", "m", "99999999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        let shown = error("/ban carol 5");
        assert!(shown.to_string().contains("unit") && shown.hint().contains(BAN_USAGE), "{shown} {}", shown.hint());
    }

    #[test]
    fn announce_defaults_to_info() {
        assert_eq!(
            command("/announce warning restart at 5"),
            Command::Announce { level: AnnouncementLevel::Warning, text: MessageText::parse("restart at 5").unwrap() }
        );
        assert_eq!(
            command("/announce hello all"),
            Command::Announce { level: AnnouncementLevel::Info, text: MessageText::parse("hello all").unwrap() }
        );
        assert!(matches!(error("/announce error"), SlashError::Usage { .. }));
    }

    #[test]
    fn profile_nick_me_and_delete_room() {
        assert_eq!(command("/profile"), Command::Profile(None));
        assert_eq!(command("/profile alice"), Command::Profile(Some(UserName::parse("alice").unwrap())));
        assert_eq!(command("/nick  Bob the Builder "), Command::Nick(DisplayName::parse("Bob the Builder").unwrap()));
        assert_eq!(command("/me waves"), Command::Me("waves".into()));
        assert_eq!(command("/delete-room #Old"), Command::DeleteRoom(RoomId::parse("old").unwrap()));
        assert!(matches!(error("/nick"), SlashError::Usage { .. }));
    }

    #[test]
    fn unknown_commands_get_a_hint() {
        let typo = error("/jion general");
        assert_eq!(typo, SlashError::Unknown { name: "jion".into(), suggestion: Some("join") });
        assert!(typo.hint().contains("/join"));
        let nonsense = error("/xyzzy");
        assert!(matches!(nonsense, SlashError::Unknown { suggestion: None, .. }));
        assert!(nonsense.hint().contains("/help"));
    }

    #[test]
    fn command_names_ignore_case() {
        assert_eq!(command("/QUIT"), Command::Quit);
        assert_eq!(command("/Rooms"), Command::Rooms);
    }
}
