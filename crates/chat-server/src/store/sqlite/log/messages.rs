//! Messages, their reactions and mentions: the statements behind
//! [`super::MessageLog`]. Writes run on the writer thread, reads on the
//! read pool; both through the log.

use chat_api::{Emoji, Message, MessageId, MessageText, Reaction, RoomId, Timestamp, UserId, UserName};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    StoreError, now,
    room_index::{DELETE_ROOM_MESSAGES, ROOM_MESSAGES_BEFORE, ROOM_MESSAGES_BETWEEN, ROOM_MESSAGES_COUNT_AFTER},
    search,
};

/// Most different emoji on one message: every history page carries them.
pub(in crate::store) const MAX_EMOJI_PER_MESSAGE: usize = 50;

/// Most reactions one user may put on one message.
pub(in crate::store) const MAX_REACTIONS_PER_USER: usize = 10;

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Target room or direct conversation.
    pub room_id: RoomId,
    /// Sender.
    pub user_id: UserId,
    /// Sender's username, kept with the message.
    pub username: UserName,
    /// The text.
    pub text: MessageText,
    /// The message it answers, which must be in the same room.
    pub reply_to: Option<MessageId>,
    /// Registered users the text mentions.
    pub mentions: Vec<(UserId, UserName)>,
}

impl NewMessage {
    /// A message with no reply and no mentions.
    pub fn plain(room_id: RoomId, user_id: UserId, username: UserName, text: MessageText) -> Self {
        Self { room_id, user_id, username, text, reply_to: None, mentions: Vec::new() }
    }

    /// Whether storing it is a single INSERT.
    pub(super) fn is_plain(&self) -> bool {
        self.reply_to.is_none() && self.mentions.is_empty() && !self.room_id.is_direct()
    }
}

/// A stored message, and whom to tell that it mentions them.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The message as stored.
    pub message: Message,
    /// Mentioned users who have not blocked the author.
    pub mentioned: Vec<UserId>,
    /// Who wrote it.
    pub author: UserId,
}

/// Who wrote a message, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// The message.
    pub message_id: MessageId,
    /// Its room.
    pub room_id: RoomId,
    /// Its author.
    pub user_id: UserId,
    /// The author's name.
    pub username: UserName,
}

/// An edit as stored.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The message.
    pub message_id: MessageId,
    /// Its room.
    pub room_id: RoomId,
    /// Its new text.
    pub text: MessageText,
    /// When.
    pub edited_at: Timestamp,
}

/// A deleted message.
#[derive(Debug, Clone)]
pub struct Removed {
    /// What it was.
    pub meta: MessageMeta,
}

/// What adding or removing a reaction did.
#[derive(Debug, Clone)]
pub struct ReactionOutcome {
    /// False when the reaction was already there (add) or not (remove).
    pub changed: bool,
    /// The message.
    pub meta: MessageMeta,
    /// Its reactions now.
    pub reactions: Vec<Reaction>,
}

