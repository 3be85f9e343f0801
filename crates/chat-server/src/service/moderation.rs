//! Kicks, bans, announcements, roles and the moderation log.

use chat_api::{
    CloseCode, MessageText, Reason, Role, ServerEvent, Timestamp, UserName,
    notifications::{Announcement, AnnouncementLevel},
    rpc::{DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT, ModerationLogResult},
};

use super::{ChatService, ServiceError};
use crate::{
    domain::{
        ban,
        permissions::{self, Action, Party},
    },
    hub::{Connection, Eviction, EvictionNotice, Frame},
    store::{AuditAction, AuditEntry, BanRecord, UserRecord},
};

impl ChatService {
    /// Loads the actor and target and checks the role rules.
    async fn moderation_parties(
        &self,
        conn: &Connection,
        action: Action,
        target: &UserName,
    ) -> Result<(UserRecord, UserRecord), ServiceError> {
        let actor = self.current_account(conn).await?;
        permissions::may(actor.role, action).map_err(|d| ServiceError::Forbidden(d.to_string()))?;
        let _turn = self.reads.enter(conn.user_id()).await;
        let target = self.store.user_by_name(target).await?.ok_or_else(|| ServiceError::user_not_found(target))?;
        permissions::may_act_on(
            Party { id: actor.id, role: actor.role },
            action,
            Party { id: target.id, role: target.role },
        )
        .map_err(|d| ServiceError::Forbidden(d.to_string()))?;
        Ok((actor, target))
    }

    /// `kick_user`: true if any connection was kicked.
    pub(crate) async fn kick(&self, conn: &Connection, target: UserName, reason: Reason) -> Result<bool, ServiceError> {
        let (actor, target) = self.moderation_parties(conn, Action::Kick, &target).await?;
        self.store
            .audit(AuditEntry {
                actor_id: actor.id,
                actor: actor.username,
                action: AuditAction::Kick,
                target: target.username.to_string(),
                reason: Some(reason.to_string()),
                detail: None,
                room_id: None,
                until: None,
            })
            .await?;
        let close_reason = close_text("kicked", &reason);
        Ok(self
            .hub
            .evict(&Eviction {
                user: target.id,
                notice: EvictionNotice::Kicked { username: target.username.clone(), reason },
                code: CloseCode::Kicked.code(),
                reason: close_reason,
            })
            .await)
    }

    /// `ban_user`: stores the ban, then disconnects the user with 4003.
    pub(crate) async fn ban(
        &self,
        conn: &Connection,
        target: UserName,
        reason: Reason,
        duration_seconds: Option<u64>,
    ) -> Result<bool, ServiceError> {
        let (actor, target) = self.moderation_parties(conn, Action::Ban, &target).await?;
        let expires_at = ban::expiry(Timestamp::now(), duration_seconds).map_err(ServiceError::Invalid)?;
        let record = BanRecord { reason: reason.to_string(), expires_at };
        let record_for_notice = record.clone();
        let entry = AuditEntry {
            actor_id: actor.id,
            actor: actor.username,
            action: AuditAction::Ban,
            target: target.username.to_string(),
            reason: Some(reason.to_string()),
            detail: Some(ban::describe(&record)),
            room_id: None,
            until: expires_at,
        };
        self.store.ban(target.id, record, entry).await?;
        self.hub.note_ban(target.id, expires_at);
        let close_reason = close_text("banned", &reason);
        // The contract has no ban notification; text clients get a line.
        self.hub
            .evict(&Eviction {
                user: target.id,
                notice: EvictionNotice::Banned { line: ban_notice(&record_for_notice), until: expires_at },
                code: CloseCode::Banned.code(),
                reason: close_reason,
            })
            .await;
        Ok(true)
    }

    /// `unban_user`: true also when there was no ban.
    pub(crate) async fn unban(&self, conn: &Connection, target: UserName) -> Result<bool, ServiceError> {
        let (actor, target) = self.moderation_parties(conn, Action::Unban, &target).await?;
        let entry = AuditEntry {
            actor_id: actor.id,
            actor: actor.username,
            action: AuditAction::Unban,
            target: target.username.to_string(),
            reason: None,
            detail: None,
            room_id: None,
            until: None,
        };
        self.store.unban(target.id, entry).await?;
        self.hub.lift_ban(target.id);
        Ok(true)
    }

