//! Direct conversations between two users, and blocks.
//!
//! A conversation's id names its users (`dm:alice:bob`), but a username
//! can be registered again after its account is deleted; the conversation
//! therefore records the two account ids, and every check goes by them.

use chat_api::{MessageId, RoomId, UserId, UserName};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, StoreError, log, now_millis};

/// A direct conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectRecord {
    /// `dm:<a>:<b>`.
    pub room_id: RoomId,
    /// The participant whose username sorts first.
    pub user_a: UserId,
    /// The other participant.
    pub user_b: UserId,
    /// Its newest message id when it was stored (0 for none); orders
    /// `list_direct`.
    pub last_message_id: MessageId,
}

impl DirectRecord {
    /// Whether `user` takes part.
    pub fn includes(&self, user: UserId) -> bool {
        self.user_a == user || self.user_b == user
    }

    /// The participant who is not `user`.
    pub fn other(&self, user: UserId) -> UserId {
        if self.user_a == user { self.user_b } else { self.user_a }
    }
}

fn read_direct(conn: &Connection, room: &RoomId) -> Result<Option<DirectRecord>, StoreError> {
    let row = conn
        .prepare_cached("SELECT user_a, user_b, last_message_id FROM direct_chats WHERE room_id = ?1")?
        .query_row([room.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
        .optional()?;
    Ok(row.map(|(a, b, last)| DirectRecord {
        room_id: room.clone(),
        user_a: UserId(a),
        user_b: UserId(b),
        last_message_id: MessageId(last),
    }))
}

/// Deletes every direct conversation of `user` with its messages, inside
/// the caller's write (the account is being deleted).
pub(super) fn delete_conversations_of(conn: &Connection, user: UserId) -> Result<(), StoreError> {
    let rooms: Vec<String> = conn
        .prepare_cached("SELECT room_id FROM direct_chats WHERE user_a = ?1 OR user_b = ?1")?
        .query_map([user.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for room in rooms {
        let room = RoomId::parse(&room)?;
        log::delete_room_messages(conn, &room)?;
        conn.prepare_cached("DELETE FROM memberships WHERE room_id = ?1")?.execute([room.as_str()])?;
        conn.prepare_cached("DELETE FROM direct_chats WHERE room_id = ?1")?.execute([room.as_str()])?;
        conn.prepare_cached("DELETE FROM rooms WHERE id = ?1")?.execute([room.as_str()])?;
    }
    conn.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 OR blocked_id = ?1")?.execute([user.0])?;
    conn.prepare_cached("DELETE FROM memberships WHERE user_id = ?1")?.execute([user.0])?;
    conn.prepare_cached("DELETE FROM mentions WHERE user_id = ?1")?.execute([user.0])?;
    Ok(())
}

impl SqliteStore {
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
        let id = room.clone();
        let (record, created) = self
            .log
            .write(move |conn| {
                if let Some(existing) = read_direct(conn, &id)? {
                    if existing.user_a == a && existing.user_b == b {
                        return Ok((existing, false));
                    }
                    // Left over from a deleted account with the same name.
                    delete_conversations_of(conn, existing.user_a)?;
                }
                conn.prepare_cached(
                    "INSERT INTO rooms (id, name, created_at, kind) VALUES (?1, ?1, ?2, 'direct')
                     ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![id.as_str(), now_millis()])?;
                conn.prepare_cached("INSERT INTO direct_chats (room_id, user_a, user_b) VALUES (?1, ?2, ?3)")?
                    .execute(params![id.as_str(), a.0, b.0])?;
                let record = DirectRecord { room_id: id, user_a: a, user_b: b, last_message_id: MessageId(0) };
                Ok((record, true))
            })
            .await?;
        if created {
            self.log.room_created(&room);
        }
        Ok(record)
    }

    /// A conversation by id.
    pub(in crate::store) async fn direct(&self, room: RoomId) -> Result<Option<DirectRecord>, StoreError> {
        self.reader.read(move |conn| read_direct(conn, &room)).await
    }

    /// The user's conversations, most recent activity first.
    pub(in crate::store) async fn directs_of(&self, user: UserId) -> Result<Vec<DirectRecord>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT room_id, user_a, user_b, last_message_id FROM direct_chats
                      WHERE user_a = ?1 OR user_b = ?1 ORDER BY last_message_id DESC, room_id",
                )?;
                let rows = stmt.query_map([user.0], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                })?;
                let mut records = Vec::new();
                for row in rows {
                    let (room, a, b, last) = row?;
                    records.push(DirectRecord {
                        room_id: RoomId::parse(&room)?,
                        user_a: UserId(a),
                        user_b: UserId(b),
                        last_message_id: MessageId(last),
                    });
                }
                Ok(records)
            })
            .await
    }

    /// Makes `blocker` block `blocked` (again: no change).
    pub(in crate::store) async fn block(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![blocker.0, blocked.0, now_millis()])?;
                Ok(())
            })
            .await
    }

    /// Lifts a block (none: no change).
    pub(in crate::store) async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<(), StoreError> {
        self.log
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
                    .execute(params![blocker.0, blocked.0])?;
                Ok(())
            })
            .await
    }

    /// Whether `blocker` blocks `blocked`.
    pub(in crate::store) async fn blocks(&self, blocker: UserId, blocked: UserId) -> Result<bool, StoreError> {
        self.reader
            .read(move |conn| {
                Ok(conn
                    .prepare_cached("SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
                    .exists(params![blocker.0, blocked.0])?)
            })
            .await
    }

    /// The usernames `blocker` blocks, sorted.
    pub(in crate::store) async fn blocked_by(&self, blocker: UserId) -> Result<Vec<UserName>, StoreError> {
        self.reader
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT u.username FROM blocks AS b JOIN users AS u ON u.id = b.blocked_id
                      WHERE b.blocker_id = ?1 ORDER BY u.username_key",
                )?;
                let names = stmt.query_map([blocker.0], |r| r.get::<_, String>(0))?;
                let mut blocked = Vec::new();
                for name in names {
                    blocked.push(UserName::parse(&name?)?);
                }
                Ok(blocked)
            })
            .await
    }
}
