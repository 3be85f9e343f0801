//! Accounts and profiles (PostgreSQL).

use chat_api::{Avatar, DisplayName, Role, Timestamp, UserId, UserName};
use deadpool_postgres::GenericClient;
use tokio_postgres::{Row, error::SqlState};

use super::PgStore;
use crate::store::{NewUser, ProfileChange, StoreError, UserRecord, now_millis};

/// The columns [`user_from_row`] reads, in its order, of `users AS u`.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.password_hash, u.role, u.display_name, u.avatar_breed, u.avatar_color, \
         u.avatar_expression, u.created_at, u.last_seen"
    };
}
pub(super) use user_columns;

/// How many columns [`user_columns!`] names: what follows them in a row
/// starts here.
pub(super) const USER_COLUMN_COUNT: usize = 10;

/// An account from the first [`USER_COLUMN_COUNT`] columns of `row`.
pub(super) fn user_from_row(row: &Row) -> Result<UserRecord, StoreError> {
    let id: i64 = row.try_get(0)?;
    let username: &str = row.try_get(1)?;
    let role: &str = row.try_get(3)?;
    let display_name: &str = row.try_get(4)?;
    let breed: &str = row.try_get(5)?;
    let color: &str = row.try_get(6)?;
    let expression: &str = row.try_get(7)?;
    let corrupt = |e: String| StoreError::Corrupt(format!("user {id}: {e}"));
    Ok(UserRecord {
        id: UserId(id),
        username: UserName::parse(username)?,
        password_hash: row.try_get(2)?,
        role: role.parse().map_err(|e: chat_api::role::UnknownRole| corrupt(e.to_string()))?,
        display_name: DisplayName::parse(display_name)?,
        avatar: Avatar {
            breed: breed.parse().map_err(corrupt)?,
            color: color.parse().map_err(corrupt)?,
            expression: expression.parse().map_err(corrupt)?,
        },
        created_at: Timestamp::from_unix_millis(row.try_get(8)?),
        last_seen: Timestamp::from_unix_millis(row.try_get(9)?),
    })
}

/// Inserts an account; a taken name (any case) is
/// [`StoreError::UsernameTaken`] and leaves the existing account alone.
async fn insert_user(client: &impl GenericClient, user: &NewUser) -> Result<UserRecord, StoreError> {
    let now = now_millis();
    let stmt = client
        .prepare_cached(
            "INSERT INTO users (username, username_key, password_hash, role, display_name,
                                avatar_breed, avatar_color, avatar_expression, created_at, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
             ON CONFLICT (username_key) DO NOTHING
             RETURNING id",
        )
        .await?;
    let inserted = client
        .query_opt(
            &stmt,
            &[
                &user.username.as_str(),
                &user.username.key(),
                &user.password_hash,
                &user.role.as_str(),
                &user.display_name.as_str(),
                &user.avatar.breed.as_str(),
                &user.avatar.color.as_str(),
                &user.avatar.expression.as_str(),
                &now,
            ],
        )
        .await
        .map_err(username_taken)?;
    let Some(row) = inserted else { return Err(StoreError::UsernameTaken) };
    Ok(UserRecord {
        id: UserId(row.try_get(0)?),
        username: user.username.clone(),
        password_hash: user.password_hash.clone(),
        role: user.role,
        display_name: user.display_name.clone(),
        avatar: user.avatar,
        created_at: Timestamp::from_unix_millis(now),
        last_seen: Timestamp::from_unix_millis(now),
    })
}

/// `ON CONFLICT` already turns a taken name into no row; a unique violation
/// can still come from a constraint PostgreSQL checks otherwise, and on
/// `users` every unique key is the name's.
fn username_taken(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) { StoreError::UsernameTaken } else { StoreError::Postgres(e) }
}

