//! Reading messages: history pages, ranges, one message's facts, search,
//! and the rows a node missed. All through pooled connections.

use std::collections::HashMap;

use chat_api::{Emoji, Message, MessageId, MessageText, Reaction, RoomId, SearchQuery, Timestamp, UserId, UserName};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::store::{Appended, MessageMeta, StoreError, query_words::query_words};

/// The columns [`to_message`] reads, in its order.
/// (`user_id`, read only where needed, and then each reaction as
/// "emoji username" in the order added, in the same round trip: neither
/// an emoji nor a username holds a space.)
const COLUMNS: &str = "id, room_id, username, text, created_at, reply_to, edited_at, mentions, user_id,
    ARRAY(SELECT r.emoji || ' ' || r.username FROM reactions AS r WHERE r.message_id = messages.id ORDER BY r.id)";

fn to_message(row: &Row) -> Result<Message, StoreError> {
    let mentions: Option<String> = row.get(7);
    let mentions = match mentions {
        Some(names) => names.split(' ').map(UserName::parse).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let mut reactions = Vec::new();
    for reaction in row.get::<_, Vec<&str>>(9) {
        let (emoji, username) = reaction.split_once(' ').ok_or_else(|| StoreError::Corrupt(reaction.to_owned()))?;
        add_reaction(&mut reactions, emoji, username)?;
    }
    Ok(Message {
        message_id: MessageId(row.get(0)),
        room_id: RoomId::parse(row.get::<_, &str>(1))?,
        username: UserName::parse(row.get::<_, &str>(2))?,
        text: MessageText::parse(row.get::<_, &str>(3))?,
        timestamp: Timestamp::from_unix_millis(row.get(4)),
        reply_to: row.get::<_, Option<i64>>(5).map(MessageId),
        edited_at: row.get::<_, Option<i64>>(6).map(Timestamp::from_unix_millis),
        reactions,
        mentions,
    })
}

/// Messages from `rows`, reactions included.
fn messages(rows: &[Row]) -> Result<Vec<Message>, StoreError> {
    rows.iter().map(to_message).collect()
}

/// Counts one user's `emoji` into `reactions`, each emoji in the order it
/// was first used.
pub(super) fn add_reaction(reactions: &mut Vec<Reaction>, emoji: &str, username: &str) -> Result<(), StoreError> {
    let username = UserName::parse(username)?;
    match reactions.iter_mut().find(|r| r.emoji.as_str() == emoji) {
        Some(reaction) => {
            reaction.count += 1;
            reaction.usernames.push(username);
        }
        None => reactions.push(Reaction { emoji: Emoji::parse(emoji)?, count: 1, usernames: vec![username] }),
    }
    Ok(())
}

/// One message's reactions.
pub(super) async fn reactions(client: &impl GenericClient, id: MessageId) -> Result<Vec<Reaction>, StoreError> {
    let stmt = client.prepare_cached("SELECT emoji, username FROM reactions WHERE message_id = $1 ORDER BY id").await?;
    let mut reactions = Vec::new();
    for row in client.query(&stmt, &[&id.0]).await? {
        add_reaction(&mut reactions, row.get(0), row.get(1))?;
    }
    Ok(reactions)
}

pub(super) async fn history(
    client: &impl GenericClient,
    room: &RoomId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    let stmt = client.prepare_cached(&sql).await?;
    let before = before.map_or(i64::MAX, |id| id.0);
    let rows = client.query(&stmt, &[&room.as_str(), &before, &(i64::from(limit) + 1)]).await?;
    let mut messages = messages(&rows)?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    messages.reverse();
    Ok((messages, has_more))
}

pub(super) async fn range(
    client: &impl GenericClient,
    room: &RoomId,
    after: Option<MessageId>,
    upto: MessageId,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM messages WHERE room_id = $1 AND id > $2 AND id <= $3 ORDER BY id DESC LIMIT $4");
    let stmt = client.prepare_cached(&sql).await?;
    let after = after.map_or(0, |id| id.0);
    let rows = client.query(&stmt, &[&room.as_str(), &after, &upto.0, &i64::from(limit)]).await?;
    let mut messages = messages(&rows)?;
    messages.reverse();
    Ok(messages)
}

/// Every message with `after < id <= upto`, in id order, with whom each
/// mentions: what a node that missed them delivers.
pub(super) async fn committed_between(
    client: &impl GenericClient,
    after: i64,
    upto: i64,
) -> Result<Vec<Appended>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE id > $1 AND id <= $2 ORDER BY id");
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client.query(&stmt, &[&after, &upto]).await?;
    let authors: HashMap<i64, i64> = rows.iter().map(|r| (r.get(0), r.get(8))).collect();
    let messages = messages(&rows)?;
    let stmt = client
        .prepare_cached("SELECT message_id, user_id FROM mentions WHERE message_id > $1 AND message_id <= $2")
        .await?;
    let mentions = client.query(&stmt, &[&after, &upto]).await?;
    Ok(messages
        .into_iter()
        .map(|message| {
            let mentioned = mentions
                .iter()
                .filter(|row| row.get::<_, i64>(0) == message.message_id.0)
                .map(|row| UserId(row.get(1)))
                .collect();
            let author = UserId(authors.get(&message.message_id.0).copied().unwrap_or_default());
            Appended { message, mentioned, author }
        })
        .collect())
}

