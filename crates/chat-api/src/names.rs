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
    /// Checks `text` and folds it to lower case.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_name("room id", text, 1, RoomName::MAX_LEN)?;
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The room that always exists.
    pub fn general() -> Self {
        Self("general".to_owned())
    }
}
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

#[cfg(test)]
mod tests {
    use super::*;

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
