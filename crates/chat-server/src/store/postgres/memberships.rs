//! Each user's rooms (joined and not left) and read markers, for rooms
//! and direct conversations alike (PostgreSQL).

use chat_api::{MessageId, RoomId, RoomName, UserId};
use tokio_postgres::Row;

use super::PgStore;
use crate::store::{MembershipRecord, StoreError, sqlite::memberships::MAX_COUNTED};

/// A room's counts for user `$1` from its read marker `last_read`, as
/// `last_message, unread, mentions`: the newest message; messages after the
/// marker not written by the user; those mentioning the user. Each count
/// stops at [`MAX_COUNTED`] (`$2`): counting further would read every
/// message.
macro_rules! counts_of {
    ($room:literal, $last_read:literal) => {
        concat!(
            "(SELECT max(id) FROM messages WHERE room_id = ",
            $room,
            "),
             (SELECT count(*) FROM (SELECT 1 FROM messages
                WHERE room_id = ",
            $room,
            " AND id > ",
            $last_read,
            " AND user_id <> $1 LIMIT $2) AS unread),
             (SELECT count(*) FROM (SELECT 1 FROM mentions
                WHERE user_id = $1 AND room_id = ",
            $room,
            " AND message_id > ",
            $last_read,
            " LIMIT $2) AS mentioned)"
        )
    };
}

/// The record from `room_id, name, last_read` and then [`counts_of!`].
fn membership_from_row(row: &Row) -> Result<MembershipRecord, StoreError> {
    let room: &str = row.try_get(0)?;
    let last_read: i64 = row.try_get(2)?;
    let last_message: Option<i64> = row.try_get(3)?;
    let unread: i64 = row.try_get(4)?;
    let mentions: i64 = row.try_get(5)?;
    Ok(MembershipRecord {
        room_id: RoomId::parse(room)?,
        room_name: row.try_get(1)?,
        last_message_id: last_message.map(MessageId),
        last_read: (last_read > 0).then_some(MessageId(last_read)),
        unread: u64::try_from(unread).unwrap_or(0),
        mentions: u64::try_from(mentions).unwrap_or(0),
    })
}

fn max_counted() -> i64 {
    i64::try_from(MAX_COUNTED).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Adds a room to the user's rooms, with everything up to `read_upto`
    /// counted as read; a room already there keeps its marker.
    pub(in crate::store) async fn remember_room(
        &self,
        user: UserId,
        room: RoomId,
        read_upto: MessageId,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO memberships (user_id, room_id, last_read) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        client.execute(&stmt, &[&user.0, &room.as_str(), &read_upto.0]).await?;
        Ok(())
    }

    /// Removes a room from the user's rooms (`leave_room`).
    pub(in crate::store) async fn forget_room(&self, user: UserId, room: RoomId) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached("DELETE FROM memberships WHERE user_id = $1 AND room_id = $2").await?;
        client.execute(&stmt, &[&user.0, &room.as_str()]).await?;
        Ok(())
    }

    /// Moves the user's marker in `room` forward to `upto`, adding the room
    /// to their rows if needed. Returns whether it moved.
    pub(in crate::store) async fn mark_read(
        &self,
        user: UserId,
        room: RoomId,
        upto: MessageId,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        // One statement: concurrent marks of one room only ever move the
        // marker forward.
        let stmt = client
            .prepare_cached(
                "INSERT INTO memberships (user_id, room_id, last_read) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, room_id) DO UPDATE SET last_read = excluded.last_read
                  WHERE excluded.last_read > memberships.last_read",
            )
            .await?;
        Ok(client.execute(&stmt, &[&user.0, &room.as_str(), &upto.0]).await? > 0)
    }

    /// The user's marker in a room, if they have one.
    pub(in crate::store) async fn read_marker(
        &self,
        user: UserId,
        room: RoomId,
    ) -> Result<Option<MessageId>, StoreError> {
        let client = self.client().await?;
        let stmt =
            client.prepare_cached("SELECT last_read FROM memberships WHERE user_id = $1 AND room_id = $2").await?;
        let row = client.query_opt(&stmt, &[&user.0, &room.as_str()]).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.map(MessageId))
    }

    /// The user's rooms (not direct conversations) with their counts, by id.
    pub(in crate::store) async fn my_rooms(
        &self,
        user: UserId,
    ) -> Result<Vec<(RoomName, MembershipRecord)>, StoreError> {
        let client = self.client().await?;
        // One statement, so every room's counts come from one snapshot; ids
        // in byte order, as SQLite sorts, whatever the collation.
        let stmt = client
            .prepare_cached(concat!(
                "SELECT m.room_id, r.name, m.last_read, ",
                counts_of!("m.room_id", "m.last_read"),
                " FROM memberships AS m JOIN rooms AS r ON r.id = m.room_id
                  WHERE m.user_id = $1 AND r.kind = 'room' ORDER BY m.room_id COLLATE \"C\""
            ))
            .await?;
        let mut rooms = Vec::new();
        for row in client.query(&stmt, &[&user.0, &max_counted()]).await? {
            let record = membership_from_row(&row)?;
            rooms.push((RoomName::parse(&record.room_name)?, record));
        }
        Ok(rooms)
    }

    /// Counts for one room or conversation of the user's, as
    /// [`crate::store::Store::my_rooms`] gives them.
    pub(in crate::store) async fn room_counts(
        &self,
        user: UserId,
        room: RoomId,
    ) -> Result<MembershipRecord, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(concat!(
                "SELECT $3::TEXT, $3::TEXT, marker.last_read, ",
                counts_of!("$3", "marker.last_read"),
                " FROM (SELECT COALESCE((SELECT last_read FROM memberships WHERE user_id = $1 AND room_id = $3), 0)
                          AS last_read) AS marker"
            ))
            .await?;
        let row = client.query_one(&stmt, &[&user.0, &max_counted(), &room.as_str()]).await?;
        let mut record = membership_from_row(&row)?;
        // The id as given, as SQLite names it.
        record.room_name = room.to_string();
        record.room_id = room;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use chat_api::UserName;

    use super::*;
    use crate::store::postgres::test_support::{TestDb, new_user};

    fn room(n: &str) -> RoomName {
        RoomName::parse(n).unwrap()
    }

    #[tokio::test]
    async fn markers_are_kept_by_remember_and_only_move_forward() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (me, lobby) = (UserId(1), RoomId::parse("lobby").unwrap());
        assert_eq!(store.read_marker(me, lobby.clone()).await.unwrap(), None);
        store.remember_room(me, lobby.clone(), MessageId(5)).await.unwrap();
        store.remember_room(me, lobby.clone(), MessageId(9)).await.unwrap();
        assert_eq!(store.read_marker(me, lobby.clone()).await.unwrap(), Some(MessageId(5)));
        assert!(store.mark_read(me, lobby.clone(), MessageId(7)).await.unwrap());
        assert!(!store.mark_read(me, lobby.clone(), MessageId(7)).await.unwrap());
        assert!(!store.mark_read(me, lobby.clone(), MessageId(3)).await.unwrap());
        assert_eq!(store.read_marker(me, lobby.clone()).await.unwrap(), Some(MessageId(7)));
        let other = RoomId::parse("other").unwrap();
        assert!(store.mark_read(me, other.clone(), MessageId(2)).await.unwrap(), "a new row counts as moved");
        assert_eq!(store.read_marker(me, other).await.unwrap(), Some(MessageId(2)));
        store.forget_room(me, lobby.clone()).await.unwrap();
        store.forget_room(me, lobby.clone()).await.unwrap();
        assert_eq!(store.read_marker(me, lobby).await.unwrap(), None);
        assert_eq!(store.read_marker(UserId(2), RoomId::parse("other").unwrap()).await.unwrap(), None);
        db.finish().await;
    }

    #[tokio::test]
    async fn my_rooms_lists_rooms_by_id_with_unread_and_mention_counts() {
        let db = TestDb::new().await;
        let store = &db.store;
        let me = store.create_user(new_user("moi")).await.unwrap().id;
        let you = store.create_user(new_user("you")).await.unwrap().id;
        let (busy, _) = store.create_room(room("Busy")).await.unwrap();
        let (quiet, _) = store.create_room(room("a-quiet")).await.unwrap();
        let (_, _) = store.create_room(room("unjoined")).await.unwrap();
        let dm = store.open_direct((me, UserName::parse("moi").unwrap()), (you, UserName::parse("you").unwrap()));
        let dm = dm.await.unwrap().room_id;
        store.remember_room(me, busy.id.clone(), MessageId(1)).await.unwrap();
        store.remember_room(me, quiet.id.clone(), MessageId(0)).await.unwrap();
        store.remember_room(me, dm.clone(), MessageId(0)).await.unwrap();
        db.message(1, &busy.id, you, "read already").await;
        db.message(2, &busy.id, you, "unread").await;
        db.message(3, &busy.id, me, "my own").await;
        db.message(4, &busy.id, you, "@me unread").await;
        db.message(5, &dm, you, "direct").await;
        db.sql("INSERT INTO mentions (user_id, room_id, message_id) VALUES ($1, 'busy', 4), ($1, 'busy', 1)", &[&me.0])
            .await;

        let mine = store.my_rooms(me).await.unwrap();
        let names: Vec<&str> = mine.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["a-quiet", "Busy"], "by id, and not the conversation");
        let (_, quiet_counts) = &mine[0];
        assert_eq!(
            quiet_counts,
            &MembershipRecord {
                room_id: quiet.id.clone(),
                room_name: "a-quiet".to_owned(),
                last_message_id: None,
                last_read: None,
                unread: 0,
                mentions: 0,
            }
        );
        let (_, busy_counts) = &mine[1];
        assert_eq!(
            busy_counts,
            &MembershipRecord {
                room_id: busy.id.clone(),
                room_name: "Busy".to_owned(),
                last_message_id: Some(MessageId(4)),
                last_read: Some(MessageId(1)),
                unread: 2,
                mentions: 1,
            }
        );
        assert_eq!(store.room_counts(me, busy.id.clone()).await.unwrap().room_name, "busy", "the id");
        assert_eq!(store.room_counts(me, busy.id.clone()).await.unwrap().unread, 2);
        let direct = store.room_counts(me, dm.clone()).await.unwrap();
        assert_eq!((direct.last_message_id, direct.last_read, direct.unread), (Some(MessageId(5)), None, 1));
        assert_eq!(direct.room_name, dm.to_string());
        let stranger = store.room_counts(UserId(777), busy.id.clone()).await.unwrap();
        assert_eq!((stranger.last_read, stranger.unread, stranger.mentions), (None, 4, 0));
        db.finish().await;
    }

    #[tokio::test]
    async fn unread_counts_stop_at_the_cap() {
        let db = TestDb::new().await;
        let store = &db.store;
        let (busy, _) = store.create_room(room("flood")).await.unwrap();
        db.sql(
            "INSERT INTO messages (id, room_id, user_id, username, text, created_at)
             SELECT n, 'flood', 2, 'someone', 'x', 0 FROM generate_series(1, $1::BIGINT) AS n",
            &[&(max_counted() + 5)],
        )
        .await;
        let counts = store.room_counts(UserId(1), busy.id).await.unwrap();
        assert_eq!(counts.unread, MAX_COUNTED);
        assert_eq!(counts.last_message_id, Some(MessageId(max_counted() + 5)));
        db.finish().await;
    }
}
