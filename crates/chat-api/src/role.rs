//! The three roles. Each includes the powers of the ones below it.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A user's role: `admin` ⊃ `moderator` ⊃ `user`.
///
/// The derived order follows rank, so `role >= Role::Moderator` reads as
/// "at least a moderator".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary member.
    User,
    /// May kick, ban and unban users (not moderators or admins).
    Moderator,
    /// May also broadcast announcements and delete rooms.
    Admin,
}

impl Role {
    /// The wire spelling: `"user"`, `"moderator"` or `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of `user`, `moderator`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected user, moderator or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rank() {
        assert!(Role::Admin > Role::Moderator);
        assert!(Role::Moderator > Role::User);
    }

    #[test]
    fn roles_round_trip_through_their_wire_names() {
        for role in [Role::User, Role::Moderator, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