pub(super) fn insert(conn: &Connection, msg: NewMessage) -> Result<Appended, StoreError> {
    // Checked here rather than by a foreign key, whose cascade on deleting a
    // room would scan every message (schema version 2). Room deletions run
    // on this same writer, so the room cannot vanish between the two.
    let room_exists = conn.prepare_cached("SELECT 1 FROM rooms WHERE id = ?1")?.exists([msg.room_id.as_str()])?;
    if !room_exists {
        return Err(StoreError::NoSuchRoom);
    }
    if let Some(reply_to) = msg.reply_to {
        let room: Option<String> = conn
            .prepare_cached("SELECT room_id FROM messages WHERE id = ?1")?
            .query_row([reply_to.0], |r| r.get(0))
            .optional()?;
        if room.as_deref() != Some(msg.room_id.as_str()) {
            return Err(StoreError::NoSuchMessage);
        }
    }
    let at = now();
    let mentions = (!msg.mentions.is_empty())
        .then(|| msg.mentions.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>().join(" "));
    conn.prepare_cached(
        "INSERT INTO messages (room_id, user_id, username, text, created_at, reply_to, mentions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        msg.room_id.as_str(),
        msg.user_id.0,
        msg.username.as_str(),
        msg.text.as_str(),
        at.unix_millis(),
        msg.reply_to.map(|id| id.0),
        mentions,
    ])?;
    let id = conn.last_insert_rowid();
    let mut mentioned = Vec::new();
    for (user, _) in &msg.mentions {
        if *user == msg.user_id {
            continue;
        }
        // A user who blocked the author is not told, and not counted.
        let inserted = conn
            .prepare_cached(
                "INSERT INTO mentions (user_id, room_id, message_id) SELECT ?1, ?2, ?3
                  WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?4)",
            )?
            .execute(params![user.0, msg.room_id.as_str(), id, msg.user_id.0])?;
        if inserted > 0 {
            mentioned.push(*user);
        }
    }
    if msg.room_id.is_direct() {
        conn.prepare_cached("UPDATE direct_chats SET last_message_id = ?2 WHERE room_id = ?1")?
            .execute(params![msg.room_id.as_str(), id])?;
    }
    let author = msg.user_id;
    let message = Message {
        message_id: MessageId(id),
        room_id: msg.room_id,
        username: msg.username,
        text: msg.text,
        timestamp: at,
        reply_to: msg.reply_to,
        edited_at: None,
        reactions: Vec::new(),
        mentions: msg.mentions.into_iter().map(|(_, name)| name).collect(),
    };
    Ok(Appended { message, mentioned, author })
}

