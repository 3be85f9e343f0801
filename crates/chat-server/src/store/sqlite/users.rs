//! Accounts and profiles.

use chat_api::{Avatar, DisplayName, Role, Timestamp, UserId, UserName};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, StoreError, now_millis};

/// A stored account.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Its id.
    pub id: UserId,
    /// Its username as registered.
    pub username: UserName,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Its role now.
    pub role: Role,
    /// Shown beside the username.
    pub display_name: DisplayName,
    /// The cat.
    pub avatar: Avatar,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When the user was last connected.
    pub last_seen: Timestamp,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Its username.
    pub username: UserName,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Its role.
    pub role: Role,
    /// Shown beside the username.
    pub display_name: DisplayName,
    /// The cat.
    pub avatar: Avatar,
}

/// Profile fields to change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New avatar.
    pub avatar: Option<Avatar>,
}

const USER_COLUMNS: &str = "id, username, password_hash, role, display_name, avatar_breed, avatar_color, \
                            avatar_expression, created_at, last_seen";

fn parse_user(row: &Row<'_>) -> rusqlite::Result<Result<UserRecord, StoreError>> {
    let id: i64 = row.get(0)?;
    let username: String = row.get(1)?;
    let password_hash: String = row.get(2)?;
    let role: String = row.get(3)?;
    let display_name: String = row.get(4)?;
    let breed: String = row.get(5)?;
    let color: String = row.get(6)?;
    let expression: String = row.get(7)?;
    let created_at: i64 = row.get(8)?;
    let last_seen: i64 = row.get(9)?;
    Ok((|| {
        let corrupt = |e: String| StoreError::Corrupt(format!("user {id}: {e}"));
        Ok(UserRecord {
            id: UserId(id),
            username: UserName::parse(&username)?,
            password_hash,
            role: role.parse().map_err(|e: chat_api::role::UnknownRole| corrupt(e.to_string()))?,
            display_name: DisplayName::parse(&display_name)?,
            avatar: Avatar {
                breed: breed.parse().map_err(corrupt)?,
                color: color.parse().map_err(corrupt)?,
                expression: expression.parse().map_err(corrupt)?,
            },
            created_at: Timestamp::from_unix_millis(created_at),
            last_seen: Timestamp::from_unix_millis(last_seen),
        })
    })())
}

fn find_user(conn: &Connection, clause: &str, param: &dyn rusqlite::ToSql) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
    let found = conn.prepare_cached(&sql)?.query_row([param], parse_user).optional()?;
    found.transpose()
}

/// An account by id, on any connection.
pub(super) fn find_user_by_id(conn: &Connection, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    find_user(conn, "id = ?1", &id.0)
}

/// Inserts an account inside the writer's transaction.
pub(super) fn insert_user(conn: &Connection, user: &NewUser) -> Result<UserRecord, StoreError> {
    let now = now_millis();
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (username, username_key, password_hash, role, display_name,
                            avatar_breed, avatar_color, avatar_expression, created_at, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (username_key) DO NOTHING",
        )?
        .execute(params![
            user.username.as_str(),
            user.username.key(),
            user.password_hash,
            user.role.as_str(),
            user.display_name.as_str(),
            user.avatar.breed.as_str(),
            user.avatar.color.as_str(),
            user.avatar.expression.as_str(),
            now,
        ])?;
    if inserted == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(UserRecord {
        id: UserId(conn.last_insert_rowid()),
        username: user.username.clone(),
        password_hash: user.password_hash.clone(),
        role: user.role,
        display_name: user.display_name.clone(),
        avatar: user.avatar,
        created_at: Timestamp::from_unix_millis(now),
        last_seen: Timestamp::from_unix_millis(now),
    })
}

