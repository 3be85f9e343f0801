//! Group commit on PostgreSQL: one task with its own connection commits
//! whatever sends have queued up as one transaction.
//!
//! Each transaction first locks the counter row, so message commits are
//! serialized across every node and ids become visible in order (see the
//! schema). With `synchronous_commit = on` the commit returns once the
//! batch is on PostgreSQL's disk; only then are the senders answered,
//! through the sequencer, which hands messages out in id order.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chat_api::{Message, MessageId, Timestamp, UserId};
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls, Statement, Transaction};

use super::sequencer::{Done, Input, RemoteCommits};
use crate::store::{Appended, NewMessage, StoreError};

/// Most messages in one transaction.
const MAX_BATCH: usize = 2_048;

pub(super) struct Job {
    pub(super) message: NewMessage,
    pub(super) done: Done,
}

/// Runs until every sender of the returned channel is gone, then returns
/// after the last batch.
pub(super) async fn run(
    config: tokio_postgres::Config,
    timeout: Duration,
    mut jobs: mpsc::Receiver<Job>,
    remote: Arc<RemoteCommits>,
) {
    let commit_seconds = metrics::histogram!(crate::metrics::COMMIT_LATENCY);
    let batch_size = metrics::histogram!(crate::metrics::COMMIT_BATCH);
    let mut client: Option<Connection> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs_now: Vec<Job> = std::mem::take(&mut batch);
        batch_size.record(jobs_now.len() as f64);
        if client.as_ref().is_none_or(|c| c.client.is_closed()) {
            client = match connect(&config, timeout).await {
                Ok(c) => Some(c),
                Err(e) => {
                    fail(jobs_now, &e);
                    continue;
                }
            };
        }
        let Some(conn) = client.as_mut() else { continue };
        let (messages, dones): (Vec<NewMessage>, Vec<Done>) = jobs_now.into_iter().map(|j| (j.message, j.done)).unzip();
        let started = std::time::Instant::now();
        let committed = tokio::time::timeout(timeout, commit(conn, messages, &remote)).await;
        commit_seconds.record(started.elapsed().as_secs_f64());
        match committed {
            Ok(Ok(outcomes)) => hand_over(outcomes, dones, &remote),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "committing messages to PostgreSQL failed");
                if !matches!(e, StoreError::Postgres(ref pg) if pg.as_db_error().is_some()) {
                    client = None;
                }
                for done in dones {
                    done(Err(StoreError::Unavailable(format!("the message was not stored: {e}"))));
                }
            }
            Err(_) => {
                // The commit may or may not have happened; the connection is
                // dropped, so PostgreSQL ends it. If it did commit, the
                // sequencer finds the messages like any other node's.
                tracing::warn!(?timeout, "committing messages to PostgreSQL timed out");
                client = None;
                for done in dones {
                    done(Err(StoreError::Unavailable("PostgreSQL did not answer in time".to_owned())));
                }
            }
        }
    }
}

async fn connect(config: &tokio_postgres::Config, timeout: Duration) -> Result<Connection, StoreError> {
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .map_err(|_| StoreError::Unavailable("PostgreSQL did not answer in time".to_owned()))?
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "the message writer's PostgreSQL connection ended");
        }
    });
    let statements = Statements {
        insert: client.prepare(INSERT_MESSAGES).await?,
        mentions: client.prepare(INSERT_MENTIONS).await?,
        direct: client.prepare(TOUCH_DIRECT_CHATS).await?,
    };
    Ok(Connection { client, statements })
}

fn fail(jobs: Vec<Job>, e: &StoreError) {
    for job in jobs {
        (job.done)(Err(StoreError::Unavailable(format!("the message was not stored: {e}"))));
    }
}

