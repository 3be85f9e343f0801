//! Direct conversations between two users, and blocks (PostgreSQL).
//!
//! A conversation's id names its users (`dm:alice:bob`), but a username
//! can be registered again after its account is deleted; the conversation
//! therefore records the two account ids, and every check goes by them.

use chat_api::{MessageId, RoomId, UserId, UserName};
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

use super::{PgStore, rooms};
use crate::store::{DirectRecord, StoreError, now_millis};

/// First key of the advisory lock held while one conversation is opened
/// (the second is a hash of its id). Any number the nodes agree on; only
/// this server takes locks of this class.
const OPEN_DIRECT_LOCK: i32 = 0x646d_6f70;

fn direct_from_row(room: RoomId, row: &Row) -> Result<DirectRecord, StoreError> {
    Ok(DirectRecord {
        room_id: room,
        user_a: UserId(row.try_get(0)?),
        user_b: UserId(row.try_get(1)?),
        last_message_id: MessageId(row.try_get(2)?),
    })
}

async fn read_direct(client: &impl GenericClient, room: &RoomId) -> Result<Option<DirectRecord>, StoreError> {
    let stmt =
        client.prepare_cached("SELECT user_a, user_b, last_message_id FROM direct_chats WHERE room_id = $1").await?;
    client.query_opt(&stmt, &[&room.as_str()]).await?.map(|row| direct_from_row(room.clone(), &row)).transpose()
}

/// Deletes every direct conversation of `user` with its messages, and the
/// user's blocks, rooms and mentions, inside the caller's transaction
/// (the account is being deleted), which holds
/// [`rooms::lock_message_commits`].
pub(super) async fn delete_conversations_of(tx: &Transaction<'_>, user: UserId) -> Result<(), StoreError> {
    let stmt = tx.prepare_cached("SELECT room_id FROM direct_chats WHERE user_a = $1 OR user_b = $1").await?;
    let mut conversations = Vec::new();
    for row in tx.query(&stmt, &[&user.0]).await? {
        let room: &str = row.try_get(0)?;
        conversations.push(RoomId::parse(room)?.to_string());
    }
    rooms::delete_rooms(tx, &conversations).await?;
    for sql in [
        "DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1",
        "DELETE FROM memberships WHERE user_id = $1",
        "DELETE FROM mentions WHERE user_id = $1",
    ] {
        let stmt = tx.prepare_cached(sql).await?;
        tx.execute(&stmt, &[&user.0]).await?;
    }
    Ok(())
}