impl SqliteStore {
    /// Creates an account. Never touches an existing one: a taken name
    /// (any case) is [`StoreError::UsernameTaken`].
    pub(in crate::store) async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        self.log.write(move |conn| insert_user(conn, &user)).await
    }

    /// Creates each account in one transaction if, and only if, there are
    /// no accounts yet. Returns how many were created.
    pub(in crate::store) async fn seed_users(&self, users: Vec<NewUser>) -> Result<usize, StoreError> {
        self.log
            .write(move |conn| {
                let existing: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
                if existing > 0 {
                    return Ok(0);
                }
                for user in &users {
                    insert_user(conn, user)?;
                }
                Ok(users.len())
            })
            .await
    }

    /// Whether any account exists.
    pub(in crate::store) async fn has_users(&self) -> Result<bool, StoreError> {
        self.reader
            .read(|conn| Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get::<_, bool>(0))?))
            .await
    }

    /// Looks an account up by username, any case.
    pub(in crate::store) async fn user_by_name(&self, name: &UserName) -> Result<Option<UserRecord>, StoreError> {
        let key = name.key();
        self.reader.read(move |conn| find_user(conn, "username_key = ?1", &key)).await
    }

    /// The registered accounts among `names` (any case), as ids and the
    /// usernames' stored spelling, in the order given.
    pub(in crate::store) async fn users_named(
        &self,
        names: Vec<UserName>,
    ) -> Result<Vec<(UserId, UserName)>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT id, username FROM users WHERE username_key = ?1")?;
                let mut found = Vec::new();
                for name in names {
                    let row = stmt
                        .query_row([name.key()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                        .optional()?;
                    if let Some((id, stored)) = row {
                        found.push((UserId(id), UserName::parse(&stored)?));
                    }
                }
                Ok(found)
            })
            .await
    }

    /// Looks an account up by id.
    pub(in crate::store) async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        self.reader.read(move |conn| find_user(conn, "id = ?1", &id.0)).await
    }

    /// Applies a profile change and returns the updated account, or `None`
    /// if it no longer exists.
    pub(in crate::store) async fn update_profile(
        &self,
        id: UserId,
        change: ProfileChange,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.log
            .write(move |conn| {
                if let Some(name) = &change.display_name {
                    conn.prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
                        .execute(params![id.0, name.as_str()])?;
                }
                if let Some(avatar) = &change.avatar {
                    conn.prepare_cached(
                        "UPDATE users SET avatar_breed = ?2, avatar_color = ?3, avatar_expression = ?4 WHERE id = ?1",
                    )?
                    .execute(params![
                        id.0,
                        avatar.breed.as_str(),
                        avatar.color.as_str(),
                        avatar.expression.as_str()
                    ])?;
                }
                find_user(conn, "id = ?1", &id.0)
            })
            .await
    }

    /// Records that the user was connected just now.
    pub(in crate::store) async fn touch_last_seen(&self, id: UserId) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached("UPDATE users SET last_seen = ?2 WHERE id = ?1")?
                    .execute(params![id.0, now_millis()])?;
                Ok(())
            })
            .await
    }

    /// Changes an account's role. Returns false if there is no such user.
    pub(in crate::store) async fn set_role(&self, name: &UserName, role: Role) -> Result<bool, StoreError> {
        let key = name.key();
        self.log
            .write(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET role = ?2 WHERE username_key = ?1")?
                    .execute(params![key, role.as_str()])?;
                Ok(changed > 0)
            })
            .await
    }

    /// Replaces an account's password hash. Returns false if there is no
    /// such user.
    pub(in crate::store) async fn set_password_hash(
        &self,
        name: &UserName,
        password_hash: String,
    ) -> Result<bool, StoreError> {
        let key = name.key();
        self.log
            .write(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE users SET password_hash = ?2 WHERE username_key = ?1")?
                    .execute(params![key, password_hash])?;
                Ok(changed > 0)
            })
            .await
    }

    /// Deletes an account (its messages stay, under its name) and records
    /// the deletion for the running server (`account_deletions`), in one
    /// transaction. Returns false if there is no such user.
    pub(in crate::store) async fn delete_user(&self, name: &UserName) -> Result<bool, StoreError> {
        let key = name.key();
        self.log
            .write(move |conn| {
                let id: Option<i64> = conn
                    .prepare_cached("DELETE FROM users WHERE username_key = ?1 RETURNING id")?
                    .query_row([key], |row| row.get(0))
                    .optional()?;
                let Some(id) = id else { return Ok(false) };
                super::direct::delete_conversations_of(conn, UserId(id))?;
                super::sessions::record_deletion(conn, UserId(id))?;
                Ok(true)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use chat_api::{Breed, CatColor, Expression};

    use super::*;
    use crate::store::test_support::temp_store;

    pub(crate) fn new_user(name: &str) -> NewUser {
        NewUser {
            username: UserName::parse(name).unwrap(),
            password_hash: "$argon2id$fake".to_owned(),
            role: Role::User,
            display_name: DisplayName::parse(name).unwrap(),
            avatar: Avatar { breed: Breed::Tabby, color: CatColor::Orange, expression: Expression::Happy },
        }
    }

    #[tokio::test]
    async fn usernames_are_unique_in_any_case_and_the_first_account_is_untouched() {
        let (_dir, store) = temp_store();
        let first = store.create_user(new_user("Alice")).await.unwrap();
        let mut again = new_user("aLICE");
        again.password_hash = "other".to_owned();
        assert!(matches!(store.create_user(again).await, Err(StoreError::UsernameTaken)));
        let found = store.user_by_name(&UserName::parse("alice").unwrap()).await.unwrap().unwrap();
        assert_eq!(found.id, first.id);
        assert_eq!(found.username.as_str(), "Alice");
        assert_eq!(found.password_hash, "$argon2id$fake");
    }

    #[tokio::test]
    async fn seeding_only_happens_on_an_empty_table() {
        let (_dir, store) = temp_store();
        assert_eq!(store.seed_users(vec![new_user("admin"), new_user("bob")]).await.unwrap(), 2);
        assert_eq!(store.seed_users(vec![new_user("carol")]).await.unwrap(), 0);
        assert!(store.user_by_name(&UserName::parse("carol").unwrap()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_failed_job_does_not_spoil_its_batch() {
        let (_dir, store) = temp_store();
        let store = std::sync::Arc::new(store);
        store.create_user(new_user("taken")).await.unwrap();
        let mut tasks = Vec::new();
        for name in ["taken", "fresh1", "fresh2", "taken"] {
            let store = std::sync::Arc::clone(&store);
            tasks.push(tokio::spawn(async move { store.create_user(new_user(name)).await.is_ok() }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert_eq!(outcomes, vec![false, true, true, false]);
    }
}
