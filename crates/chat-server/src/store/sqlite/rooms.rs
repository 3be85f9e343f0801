//! Rooms. Direct conversations are rooms too (kind `direct`), so that
//! their messages are stored, filed and deleted like any room's; nothing
//! here lists or counts them.

use chat_api::{RoomId, RoomName, RoomTopic, UserId};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, StoreError, log, now_millis};

/// A stored room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    /// Canonical id.
    pub id: RoomId,
    /// Name as first spelled.
    pub name: RoomName,
    /// Its topic, if set.
    pub topic: Option<RoomTopic>,
    /// Who created it (none for start-up rooms).
    pub created_by: Option<UserId>,
}

/// What [`Store::create_room_within`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomCreation {
    /// The room is new.
    Created(RoomRecord),
    /// A room with its id existed; this is it as stored.
    Existed(RoomRecord),
    /// No room had its id, and the server already holds its most rooms.
    AtLimit,
}

fn read_room(conn: &rusqlite::Connection, id: &RoomId) -> Result<Option<RoomRecord>, StoreError> {
    let row = conn
        .prepare_cached("SELECT name, topic, created_by FROM rooms WHERE id = ?1 AND kind = 'room'")?
        .query_row([id.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<i64>>(2)?))
        })
        .optional()?;
    let Some((name, topic, created_by)) = row else { return Ok(None) };
    Ok(Some(RoomRecord {
        id: id.clone(),
        name: RoomName::parse(&name)?,
        topic: topic.map(|t| RoomTopic::parse(&t)).transpose()?,
        created_by: created_by.map(UserId),
    }))
}

