//! Rooms (PostgreSQL). Direct conversations are rooms too (kind `direct`);
//! nothing here lists or counts them.

use chat_api::{RoomId, RoomName, RoomTopic, UserId};
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

use super::PgStore;
use crate::store::{RoomCreation, RoomRecord, StoreError, now_millis};

/// Held while a room is created within the limit: the count of rooms and
/// the insert must see no other creation in between, on any node. Any
/// number the nodes agree on; only this server takes this lock.
const ROOM_CREATION_LOCK: i64 = 0x6368_6174_726f_6f6d;

/// Waits for the message commit in progress, and holds later ones off
/// until the caller's transaction ends. Every message commit takes the
/// `message_counter` row's lock (see `log`), so a transaction that deletes
/// rooms or messages after taking it sees every message stored in them,
/// and no message lands in a room it has deleted: what SQLite's single
/// writer gives for free. Taken first in a transaction, before any other
/// lock a message commit might wait for.
pub(super) async fn lock_message_commits(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let stmt = tx.prepare_cached("SELECT last_id FROM message_counter FOR UPDATE").await?;
    tx.query_one(&stmt, &[]).await?;
    Ok(())
}

/// Deletes rooms (or direct conversations) with their messages, those
/// messages' reactions and mentions, their read markers and participants,
/// inside the caller's transaction, which holds [`lock_message_commits`].
/// Returns how many rooms there were.
pub(super) async fn delete_rooms(tx: &Transaction<'_>, rooms: &[String]) -> Result<u64, StoreError> {
    for sql in [
        "DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE room_id = ANY($1))",
        "DELETE FROM mentions WHERE room_id = ANY($1)",
        "DELETE FROM messages WHERE room_id = ANY($1)",
        "DELETE FROM memberships WHERE room_id = ANY($1)",
        "DELETE FROM direct_chats WHERE room_id = ANY($1)",
    ] {
        let stmt = tx.prepare_cached(sql).await?;
        tx.execute(&stmt, &[&rooms]).await?;
    }
    let stmt = tx.prepare_cached("DELETE FROM rooms WHERE id = ANY($1)").await?;
    Ok(tx.execute(&stmt, &[&rooms]).await?)
}

/// Whether room `id` holds any message.
async fn has_messages(client: &impl GenericClient, id: &RoomId) -> Result<bool, StoreError> {
    let stmt = client.prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE room_id = $1)").await?;
    Ok(client.query_one(&stmt, &[&id.as_str()]).await?.try_get(0)?)
}

/// A room from `name, topic, created_by`.
fn room_from_row(id: RoomId, row: &Row) -> Result<RoomRecord, StoreError> {
    let name: &str = row.try_get(0)?;
    let topic: Option<&str> = row.try_get(1)?;
    let created_by: Option<i64> = row.try_get(2)?;
    Ok(RoomRecord {
        id,
        name: RoomName::parse(name)?,
        topic: topic.map(RoomTopic::parse).transpose()?,
        created_by: created_by.map(UserId),
    })
}

async fn read_room(client: &impl GenericClient, id: &RoomId) -> Result<Option<RoomRecord>, StoreError> {
    let stmt =
        client.prepare_cached("SELECT name, topic, created_by FROM rooms WHERE id = $1 AND kind = 'room'").await?;
    client.query_opt(&stmt, &[&id.as_str()]).await?.map(|row| room_from_row(id.clone(), &row)).transpose()
}

impl PgStore {
    /// Creates the room unless a room with its id exists, whatever the
    /// number of rooms (start-up rooms). Returns the room as stored and
    /// whether this call created it.
    pub(in crate::store) async fn create_room(&self, name: RoomName) -> Result<(RoomRecord, bool), StoreError> {
        match self.insert_room(name, None, None).await? {
            RoomCreation::Created(room) => Ok((room, true)),
            RoomCreation::Existed(room) => Ok((room, false)),
            RoomCreation::AtLimit => unreachable!("no limit was given"),
        }
    }

    /// Creates the room for `creator` unless a room with its id exists or
    /// `max_rooms` rooms exist, even when several nodes create rooms at
    /// once.
    pub(in crate::store) async fn create_room_within(
        &self,
        name: RoomName,
        max_rooms: usize,
        creator: UserId,
    ) -> Result<RoomCreation, StoreError> {
        self.insert_room(name, Some(max_rooms), Some(creator)).await
    }

