//! Bans and the moderation audit log.

use chat_api::{Timestamp, UserId, UserName};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError, UserRecord, now_millis, users::find_user_by_id};

/// An active or expired ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    /// Why.
    pub reason: String,
    /// When it ends; `None` is permanent.
    pub expires_at: Option<Timestamp>,
}

/// What a moderator or admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// `kick_user`
    Kick,
    /// `ban_user`
    Ban,
    /// `unban_user`
    Unban,
    /// `broadcast_announcement`
    Announce,
    /// `delete_room`
    DeleteRoom,
}

impl AuditAction {
    fn as_str(self) -> &'static str {
        match self {
            AuditAction::Kick => "kick",
            AuditAction::Ban => "ban",
            AuditAction::Unban => "unban",
            AuditAction::Announce => "announce",
            AuditAction::DeleteRoom => "delete_room",
        }
    }
}

/// One line of the moderation log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who acted.
    pub actor_id: UserId,
    /// Their username.
    pub actor: UserName,
    /// What they did.
    pub action: AuditAction,
    /// On whom or what (a username or room id).
    pub target: String,
    /// The stated reason, if any.
    pub reason: Option<String>,
    /// Anything else worth keeping (e.g. a ban's duration).
    pub detail: Option<String>,
}

fn find_active_ban(conn: &Connection, user: UserId, now: Timestamp) -> Result<Option<BanRecord>, StoreError> {
    let row = conn
        .prepare_cached("SELECT reason, expires_at FROM bans WHERE user_id = ?1")?
        .query_row([user.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)))
        .optional()?;
    Ok(row.and_then(|(reason, expires)| {
        let ban = BanRecord { reason, expires_at: expires.map(Timestamp::from_unix_millis) };
        crate::domain::ban::is_in_force(&ban, now).then_some(ban)
    }))
}

fn insert_audit(conn: &Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO moderation_log (at, actor_id, actor_username, action, target, reason, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        now_millis(),
        entry.actor_id.0,
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.target,
        entry.reason,
        entry.detail,
    ])?;
    Ok(())
}

impl Store {
    /// Records a moderation action.
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.writer.write(move |conn| insert_audit(conn, &entry)).await
    }

    /// Bans (or re-bans) a user and logs it, in one transaction.
    pub async fn ban(&self, user: UserId, ban: BanRecord, entry: AuditEntry) -> Result<(), StoreError> {
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO bans (user_id, reason, banned_by, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason,
                         banned_by = excluded.banned_by, created_at = excluded.created_at,
                         expires_at = excluded.expires_at",
                )?
                .execute(params![
                    user.0,
                    ban.reason,
                    entry.actor_id.0,
                    now_millis(),
                    ban.expires_at.map(Timestamp::unix_millis),
                ])?;
                insert_audit(conn, &entry)
            })
            .await
    }

    /// Lifts a ban and logs it. Returns whether a ban existed.
    pub async fn unban(&self, user: UserId, entry: AuditEntry) -> Result<bool, StoreError> {
        self.writer
            .write(move |conn| {
                let removed = conn.prepare_cached("DELETE FROM bans WHERE user_id = ?1")?.execute([user.0])?;
                insert_audit(conn, &entry)?;
                Ok(removed > 0)
            })
            .await
    }

    /// The user's ban if it is still in force at `now`.
    pub async fn active_ban(&self, user: UserId, now: Timestamp) -> Result<Option<BanRecord>, StoreError> {
        self.reader.read(move |conn| find_active_ban(conn, user, now)).await
    }

    /// An account and its ban in force at `now`, in one read (what opening
    /// a connection needs).
    pub async fn account_standing(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<(UserRecord, Option<BanRecord>)>, StoreError> {
        self.reader
            .read(move |conn| {
                let Some(account) = find_user_by_id(conn, user)? else { return Ok(None) };
                Ok(Some((account, find_active_ban(conn, user, now)?)))
            })
            .await
    }

    /// Number of entries in the moderation log for an action (for tests and
    /// operators' sanity checks).
    pub async fn audit_count(&self, action: AuditAction) -> Result<u64, StoreError> {
        self.reader
            .read(move |conn| {
                let n: i64 = conn
                    .prepare_cached("SELECT COUNT(*) FROM moderation_log WHERE action = ?1")?
                    .query_row([action.as_str()], |r| r.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }
}
