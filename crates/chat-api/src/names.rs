//! Validated names and texts.
//!
//! Each type has a private field and a `parse` constructor; deserializing
//! runs the same check, so a JSON-RPC call with a bad name fails with
//! "invalid params" before any handler sees it. The limits here are hard
//! upper bounds of the protocol; a server may configure tighter ones
//! (`chat.max_message_length`, `chat.max_room_name_length`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name or text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing left after trimming.
    #[error("{what} must not be empty")]
    Empty {
        /// What was being parsed ("username", "room name", ...).
        what: &'static str,
    },
    /// Fewer characters than allowed.
    #[error("{what} must be at least {min} characters")]
    TooShort {
        /// What was being parsed.
        what: &'static str,
        /// The minimum, in characters.
        min: usize,
    },
    /// More characters than allowed.
    #[error("{what} must be at most {max} characters")]
    TooLong {
        /// What was being parsed.
        what: &'static str,
        /// The maximum, in characters.
        max: usize,
    },
    /// A character outside the allowed set.
    #[error("{what} contains {found:?}; {allowed}")]
    BadCharacter {
        /// What was being parsed.
        what: &'static str,
        /// The first offending character.
        found: char,
        /// A description of what is allowed.
        allowed: &'static str,
    },
}

const NAME_CHARS: &str = "use letters a-z, digits, '-' and '_'";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn check_name(what: &'static str, text: &str, min: usize, max: usize) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty { what });
    }
    if let Some(found) = text.chars().find(|c| !is_name_char(*c)) {
        return Err(NameError::BadCharacter { what, found, allowed: NAME_CHARS });
    }
    // Names are ASCII from here on, so bytes are characters.
    if text.len() < min {
        return Err(NameError::TooShort { what, min });
    }
    if text.len() > max {
        return Err(NameError::TooLong { what, max });
    }
    Ok(())
}

/// Control characters are refused in free text: they can repaint terminals
/// and hide content. Line feeds and tabs are ordinary text.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

macro_rules! string_newtype_impls {
    ($ty:ident) => {
        impl $ty {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = NameError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// A username: 3 to 32 of `a-z A-Z 0-9 - _`. Unique case-insensitively;
/// [`UserName::key`] is the form compared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// Fewest characters in a username.
    pub const MIN_LEN: usize = 3;
    /// Most characters in a username.
    pub const MAX_LEN: usize = 32;

    /// Checks `text` and wraps it. The spelling is kept as given.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_name("username", text, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(text.to_owned()))
    }

    /// The lower-case form used for uniqueness and look-ups.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}
string_newtype_impls!(UserName);

/// A room name as first spelled: 1 to 64 of `a-z A-Z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    /// The protocol's upper bound; servers may configure a lower one.
    pub const MAX_LEN: usize = 64;

    /// Checks `text` and wraps it.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_name("room name", text, 1, Self::MAX_LEN)?;
        Ok(Self(text.to_owned()))
    }

    /// The canonical id of this room (its lower-case form).
    pub fn id(&self) -> RoomId {
        RoomId(self.0.to_ascii_lowercase())
    }

    /// Length in characters (names are ASCII).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a room name has at least one character.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
string_newtype_impls!(RoomName);

/// The canonical id of a room: its name in lower case. Parsing accepts any
/// case and folds it, so `"General"` and `"general"` name the same room.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomId(String);

impl RoomId {
    /// Checks `text` and folds it to lower case. A direct conversation's
    /// id, `dm:<a>:<b>`, is also put in its canonical order (`a` < `b`).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let direct = text.get(..DIRECT_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(DIRECT_PREFIX));
        if let Some(pair) = direct.map(|prefix| &text[prefix.len()..]) {
            let Some((a, b)) = pair.split_once(':') else {
                return Err(NameError::BadCharacter {
                    what: "direct conversation id",
                    found: ':',
                    allowed: "use dm:<username>:<username>",
                });
            };
            let (a, b) = (UserName::parse(a)?, UserName::parse(b)?);
            return Self::direct(&a, &b).ok_or(NameError::BadCharacter {
                what: "direct conversation id",
                found: ':',
                allowed: "name two different users",
            });
        }
        check_name("room id", text, 1, RoomName::MAX_LEN)?;
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The room that always exists.
    pub fn general() -> Self {
        Self("general".to_owned())
    }

    /// The id of the direct conversation between two different users:
    /// `dm:` and both usernames in lower case, sorted. Room names cannot
    /// hold `:`, so it never clashes with a room's.
    pub fn direct(one: &UserName, other: &UserName) -> Option<Self> {
        let (a, b) = (one.key(), other.key());
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self(format!("{DIRECT_PREFIX}{a}:{b}"))),
            std::cmp::Ordering::Greater => Some(Self(format!("{DIRECT_PREFIX}{b}:{a}"))),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// Whether this names a direct conversation rather than a room.
    pub fn is_direct(&self) -> bool {
        self.0.starts_with(DIRECT_PREFIX)
    }

    /// The two participants' username keys (lower case) of a direct
    /// conversation, in id order.
    pub fn direct_keys(&self) -> Option<(&str, &str)> {
        self.0.strip_prefix(DIRECT_PREFIX)?.split_once(':')
    }
}

/// What every direct conversation's id starts with.
pub const DIRECT_PREFIX: &str = "dm:";
string_newtype_impls!(RoomId);

/// The text of a chat message: 1 to 16,384 characters, not only white
/// space, and no control characters other than line feed and tab.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageText(String);

impl MessageText {
    /// The protocol's upper bound in characters; servers configure a lower
    /// one (`chat.max_message_length`).
    pub const MAX_LEN: usize = 16_384;

    /// Checks `text` and wraps it unchanged.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_free_text("message", text, Self::MAX_LEN)?;
        Ok(Self(text.to_owned()))
    }

    /// Length in characters (Unicode scalar values).
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }
}
string_newtype_impls!(MessageText);

