//! Rooms.

use chat_api::{RoomId, RoomName};
use rusqlite::params;

use super::{Store, StoreError, now_millis, room_index::DELETE_ROOM_MESSAGES};

/// A stored room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    /// Canonical id.
    pub id: RoomId,
    /// Name as first spelled.
    pub name: RoomName,
}

impl Store {
    /// Creates the room unless a room with its id exists. Returns the room
    /// as stored and whether this call created it.
    pub async fn create_room(&self, name: RoomName) -> Result<(RoomRecord, bool), StoreError> {
        self.writer
            .write(move |conn| {
                let id = name.id();
                let created = conn
                    .prepare_cached(
                        "INSERT INTO rooms (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![id.as_str(), name.as_str(), now_millis()])?;
                let stored: String = conn
                    .prepare_cached("SELECT name FROM rooms WHERE id = ?1")?
                    .query_row([id.as_str()], |r| r.get(0))?;
                Ok((RoomRecord { id, name: RoomName::parse(&stored)? }, created > 0))
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
    use crate::store::test_support::temp_store;

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
}
