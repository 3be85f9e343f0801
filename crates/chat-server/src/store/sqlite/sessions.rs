//! What ends sessions from outside a connection: tokens revoked by a
//! logout, and accounts deleted by the operator tool, which runs as another
//! process and can reach the running server only through this database.

use chat_api::UserId;
use rusqlite::params;

use super::{SqliteStore, StoreError, now_millis};

/// Deletion notices older than this are pruned when a new one is written;
/// a server polls every second, so only a server stopped meanwhile misses
/// them, and it has no connections to close.
pub(in crate::store) const DELETION_NOTICE_KEEP_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A revoked token: its id and when it would have expired (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    /// The token's id (`TokenId::as_str`).
    pub token_id: String,
    /// Its `exp`; after that the token is refused anyway and the row goes.
    pub expires_at: i64,
}

/// An account deletion, in the order they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountDeletion {
    /// Position in the log; read on from here.
    pub seq: i64,
    /// The deleted account.
    pub user_id: UserId,
}

impl SqliteStore {
    /// Adds a token to the revocation list and drops the entries that have
    /// expired by `now` (Unix seconds).
    pub(in crate::store) async fn revoke_token(&self, token: RevokedToken, now: i64) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM revoked_tokens WHERE expires_at <= ?1")?.execute([now])?;
                conn.prepare_cached("INSERT OR IGNORE INTO revoked_tokens (token_id, expires_at) VALUES (?1, ?2)")?
                    .execute(params![token.token_id, token.expires_at])?;
                Ok(())
            })
            .await
    }

    /// The revoked tokens that have not expired by `now` (Unix seconds).
    pub(in crate::store) async fn revoked_tokens(&self, now: i64) -> Result<Vec<RevokedToken>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut statement =
                    conn.prepare_cached("SELECT token_id, expires_at FROM revoked_tokens WHERE expires_at > ?1")?;
                let rows = statement
                    .query_map([now], |row| Ok(RevokedToken { token_id: row.get(0)?, expires_at: row.get(1)? }))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    /// The position of the newest account deletion (0 for none): a server
    /// starting up reads on from there.
    pub(in crate::store) async fn last_account_deletion(&self) -> Result<i64, StoreError> {
        self.reader
            .read(|conn| {
                Ok(conn
                    .prepare_cached("SELECT COALESCE(max(seq), 0) FROM account_deletions")?
                    .query_row([], |r| r.get(0))?)
            })
            .await
    }

    /// Up to `limit` account deletions after `after`, oldest first. One
    /// range read on the primary key: cheap enough to run every second.
    pub(in crate::store) async fn account_deletions_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AccountDeletion>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.reader
            .read(move |conn| {
                let mut statement = conn.prepare_cached(
                    "SELECT seq, user_id FROM account_deletions WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let rows = statement.query_map(params![after, limit], |row| {
                    Ok(AccountDeletion { seq: row.get(0)?, user_id: UserId(row.get(1)?) })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }
}

/// Records a deletion in the same transaction as the deletion itself, and
/// prunes notices every server has long read.
pub(super) fn record_deletion(conn: &rusqlite::Connection, user: UserId) -> rusqlite::Result<()> {
    let now = now_millis();
    conn.prepare_cached("DELETE FROM account_deletions WHERE at < ?1")?
        .execute([now.saturating_sub(DELETION_NOTICE_KEEP_MILLIS)])?;
    conn.prepare_cached("INSERT INTO account_deletions (user_id, at) VALUES (?1, ?2)")?
        .execute(params![user.0, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn revoked_tokens_are_kept_until_they_expire() {
        let (_dir, store) = temp_store();
        store.revoke_token(RevokedToken { token_id: "jti:a".into(), expires_at: 100 }, 50).await.unwrap();
        store.revoke_token(RevokedToken { token_id: "jti:b".into(), expires_at: 300 }, 50).await.unwrap();
        assert_eq!(store.revoked_tokens(99).await.unwrap().len(), 2);
        assert_eq!(store.revoked_tokens(100).await.unwrap().len(), 1);
        // Writing another prunes the expired one from the table itself.
        store.revoke_token(RevokedToken { token_id: "jti:c".into(), expires_at: 400 }, 200).await.unwrap();
        let left: Vec<String> = store.revoked_tokens(0).await.unwrap().into_iter().map(|t| t.token_id).collect();
        assert_eq!(left, vec!["jti:b".to_owned(), "jti:c".to_owned()]);
    }
}
