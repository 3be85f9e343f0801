//! Bans and the moderation audit log (PostgreSQL).

use chat_api::{
    RoomId, Timestamp, UserId,
    rpc::{ModerationAction, ModerationEntry},
};
use deadpool_postgres::GenericClient;

use super::{
    PgStore,
    users::{USER_COLUMN_COUNT, user_columns, user_from_row},
};
use crate::store::{AuditAction, AuditEntry, BanRecord, StoreError, UserRecord, now_millis, sqlite};

/// The ban from `reason, expires_at` if it is in force at `now`.
fn ban_in_force(reason: Option<String>, expires_at: Option<i64>, now: Timestamp) -> Option<BanRecord> {
    let ban = BanRecord { reason: reason?, expires_at: expires_at.map(Timestamp::from_unix_millis) };
    crate::domain::ban::is_in_force(&ban, now).then_some(ban)
}

async fn insert_audit(client: &impl GenericClient, entry: &AuditEntry) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO moderation_log (at, actor_id, actor_username, action, target, reason, detail, room_id, until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await?;
    client
        .execute(
            &stmt,
            &[
                &now_millis(),
                &entry.actor_id.0,
                &entry.actor.as_str(),
                &entry.action.as_str(),
                &entry.target,
                &entry.reason,
                &entry.detail,
                &entry.room_id.as_ref().map(RoomId::as_str),
                &entry.until.map(Timestamp::unix_millis),
            ],
        )
        .await?;
    Ok(())
}