impl PgStore {
    /// The conversation between `one` and `other`, created if needed.
    pub(in crate::store) async fn open_direct(
        &self,
        one: (UserId, UserName),
        other: (UserId, UserName),
    ) -> Result<DirectRecord, StoreError> {
        let Some(room) = RoomId::direct(&one.1, &other.1) else {
            return Err(StoreError::NotAllowed("a conversation needs two different users".to_owned()));
        };
        let (a, b) = if one.1.key() < other.1.key() { (one.0, other.0) } else { (other.0, one.0) };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Find-or-create must be one step: nodes opening the same
        // conversation at once would otherwise both find none, and the
        // clean-up of a left-over one below must not race a creation. The
        // lock is per conversation, so others open in parallel.
        tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&OPEN_DIRECT_LOCK, &room.as_str()]).await?;
        if let Some(existing) = read_direct(&tx, &room).await? {
            if existing.user_a == a && existing.user_b == b {
                return Ok(existing);
            }
            // Left over from a deleted account with the same name.
            rooms::lock_message_commits(&tx).await?;
            delete_conversations_of(&tx, existing.user_a).await?;
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO rooms (id, name, created_at, kind) VALUES ($1, $1, $2, 'direct')
                 ON CONFLICT (id) DO NOTHING",
            )
            .await?;
        tx.execute(&stmt, &[&room.as_str(), &now_millis()]).await?;
        let stmt = tx.prepare_cached("INSERT INTO direct_chats (room_id, user_a, user_b) VALUES ($1, $2, $3)").await?;
        tx.execute(&stmt, &[&room.as_str(), &a.0, &b.0]).await?;
        tx.commit().await?;
        self.log().room_created(&room);
        Ok(DirectRecord { room_id: room, user_a: a, user_b: b, last_message_id: MessageId(0) })
    }

    /// A conversation by id.
    pub(in crate::store) async fn direct(&self, room: RoomId) -> Result<Option<DirectRecord>, StoreError> {
        read_direct(&self.client().await?, &room).await
    }

    /// The user's conversations, most recent activity first.
    pub(in crate::store) async fn directs_of(&self, user: UserId) -> Result<Vec<DirectRecord>, StoreError> {
        let client = self.client().await?;
        // Ties in byte order, as SQLite sorts, whatever the collation.
        let stmt = client
            .prepare_cached(
                "SELECT user_a, user_b, last_message_id, room_id FROM direct_chats
                  WHERE user_a = $1 OR user_b = $1 ORDER BY last_message_id DESC, room_id COLLATE \"C\"",
            )
            .await?;
        let mut records = Vec::new();
        for row in client.query(&stmt, &[&user.0]).await? {
            let room: &str = row.try_get(3)?;
            records.push(direct_from_row(RoomId::parse(room)?, &row)?);
        }
        Ok(records)
    }

    /// Makes `blocker` block `blocked` (again: no change).
    pub(in crate::store) async fn block(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        client.execute(&stmt, &[&blocker.0, &blocked.0, &now_millis()]).await?;
        Ok(())
    }

    /// Lifts a block (none: no change).
    pub(in crate::store) async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2").await?;
        client.execute(&stmt, &[&blocker.0, &blocked.0]).await?;
        Ok(())
    }

    /// Whether `blocker` blocks `blocked`.
    pub(in crate::store) async fn blocks(&self, blocker: UserId, blocked: UserId) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)")
            .await?;
        Ok(client.query_one(&stmt, &[&blocker.0, &blocked.0]).await?.try_get(0)?)
    }

    /// The usernames `blocker` blocks, sorted.
    pub(in crate::store) async fn blocked_by(&self, blocker: UserId) -> Result<Vec<UserName>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.username FROM blocks AS b JOIN users AS u ON u.id = b.blocked_id
                  WHERE b.blocker_id = $1 ORDER BY u.username_key COLLATE \"C\"",
            )
            .await?;
        let mut blocked = Vec::new();
        for row in client.query(&stmt, &[&blocker.0]).await? {
            blocked.push(UserName::parse(row.try_get(0)?)?);
        }
        Ok(blocked)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::{
        Store,
        postgres::test_support::{TestDb, new_user},
    };

    fn name(n: &str) -> UserName {
        UserName::parse(n).unwrap()
    }

    async fn user(store: &Store, n: &str) -> (UserId, UserName) {
        (store.create_user(new_user(n)).await.unwrap().id, name(n))
    }

    #[tokio::test]
    async fn a_conversation_is_opened_once_and_found_from_either_side() {
        let db = TestDb::new().await;
        let store = &db.store;
        let zed = user(store, "Zed").await;
        let amy = user(store, "amy").await;
        let opened = store.open_direct(zed.clone(), amy.clone()).await.unwrap();
        assert_eq!(opened.room_id.as_str(), "dm:amy:zed");
        assert_eq!((opened.user_a, opened.user_b), (amy.0, zed.0), "ordered by username");
        assert_eq!(opened.last_message_id, MessageId(0));
        assert_eq!(store.open_direct(amy.clone(), zed.clone()).await.unwrap(), opened);
        assert_eq!(store.direct(opened.room_id.clone()).await.unwrap(), Some(opened.clone()));
        assert!(store.rooms().await.unwrap().is_empty(), "conversations are not listed");
        assert_eq!(db.count("SELECT count(*) FROM rooms WHERE kind = 'direct'").await, 1);
        assert!(matches!(store.open_direct(amy.clone(), amy).await, Err(StoreError::NotAllowed(_))));
        db.finish().await;
    }

    #[tokio::test]
    async fn many_nodes_opening_one_conversation_at_once_make_one() {
        let db = TestDb::new().await;
        let ann = user(&db.store, "ann").await;
        let bob = user(&db.store, "bob").await;
        let mut stores: Vec<Arc<Store>> = db.more_stores(2).await.into_iter().map(Arc::new).collect();
        stores.push(Arc::clone(&db.store));
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let store = Arc::clone(&stores[i % stores.len()]);
                let (one, other) = if i % 2 == 0 { (ann.clone(), bob.clone()) } else { (bob.clone(), ann.clone()) };
                tokio::spawn(async move { store.open_direct(one, other).await.unwrap() })
            })
            .collect();
        let mut opened = Vec::new();
        for task in tasks {
            opened.push(task.await.unwrap());
        }
        assert!(opened.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(db.count("SELECT count(*) FROM direct_chats").await, 1);
        assert_eq!(db.count("SELECT count(*) FROM rooms").await, 1);
        for store in stores.iter().take(2) {
            store.close().await;
        }
        db.finish().await;
    }

    #[tokio::test]
    async fn a_conversation_left_by_an_old_account_of_the_same_name_is_replaced() {
        let db = TestDb::new().await;
        let store = &db.store;
        let ann = user(store, "ann").await;
        let bob = user(store, "bob").await;
        // As a database from before account deletions took conversations
        // along: the old "ann" (id 999) is gone, her conversation is not.
        db.sql("INSERT INTO rooms (id, name, created_at, kind) VALUES ('dm:ann:bob', 'dm:ann:bob', 0, 'direct')", &[])
            .await;
        db.sql(
            "INSERT INTO direct_chats (room_id, user_a, user_b, last_message_id) VALUES ('dm:ann:bob', 999, $1, 5)",
            &[&bob.0.0],
        )
        .await;
        let room = RoomId::parse("dm:ann:bob").unwrap();
        db.message(5, &room, UserId(999), "from the old ann").await;
        let opened = store.open_direct(bob.clone(), ann.clone()).await.unwrap();
        assert_eq!((opened.user_a, opened.user_b, opened.last_message_id), (ann.0, bob.0, MessageId(0)));
        assert_eq!(store.direct(room).await.unwrap(), Some(opened));
        assert_eq!(db.count("SELECT count(*) FROM messages").await, 0);
        db.finish().await;
    }

    #[tokio::test]
    async fn conversations_come_newest_activity_first() {
        let db = TestDb::new().await;
        let store = &db.store;
        let me = user(store, "moi").await;
        let mut rooms = Vec::new();
        for other in ["cat", "ant", "bee"] {
            let other = user(store, other).await;
            rooms.push(store.open_direct(me.clone(), other).await.unwrap().room_id);
        }
        let unrelated = {
            let (x, y) = (user(store, "xx1").await, user(store, "yy1").await);
            store.open_direct(x, y).await.unwrap()
        };
        db.sql("UPDATE direct_chats SET last_message_id = 9 WHERE room_id = $1", &[&rooms[2].as_str()]).await;
        let order: Vec<String> =
            store.directs_of(me.0).await.unwrap().into_iter().map(|d| d.room_id.to_string()).collect();
        assert_eq!(order, vec!["dm:bee:moi", "dm:ant:moi", "dm:cat:moi"]);
        assert_eq!(store.directs_of(UserId(12345)).await.unwrap(), Vec::new());
        assert_eq!(store.directs_of(unrelated.user_a).await.unwrap(), vec![unrelated]);
        db.finish().await;
    }

    #[tokio::test]
    async fn blocks_are_one_way_idempotent_and_listed_by_name() {
        let db = TestDb::new().await;
        let store = &db.store;
        let me = user(store, "moi").await;
        let zoe = user(store, "Zoe").await;
        let bea = user(store, "bea").await;
        store.block(me.0, zoe.0).await.unwrap();
        store.block(me.0, zoe.0).await.unwrap();
        store.block(me.0, bea.0).await.unwrap();
        assert!(store.blocks(me.0, zoe.0).await.unwrap());
        assert!(!store.blocks(zoe.0, me.0).await.unwrap());
        assert_eq!(store.blocked_by(me.0).await.unwrap(), vec![name("bea"), name("Zoe")]);
        store.unblock(me.0, zoe.0).await.unwrap();
        store.unblock(me.0, zoe.0).await.unwrap();
        assert!(!store.blocks(me.0, zoe.0).await.unwrap());
        assert_eq!(store.blocked_by(me.0).await.unwrap(), vec![name("bea")]);
        db.finish().await;
    }
}