    /// `broadcast_announcement` (admins).
    pub(crate) async fn announce(
        &self,
        conn: &Connection,
        message: MessageText,
        level: AnnouncementLevel,
    ) -> Result<(), ServiceError> {
        let actor = self.current_account(conn).await?;
        permissions::may(actor.role, Action::Announce).map_err(|d| ServiceError::Forbidden(d.to_string()))?;
        let max = self.settings.max_message_length;
        if message.char_len() > max {
            return Err(ServiceError::Invalid(format!("message must be at most {max} characters")));
        }
        self.store
            .audit(AuditEntry {
                actor_id: actor.id,
                actor: actor.username,
                action: AuditAction::Announce,
                target: "*".to_owned(),
                reason: None,
                detail: Some(message.to_string()),
                room_id: None,
                until: None,
            })
            .await?;
        let event = ServerEvent::SystemAnnouncement(Announcement {
            message: message.to_string(),
            level,
            timestamp: Timestamp::now(),
        });
        self.hub.broadcast(&Frame::event(&event));
        Ok(())
    }
}

impl ChatService {
    /// `set_role` (admins; not on themselves). The account's connections
    /// act with the new role from their next call: every privileged call
    /// reads the role afresh.
    pub(crate) async fn set_role(&self, conn: &Connection, target: UserName, role: Role) -> Result<(), ServiceError> {
        let (actor, target) = self.moderation_parties(conn, Action::SetRole, &target).await?;
        if !self.store.set_role(&target.username, role).await? {
            return Err(ServiceError::user_not_found(&target.username));
        }
        self.store
            .audit(AuditEntry {
                actor_id: actor.id,
                actor: actor.username,
                action: AuditAction::SetRole,
                target: target.username.to_string(),
                reason: None,
                detail: Some(role.as_str().to_owned()),
                room_id: None,
                until: None,
            })
            .await?;
        Ok(())
    }

    /// `get_moderation_log` (moderators): newest first.
    pub(crate) async fn moderation_log(
        &self,
        conn: &Connection,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<ModerationLogResult, ServiceError> {
        let actor = self.current_account(conn).await?;
        permissions::may(actor.role, Action::ReadModerationLog).map_err(|d| ServiceError::Forbidden(d.to_string()))?;
        let limit = limit.unwrap_or(DEFAULT_LOG_LIMIT);
        if !(1..=MAX_LOG_LIMIT).contains(&limit) {
            return Err(ServiceError::Invalid(format!("limit must be between 1 and {MAX_LOG_LIMIT}")));
        }
        let _turn = self.reads.enter(conn.user_id()).await;
        let (entries, has_more) = self.store.moderation_log(before, limit).await?;
        Ok(ModerationLogResult { entries, has_more })
    }
}

/// The line a banned text client reads before its connection closes.
fn ban_notice(ban: &BanRecord) -> String {
    let until = match ban.expires_at {
        Some(until) => format!("until {until}"),
        None => "permanently".to_owned(),
    };
    if ban.reason.is_empty() {
        format!("You have been banned {until}")
    } else {
        format!("You have been banned {until}: {}", ban.reason)
    }
}

/// A close frame's reason: "kicked: spam", cut to fit the 123-byte limit
/// of a WebSocket close frame on a character boundary.
fn close_text(what: &str, reason: &Reason) -> String {
    let mut text = if reason.as_str().is_empty() { what.to_owned() } else { format!("{what}: {reason}") };
    if text.len() > 123 {
        let mut end = 123;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let long = Reason::parse(&"é".repeat(200)).unwrap();
        let text = close_text("kicked", &long);
        assert!(text.len() <= 123);
        assert!(text.starts_with("kicked: é"));
        assert_eq!(close_text("banned", &Reason::default()), "banned");
    }
}