/// Answers the refused at once and gives the stored to the sequencer.
fn hand_over(outcomes: Vec<Result<Appended, StoreError>>, dones: Vec<Done>, remote: &RemoteCommits) {
    let mut stored = Vec::with_capacity(outcomes.len());
    for (outcome, done) in outcomes.into_iter().zip(dones) {
        match outcome {
            Ok(appended) => stored.push((appended, done)),
            Err(e) => done(Err(e)),
        }
    }
    if stored.is_empty() {
        return;
    }
    let announced: Vec<Appended> = stored.iter().map(|(a, _)| a.clone()).collect();
    remote.announce(&announced);
    remote.send(Input::Local(stored));
}

/// One transaction for the whole batch; each message is stored or refused
/// on its own (its room is gone, its reply names another room's message).
async fn commit(
    conn: &mut Connection,
    messages: Vec<NewMessage>,
    remote: &RemoteCommits,
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let statements = conn.statements.clone();
    let tx = conn.client.transaction().await?;
    let last: i64 = tx.query_one("SELECT last_id FROM message_counter FOR UPDATE", &[]).await?.get(0);
    let rooms = existing_rooms(&tx, &messages).await?;
    let replies = reply_rooms(&tx, &messages).await?;
    let at = Timestamp::now();

    let mut next = last;
    let mut outcomes = Vec::with_capacity(messages.len());
    for message in messages {
        if !rooms.contains_key(message.room_id.as_str()) {
            outcomes.push(Err(StoreError::NoSuchRoom));
        } else if message
            .reply_to
            .is_some_and(|id| replies.get(&id.0).map(String::as_str) != Some(message.room_id.as_str()))
        {
            outcomes.push(Err(StoreError::NoSuchMessage));
        } else {
            next += 1;
            outcomes.push(Ok((MessageId(next), message)));
        }
    }
    let mut mentioned = HashMap::new();
    let ids = last + 1..=next;
    if next > last {
        insert_messages(&tx, &statements, &outcomes, at).await?;
        for (id, message) in outcomes.iter().flatten() {
            if !message.mentions.is_empty() {
                mentioned.insert(id.0, insert_mentions(&tx, &statements, *id, message).await?);
            }
        }
        touch_direct_chats(&tx, &statements, &outcomes).await?;
        tx.execute("UPDATE message_counter SET last_id = $1", &[&next]).await?;
        remote.send(Input::Expect(ids.clone()));
    }
    if let Err(e) = tx.commit().await {
        remote.send(Input::Abandon(ids));
        return Err(e.into());
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.map(|(id, m)| Appended {
                mentioned: mentioned.remove(&id.0).unwrap_or_default(),
                author: m.user_id,
                message: Message {
                    message_id: id,
                    room_id: m.room_id,
                    username: m.username,
                    text: m.text,
                    timestamp: at,
                    reply_to: m.reply_to,
                    edited_at: None,
                    reactions: Vec::new(),
                    mentions: m.mentions.into_iter().map(|(_, name)| name).collect(),
                },
            })
        })
        .collect())
}

