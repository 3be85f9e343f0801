//! Each user's rooms (joined and not left) and read markers, for rooms
//! and direct conversations alike.

use chat_api::{MessageId, RoomId, RoomName, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError, log};

/// Unread counts stop here: a number this large means "lots", and counting
/// further would cost a read of every message.
pub(in crate::store) const MAX_COUNTED: u64 = 9_999;

/// One of a user's rooms, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    /// The room.
    pub room_id: RoomId,
    /// Its name (for a direct conversation, its id).
    pub room_name: String,
    /// The room's newest message, if any.
    pub last_message_id: Option<MessageId>,
    /// The user's read marker (`None` before any).
    pub last_read: Option<MessageId>,
    /// Messages after the marker not written by the user (at most
    /// [`MAX_COUNTED`]).
    pub unread: u64,
    /// Those that mention the user.
    pub mentions: u64,
}

fn counts(
    conn: &Connection,
    user: UserId,
    room: RoomId,
    name: String,
    last_read: i64,
) -> Result<MembershipRecord, StoreError> {
    let marker = MessageId(last_read);
    let unread = log::count_unread(conn, &room, marker, user, MAX_COUNTED)?;
    let mentions: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM mentions WHERE user_id = ?1 AND room_id = ?2 AND message_id > ?3
              LIMIT ?4)",
        )?
        .query_row(params![user.0, room.as_str(), last_read, MAX_COUNTED as i64], |r| r.get(0))?;
    Ok(MembershipRecord {
        last_message_id: log::room_last_message(conn, &room)?,
        room_id: room,
        room_name: name,
        last_read: (last_read > 0).then_some(marker),
        unread,
        mentions: u64::try_from(mentions).unwrap_or(0),
    })
}

impl SqliteStore {
    /// Adds a room to the user's rooms, with everything up to `read_upto`
    /// counted as read; a room already there keeps its marker.
    pub(in crate::store) async fn remember_room(
        &self,
        user: UserId,
        room: RoomId,
        read_upto: MessageId,
    ) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO memberships (user_id, room_id, last_read) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![user.0, room.as_str(), read_upto.0])?;
                Ok(())
            })
            .await
    }

    /// Removes a room from the user's rooms (`leave_room`).
    pub(in crate::store) async fn forget_room(&self, user: UserId, room: RoomId) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM memberships WHERE user_id = ?1 AND room_id = ?2")?
                    .execute(params![user.0, room.as_str()])?;
                Ok(())
            })
            .await
    }

    /// Moves the user's marker in `room` forward to `upto`, adding the room
    /// to their rows if needed. Returns whether it moved.
    pub(in crate::store) async fn mark_read(
        &self,
        user: UserId,
        room: RoomId,
        upto: MessageId,
    ) -> Result<bool, StoreError> {
        self.log
            .write(move |conn| {
                let moved = conn
                    .prepare_cached(
                        "INSERT INTO memberships (user_id, room_id, last_read) VALUES (?1, ?2, ?3)
                         ON CONFLICT (user_id, room_id) DO UPDATE SET last_read = excluded.last_read
                          WHERE excluded.last_read > memberships.last_read",
                    )?
                    .execute(params![user.0, room.as_str(), upto.0])?;
                Ok(moved > 0)
            })
            .await
    }

    /// The user's marker in a room, if they have one.
    pub(in crate::store) async fn read_marker(
        &self,
        user: UserId,
        room: RoomId,
    ) -> Result<Option<MessageId>, StoreError> {
        self.reader
            .read(move |conn| {
                let marker: Option<i64> = conn
                    .prepare_cached("SELECT last_read FROM memberships WHERE user_id = ?1 AND room_id = ?2")?
                    .query_row(params![user.0, room.as_str()], |r| r.get(0))
                    .optional()?;
                Ok(marker.map(MessageId))
            })
            .await
    }

    /// The user's rooms (not direct conversations) with their counts, by id.
    pub(in crate::store) async fn my_rooms(
        &self,
        user: UserId,
    ) -> Result<Vec<(RoomName, MembershipRecord)>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT m.room_id, r.name, m.last_read FROM memberships AS m JOIN rooms AS r ON r.id = m.room_id
                      WHERE m.user_id = ?1 AND r.kind = 'room' ORDER BY m.room_id",
                )?;
                let rows = stmt
                    .query_map([user.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut rooms = Vec::new();
                for (room, name, last_read) in rows {
                    let record = counts(conn, user, RoomId::parse(&room)?, name.clone(), last_read)?;
                    rooms.push((RoomName::parse(&name)?, record));
                }
                Ok(rooms)
            })
            .await
    }

    /// Counts for one room or conversation of the user's, as
    /// [`Store::my_rooms`] gives them.
    pub(in crate::store) async fn room_counts(
        &self,
        user: UserId,
        room: RoomId,
    ) -> Result<MembershipRecord, StoreError> {
        self.reader
            .read(move |conn| {
                let last_read: Option<i64> = conn
                    .prepare_cached("SELECT last_read FROM memberships WHERE user_id = ?1 AND room_id = ?2")?
                    .query_row(params![user.0, room.as_str()], |r| r.get(0))
                    .optional()?;
                let name = room.to_string();
                counts(conn, user, room, name, last_read.unwrap_or(0))
            })
            .await
    }
}
