//! Shapes carried inside results and notifications.

use serde::{Deserialize, Serialize};

use crate::{DisplayName, Emoji, MessageId, MessageText, Role, RoomId, RoomName, RoomTopic, Timestamp, UserName};

/// A stored chat message.
///
/// The fields after `timestamp` came with version 2 of the contract. They
/// are left out of the frame when empty, so a message nobody replied to,
/// edited, reacted to or mentioned anyone in looks exactly as in version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Server-wide, strictly increasing id.
    pub message_id: MessageId,
    /// The room it was sent to.
    pub room_id: RoomId,
    /// Who sent it.
    pub username: UserName,
    /// What they wrote.
    pub text: MessageText,
    /// When the server accepted it.
    pub timestamp: Timestamp,
    /// The message this one answers, in the same room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// When the author last edited it; `text` is the edited text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    /// Reactions, in the order each emoji was first used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Registered users the text mentions with `@username`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserName>,
}

impl Message {
    /// A message with none of the version-2 decorations.
    pub fn plain(
        message_id: MessageId,
        room_id: RoomId,
        username: UserName,
        text: MessageText,
        timestamp: Timestamp,
    ) -> Self {
        Self {
            message_id,
            room_id,
            username,
            text,
            timestamp,
            reply_to: None,
            edited_at: None,
            reactions: Vec::new(),
            mentions: Vec::new(),
        }
    }
}

/// One emoji's reactions to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The emoji (or short word).
    pub emoji: Emoji,
    /// How many users reacted with it.
    pub count: usize,
    /// Who, in the order they reacted.
    pub usernames: Vec<UserName>,
}

/// A room as listed by `list_rooms` and `room_created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// Canonical (lower-case) id.
    pub room_id: RoomId,
    /// The spelling of the first join.
    pub room_name: RoomName,
    /// How many distinct users are in the room now.
    pub user_count: usize,
    /// What the room is about; absent (or null) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<RoomTopic>,
}

/// A user's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The account's username.
    pub username: UserName,
    /// The name shown beside it; defaults to the username.
    pub display_name: DisplayName,
    /// The account's current role.
    pub role: Role,
    /// The user's cat.
    pub avatar: Avatar,
    /// When the account was registered.
    pub created_at: Timestamp,
    /// When the user was last connected (now, while they are).
    pub last_seen: Timestamp,
}

/// A cat avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Avatar {
    /// The cat's breed.
    pub breed: Breed,
    /// Its coat.
    pub color: CatColor,
    /// Its mood.
    pub expression: Expression,
}

macro_rules! cat_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                #[serde(rename = $wire)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in a fixed order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown {} {s:?}; one of: {}", stringify!($name), known.join(", "))
                    })
            }
        }
    };
}

cat_enum! {
    /// The breed of a cat avatar.
    Breed {
        Tabby => "tabby",
        Siamese => "siamese",
        MaineCoon => "maine_coon",
        Persian => "persian",
        BritishShorthair => "british_shorthair",
        Bengal => "bengal",
        Ragdoll => "ragdoll",
        Sphynx => "sphynx",
    }
}

cat_enum! {
    /// The coat color of a cat avatar.
    CatColor {
        Orange => "orange",
        Black => "black",
        White => "white",
        Grey => "grey",
        Calico => "calico",
        Tortoiseshell => "tortoiseshell",
        Cream => "cream",
        Brown => "brown",
    }
}

cat_enum! {
    /// The expression of a cat avatar.
    Expression {
        Happy => "happy",
        Sleepy => "sleepy",
        Grumpy => "grumpy",
        Curious => "curious",
        Playful => "playful",
        Surprised => "surprised",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_uses_snake_case_wire_names() {
        let avatar = Avatar { breed: Breed::MaineCoon, color: CatColor::Orange, expression: Expression::Sleepy };
        let json = serde_json::to_value(avatar).unwrap();
        assert_eq!(json, serde_json::json!({"breed": "maine_coon", "color": "orange", "expression": "sleepy"}));
        assert_eq!("maine_coon".parse::<Breed>(), Ok(Breed::MaineCoon));
        assert!("dog".parse::<Breed>().is_err());
    }
}