async fn find_user(
    client: &impl GenericClient,
    sql: &str,
    param: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<UserRecord>, StoreError> {
    let stmt = client.prepare_cached(sql).await?;
    client.query_opt(&stmt, &[param]).await?.as_ref().map(user_from_row).transpose()
}

const USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users AS u WHERE u.id = $1");
const USER_BY_KEY: &str = concat!("SELECT ", user_columns!(), " FROM users AS u WHERE u.username_key = $1");

impl PgStore {
    /// Creates an account. Never touches an existing one: a taken name
    /// (any case) is [`StoreError::UsernameTaken`].
    pub(in crate::store) async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        let client = self.client().await?;
        insert_user(&client, &user).await
    }

    /// Creates each account in one transaction if, and only if, there are
    /// no accounts yet. Returns how many were created.
    pub(in crate::store) async fn seed_users(&self, users: Vec<NewUser>) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        // Every start-up but the first finds accounts; it need not lock.
        if has_users(&client).await? {
            return Ok(0);
        }
        let tx = client.transaction().await?;
        // Nodes starting together would each find the table empty and
        // seed it, and a registration could slip in between the count and
        // the seeding. This mode lets no other transaction write to users
        // until the seed commits, and waits for those writing now, so the
        // count below sees every account there will be.
        tx.batch_execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").await?;
        if has_users(&tx).await? {
            return Ok(0);
        }
        for user in &users {
            insert_user(&tx, user).await?;
        }
        tx.commit().await?;
        Ok(users.len())
    }

    /// Whether any account exists.
    pub(in crate::store) async fn has_users(&self) -> Result<bool, StoreError> {
        has_users(&self.client().await?).await
    }

    /// Looks an account up by username, any case.
    pub(in crate::store) async fn user_by_name(&self, name: &UserName) -> Result<Option<UserRecord>, StoreError> {
        find_user(&self.client().await?, USER_BY_KEY, &name.key()).await
    }

    /// The registered accounts among `names` (any case), as ids and the
    /// usernames' stored spelling, in the order given.
    pub(in crate::store) async fn users_named(
        &self,
        names: Vec<UserName>,
    ) -> Result<Vec<(UserId, UserName)>, StoreError> {
        let keys: Vec<String> = names.iter().map(UserName::key).collect();
        let client = self.client().await?;
        let stmt =
            client.prepare_cached("SELECT username_key, id, username FROM users WHERE username_key = ANY($1)").await?;
        let mut by_key = std::collections::HashMap::new();
        for row in client.query(&stmt, &[&keys]).await? {
            let key: String = row.try_get(0)?;
            let id: i64 = row.try_get(1)?;
            let stored: &str = row.try_get(2)?;
            by_key.insert(key, (UserId(id), UserName::parse(stored)?));
        }
        Ok(keys.iter().filter_map(|key| by_key.get(key).cloned()).collect())
    }

    /// Looks an account up by id.
    pub(in crate::store) async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        find_user(&self.client().await?, USER_BY_ID, &id.0).await
    }

    /// Applies a profile change and returns the updated account, or `None`
    /// if it no longer exists.
    pub(in crate::store) async fn update_profile(
        &self,
        id: UserId,
        change: ProfileChange,
    ) -> Result<Option<UserRecord>, StoreError> {
        let client = self.client().await?;
        // One statement: the fields not given keep their stored values.
        let stmt = client
            .prepare_cached(concat!(
                "UPDATE users AS u SET display_name = COALESCE($2, u.display_name),
                        avatar_breed = COALESCE($3, u.avatar_breed), avatar_color = COALESCE($4, u.avatar_color),
                        avatar_expression = COALESCE($5, u.avatar_expression)
                  WHERE u.id = $1 RETURNING ",
                user_columns!()
            ))
            .await?;
        let avatar = change.avatar.as_ref();
        let row = client
            .query_opt(
                &stmt,
                &[
                    &id.0,
                    &change.display_name.as_ref().map(DisplayName::as_str),
                    &avatar.map(|a| a.breed.as_str()),
                    &avatar.map(|a| a.color.as_str()),
                    &avatar.map(|a| a.expression.as_str()),
                ],
            )
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Records that the user was connected just now.
    pub(in crate::store) async fn touch_last_seen(&self, id: UserId) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("UPDATE users SET last_seen = $2 WHERE id = $1").await?;
        client.execute(&stmt, &[&id.0, &now_millis()]).await?;
        Ok(())
    }

    /// Changes an account's role. Returns false if there is no such user.
    pub(in crate::store) async fn set_role(&self, name: &UserName, role: Role) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("UPDATE users SET role = $2 WHERE username_key = $1").await?;
        Ok(client.execute(&stmt, &[&name.key(), &role.as_str()]).await? > 0)
    }

    /// Replaces an account's password hash. Returns false if there is no
    /// such user.
    pub(in crate::store) async fn set_password_hash(
        &self,
        name: &UserName,
        password_hash: String,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("UPDATE users SET password_hash = $2 WHERE username_key = $1").await?;
        Ok(client.execute(&stmt, &[&name.key(), &password_hash]).await? > 0)
    }

    /// Deletes an account (its messages stay, under its name) with its
    /// direct conversations, blocks, rooms and mentions, and records the
    /// deletion for the running servers (`account_deletions`), in one
    /// transaction. Returns false if there is no such user.
    pub(in crate::store) async fn delete_user(&self, name: &UserName) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The account's direct conversations go with their messages.
        super::rooms::lock_message_commits(&tx).await?;
        let stmt = tx.prepare_cached("DELETE FROM users WHERE username_key = $1 RETURNING id").await?;
        let Some(row) = tx.query_opt(&stmt, &[&name.key()]).await? else { return Ok(false) };
        let id = UserId(row.try_get(0)?);
        super::direct::delete_conversations_of(&tx, id).await?;
        super::sessions::record_deletion(&tx, id).await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn has_users(client: &impl GenericClient) -> Result<bool, StoreError> {
    let stmt = client.prepare_cached("SELECT EXISTS (SELECT 1 FROM users)").await?;
    Ok(client.query_one(&stmt, &[]).await?.try_get(0)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_api::{Breed, CatColor, Expression};

    use super::*;
    use crate::store::postgres::test_support::{TestDb, audit_entry, new_user};

    fn name(n: &str) -> UserName {
        UserName::parse(n).unwrap()
    }

    #[tokio::test]
    async fn usernames_are_unique_in_any_case_and_the_first_account_is_untouched() {
        let db = TestDb::new().await;
        let store = &db.store;
        let first = store.create_user(new_user("Alice")).await.unwrap();
        let mut again = new_user("aLICE");
        again.password_hash = "other".to_owned();
        assert!(matches!(store.create_user(again).await, Err(StoreError::UsernameTaken)));
        let found = store.user_by_name(&name("alice")).await.unwrap().unwrap();
        assert_eq!(found.id, first.id);
        assert_eq!(found.username.as_str(), "Alice");
        assert_eq!(found.password_hash, "$argon2id$fake");
        assert_eq!(found.created_at, first.created_at);
        assert_eq!(store.user_by_id(first.id).await.unwrap().unwrap().username.as_str(), "Alice");
        assert!(store.user_by_id(UserId(first.id.0 + 100)).await.unwrap().is_none());
        db.finish().await;
    }

    #[tokio::test]
    async fn concurrent_registrations_of_one_name_create_one_account() {
        let db = TestDb::new().await;
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let store = Arc::clone(&db.store);
                let spelling = if i % 2 == 0 { "racer" } else { "RACER" };
                tokio::spawn(async move { store.create_user(new_user(spelling)).await })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::UsernameTaken) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(created, 1);
        db.finish().await;
    }

    #[tokio::test]
    async fn seeding_only_happens_on_an_empty_table() {
        let db = TestDb::new().await;
        let store = &db.store;
        assert!(!store.has_users().await.unwrap());
        assert_eq!(store.seed_users(vec![new_user("admin"), new_user("bob")]).await.unwrap(), 2);
        assert!(store.has_users().await.unwrap());
        assert_eq!(store.seed_users(vec![new_user("carol")]).await.unwrap(), 0);
        assert!(store.user_by_name(&name("carol")).await.unwrap().is_none());
        db.finish().await;
    }

    #[tokio::test]
    async fn a_seed_with_a_taken_name_stores_none_of_it() {
        let db = TestDb::new().await;
        let store = &db.store;
        let result = store.seed_users(vec![new_user("dup"), new_user("other"), new_user("DUP")]).await;
        assert!(matches!(result, Err(StoreError::UsernameTaken)));
        assert!(!store.has_users().await.unwrap());
        db.finish().await;
    }

    #[tokio::test]
    async fn nodes_seeding_at_once_seed_once() {
        let db = TestDb::new().await;
        let stores = db.more_stores(3).await;
        let tasks: Vec<_> = stores
            .into_iter()
            .map(|store| {
                tokio::spawn(async move {
                    let n = store.seed_users(vec![new_user("admin"), new_user("bob")]).await.unwrap();
                    store.close().await;
                    n
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 2);
        db.finish().await;
    }

    #[tokio::test]
    async fn users_named_keeps_the_order_given_and_the_stored_spelling() {
        let db = TestDb::new().await;
        let store = &db.store;
        let bob = store.create_user(new_user("Bob")).await.unwrap();
        let amy = store.create_user(new_user("amy")).await.unwrap();
        let found = store.users_named(vec![name("BOB"), name("nobody"), name("Amy"), name("bob")]).await.unwrap();
        assert_eq!(found, vec![(bob.id, name("Bob")), (amy.id, name("amy")), (bob.id, name("Bob"))]);
        assert!(store.users_named(Vec::new()).await.unwrap().is_empty());
        db.finish().await;
    }

    #[tokio::test]
    async fn profile_changes_keep_what_is_not_given() {
        let db = TestDb::new().await;
        let store = &db.store;
        let user = store.create_user(new_user("carol")).await.unwrap();
        let cat = Avatar { breed: Breed::Siamese, color: CatColor::Black, expression: Expression::Sleepy };
        let change = ProfileChange { display_name: None, avatar: Some(cat) };
        let changed = store.update_profile(user.id, change).await.unwrap().unwrap();
        assert_eq!(changed.avatar, cat);
        assert_eq!(changed.display_name, user.display_name);
        let change = ProfileChange { display_name: Some(DisplayName::parse("Caroline").unwrap()), avatar: None };
        let changed = store.update_profile(user.id, change).await.unwrap().unwrap();
        assert_eq!(changed.display_name.as_str(), "Caroline");
        assert_eq!(changed.avatar, cat);
        let unchanged = store.update_profile(user.id, ProfileChange::default()).await.unwrap().unwrap();
        assert_eq!(unchanged.display_name.as_str(), "Caroline");
        assert!(store.update_profile(UserId(user.id.0 + 1), ProfileChange::default()).await.unwrap().is_none());
        db.finish().await;
    }

    #[tokio::test]
    async fn role_password_and_last_seen_change_by_name_any_case() {
        let db = TestDb::new().await;
        let store = &db.store;
        let user = store.create_user(new_user("dave")).await.unwrap();
        assert!(store.set_role(&name("DAVE"), Role::Moderator).await.unwrap());
        assert!(!store.set_role(&name("nobody"), Role::Admin).await.unwrap());
        assert!(store.set_password_hash(&name("Dave"), "new-hash".to_owned()).await.unwrap());
        assert!(!store.set_password_hash(&name("nobody"), "x".to_owned()).await.unwrap());
        db.sql("UPDATE users SET last_seen = 0", &[]).await;
        store.touch_last_seen(user.id).await.unwrap();
        let found = store.user_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(found.role, Role::Moderator);
        assert_eq!(found.password_hash, "new-hash");
        assert!(found.last_seen >= user.created_at);
        db.finish().await;
    }

    #[tokio::test]
    async fn a_corrupt_row_is_reported_not_trusted() {
        let db = TestDb::new().await;
        let store = &db.store;
        let user = store.create_user(new_user("erin")).await.unwrap();
        db.sql("UPDATE users SET avatar_breed = 'dragon'", &[]).await;
        assert!(matches!(store.user_by_id(user.id).await, Err(StoreError::Corrupt(_))));
        db.finish().await;
    }

    #[tokio::test]
    async fn deleting_a_user_takes_their_conversations_and_ban_and_is_announced() {
        let db = TestDb::new().await;
        let store = &db.store;
        let ann = store.create_user(new_user("ann")).await.unwrap();
        let ben = store.create_user(new_user("ben")).await.unwrap();
        let cal = store.create_user(new_user("cal")).await.unwrap();
        let dm = store.open_direct((ann.id, name("ann")), (ben.id, name("ben"))).await.unwrap();
        let other = store.open_direct((ben.id, name("ben")), (cal.id, name("cal"))).await.unwrap();
        db.message(1, &dm.room_id, ann.id, "hi ben").await;
        db.sql("INSERT INTO reactions (message_id, user_id, username, emoji) VALUES (1, $1, 'ben', 'x')", &[&ben.id.0])
            .await;
        store.remember_room(ann.id, dm.room_id.clone(), chat_api::MessageId(0)).await.unwrap();
        store.block(ann.id, cal.id).await.unwrap();
        store.block(cal.id, ann.id).await.unwrap();
        let ban = crate::store::BanRecord { reason: "spam".to_owned(), expires_at: None };
        store.ban(ann.id, ban, audit_entry(cal.id, "cal", "ann")).await.unwrap();
        let before = store.last_account_deletion().await.unwrap();

        assert!(store.delete_user(&name("ANN")).await.unwrap());
        assert!(!store.delete_user(&name("ann")).await.unwrap());

        assert!(store.user_by_id(ann.id).await.unwrap().is_none());
        assert!(store.direct(dm.room_id.clone()).await.unwrap().is_none());
        assert_eq!(store.direct(other.room_id.clone()).await.unwrap(), Some(other));
        assert_eq!(db.count("SELECT count(*) FROM messages").await, 0);
        assert_eq!(db.count("SELECT count(*) FROM reactions").await, 0);
        assert_eq!(db.count("SELECT count(*) FROM rooms WHERE kind = 'direct'").await, 1);
        assert_eq!(db.count("SELECT count(*) FROM memberships").await, 0);
        assert_eq!(db.count("SELECT count(*) FROM blocks").await, 0);
        assert_eq!(db.count("SELECT count(*) FROM bans").await, 0);
        let deletions = store.account_deletions_after(before, 10).await.unwrap();
        assert_eq!(deletions.len(), 1);
        assert_eq!(deletions[0].user_id, ann.id);
        assert_eq!(store.last_account_deletion().await.unwrap(), deletions[0].seq);
        db.finish().await;
    }
}
