//! What ends sessions from outside a connection (PostgreSQL): tokens
//! revoked by a logout, and accounts deleted by the operator tool or
//! another node, which reach the running servers only through this
//! database.

use chat_api::UserId;
use deadpool_postgres::Transaction;

use super::PgStore;
use crate::store::{
    AccountDeletion, RevokedToken, StoreError, now_millis, sqlite::sessions::DELETION_NOTICE_KEEP_MILLIS,
};

/// Held from writing a deletion notice until its transaction ends. Any
/// number the nodes agree on; only this server takes this lock.
const ACCOUNT_DELETIONS_LOCK: i64 = 0x6368_6174_6465_6c65;

/// Records a deletion in the same transaction as the deletion itself, and
/// prunes notices every server has long read.
pub(super) async fn record_deletion(tx: &Transaction<'_>, user: UserId) -> Result<(), StoreError> {
    // Servers read on from the highest `seq` they have seen. A sequence
    // hands numbers out at insert time, so two deletions could commit in
    // the other order and a reader would skip the lower one for good.
    // Writers take turns until their commit instead: `seq` order is then
    // commit order.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ACCOUNT_DELETIONS_LOCK]).await?;
    let now = now_millis();
    let stmt = tx.prepare_cached("DELETE FROM account_deletions WHERE at < $1").await?;
    tx.execute(&stmt, &[&now.saturating_sub(DELETION_NOTICE_KEEP_MILLIS)]).await?;
    let stmt = tx.prepare_cached("INSERT INTO account_deletions (user_id, at) VALUES ($1, $2)").await?;
    tx.execute(&stmt, &[&user.0, &now]).await?;
    Ok(())
}

impl PgStore {
    /// Adds a token to the revocation list and drops the entries that have
    /// expired by `now` (Unix seconds).
    pub(in crate::store) async fn revoke_token(&self, token: RevokedToken, now: i64) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached("DELETE FROM revoked_tokens WHERE expires_at <= $1").await?;
        tx.execute(&stmt, &[&now]).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2) ON CONFLICT (token_id) DO NOTHING",
            )
            .await?;
        tx.execute(&stmt, &[&token.token_id, &token.expires_at]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The revoked tokens that have not expired by `now` (Unix seconds), by
    /// id.
    pub(in crate::store) async fn revoked_tokens(&self, now: i64) -> Result<Vec<RevokedToken>, StoreError> {
        let client = self.client().await?;
        // SQLite gives them in key order; so does this.
        let stmt = client
            .prepare_cached(
                "SELECT token_id, expires_at FROM revoked_tokens WHERE expires_at > $1 ORDER BY token_id COLLATE \"C\"",
            )
            .await?;
        let mut tokens = Vec::new();
        for row in client.query(&stmt, &[&now]).await? {
            tokens.push(RevokedToken { token_id: row.try_get(0)?, expires_at: row.try_get(1)? });
        }
        Ok(tokens)
    }

    /// The position of the newest account deletion (0 for none): a server
    /// starting up reads on from there.
    pub(in crate::store) async fn last_account_deletion(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("SELECT COALESCE(max(seq), 0) FROM account_deletions").await?;
        Ok(client.query_one(&stmt, &[]).await?.try_get(0)?)
    }

    /// Up to `limit` account deletions after `after`, oldest first. One
    /// range read on the primary key: cheap enough to run every second.
    pub(in crate::store) async fn account_deletions_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AccountDeletion>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT seq, user_id FROM account_deletions WHERE seq > $1 ORDER BY seq LIMIT $2")
            .await?;
        let mut deletions = Vec::new();
        for row in client.query(&stmt, &[&after, &limit]).await? {
            deletions.push(AccountDeletion { seq: row.try_get(0)?, user_id: UserId(row.try_get(1)?) });
        }
        Ok(deletions)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_api::UserName;

    use super::*;
    use crate::store::postgres::test_support::{TestDb, new_user};

    #[tokio::test]
    async fn revoked_tokens_are_kept_until_they_expire() {
        let db = TestDb::new().await;
        let store = &db.store;
        store.revoke_token(RevokedToken { token_id: "jti:b".into(), expires_at: 300 }, 50).await.unwrap();
        store.revoke_token(RevokedToken { token_id: "jti:a".into(), expires_at: 100 }, 50).await.unwrap();
        store.revoke_token(RevokedToken { token_id: "jti:a".into(), expires_at: 999 }, 50).await.unwrap();
        assert_eq!(store.revoked_tokens(99).await.unwrap().len(), 2);
        assert_eq!(store.revoked_tokens(100).await.unwrap().len(), 1, "the first revocation stands");
        // Writing another prunes the expired one from the table itself.
        store.revoke_token(RevokedToken { token_id: "jti:c".into(), expires_at: 400 }, 200).await.unwrap();
        let left: Vec<String> = store.revoked_tokens(0).await.unwrap().into_iter().map(|t| t.token_id).collect();
        assert_eq!(left, vec!["jti:b".to_owned(), "jti:c".to_owned()]);
        db.finish().await;
    }

    #[tokio::test]
    async fn deletions_are_read_in_order_and_old_notices_are_pruned() {
        let db = TestDb::new().await;
        let store = &db.store;
        assert_eq!(store.last_account_deletion().await.unwrap(), 0);
        assert!(store.account_deletions_after(0, 10).await.unwrap().is_empty());
        db.sql("INSERT INTO account_deletions (user_id, at) VALUES (77, 0)", &[]).await;
        let mut ids = Vec::new();
        for name in ["gone1", "gone2", "gone3"] {
            ids.push(store.create_user(new_user(name)).await.unwrap().id);
            assert!(store.delete_user(&UserName::parse(name).unwrap()).await.unwrap());
        }
        let all = store.account_deletions_after(0, 10).await.unwrap();
        let users: Vec<UserId> = all.iter().map(|d| d.user_id).collect();
        assert_eq!(users, ids, "the day-old notice is gone");
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(store.last_account_deletion().await.unwrap(), all[2].seq);
        assert_eq!(store.account_deletions_after(all[0].seq, 1).await.unwrap(), vec![all[1]]);
        db.finish().await;
    }

    #[tokio::test]
    async fn concurrent_deletions_become_visible_in_sequence_order() {
        let db = TestDb::new().await;
        let names: Vec<String> = (0..16).map(|i| format!("user{i}")).collect();
        for name in &names {
            db.store.create_user(new_user(name)).await.unwrap();
        }
        let deleting: Vec<_> = names
            .iter()
            .map(|name| {
                let store = Arc::clone(&db.store);
                let name = UserName::parse(name).unwrap();
                tokio::spawn(async move { store.delete_user(&name).await.unwrap() })
            })
            .collect();
        // A reader that follows the highest sequence number seen must end
        // up with every deletion.
        let mut seen = Vec::new();
        let mut after = 0;
        while seen.len() < names.len() {
            for deletion in db.store.account_deletions_after(after, 100).await.unwrap() {
                after = deletion.seq;
                seen.push(deletion.user_id);
            }
            if deleting.iter().all(|task| task.is_finished()) {
                let rest = db.store.account_deletions_after(after, 100).await.unwrap();
                seen.extend(rest.iter().map(|d| d.user_id));
                break;
            }
            tokio::task::yield_now().await;
        }
        for task in deleting {
            assert!(task.await.unwrap());
        }
        assert_eq!(seen.len(), names.len());
        db.finish().await;
    }
}