impl SqliteStore {
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
    /// `max_rooms` rooms exist. The count and the insert are one statement
    /// in the writer, so concurrent creations cannot overshoot the limit.
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
        let created = self
            .log
            .write(move |conn| {
                let id = name.id();
                let created = conn
                    .prepare_cached(
                        "INSERT INTO rooms (id, name, created_at, created_by) SELECT ?1, ?2, ?3, ?5
                          WHERE (SELECT COUNT(*) FROM rooms WHERE kind = 'room') < ?4 ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![id.as_str(), name.as_str(), now_millis(), max_rooms, creator.map(|u| u.0)])?;
                let Some(room) = read_room(conn, &id)? else { return Ok(RoomCreation::AtLimit) };
                Ok(if created > 0 { RoomCreation::Created(room) } else { RoomCreation::Existed(room) })
            })
            .await?;
        if let RoomCreation::Created(room) = &created {
            self.log.room_created(&room.id);
        }
        Ok(created)
    }

    /// Every room (not direct conversations), sorted by id.
    pub(in crate::store) async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        self.reader
            .read(|conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT id, name, topic, created_by FROM rooms WHERE kind = 'room' ORDER BY id")?;
                let rows = stmt.query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })?;
                let mut rooms = Vec::new();
                for row in rows {
                    let (id, name, topic, created_by) = row?;
                    rooms.push(RoomRecord {
                        id: RoomId::parse(&id)?,
                        name: RoomName::parse(&name)?,
                        topic: topic.map(|t| RoomTopic::parse(&t)).transpose()?,
                        created_by: created_by.map(UserId),
                    });
                }
                Ok(rooms)
            })
            .await
    }

    /// Sets (or, empty, clears) a room's topic. Returns the room as stored,
    /// or `None` if it does not exist.
    pub(in crate::store) async fn set_topic(
        &self,
        id: RoomId,
        topic: RoomTopic,
    ) -> Result<Option<RoomRecord>, StoreError> {
        self.log
            .write(move |conn| {
                let topic = (!topic.is_empty()).then(|| topic.as_str().to_owned());
                conn.prepare_cached("UPDATE rooms SET topic = ?2 WHERE id = ?1 AND kind = 'room'")?
                    .execute(params![id.as_str(), topic])?;
                read_room(conn, &id)
            })
            .await
    }

    /// Whether anything was ever written in the room (and is still stored).
    pub(in crate::store) async fn room_has_messages(&self, id: RoomId) -> Result<bool, StoreError> {
        self.reader.read(move |conn| log::room_has_messages(conn, &id)).await
    }

    /// Deletes the room only if no message is stored in it, checked in the
    /// same job, so a message that made it in first keeps its room.
    /// Returns whether it was deleted.
    pub(in crate::store) async fn delete_room_if_silent(&self, id: RoomId) -> Result<bool, StoreError> {
        let deleted = self
            .log
            .write(move |conn| {
                if log::room_has_messages(conn, &id)? {
                    return Ok(None);
                }
                let deleted =
                    conn.prepare_cached("DELETE FROM rooms WHERE id = ?1 AND kind = 'room'")?.execute([id.as_str()])?;
                conn.prepare_cached("DELETE FROM memberships WHERE room_id = ?1")?.execute([id.as_str()])?;
                Ok((deleted > 0).then_some(id))
            })
            .await?;
        if let Some(id) = &deleted {
            self.log.room_deleted(id);
        }
        Ok(deleted.is_some())
    }

    /// Deletes a room (or direct conversation) with its messages, search
    /// entries and read markers. Returns false if it did not exist.
    pub(in crate::store) async fn delete_room(&self, id: RoomId) -> Result<bool, StoreError> {
        let room = id.clone();
        let deleted = self
            .log
            .write(move |conn| {
                log::delete_room_messages(conn, &room)?;
                conn.prepare_cached("DELETE FROM memberships WHERE room_id = ?1")?.execute([room.as_str()])?;
                conn.prepare_cached("DELETE FROM direct_chats WHERE room_id = ?1")?.execute([room.as_str()])?;
                let deleted = conn.prepare_cached("DELETE FROM rooms WHERE id = ?1")?.execute([room.as_str()])?;
                Ok(deleted > 0)
            })
            .await?;
        self.log.room_deleted(&id);
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{append, temp_store};

    #[tokio::test]
    async fn the_first_spelling_of_a_room_is_kept() {
        let (_dir, store) = temp_store();
        let (room, created) = store.create_room(RoomName::parse("Lobby").unwrap()).await.unwrap();
        assert!(created);
        assert_eq!(room.name.as_str(), "Lobby");
        let (again, created) = store.create_room(RoomName::parse("LOBBY").unwrap()).await.unwrap();
        assert!(!created);
        assert_eq!(again.name.as_str(), "Lobby");
        assert_eq!(store.rooms().await.unwrap(), vec![room]);
    }

    #[tokio::test]
    async fn rooms_beyond_the_limit_are_not_created_but_existing_ones_are_found() {
        let (_dir, store) = temp_store();
        let name = |n: &str| RoomName::parse(n).unwrap();
        assert!(matches!(store.create_room_within(name("a"), 2, UserId(1)).await.unwrap(), RoomCreation::Created(_)));
        assert!(matches!(store.create_room_within(name("b"), 2, UserId(1)).await.unwrap(), RoomCreation::Created(_)));
        assert_eq!(store.create_room_within(name("c"), 2, UserId(1)).await.unwrap(), RoomCreation::AtLimit);
        assert!(matches!(store.create_room_within(name("A"), 2, UserId(1)).await.unwrap(), RoomCreation::Existed(_)));
        assert_eq!(store.rooms().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn only_a_room_without_messages_is_deleted_as_silent() {
        let (_dir, store) = temp_store();
        let (quiet, _) = store.create_room(RoomName::parse("quiet").unwrap()).await.unwrap();
        let (used, _) = store.create_room(RoomName::parse("used").unwrap()).await.unwrap();
        append(&store, "used", "hello").await.unwrap();
        assert!(!store.room_has_messages(quiet.id.clone()).await.unwrap());
        assert!(store.room_has_messages(used.id.clone()).await.unwrap());
        assert!(!store.delete_room_if_silent(used.id.clone()).await.unwrap());
        assert!(store.delete_room_if_silent(quiet.id.clone()).await.unwrap());
        assert!(!store.delete_room_if_silent(quiet.id).await.unwrap(), "already gone");
        assert_eq!(store.rooms().await.unwrap(), vec![used]);
    }
}