/// The batch's rooms that exist, each locked against deletion until the
/// commit (deleting a room removes its row first, then its messages).
async fn existing_rooms(tx: &Transaction<'_>, messages: &[NewMessage]) -> Result<HashMap<String, ()>, StoreError> {
    let mut ids: Vec<&str> = messages.iter().map(|m| m.room_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = tx.query("SELECT id FROM rooms WHERE id = ANY($1) ORDER BY id FOR SHARE", &[&ids]).await?;
    Ok(rows.iter().map(|r| (r.get::<_, String>(0), ())).collect())
}

/// The room of each message the batch replies to.
async fn reply_rooms(tx: &Transaction<'_>, messages: &[NewMessage]) -> Result<HashMap<i64, String>, StoreError> {
    let ids: Vec<i64> = messages.iter().filter_map(|m| m.reply_to.map(|id| id.0)).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx.query("SELECT id, room_id FROM messages WHERE id = ANY($1)", &[&ids]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The writer's connection with its statements prepared once.
struct Connection {
    client: Client,
    statements: Statements,
}

#[derive(Clone)]
struct Statements {
    insert: Statement,
    mentions: Statement,
    direct: Statement,
}

const INSERT_MESSAGES: &str =
    "INSERT INTO messages (id, room_id, user_id, username, text, created_at, reply_to, mentions)
             SELECT id, room_id, user_id, username, text, $6, reply_to, mentions
               FROM UNNEST($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $7::int8[], $8::text[])
                 AS v(id, room_id, user_id, username, text, reply_to, mentions)";

const INSERT_MENTIONS: &str = "INSERT INTO mentions (user_id, room_id, message_id)
             SELECT u, $2, $3 FROM UNNEST($1::int8[]) AS u
              WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = u AND blocked_id = $4)
             ON CONFLICT DO NOTHING
             RETURNING user_id";

const TOUCH_DIRECT_CHATS: &str = "UPDATE direct_chats AS d SET last_message_id = v.id
               FROM UNNEST($1::text[], $2::int8[]) AS v(room_id, id)
              WHERE d.room_id = v.room_id";

type Outcomes = [Result<(MessageId, NewMessage), StoreError>];

/// One INSERT for every stored message of the batch.
async fn insert_messages(
    tx: &Transaction<'_>,
    conn: &Statements,
    outcomes: &Outcomes,
    at: Timestamp,
) -> Result<(), StoreError> {
    let stored: Vec<&(MessageId, NewMessage)> = outcomes.iter().flatten().collect();
    let ids: Vec<i64> = stored.iter().map(|(id, _)| id.0).collect();
    let rooms: Vec<&str> = stored.iter().map(|(_, m)| m.room_id.as_str()).collect();
    let users: Vec<i64> = stored.iter().map(|(_, m)| m.user_id.0).collect();
    let names: Vec<&str> = stored.iter().map(|(_, m)| m.username.as_str()).collect();
    let texts: Vec<&str> = stored.iter().map(|(_, m)| m.text.as_str()).collect();
    let replies: Vec<Option<i64>> = stored.iter().map(|(_, m)| m.reply_to.map(|id| id.0)).collect();
    let mentions: Vec<Option<String>> = stored
        .iter()
        .map(|(_, m)| {
            (!m.mentions.is_empty()).then(|| m.mentions.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(" "))
        })
        .collect();
    let stmt = &conn.insert;
    tx.execute(stmt, &[&ids, &rooms, &users, &names, &texts, &at.unix_millis(), &replies, &mentions]).await?;
    Ok(())
}

/// Records whom a message mentions, except those who blocked its author;
/// returns who was recorded.
async fn insert_mentions(
    tx: &Transaction<'_>,
    conn: &Statements,
    id: MessageId,
    message: &NewMessage,
) -> Result<Vec<UserId>, StoreError> {
    let users: Vec<i64> = message.mentions.iter().map(|(u, _)| u.0).filter(|u| *u != message.user_id.0).collect();
    let stmt = &conn.mentions;
    let rows = tx.query(stmt, &[&users, &message.room_id.as_str(), &id.0, &message.user_id.0]).await?;
    let recorded: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    // In the order the text names them, as SQLite reports them.
    Ok(users.into_iter().filter(|u| recorded.contains(u)).map(UserId).collect())
}

/// Direct conversations remember their newest message (list_direct's order).
async fn touch_direct_chats(tx: &Transaction<'_>, conn: &Statements, outcomes: &Outcomes) -> Result<(), StoreError> {
    let mut newest: HashMap<&str, i64> = HashMap::new();
    for (id, message) in outcomes.iter().flatten() {
        if message.room_id.is_direct() {
            newest.insert(message.room_id.as_str(), id.0);
        }
    }
    if newest.is_empty() {
        return Ok(());
    }
    let (rooms, ids): (Vec<&str>, Vec<i64>) = newest.into_iter().unzip();
    let stmt = &conn.direct;
    tx.execute(stmt, &[&rooms, &ids]).await?;
    Ok(())
}