/// Reads messages with the columns of [`ROOM_MESSAGES_BEFORE`], then their
/// reactions.
pub(super) fn read_messages(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    let mut messages = Vec::new();
    for row in rows {
        let (id, room, username, text, at, reply_to, edited_at, mentions) = row?;
        let mentions = match mentions {
            Some(names) => names.split(' ').map(UserName::parse).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        messages.push(Message {
            message_id: MessageId(id),
            room_id: RoomId::parse(&room)?,
            username: UserName::parse(&username)?,
            text: MessageText::parse(&text)?,
            timestamp: Timestamp::from_unix_millis(at),
            reply_to: reply_to.map(MessageId),
            edited_at: edited_at.map(Timestamp::from_unix_millis),
            reactions: Vec::new(),
            mentions,
        });
    }
    for message in &mut messages {
        message.reactions = reactions(conn, message.message_id)?;
    }
    Ok(messages)
}

/// A message's reactions, each emoji in the order it was first used.
fn reactions(conn: &Connection, id: MessageId) -> Result<Vec<Reaction>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT emoji, username FROM reactions WHERE message_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([id.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut reactions: Vec<Reaction> = Vec::new();
    for row in rows {
        let (emoji, username) = row?;
        let username = UserName::parse(&username)?;
        match reactions.iter_mut().find(|r| r.emoji.as_str() == emoji) {
            Some(reaction) => {
                reaction.count += 1;
                reaction.usernames.push(username);
            }
            None => reactions.push(Reaction { emoji: Emoji::parse(&emoji)?, count: 1, usernames: vec![username] }),
        }
    }
    Ok(reactions)
}

pub(super) fn history(
    conn: &Connection,
    room: &RoomId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let before = before.map_or(i64::MAX, |id| id.0);
    let mut messages = read_messages(conn, ROOM_MESSAGES_BEFORE, params![room.as_str(), before, i64::from(limit) + 1])?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    Ok((messages, has_more))
}

pub(super) fn range(
    conn: &Connection,
    room: &RoomId,
    after: Option<MessageId>,
    upto: MessageId,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let after = after.map_or(0, |id| id.0);
    let mut messages =
        read_messages(conn, ROOM_MESSAGES_BETWEEN, params![room.as_str(), after, upto.0, i64::from(limit)])?;
    messages.reverse();
    Ok(messages)
}

/// Ids of the newest `limit` messages of a room below `before`.
pub(super) fn ids_before(conn: &Connection, room: &RoomId, before: i64, limit: u32) -> Result<Vec<i64>, StoreError> {
    Ok(history(conn, room, Some(MessageId(before)), limit)?.0.into_iter().rev().map(|m| m.message_id.0).collect())
}

pub(super) fn count_after(
    conn: &Connection,
    room: &RoomId,
    after: MessageId,
    user: UserId,
    cap: u64,
) -> Result<u64, StoreError> {
    let cap = i64::try_from(cap).unwrap_or(i64::MAX);
    let count: i64 = conn
        .prepare_cached(ROOM_MESSAGES_COUNT_AFTER)?
        .query_row(params![room.as_str(), after.0, user.0, cap], |r| r.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) fn last_message_id(conn: &Connection) -> Result<i64, StoreError> {
    // sqlite_sequence remembers ids of deleted rows too.
    let id: Option<i64> =
        conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'messages'", [], |r| r.get(0)).optional()?;
    Ok(id.unwrap_or(0))
}

pub(super) fn meta(conn: &Connection, id: MessageId) -> Result<Option<MessageMeta>, StoreError> {
    let row = conn
        .prepare_cached("SELECT room_id, user_id, username FROM messages WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))
        .optional()?;
    let Some((room, user, username)) = row else { return Ok(None) };
    Ok(Some(MessageMeta {
        message_id: id,
        room_id: RoomId::parse(&room)?,
        user_id: UserId(user),
        username: UserName::parse(&username)?,
    }))
}

fn text_of(conn: &Connection, id: MessageId) -> Result<String, StoreError> {
    Ok(conn.prepare_cached("SELECT text FROM messages WHERE id = ?1")?.query_row([id.0], |r| r.get(0))?)
}

pub(super) fn edit(conn: &Connection, id: MessageId, author: UserId, text: &MessageText) -> Result<Edited, StoreError> {
    let meta = meta(conn, id)?.ok_or(StoreError::NoSuchMessage)?;
    if meta.user_id != author {
        return Err(StoreError::NotAllowed("only its author may edit a message".to_owned()));
    }
    let old = text_of(conn, id)?;
    let at = now();
    conn.prepare_cached("UPDATE messages SET text = ?2, edited_at = ?3 WHERE id = ?1")?.execute(params![
        id.0,
        text.as_str(),
        at.unix_millis()
    ])?;
    search::replace(conn, id, &old, Some(text.as_str()))?;
    Ok(Edited { message_id: id, room_id: meta.room_id, text: text.clone(), edited_at: at })
}

pub(super) fn delete(
    conn: &Connection,
    id: MessageId,
    allowed: impl FnOnce(&MessageMeta) -> Result<(), StoreError>,
) -> Result<Removed, StoreError> {
    let meta = meta(conn, id)?.ok_or(StoreError::NoSuchMessage)?;
    allowed(&meta)?;
    let old = text_of(conn, id)?;
    search::replace(conn, id, &old, None)?;
    conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?.execute([id.0])?;
    conn.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?.execute([id.0])?;
    // The filing row (if any) stays: reads join it to `messages` and skip
    // it. The id is never handed out again (AUTOINCREMENT).
    conn.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute([id.0])?;
    Ok(Removed { meta })
}

pub(super) fn react(
    conn: &Connection,
    id: MessageId,
    (user, username): &(UserId, UserName),
    emoji: &Emoji,
    add: bool,
) -> Result<ReactionOutcome, StoreError> {
    let meta = meta(conn, id)?.ok_or(StoreError::NoSuchMessage)?;
    let changed = if add {
        let before = reactions(conn, id)?;
        let mine = before.iter().filter(|r| r.usernames.contains(username)).count();
        let has = |r: &&Reaction| r.emoji == *emoji;
        if !before.iter().any(|r| has(&r)) && before.len() >= MAX_EMOJI_PER_MESSAGE {
            return Err(StoreError::Limit(format!(
                "a message may carry at most {MAX_EMOJI_PER_MESSAGE} different reactions"
            )));
        }
        let already = before.iter().filter(has).any(|r| r.usernames.contains(username));
        if !already && mine >= MAX_REACTIONS_PER_USER {
            return Err(StoreError::Limit(format!(
                "you may put at most {MAX_REACTIONS_PER_USER} reactions on one message"
            )));
        }
        conn.prepare_cached(
            "INSERT INTO reactions (message_id, user_id, username, emoji) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )?
        .execute(params![id.0, user.0, username.as_str(), emoji.as_str()])?
            > 0
    } else {
        conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3")?
            .execute(params![id.0, user.0, emoji.as_str()])?
            > 0
    };
    Ok(ReactionOutcome { changed, reactions: reactions(conn, id)?, meta })
}

/// Deletes a room's messages with everything hanging off them.
pub(super) fn delete_room(conn: &Connection, room: &RoomId) -> Result<(), StoreError> {
    // UNION (not ALL): a message may be both filed above the mark and in
    // the unfiled tail.
    let mut stmt = conn.prepare_cached(
        "SELECT id, text FROM messages WHERE id > (SELECT message_id FROM room_messages_upto) AND room_id = ?1
         UNION
         SELECT m.id, m.text FROM room_messages AS f CROSS JOIN messages AS m ON m.id = f.message_id
          WHERE f.room_id = ?1",
    )?;
    let doomed = stmt
        .query_map([room.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, text) in doomed {
        search::replace(conn, MessageId(id), &text, None)?;
        conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?.execute([id])?;
    }
    conn.prepare_cached("DELETE FROM mentions WHERE room_id = ?1")?.execute([room.as_str()])?;
    for sql in DELETE_ROOM_MESSAGES {
        conn.prepare_cached(sql)?.execute([room.as_str()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chat_api::RoomName;
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::{
        DATABASE_FILE, Store,
        sqlite::log::test_support::{append, plain},
        test_support::temp_store,
    };

    fn ids(messages: &[Message]) -> Vec<MessageId> {
        messages.iter().map(|m| m.message_id).collect()
    }

    #[tokio::test]
    async fn history_pages_backwards_oldest_first() {
        let (_dir, store) = temp_store();
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let mut all = Vec::new();
        for i in 0..5 {
            all.push(append(&store, "general", &format!("m{i}")).await.unwrap().message_id);
        }
        let log = store.log();
        let (page, more) = log.history(RoomId::general(), None, 2).await.unwrap();
        assert_eq!(ids(&page), all[3..].to_vec());
        assert!(more);
        let (page, more) = log.history(RoomId::general(), Some(all[3]), 10).await.unwrap();
        assert_eq!(ids(&page), all[..3].to_vec());
        assert!(!more);
        let between = log.range(RoomId::general(), Some(all[1]), all[3], 10).await.unwrap();
        assert_eq!(ids(&between), all[2..4].to_vec());
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
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        let filed: i64 = conn.query_row("SELECT count(*) FROM room_messages", [], |r| r.get(0)).unwrap();
        assert_eq!(filed, 6);
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            general.push(append(&store, "general", &format!("tail {i}")).await.unwrap().message_id);
            append(&store, "other", "elsewhere").await.unwrap();
        }

        let log = store.log();
        let (page, more) = log.history(RoomId::general(), None, 4).await.unwrap();
        assert_eq!(ids(&page), general[2..].to_vec());
        assert!(more);
        let (page, more) = log.history(RoomId::general(), Some(general[4]), 10).await.unwrap();
        assert_eq!(ids(&page), general[..4].to_vec());
        assert!(!more);
        let between = log.range(RoomId::general(), Some(general[0]), general[4], 10).await.unwrap();
        assert_eq!(ids(&between), general[1..5].to_vec());

        assert!(store.delete_room(RoomId::general()).await.unwrap());
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let (page, _) = log.history(RoomId::general(), None, 10).await.unwrap();
        assert!(page.is_empty(), "messages of a deleted room came back: {page:?}");
        let (others, _) = log.history(RoomId::parse("other").unwrap(), None, 10).await.unwrap();
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
            store
                .log()
                .append(plain("general", &format!("m{i}")), move |r| {
                    order.lock().push(r.as_ref().map(|a| a.message.message_id.0).unwrap_or(-1));
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
        assert_eq!(store.log().last_message_id().await.unwrap(), MessageId(*order.last().unwrap()));
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

    #[tokio::test]
    async fn a_reply_must_answer_a_message_of_the_same_room() {
        let (_dir, store) = temp_store();
        store.create_room(RoomName::parse("a").unwrap()).await.unwrap();
        store.create_room(RoomName::parse("b").unwrap()).await.unwrap();
        let first = append(&store, "a", "question").await.unwrap();
        let reply = |room: &str, to: MessageId| {
            let mut message = plain(room, "answer");
            message.reply_to = Some(to);
            message
        };
        let (tx, rx) = oneshot::channel();
        store.log().append(reply("b", first.message_id), move |r| drop(tx.send(r))).await.unwrap();
        assert!(matches!(rx.await.unwrap(), Err(StoreError::NoSuchMessage)));
        let (tx, rx) = oneshot::channel();
        store.log().append(reply("a", first.message_id), move |r| drop(tx.send(r))).await.unwrap();
        let stored = rx.await.unwrap().unwrap().message;
        assert_eq!(stored.reply_to, Some(first.message_id));
        let (page, _) = store.log().history(RoomId::parse("a").unwrap(), None, 10).await.unwrap();
        assert_eq!(page[1].reply_to, Some(first.message_id));
    }

    /// Every file of the store, as one byte string.
    fn files_of(dir: &std::path::Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        bytes
    }

    fn holds(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[tokio::test]
    async fn a_deleted_message_leaves_no_trace_of_its_text_in_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_room(RoomName::parse("general").unwrap()).await.unwrap();
        let secret = append(&store, "general", "the vault code is quokkazebra").await.unwrap();
        let edited = append(&store, "general", "first draft mentions wombatyak").await.unwrap();
        append(&store, "general", "an ordinary message").await.unwrap();
        // Closing files and indexes everything; the text is now in the
        // table and in the search index.
        store.close().await;
        assert!(holds(&files_of(dir.path()), "quokkazebra"));

        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = oneshot::channel();
        store.log().delete(secret.message_id, |_| Ok(()), move |r| drop(tx.send(r))).await.unwrap();
        rx.await.unwrap().unwrap();
        let (tx, rx) = oneshot::channel();
        let text = MessageText::parse("second draft").unwrap();
        store.log().edit(edited.message_id, UserId(1), text, move |r| drop(tx.send(r))).await.unwrap();
        rx.await.unwrap().unwrap();
        store.close().await;

        let files = files_of(dir.path());
        assert!(!holds(&files, "quokkazebra"), "the deleted text is still in the files");
        assert!(!holds(&files, "wombatyak"), "the replaced text is still in the files");
        assert!(holds(&files, "ordinary"));
        let store = Store::open(dir.path()).unwrap();
        let query = |q: &str| chat_api::SearchQuery::parse(q).unwrap();
        let (found, _) = store.log().search(query("quokka"), UserId(1), None, None, 10).await.unwrap();
        assert!(found.is_empty());
        let (found, _) = store.log().search(query("second draft"), UserId(1), None, None, 10).await.unwrap();
        assert_eq!(ids(&found), vec![edited.message_id]);
    }
}