/// The highest message id ever committed (0 when none).
pub(super) async fn last_message_id(client: &impl GenericClient) -> Result<i64, StoreError> {
    let stmt = client.prepare_cached("SELECT last_id FROM message_counter").await?;
    Ok(client.query_one(&stmt, &[]).await?.get(0))
}

pub(super) async fn meta(
    client: &impl GenericClient,
    id: MessageId,
    lock: bool,
) -> Result<Option<MessageMeta>, StoreError> {
    let sql = if lock {
        "SELECT room_id, user_id, username FROM messages WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT room_id, user_id, username FROM messages WHERE id = $1"
    };
    let stmt = client.prepare_cached(sql).await?;
    let Some(row) = client.query_opt(&stmt, &[&id.0]).await? else { return Ok(None) };
    Ok(Some(MessageMeta {
        message_id: id,
        room_id: RoomId::parse(row.get::<_, &str>(0))?,
        user_id: UserId(row.get(1)),
        username: UserName::parse(row.get::<_, &str>(2))?,
    }))
}

/// The words of a query as a `tsquery`: every word must match, words of
/// two characters or more as prefixes, as the SQLite index does. Words are
/// letters and digits only, so nothing of `tsquery`'s syntax gets through.
fn ts_query(query: &SearchQuery) -> Option<String> {
    let words: Vec<String> = query_words(query)
        .iter()
        .map(|w| {
            let word = w.text.to_lowercase();
            if w.prefix { format!("'{word}':*") } else { format!("'{word}'") }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

pub(super) async fn search(
    client: &impl GenericClient,
    query: &SearchQuery,
    reader: UserId,
    room: Option<&RoomId>,
    before: Option<MessageId>,
    limit: u32,
) -> Result<(Vec<Message>, bool), StoreError> {
    let Some(expression) = ts_query(query) else { return Ok((Vec::new(), false)) };
    let sql = format!(
        "SELECT {COLUMNS} FROM messages
          WHERE messages.search @@ to_tsquery('simple', $1) AND messages.id < $2
            AND (left(messages.room_id, 3) <> 'dm:' OR EXISTS (
                 SELECT 1 FROM direct_chats AS d
                  WHERE d.room_id = messages.room_id AND (d.user_a = $3 OR d.user_b = $3)))
            AND ($4::text IS NULL OR messages.room_id = $4)
          ORDER BY messages.id DESC LIMIT $5"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let before = before.map_or(i64::MAX, |id| id.0);
    let rows = client
        .query(&stmt, &[&expression, &before, &reader.0, &room.map(RoomId::as_str), &(i64::from(limit) + 1)])
        .await?;
    let mut messages = messages(&rows)?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok((messages, has_more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_prefix_terms_joined_by_and() {
        let q = |s: &str| ts_query(&SearchQuery::parse(s).unwrap());
        assert_eq!(q("Hello wor").as_deref(), Some("'hello':* & 'wor':*"));
        assert_eq!(q("a b").as_deref(), Some("'a' & 'b'"));
        assert_eq!(q("x' | !y:*").as_deref(), Some("'x' & 'y'"));
        assert_eq!(q("!!!"), None);
    }
}