/// A display name shown beside a username: 1 to 64 characters, no control
/// characters, not only white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Most characters in a display name.
    pub const MAX_LEN: usize = 64;

    /// Checks `text` and wraps it with surrounding white space removed.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        check_free_text("display name", text, Self::MAX_LEN)?;
        if text.contains(['\n', '\t']) {
            return Err(NameError::BadCharacter {
                what: "display name",
                found: if text.contains('\n') { '\n' } else { '\t' },
                allowed: "use a single line",
            });
        }
        Ok(Self(text.to_owned()))
    }
}
string_newtype_impls!(DisplayName);

fn check_free_text(what: &'static str, text: &str, max: usize) -> Result<(), NameError> {
    if text.trim().is_empty() {
        return Err(NameError::Empty { what });
    }
    if let Some(found) = text.chars().find(|c| is_forbidden_control(*c)) {
        return Err(NameError::BadCharacter {
            what,
            found,
            allowed: "control characters other than line feed and tab are not allowed",
        });
    }
    // Counting stops early so a huge input costs no more than the limit.
    if text.chars().take(max + 1).count() > max {
        return Err(NameError::TooLong { what, max });
    }
    Ok(())
}

/// A reaction: 1 to 32 bytes with no white space or control characters,
/// such as `👍` or `+1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Emoji(String);

impl Emoji {
    /// Most bytes in a reaction.
    pub const MAX_BYTES: usize = 32;

    /// Checks `text` and wraps it unchanged.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        if text.is_empty() {
            return Err(NameError::Empty { what: "emoji" });
        }
        if let Some(found) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(NameError::BadCharacter {
                what: "emoji",
                found,
                allowed: "white space and control characters are not allowed",
            });
        }
        if text.len() > Self::MAX_BYTES {
            return Err(NameError::TooLong { what: "emoji (in bytes)", max: Self::MAX_BYTES });
        }
        Ok(Self(text.to_owned()))
    }
}
string_newtype_impls!(Emoji);

/// A room's topic: 0 to 300 characters on one line, with no control
/// characters. The empty topic clears it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomTopic(String);

impl RoomTopic {
    /// Most characters in a topic.
    pub const MAX_LEN: usize = 300;

    /// Checks `text` and wraps it with surrounding white space removed.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        if let Some(found) = text.chars().find(|c| c.is_control()) {
            return Err(NameError::BadCharacter {
                what: "topic",
                found,
                allowed: "use a single line without control characters",
            });
        }
        if text.chars().take(Self::MAX_LEN + 1).count() > Self::MAX_LEN {
            return Err(NameError::TooLong { what: "topic", max: Self::MAX_LEN });
        }
        Ok(Self(text.to_owned()))
    }

    /// Whether the topic is empty (unset).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
string_newtype_impls!(RoomTopic);

/// What `search_messages` looks for: 1 to 200 characters, not only white
/// space, with no control characters. Words are matched whole or as
/// prefixes; every word must appear.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SearchQuery(String);

impl SearchQuery {
    /// Most characters in a query.
    pub const MAX_LEN: usize = 200;

