//! Rooms.

use chat_api::{RoomId, RoomName};
use rusqlite::{OptionalExtension, params};

use super::{
    Store, StoreError, now_millis,
    room_index::{DELETE_ROOM_MESSAGES, ROOM_HAS_MESSAGES},
};

/// A stored room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    /// Canonical id.
    pub id: RoomId,
    /// Name as first spelled.
    pub name: RoomName,
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

impl Store {
    /// Creates the room unless a room with its id exists, whatever the
    /// number of rooms (start-up rooms). Returns the room as stored and
    /// whether this call created it.
    pub async fn create_room(&self, name: RoomName) -> Result<(RoomRecord, bool), StoreError> {
        match self.insert_room(name, None).await? {
            RoomCreation::Created(room) => Ok((room, true)),
            RoomCreation::Existed(room) => Ok((room, false)),
            RoomCreation::AtLimit => unreachable!("no limit was given"),
        }
    }

    /// Creates the room unless a room with its id exists or `max_rooms`
    /// rooms exist. The count and the insert are one statement in the
    /// writer, so concurrent creations cannot overshoot the limit.
    pub async fn create_room_within(&self, name: RoomName, max_rooms: usize) -> Result<RoomCreation, StoreError> {
        self.insert_room(name, Some(max_rooms)).await
    }

    async fn insert_room(&self, name: RoomName, max_rooms: Option<usize>) -> Result<RoomCreation, StoreError> {
        let max_rooms = max_rooms.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.writer
            .write(move |conn| {
                let id = name.id();
                let created = conn
                    .prepare_cached(
                        "INSERT INTO rooms (id, name, created_at) SELECT ?1, ?2, ?3
                          WHERE (SELECT COUNT(*) FROM rooms) < ?4 ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![id.as_str(), name.as_str(), now_millis(), max_rooms])?;
                let stored: Option<String> = conn
                    .prepare_cached("SELECT name FROM rooms WHERE id = ?1")?
                    .query_row([id.as_str()], |r| r.get(0))
                    .optional()?;
                let Some(stored) = stored else { return Ok(RoomCreation::AtLimit) };
                let room = RoomRecord { id, name: RoomName::parse(&stored)? };
                Ok(if created > 0 { RoomCreation::Created(room) } else { RoomCreation::Existed(room) })
            })
            .await
    }

    /// Every room, sorted by id.
    pub async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError> {
        self.reader
            .read(|conn| {
                let mut stmt = conn.prepare_cached("SELECT id, name FROM rooms ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
                let mut rooms = Vec::new();
                for row in rows {
                    let (id, name) = row?;
                    rooms.push(RoomRecord { id: RoomId::parse(&id)?, name: RoomName::parse(&name)? });
                }
                Ok(rooms)
            })
            .await
    }

    /// Whether anything was ever written in the room (and is still stored).
    pub async fn room_has_messages(&self, id: RoomId) -> Result<bool, StoreError> {
        self.reader
            .read(move |conn| Ok(conn.prepare_cached(ROOM_HAS_MESSAGES)?.query_row([id.as_str()], |r| r.get(0))?))
            .await
    }

    /// Deletes the room only if no message is stored in it, checked in the
    /// same job, so a message that made it in first keeps its room.
    /// Returns whether it was deleted.
    pub async fn delete_room_if_silent(&self, id: RoomId) -> Result<bool, StoreError> {
        self.writer
            .write(move |conn| {
                let written: bool = conn.prepare_cached(ROOM_HAS_MESSAGES)?.query_row([id.as_str()], |r| r.get(0))?;
                if written {
                    return Ok(false);
                }
                let deleted = conn.prepare_cached("DELETE FROM rooms WHERE id = ?1")?.execute([id.as_str()])?;
                Ok(deleted > 0)
            })
            .await
    }

    /// Deletes a room and its messages. Returns false if it did not exist.
    pub async fn delete_room(&self, id: RoomId) -> Result<bool, StoreError> {
        self.writer
            .write(move |conn| {
                for sql in DELETE_ROOM_MESSAGES {
                    conn.prepare_cached(sql)?.execute([id.as_str()])?;
                }
                let deleted = conn.prepare_cached("DELETE FROM rooms WHERE id = ?1")?.execute([id.as_str()])?;
                Ok(deleted > 0)
            })
            .await
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
        assert!(matches!(store.create_room_within(name("a"), 2).await.unwrap(), RoomCreation::Created(_)));
        assert!(matches!(store.create_room_within(name("b"), 2).await.unwrap(), RoomCreation::Created(_)));
        assert_eq!(store.create_room_within(name("c"), 2).await.unwrap(), RoomCreation::AtLimit);
        assert!(matches!(store.create_room_within(name("A"), 2).await.unwrap(), RoomCreation::Existed(_)));
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