impl PgStore {
    /// Records a moderation action.
    pub(in crate::store) async fn audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        insert_audit(&self.client().await?, &entry).await
    }

    /// Bans (or re-bans) a user and logs it, in one transaction.
    pub(in crate::store) async fn ban(
        &self,
        user: UserId,
        ban: BanRecord,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO bans (user_id, reason, banned_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason,
                     banned_by = excluded.banned_by, created_at = excluded.created_at,
                     expires_at = excluded.expires_at",
            )
            .await?;
        tx.execute(
            &stmt,
            &[&user.0, &ban.reason, &entry.actor_id.0, &now_millis(), &ban.expires_at.map(Timestamp::unix_millis)],
        )
        .await?;
        insert_audit(&tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lifts a ban and logs it. Returns whether a ban existed.
    pub(in crate::store) async fn unban(&self, user: UserId, entry: AuditEntry) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached("DELETE FROM bans WHERE user_id = $1").await?;
        let removed = tx.execute(&stmt, &[&user.0]).await?;
        insert_audit(&tx, &entry).await?;
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// The user's ban if it is still in force at `now`.
    pub(in crate::store) async fn active_ban(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<BanRecord>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("SELECT reason, expires_at FROM bans WHERE user_id = $1").await?;
        let Some(row) = client.query_opt(&stmt, &[&user.0]).await? else { return Ok(None) };
        Ok(ban_in_force(row.try_get(0)?, row.try_get(1)?, now))
    }

    /// Bans stored (or renewed) at `after` or later, as (user, end,
    /// stored at): how a node hears of bans it may have missed.
    pub(in crate::store) async fn bans_since(
        &self,
        after: i64,
    ) -> Result<Vec<(UserId, Option<Timestamp>, i64)>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT user_id, expires_at, created_at FROM bans WHERE created_at >= $1 ORDER BY created_at",
            )
            .await?;
        let rows = client.query(&stmt, &[&after]).await?;
        Ok(rows
            .iter()
            .map(|r| (UserId(r.get(0)), r.get::<_, Option<i64>>(1).map(Timestamp::from_unix_millis), r.get(2)))
            .collect())
    }

    /// An account and its ban in force at `now`, in one read (what opening
    /// a connection needs).
    pub(in crate::store) async fn account_standing(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<(UserRecord, Option<BanRecord>)>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                "SELECT ",
                user_columns!(),
                ", b.reason, b.expires_at FROM users AS u LEFT JOIN bans AS b ON b.user_id = u.id WHERE u.id = $1"
            ))
            .await?;
        let Some(row) = client.query_opt(&stmt, &[&user.0]).await? else { return Ok(None) };
        let account = user_from_row(&row)?;
        let ban = ban_in_force(row.try_get(USER_COLUMN_COUNT)?, row.try_get(USER_COLUMN_COUNT + 1)?, now);
        Ok(Some((account, ban)))
    }

    /// Up to `limit` log entries older than `before` (or the newest), newest
    /// first, and whether older ones exist.
    pub(in crate::store) async fn moderation_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<ModerationEntry>, bool), StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, at, actor_username, action, target, reason, detail, room_id, until
                   FROM moderation_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
            )
            .await?;
        let rows = client.query(&stmt, &[&before.unwrap_or(i64::MAX), &(i64::from(limit) + 1)]).await?;
        let mut entries = Vec::new();
        for row in rows {
            let action: &str = row.try_get(3)?;
            let action: ModerationAction = action.parse().map_err(StoreError::Corrupt)?;
            let actor: &str = row.try_get(2)?;
            entries.push(sqlite::moderation::log_entry(
                row.try_get(0)?,
                row.try_get(1)?,
                actor,
                action,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
            )?);
        }
        let has_more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((entries, has_more))
    }

    /// Number of entries in the moderation log for an action (for tests and
    /// operators' sanity checks).
    pub(in crate::store) async fn audit_count(&self, action: AuditAction) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("SELECT count(*) FROM moderation_log WHERE action = $1").await?;
        let n: i64 = client.query_one(&stmt, &[&action.as_str()]).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use chat_api::UserName;

    use super::*;
    use crate::store::postgres::test_support::{TestDb, audit_entry, new_user};

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_unix_millis(millis)
    }

    #[tokio::test]
    async fn a_ban_is_in_force_until_it_expires_and_a_rebans_replaces_it() {
        let db = TestDb::new().await;
        let store = &db.store;
        let mod_id = store.create_user(new_user("mod")).await.unwrap().id;
        let user = store.create_user(new_user("troll")).await.unwrap().id;
        let now = Timestamp::now();
        assert_eq!(store.active_ban(user, now).await.unwrap(), None);
        let until = at(now.unix_millis() + 60_000);
        let ban = BanRecord { reason: "spam".to_owned(), expires_at: Some(until) };
        store.ban(user, ban.clone(), audit_entry(mod_id, "mod", "troll")).await.unwrap();
        assert_eq!(store.active_ban(user, now).await.unwrap(), Some(ban.clone()));
        assert_eq!(store.active_ban(user, at(until.unix_millis() + 1)).await.unwrap(), None);
        let forever = BanRecord { reason: "again".to_owned(), expires_at: None };
        store.ban(user, forever.clone(), audit_entry(mod_id, "mod", "troll")).await.unwrap();
        assert_eq!(store.active_ban(user, at(i64::MAX / 4)).await.unwrap(), Some(forever.clone()));
        assert_eq!(db.count("SELECT count(*) FROM bans").await, 1);
        assert_eq!(store.audit_count(AuditAction::Ban).await.unwrap(), 2);

        let (account, standing) = store.account_standing(user, now).await.unwrap().unwrap();
        assert_eq!(account.username.as_str(), "troll");
        assert_eq!(standing, Some(forever));
        let (_, clean) = store.account_standing(mod_id, now).await.unwrap().unwrap();
        assert_eq!(clean, None);
        assert!(store.account_standing(UserId(9999), now).await.unwrap().is_none());

        let mut lift = audit_entry(mod_id, "mod", "troll");
        lift.action = AuditAction::Unban;
        assert!(store.unban(user, lift.clone()).await.unwrap());
        assert!(!store.unban(user, lift).await.unwrap());
        assert_eq!(store.active_ban(user, now).await.unwrap(), None);
        assert_eq!(store.audit_count(AuditAction::Unban).await.unwrap(), 2, "each attempt is logged");
        db.finish().await;
    }

    #[tokio::test]
    async fn a_ban_of_no_account_stores_nothing() {
        let db = TestDb::new().await;
        let store = &db.store;
        let ban = BanRecord { reason: "x".to_owned(), expires_at: None };
        assert!(store.ban(UserId(4242), ban, audit_entry(UserId(1), "mod", "ghost")).await.is_err());
        assert_eq!(store.audit_count(AuditAction::Ban).await.unwrap(), 0, "one transaction");
        db.finish().await;
    }

    #[tokio::test]
    async fn the_log_pages_newest_first_as_the_wire_shows_it() {
        let db = TestDb::new().await;
        let store = &db.store;
        let actor = UserId(1);
        for target in ["usr1", "usr2", "usr3"] {
            store.audit(audit_entry(actor, "mod", target)).await.unwrap();
        }
        let announce = AuditEntry {
            action: AuditAction::Announce,
            target: "everyone".to_owned(),
            reason: None,
            detail: Some("maintenance at noon".to_owned()),
            ..audit_entry(actor, "mod", "x")
        };
        store.audit(announce).await.unwrap();
        let deleted = AuditEntry {
            action: AuditAction::DeleteRoom,
            target: "lobby".to_owned(),
            reason: Some(String::new()),
            room_id: Some(RoomId::parse("lobby").unwrap()),
            until: None,
            ..audit_entry(actor, "mod", "x")
        };
        store.audit(deleted).await.unwrap();

        let (page, more) = store.moderation_log(None, 2).await.unwrap();
        assert!(more);
        assert_eq!(page[0].action, ModerationAction::DeleteRoom);
        assert_eq!(page[0].target, None);
        assert_eq!(page[0].room_id, Some(RoomId::parse("lobby").unwrap()));
        assert_eq!(page[0].reason, None, "an empty reason is none");
        assert_eq!(page[1].action, ModerationAction::Announce);
        assert_eq!(page[1].reason.as_deref(), Some("maintenance at noon"));
        assert_eq!(page[1].actor, UserName::parse("mod").unwrap());
        let (rest, more) = store.moderation_log(Some(page[1].id), 10).await.unwrap();
        assert!(!more);
        let targets: Vec<String> = rest.iter().map(|e| e.target.as_ref().unwrap().to_string()).collect();
        assert_eq!(targets, vec!["usr3", "usr2", "usr1"]);
        assert_eq!(rest[0].reason.as_deref(), Some("spam"));
        let (exact, more) = store.moderation_log(None, 5).await.unwrap();
        assert_eq!((exact.len(), more), (5, false));
        db.sql("UPDATE moderation_log SET action = 'smite' WHERE target = 'usr1'", &[]).await;
        assert!(matches!(store.moderation_log(None, 10).await, Err(StoreError::Corrupt(_))));
        db.finish().await;
    }
}