    /// Checks `text` and wraps it with surrounding white space removed.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        check_free_text("search query", text, Self::MAX_LEN)?;
        Ok(Self(text.to_owned()))
    }
}
string_newtype_impls!(SearchQuery);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_ids_are_canonical_and_never_a_room_name() {
        let alice = UserName::parse("Alice").unwrap();
        let bob = UserName::parse("bob").unwrap();
        let id = RoomId::direct(&bob, &alice).unwrap();
        assert_eq!(id.as_str(), "dm:alice:bob");
        assert!(id.is_direct());
        assert_eq!(id.direct_keys(), Some(("alice", "bob")));
        assert_eq!(RoomId::parse("dm:BOB:alice").unwrap(), id);
        assert_eq!(RoomId::parse("DM:Alice:bob").unwrap(), id);
        assert!(RoomId::parse("dé:a").is_err());
        assert!(RoomId::direct(&alice, &UserName::parse("ALICE").unwrap()).is_none());
        assert!(RoomId::parse("dm:alice:alice").is_err());
        assert!(RoomId::parse("dm:alice").is_err());
        assert!(RoomId::parse("dm:alice:b:c").is_err());
        assert!(RoomName::parse("dm:alice:bob").is_err());
        assert!(!RoomId::general().is_direct());
    }

    #[test]
    fn emoji_are_short_and_have_no_white_space() {
        assert!(Emoji::parse("👍").is_ok());
        assert!(Emoji::parse("+1").is_ok());
        assert!(Emoji::parse("").is_err());
        assert!(Emoji::parse("a b").is_err());
        assert!(Emoji::parse("x\u{7}").is_err());
        assert!(Emoji::parse(&"x".repeat(32)).is_ok());
        assert!(Emoji::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn topics_are_one_short_line_and_may_be_empty() {
        assert!(RoomTopic::parse("").unwrap().is_empty());
        assert_eq!(RoomTopic::parse("  Rust talk ").unwrap().as_str(), "Rust talk");
        assert!(RoomTopic::parse("two\nlines").is_err());
        assert!(RoomTopic::parse(&"t".repeat(300)).is_ok());
        assert!(RoomTopic::parse(&"t".repeat(301)).is_err());
    }

    #[test]
    fn usernames_follow_the_documented_rules() {
        let cases: &[(&str, bool)] = &[
            ("bob", true),
            ("Alice_99", true),
            ("a-b", true),
            ("ab", false),
            ("", false),
            ("has space", false),
            ("ünï", false),
            ("../etc", false),
            ("x\u{1b}[2J", false),
            (&"a".repeat(32), true),
            (&"a".repeat(33), false),
        ];
        for (text, ok) in cases {
            assert_eq!(UserName::parse(text).is_ok(), *ok, "{text:?}");
        }
    }

    #[test]
    fn username_key_is_case_insensitive() {
        let a = UserName::parse("Alice").unwrap();
        let b = UserName::parse("aLiCe").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Alice");
    }

    #[test]
    fn room_names_fold_to_a_lower_case_id() {
        let name = RoomName::parse("Rust-Lang").unwrap();
        assert_eq!(name.id().as_str(), "rust-lang");
        assert_eq!(RoomId::parse("GENERAL").unwrap(), RoomId::general());
        assert!(RoomName::parse("").is_err());
        assert!(RoomName::parse("a/b").is_err());
        assert!(RoomName::parse("..").is_err());
        assert!(RoomName::parse(&"r".repeat(65)).is_err());
    }

    #[test]
    fn message_text_refuses_blank_and_control_characters() {
        assert!(MessageText::parse("hello\nworld\t!").is_ok());
        assert!(MessageText::parse("héllo 👋").is_ok());
        assert_eq!(MessageText::parse("   \n "), Err(NameError::Empty { what: "message" }));
        assert!(MessageText::parse("bell\u{7}").is_err());
        assert!(MessageText::parse("\u{1b}[31mred").is_err());
        assert!(MessageText::parse("c1\u{9b}").is_err());
        assert!(MessageText::parse(&"x".repeat(MessageText::MAX_LEN)).is_ok());
        assert!(MessageText::parse(&"x".repeat(MessageText::MAX_LEN + 1)).is_err());
    }

    #[test]
    fn message_length_counts_characters_not_bytes() {
        let text = "é".repeat(10);
        assert_eq!(MessageText::parse(&text).unwrap().char_len(), 10);
    }

    #[test]
    fn display_names_are_trimmed_single_lines() {
        assert_eq!(DisplayName::parse("  Bob B.  ").unwrap().as_str(), "Bob B.");
        assert!(DisplayName::parse("two\nlines").is_err());
        assert!(DisplayName::parse("").is_err());
    }

    #[test]
    fn deserializing_runs_the_same_checks() {
        let ok: Result<RoomName, _> = serde_json::from_str("\"lobby\"");
        assert!(ok.is_ok());
        let bad: Result<RoomName, _> = serde_json::from_str("\"no spaces\"");
        assert!(bad.is_err());
    }
}

/// A moderator's stated reason for a kick or ban: up to 500 characters, no
/// control characters. May be empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// Most characters in a reason.
    pub const MAX_LEN: usize = 500;

    /// Checks `text` and wraps it with surrounding white space removed.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        if let Some(found) = text.chars().find(|c| c.is_control()) {
            return Err(NameError::BadCharacter {
                what: "reason",
                found,
                allowed: "use a single line without control characters",
            });
        }
        if text.chars().take(Self::MAX_LEN + 1).count() > Self::MAX_LEN {
            return Err(NameError::TooLong { what: "reason", max: Self::MAX_LEN });
        }
        Ok(Self(text.to_owned()))
    }
}
string_newtype_impls!(Reason);
