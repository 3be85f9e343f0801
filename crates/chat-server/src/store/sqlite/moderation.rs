//! Bans and the moderation audit log.

use chat_api::{
    RoomId, Timestamp, UserId, UserName,
    rpc::{ModerationAction, ModerationEntry},
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError, UserRecord, now_millis, users::find_user_by_id};

/// An active or expired ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRecord {
    /// Why.
    pub reason: String,
    /// When it ends; `None` is permanent.
    pub expires_at: Option<Timestamp>,
}

/// What a moderator or admin did: the contract's own list, stored by its
/// wire name.
pub type AuditAction = ModerationAction;

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
    /// The room concerned, if any.
    pub room_id: Option<RoomId>,
    /// When a ban ends.
    pub until: Option<Timestamp>,
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
        "INSERT INTO moderation_log (at, actor_id, actor_username, action, target, reason, detail, room_id, until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        now_millis(),
        entry.actor_id.0,
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.target,
        entry.reason,
        entry.detail,
        entry.room_id.as_ref().map(RoomId::as_str),
        entry.until.map(Timestamp::unix_millis),
    ])?;
    Ok(())
}

/// A stored row as the wire shows it. Rows written before schema
/// version 4 kept a deleted room's id in `target` and no `room_id`.
#[allow(clippy::too_many_arguments)]
pub(in crate::store) fn log_entry(
    id: i64,
    at: i64,
    actor: &str,
    action: ModerationAction,
    target: String,
    reason: Option<String>,
    detail: Option<String>,
    room: Option<String>,
    until: Option<i64>,
) -> Result<ModerationEntry, StoreError> {
    let about_user = !matches!(action, ModerationAction::Announce | ModerationAction::DeleteRoom);
    let room = match (room, action) {
        (Some(room), _) => Some(room),
        (None, ModerationAction::DeleteRoom) => Some(target.clone()),
        (None, _) => None,
    };
    let reason = match action {
        // What was announced, or the role given, is the entry's substance.
        ModerationAction::Announce | ModerationAction::SetRole => detail,
        _ => reason.filter(|r| !r.is_empty()),
    };
    Ok(ModerationEntry {
        id,
        action,
        actor: UserName::parse(actor)?,
        target: if about_user { Some(UserName::parse(&target)?) } else { None },
        room_id: room.map(|r| RoomId::parse(&r)).transpose()?,
        reason,
        until: until.map(Timestamp::from_unix_millis),
        timestamp: Timestamp::from_unix_millis(at),
    })
}

impl SqliteStore {
    /// Records a moderation action.
    pub(in crate::store) async fn audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.log.write(move |conn| insert_audit(conn, &entry)).await
    }

    /// Bans (or re-bans) a user and logs it, in one transaction.
    pub(in crate::store) async fn ban(
        &self,
        user: UserId,
        ban: BanRecord,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        self.log
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
    pub(in crate::store) async fn unban(&self, user: UserId, entry: AuditEntry) -> Result<bool, StoreError> {
        self.log
            .write(move |conn| {
                let removed = conn.prepare_cached("DELETE FROM bans WHERE user_id = ?1")?.execute([user.0])?;
                insert_audit(conn, &entry)?;
                Ok(removed > 0)
            })
            .await
    }

    /// The user's ban if it is still in force at `now`.
    pub(in crate::store) async fn active_ban(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<BanRecord>, StoreError> {
        self.reader.read(move |conn| find_active_ban(conn, user, now)).await
    }

    /// Bans stored (or renewed) at `after` or later, as (user, end,
    /// stored at): how a node hears of bans it may have missed.
    pub(in crate::store) async fn bans_since(
        &self,
        after: i64,
    ) -> Result<Vec<(UserId, Option<Timestamp>, i64)>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT user_id, expires_at, created_at FROM bans WHERE created_at >= ?1 ORDER BY created_at",
                )?;
                let rows = stmt.query_map([after], |r| {
                    Ok((UserId(r.get(0)?), r.get::<_, Option<i64>>(1)?.map(Timestamp::from_unix_millis), r.get(2)?))
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// An account and its ban in force at `now`, in one read (what opening
    /// a connection needs).
    pub(in crate::store) async fn account_standing(
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

    /// Up to `limit` log entries older than `before` (or the newest), newest
    /// first, and whether older ones exist.
    pub(in crate::store) async fn moderation_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<ModerationEntry>, bool), StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, at, actor_username, action, target, reason, detail, room_id, until
                       FROM moderation_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                )?;
                let rows = stmt
                    .query_map(params![before.unwrap_or(i64::MAX), i64::from(limit) + 1], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, Option<i64>>(8)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut entries = Vec::new();
                for (id, at, actor, action, target, reason, detail, room, until) in rows {
                    let action: ModerationAction = action.parse().map_err(StoreError::Corrupt)?;
                    entries.push(log_entry(id, at, &actor, action, target, reason, detail, room, until)?);
                }
                let has_more = entries.len() > limit as usize;
                entries.truncate(limit as usize);
                Ok((entries, has_more))
            })
            .await
    }

    /// Number of entries in the moderation log for an action (for tests and
    /// operators' sanity checks).
    pub(in crate::store) async fn audit_count(&self, action: AuditAction) -> Result<u64, StoreError> {
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
