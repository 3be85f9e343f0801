//! Who may do what to whom.

use chat_api::{Role, UserId};

/// A privileged action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Disconnect a user.
    Kick,
    /// Ban a user.
    Ban,
    /// Lift a ban.
    Unban,
    /// Send a system announcement to everyone.
    Announce,
    /// Delete a room.
    DeleteRoom,
    /// Delete another user's message in a room.
    DeleteMessage,
    /// Set the topic of a room one did not create.
    SetTopic,
    /// Read the moderation log.
    ReadModerationLog,
    /// Change a user's role.
    SetRole,
}

impl Action {
    /// The lowest role allowed to take the action at all.
    pub(crate) fn required_role(self) -> Role {
        match self {
            Action::Kick
            | Action::Ban
            | Action::Unban
            | Action::DeleteMessage
            | Action::SetTopic
            | Action::ReadModerationLog => Role::Moderator,
            Action::Announce | Action::DeleteRoom | Action::SetRole => Role::Admin,
        }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Denied {
    /// The actor's role is below the action's requirement.
    #[error("requires the {0} role")]
    RoleTooLow(Role),
    /// A moderator acting on a moderator or admin.
    #[error("moderators cannot act on moderators or admins")]
    TargetOutranks,
    /// Acting on oneself.
    #[error("you cannot do that to yourself")]
    SelfTarget,
}

/// The acting or targeted account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Party {
    /// Account id.
    pub id: UserId,
    /// Role now.
    pub role: Role,
}

/// Whether `actor` may take an action that has no target user.
pub(crate) fn may(actor: Role, action: Action) -> Result<(), Denied> {
    let required = action.required_role();
    if actor < required {
        return Err(Denied::RoleTooLow(required));
    }
    Ok(())
}

/// Whether `actor` may take `action` against `target`. Nobody acts on
/// themselves; a moderator may act only on plain users; an admin on anyone
/// else.
pub(crate) fn may_act_on(actor: Party, action: Action, target: Party) -> Result<(), Denied> {
    may(actor.role, action)?;
    if actor.id == target.id {
        return Err(Denied::SelfTarget);
    }
    if actor.role == Role::Moderator && target.role >= Role::Moderator {
        return Err(Denied::TargetOutranks);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: UserId = UserId(1);
    const OTHER: UserId = UserId(2);

    fn party(id: UserId, role: Role) -> Party {
        Party { id, role }
    }

    #[test]
    fn moderation_rules_as_a_table() {
        use Role::{Admin as A, Moderator as M, User as U};
        // (actor, target, same person, allowed?)
        let table: &[(Role, Role, bool, Result<(), Denied>)] = &[
            (U, U, false, Err(Denied::RoleTooLow(M))),
            (U, M, false, Err(Denied::RoleTooLow(M))),
            (U, A, false, Err(Denied::RoleTooLow(M))),
            (M, U, false, Ok(())),
            (M, M, false, Err(Denied::TargetOutranks)),
            (M, A, false, Err(Denied::TargetOutranks)),
            (A, U, false, Ok(())),
            (A, M, false, Ok(())),
            (A, A, false, Ok(())),
            (M, M, true, Err(Denied::SelfTarget)),
            (A, A, true, Err(Denied::SelfTarget)),
            (U, U, true, Err(Denied::RoleTooLow(M))),
        ];
        for action in [Action::Kick, Action::Ban, Action::Unban] {
            for (actor, target, same, expected) in table {
                let target_id = if *same { ME } else { OTHER };
                let got = may_act_on(party(ME, *actor), action, party(target_id, *target));
                assert_eq!(got, *expected, "{actor} {action:?} {target} (self: {same})");
            }
        }
    }

    #[test]
    fn admin_only_actions() {
        for action in [Action::Announce, Action::DeleteRoom] {
            assert_eq!(may(Role::User, action), Err(Denied::RoleTooLow(Role::Admin)));
            assert_eq!(may(Role::Moderator, action), Err(Denied::RoleTooLow(Role::Admin)));
            assert_eq!(may(Role::Admin, action), Ok(()));
        }
    }
}
