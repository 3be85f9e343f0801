//! Messages: appended through group commit, read by room.

use chat_api::{Message, MessageId, MessageText, RoomId, Timestamp, UserId, UserName};
use rusqlite::{Connection, params};

use super::{
    Store, StoreError, now_millis,
    room_index::{ROOM_MESSAGES_BEFORE, ROOM_MESSAGES_BETWEEN},
    writer::Statements,
};

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Target room.
    pub room_id: RoomId,
    /// Sender.
    pub user_id: UserId,
    /// Sender's username, kept with the message.
    pub username: UserName,
    /// The text.
    pub text: MessageText,
}

/// A message as stored: the wire shape.
pub type StoredMessage = Message;

fn insert_message(conn: &Connection, msg: NewMessage) -> Result<Message, StoreError> {
    // Checked here rather than by a foreign key, whose cascade on deleting a
    // room would scan every message (schema version 2). Room deletions run
    // on this same writer, so the room cannot vanish between the two.
    let room_exists = conn.prepare_cached("SELECT 1 FROM rooms WHERE id = ?1")?.exists([msg.room_id.as_str()])?;
    if !room_exists {
        return Err(StoreError::NoSuchRoom);
    }
    let now = now_millis();
    conn.prepare_cached(
        "INSERT INTO messages (room_id, user_id, username, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![msg.room_id.as_str(), msg.user_id.0, msg.username.as_str(), msg.text.as_str(), now])?;
    Ok(Message {
        message_id: MessageId(conn.last_insert_rowid()),
        room_id: msg.room_id,
        username: msg.username,
        text: msg.text,
        timestamp: Timestamp::from_unix_millis(now),
    })
}

fn read_messages(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut messages = Vec::new();
    for row in rows {
        let (id, room, username, text, at) = row?;
        messages.push(Message {
            message_id: MessageId(id),
            room_id: RoomId::parse(&room)?,
            username: UserName::parse(&username)?,
            text: MessageText::parse(&text)?,
            timestamp: Timestamp::from_unix_millis(at),
        });
    }
    Ok(messages)
}

impl Store {
    /// Queues a message for the next group commit. `done` receives the
    /// stored message (or the failure) on the completer thread right after the
    /// commit, in id order, which is what lets the caller publish messages
    /// in exactly the order of their ids.
    pub async fn append_message<D>(&self, message: NewMessage, done: D) -> Result<(), StoreError>
    where
        D: FnOnce(Result<Message, StoreError>) + Send + 'static,
    {
        // insert_message writes with a single statement.
        self.writer.submit(Statements::One, move |conn| insert_message(conn, message), done).await
    }

    /// Up to `limit` messages of a room older than `before` (or the newest),
    /// oldest first, and whether older ones exist.
    pub async fn history(
        &self,
        room: RoomId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError> {
        self.reader
            .read(move |conn| {
                let before = before.map_or(i64::MAX, |id| id.0);
                let mut messages =
                    read_messages(conn, ROOM_MESSAGES_BEFORE, params![room.as_str(), before, i64::from(limit) + 1])?;
                let has_more = messages.len() > limit as usize;
                messages.truncate(limit as usize);
                messages.reverse();
                Ok((messages, has_more))
            })
            .await
    }

    /// The newest `limit` messages of a room with `after < id <= upto`,
    /// oldest first.
    pub async fn messages_between(
        &self,
        room: RoomId,
        after: Option<MessageId>,
        upto: MessageId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        self.reader
            .read(move |conn| {
                let after = after.map_or(0, |id| id.0);
                let mut messages = read_messages(
                    conn,
                    ROOM_MESSAGES_BETWEEN,
                    params![room.as_str(), after, upto.0, i64::from(limit)],
                )?;
                messages.reverse();
                Ok(messages)
            })
            .await
    }

    /// The highest message id ever assigned (0 when none).
    pub async fn last_message_id(&self) -> Result<MessageId, StoreError> {
        self.reader
            .read(|conn| {
                // sqlite_sequence remembers ids of deleted rows too.
                let id: Option<i64> = conn
                    .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'messages'", [], |r| r.get(0))
                    .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
                Ok(MessageId(id.unwrap_or(0)))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_api::RoomName;
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::test_support::{append, temp_store};

    #[tokio::test]
    async fn history_pages_backwards_oldest_first() {
        let (_dir, store) = temp_store();
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(append(&store, "general", &format!("m{i}")).await.unwrap().message_id);
        }
        let (page, more) = store.history(RoomId::general(), None, 2).await.unwrap();
        assert_eq!(page.iter().map(|m| m.message_id).collect::<Vec<_>>(), ids[3..].to_vec());
        assert!(more);
        let (page, more) = store.history(RoomId::general(), Some(ids[3]), 10).await.unwrap();
        assert_eq!(page.iter().map(|m| m.message_id).collect::<Vec<_>>(), ids[..3].to_vec());
        assert!(!more);
        let between = store.messages_between(RoomId::general(), Some(ids[1]), ids[3], 10).await.unwrap();
        assert_eq!(between.iter().map(|m| m.message_id).collect::<Vec<_>>(), ids[2..4].to_vec());
    }

    fn ids(messages: &[Message]) -> Vec<MessageId> {
        messages.iter().map(|m| m.message_id).collect()
    }

    #[tokio::test]
    async fn history_spans_filed_and_unfiled_messages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        store.create_room(RoomName::parse("other").unwrap()).await.unwrap();
        let mut general = Vec::new();
        for i in 0..3 {
            general.push(append(&store, "general", &format!("filed {i}")).await.unwrap().message_id);
            append(&store, "other", "elsewhere").await.unwrap();
        }
        // A clean stop files everything; what follows the restart is not
        // filed until the writer's next round.
        store.close().await;
        let conn = Connection::open(dir.path().join(crate::store::DATABASE_FILE)).unwrap();
        let filed: i64 = conn.query_row("SELECT count(*) FROM room_messages", [], |r| r.get(0)).unwrap();
        assert_eq!(filed, 6);
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            general.push(append(&store, "general", &format!("tail {i}")).await.unwrap().message_id);
            append(&store, "other", "elsewhere").await.unwrap();
        }

        let (page, more) = store.history(RoomId::general(), None, 4).await.unwrap();
        assert_eq!(ids(&page), general[2..].to_vec());
        assert!(more);
        let (page, more) = store.history(RoomId::general(), Some(general[4]), 10).await.unwrap();
        assert_eq!(ids(&page), general[..4].to_vec());
        assert!(!more);
        let between = store.messages_between(RoomId::general(), Some(general[0]), general[4], 10).await.unwrap();
        assert_eq!(ids(&between), general[1..5].to_vec());

        assert!(store.delete_room(RoomId::general()).await.unwrap());
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let (page, _) = store.history(RoomId::general(), None, 10).await.unwrap();
        assert!(page.is_empty(), "messages of a deleted room came back: {page:?}");
        let (others, _) = store.history(RoomId::parse("other").unwrap(), None, 10).await.unwrap();
        assert_eq!(others.len(), 6);
    }

    #[tokio::test]
    async fn messages_to_a_missing_room_are_refused() {
        let (_dir, store) = temp_store();
        assert!(matches!(append(&store, "nowhere", "hi").await, Err(StoreError::NoSuchRoom)));
    }

    #[tokio::test]
    async fn concurrent_appends_complete_in_id_order() {
        let (_dir, store) = temp_store();
        let store = Arc::new(store);
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let order = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut waits = Vec::new();
        for i in 0..200 {
            let (tx, rx) = oneshot::channel();
            let order = Arc::clone(&order);
            let message = NewMessage {
                room_id: RoomId::general(),
                user_id: UserId(1),
                username: UserName::parse("alice").unwrap(),
                text: MessageText::parse(&format!("m{i}")).unwrap(),
            };
            store
                .append_message(message, move |r| {
                    order.lock().push(r.as_ref().map(|m| m.message_id.0).unwrap_or(-1));
                    let _ = tx.send(());
                })
                .await
                .unwrap();
            waits.push(rx);
        }
        for rx in waits {
            rx.await.unwrap();
        }
        let order = order.lock().clone();
        assert_eq!(order.len(), 200);
        assert!(order.windows(2).all(|w| w[0] < w[1]), "ids delivered out of order");
        assert_eq!(store.last_message_id().await.unwrap(), MessageId(*order.last().unwrap()));
    }

    #[tokio::test]
    async fn ids_are_not_reused_after_the_newest_rows_are_deleted() {
        let (_dir, store) = temp_store();
        store.create_room(RoomName::parse("tmp").unwrap()).await.unwrap();
        let first = append(&store, "tmp", "a").await.unwrap();
        assert!(store.delete_room(RoomId::parse("tmp").unwrap()).await.unwrap());
        store.create_room(RoomName::parse("tmp").unwrap()).await.unwrap();
        let second = append(&store, "tmp", "b").await.unwrap();
        assert!(second.message_id > first.message_id);
    }
}