    async fn insert_room(
        &self,
        name: RoomName,
        max_rooms: Option<usize>,
        creator: Option<UserId>,
    ) -> Result<RoomCreation, StoreError> {
        let max_rooms = max_rooms.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let id = name.id();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Under READ COMMITTED two transactions could each count one room
        // short of the limit and both insert. Creations take turns instead;
        // each statement after the lock sees the rooms the previous holder
        // committed.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ROOM_CREATION_LOCK]).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO rooms (id, name, created_at, created_by) SELECT $1, $2, $3, $5
                  WHERE (SELECT count(*) FROM rooms WHERE kind = 'room') < $4
                 ON CONFLICT (id) DO NOTHING
                 RETURNING name, topic, created_by",
            )
            .await?;
        let inserted = tx
            .query_opt(&stmt, &[&id.as_str(), &name.as_str(), &now_millis(), &max_rooms, &creator.map(|u| u.0)])
            .await?;
        let created = match inserted {
            Some(row) => RoomCreation::Created(room_from_row(id, &row)?),
            None => match read_room(&tx, &id).await? {
                Some(room) => RoomCreation::Existed(room),
                None => RoomCreation::AtLimit,
            },
        };
        tx.commit().await?;
        if let RoomCreation::Created(room) = &created {
            self.log().room_created(&room.id);
        }
        Ok(created)
    }

    /// Every room (not direct conversations), sorted by id.
    pub(in crate::store) async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let client = self.client().await?;
        // Byte order, as SQLite sorts, whatever the database's collation.
        let stmt = client
            .prepare_cached(
                "SELECT name, topic, created_by, id FROM rooms WHERE kind = 'room' ORDER BY id COLLATE \"C\"",
            )
            .await?;
        let mut rooms = Vec::new();
        for row in client.query(&stmt, &[]).await? {
            let id: &str = row.try_get(3)?;
            rooms.push(room_from_row(RoomId::parse(id)?, &row)?);
        }
        Ok(rooms)
    }

    /// Sets (or, empty, clears) a room's topic. Returns the room as stored,
    /// or `None` if it does not exist.
    pub(in crate::store) async fn set_topic(
        &self,
        id: RoomId,
        topic: RoomTopic,
    ) -> Result<Option<RoomRecord>, StoreError> {
        let topic = (!topic.is_empty()).then(|| topic.as_str().to_owned());
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE rooms SET topic = $2 WHERE id = $1 AND kind = 'room' RETURNING name, topic, created_by",
            )
            .await?;
        client.query_opt(&stmt, &[&id.as_str(), &topic]).await?.map(|row| room_from_row(id, &row)).transpose()
    }

    /// Whether anything was ever written in the room (and is still stored).
    pub(in crate::store) async fn room_has_messages(&self, id: RoomId) -> Result<bool, StoreError> {
        has_messages(&self.client().await?, &id).await
    }

    /// Deletes the room only if no message is stored in it, checked with
    /// message commits held off, so a message that made it in first keeps
    /// its room. Returns whether it was deleted.
    pub(in crate::store) async fn delete_room_if_silent(&self, id: RoomId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_message_commits(&tx).await?;
        if has_messages(&tx, &id).await? {
            return Ok(false);
        }
        let stmt = tx.prepare_cached("DELETE FROM rooms WHERE id = $1 AND kind = 'room'").await?;
        let deleted = tx.execute(&stmt, &[&id.as_str()]).await?;
        let stmt = tx.prepare_cached("DELETE FROM memberships WHERE room_id = $1").await?;
        tx.execute(&stmt, &[&id.as_str()]).await?;
        tx.commit().await?;
        if deleted > 0 {
            self.log().room_deleted(&id);
        }
        Ok(deleted > 0)
    }

    /// Deletes a room (or direct conversation) with its messages, search
    /// entries and read markers. Returns false if it did not exist.
    pub(in crate::store) async fn delete_room(&self, id: RoomId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_message_commits(&tx).await?;
        let deleted = delete_rooms(&tx, &[id.to_string()]).await?;
        tx.commit().await?;
        self.log().room_deleted(&id);
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_api::MessageId;

    use super::*;
    use crate::store::postgres::test_support::TestDb;

    fn name(n: &str) -> RoomName {
        RoomName::parse(n).unwrap()
    }

    #[tokio::test]
    async fn the_first_spelling_of_a_room_is_kept() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (room, created) = store.create_room(name("Lobby")).await.unwrap();
        assert!(created);
        assert_eq!(room.name.as_str(), "Lobby");
        assert_eq!(room.created_by, None);
        let (again, created) = store.create_room(name("LOBBY")).await.unwrap();
        assert!(!created);
        assert_eq!(again.name.as_str(), "Lobby");
        assert_eq!(store.rooms().await.unwrap(), vec![room]);
        db.finish().await;
    }

    #[tokio::test]
    async fn rooms_beyond_the_limit_are_not_created_but_existing_ones_are_found() {
        let db = TestDb::new().await;
        let store = &db.store;
        let a = store.create_room_within(name("a"), 2, UserId(1)).await.unwrap();
        let RoomCreation::Created(a) = a else { panic!("{a:?}") };
        assert_eq!(a.created_by, Some(UserId(1)));
        assert!(matches!(store.create_room_within(name("b"), 2, UserId(1)).await.unwrap(), RoomCreation::Created(_)));
        assert_eq!(store.create_room_within(name("c"), 2, UserId(1)).await.unwrap(), RoomCreation::AtLimit);
        assert_eq!(store.create_room_within(name("A"), 2, UserId(7)).await.unwrap(), RoomCreation::Existed(a));
        assert_eq!(store.rooms().await.unwrap().len(), 2);
        db.finish().await;
    }

    #[tokio::test]
    async fn direct_conversations_neither_count_towards_the_limit_nor_are_listed() {
        let db = TestDb::new().await;
        let store = &db.store;
        db.sql("INSERT INTO rooms (id, name, created_at, kind) VALUES ('dm:a:b', 'dm:a:b', 0, 'direct')", &[]).await;
        assert!(matches!(store.create_room_within(name("a"), 1, UserId(1)).await.unwrap(), RoomCreation::Created(_)));
        assert_eq!(store.rooms().await.unwrap().len(), 1);
        db.finish().await;
    }

    #[tokio::test]
    async fn many_nodes_creating_rooms_at_once_never_pass_the_limit() {
        let db = TestDb::new().await;
        let mut stores: Vec<Arc<crate::store::Store>> = db.more_stores(2).await.into_iter().map(Arc::new).collect();
        stores.push(Arc::clone(&db.store));
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let store = Arc::clone(&stores[i % stores.len()]);
                // Some names twice, in another case.
                let room = if i % 3 == 0 { format!("Room{}", i / 3) } else { format!("room{i}") };
                tokio::spawn(async move { store.create_room_within(name(&room), 7, UserId(1)).await.unwrap() })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            if let RoomCreation::Created(_) = task.await.unwrap() {
                created += 1;
            }
        }
        assert_eq!(created, 7);
        assert_eq!(db.store.rooms().await.unwrap().len(), 7);
        for store in stores.iter().take(2) {
            store.close().await;
        }
        db.finish().await;
    }

    #[tokio::test]
    async fn rooms_are_sorted_by_id_byte_for_byte() {
        let db = TestDb::new().await;
        let store = &db.store;
        for room in ["b_x", "B-y", "a", "bx", "_z", "b-x", "1"] {
            store.create_room(name(room)).await.unwrap();
        }
        let ids: Vec<String> = store.rooms().await.unwrap().into_iter().map(|r| r.id.to_string()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        db.finish().await;
    }

    #[tokio::test]
    async fn a_topic_is_set_and_cleared_on_existing_rooms_only() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (room, _) = store.create_room(name("Topics")).await.unwrap();
        let set = store.set_topic(room.id.clone(), RoomTopic::parse("cats only").unwrap()).await.unwrap().unwrap();
        assert_eq!(set.topic.as_ref().map(RoomTopic::as_str), Some("cats only"));
        assert_eq!(set.name.as_str(), "Topics");
        assert_eq!(store.rooms().await.unwrap(), vec![set]);
        let cleared = store.set_topic(room.id.clone(), RoomTopic::parse("").unwrap()).await.unwrap().unwrap();
        assert_eq!(cleared.topic, None);
        assert_eq!(db.count("SELECT count(*) FROM rooms WHERE topic IS NULL").await, 1);
        let missing = RoomId::parse("missing").unwrap();
        assert!(store.set_topic(missing, RoomTopic::parse("x").unwrap()).await.unwrap().is_none());
        db.finish().await;
    }

    #[tokio::test]
    async fn only_a_room_without_messages_is_deleted_as_silent() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (quiet, _) = store.create_room(name("quiet")).await.unwrap();
        let (used, _) = store.create_room(name("used")).await.unwrap();
        store.remember_room(UserId(1), quiet.id.clone(), MessageId(0)).await.unwrap();
        db.message(1, &used.id, UserId(1), "hello").await;
        assert!(!store.room_has_messages(quiet.id.clone()).await.unwrap());
        assert!(store.room_has_messages(used.id.clone()).await.unwrap());
        assert!(!store.delete_room_if_silent(used.id.clone()).await.unwrap());
        assert!(store.delete_room_if_silent(quiet.id.clone()).await.unwrap());
        assert!(!store.delete_room_if_silent(quiet.id.clone()).await.unwrap(), "already gone");
        assert_eq!(store.rooms().await.unwrap(), vec![used]);
        assert_eq!(store.read_marker(UserId(1), quiet.id).await.unwrap(), None);
        db.finish().await;
    }

    #[tokio::test]
    async fn deleting_a_room_takes_its_messages_reactions_mentions_and_markers_only() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (doomed, _) = store.create_room(name("doomed")).await.unwrap();
        let (kept, _) = store.create_room(name("kept")).await.unwrap();
        db.message(1, &doomed.id, UserId(1), "one").await;
        db.message(2, &kept.id, UserId(1), "two").await;
        db.message(3, &doomed.id, UserId(1), "three").await;
        for message in [1_i64, 2] {
            db.sql(
                "INSERT INTO reactions (message_id, user_id, username, emoji) VALUES ($1, 2, 'bob', 'x')",
                &[&message],
            )
            .await;
        }
        db.sql("INSERT INTO mentions (user_id, room_id, message_id) VALUES (2, 'doomed', 3), (2, 'kept', 2)", &[])
            .await;
        store.remember_room(UserId(2), doomed.id.clone(), MessageId(0)).await.unwrap();
        store.remember_room(UserId(2), kept.id.clone(), MessageId(0)).await.unwrap();

        assert!(store.delete_room(doomed.id.clone()).await.unwrap());
        assert!(!store.delete_room(doomed.id.clone()).await.unwrap());

        assert_eq!(store.rooms().await.unwrap(), vec![kept.clone()]);
        assert!(!store.room_has_messages(doomed.id.clone()).await.unwrap());
        assert_eq!(db.count("SELECT count(*) FROM messages").await, 1);
        assert_eq!(db.count("SELECT count(*) FROM reactions WHERE message_id = 2").await, 1);
        assert_eq!(db.count("SELECT count(*) FROM reactions").await, 1);
        assert_eq!(db.count("SELECT count(*) FROM mentions").await, 1);
        assert_eq!(store.read_marker(UserId(2), doomed.id).await.unwrap(), None);
        assert_eq!(store.read_marker(UserId(2), kept.id).await.unwrap(), Some(MessageId(0)));
        db.finish().await;
    }

    #[tokio::test]
    async fn a_room_deletion_waits_for_the_message_commit_in_progress() {
        let db = TestDb::new().await;
        let store = Arc::clone(&db.store);
        let (room, _) = store.create_room(name("busy")).await.unwrap();
        // A message commit as the log makes one: the counter's lock first.
        let mut writer = crate::store::postgres::test_support::connect(&db.name).await;
        let commit = writer.transaction().await.unwrap();
        commit.execute("UPDATE message_counter SET last_id = last_id + 1", &[]).await.unwrap();
        commit
            .execute(
                "INSERT INTO messages (id, room_id, user_id, username, text, created_at)
                 VALUES (1, 'busy', 1, 'someone', 'just in', 0)",
                &[],
            )
            .await
            .unwrap();
        let id = room.id.clone();
        let deleting = tokio::spawn(async move { store.delete_room_if_silent(id).await.unwrap() });
        db.wait_for_lock_waiters(1).await;
        assert!(!deleting.is_finished(), "the deletion must wait for the commit");
        commit.commit().await.unwrap();
        assert!(!deleting.await.unwrap(), "the message made it in first and keeps its room");
        assert_eq!(db.store.rooms().await.unwrap(), vec![room]);
        db.finish().await;
    }
}
