//! Group commit on PostgreSQL: one task with its own connection commits
//! whatever sends have queued up as one transaction.
//!
//! Each transaction first locks the counter row, so message commits are
//! serialized across every node and ids become visible in order (see the
//! schema); the rest of the batch is one statement, sent with the lock.
//! With `synchronous_commit = on` the commit returns once the
//! batch is on PostgreSQL's disk; only then are the senders answered,
//! through the sequencer, which hands messages out in id order.

use std::{sync::Arc, time::Duration};

use chat_api::{Message, MessageId, Timestamp};
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls, Statement};

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
    let statements = Statements { lock: client.prepare(LOCK).await?, append: client.prepare(APPEND).await? };
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
///
/// The counter row's lock serializes every node's message commits, so it
/// is held as briefly as possible: the lock and the one statement that
/// does everything else go out together (pipelined), then the commit.
async fn commit(
    conn: &mut Connection,
    messages: Vec<NewMessage>,
    remote: &RemoteCommits,
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let statements = conn.statements.clone();
    let at = Timestamp::now();
    let batch = Columns::of(&messages);
    let created_at = at.unix_millis();
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
        &batch.rooms,
        &batch.users,
        &batch.names,
        &batch.texts,
        &batch.replies,
        &batch.mentions,
        &created_at,
        &batch.mention_ords,
        &batch.mention_users,
    ];
    let tx = conn.client.transaction().await?;
    let (_, rows) = tokio::try_join!(tx.query_one(&statements.lock, &[]), tx.query(&statements.append, &params))?;
    // One row per message, in batch order: whether its room exists, and
    // its id and recorded mentions if it was stored.
    let mut outcomes = Vec::with_capacity(messages.len());
    for (message, row) in messages.into_iter().zip(&rows) {
        let room_ok: bool = row.get(1);
        let outcome = match row.get::<_, Option<i64>>(2) {
            Some(id) => Ok((MessageId(id), message, row.get::<_, Vec<i64>>(3))),
            None if !room_ok => Err(StoreError::NoSuchRoom),
            None => Err(StoreError::NoSuchMessage),
        };
        outcomes.push(outcome);
    }
    let stored: Vec<i64> = outcomes.iter().flatten().map(|(id, _, _)| id.0).collect();
    // Ids are consecutive within a batch.
    let ids = stored.first().zip(stored.last()).map(|(first, last)| *first..=*last);
    if let Some(ids) = &ids {
        remote.send(Input::Expect(ids.clone()));
    }
    if let Err(e) = tx.commit().await {
        if let Some(ids) = ids {
            remote.send(Input::Abandon(ids));
        }
        return Err(e.into());
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.map(|(id, m, recorded)| Appended {
                // In the order the text names them.
                mentioned: m.mentions.iter().map(|(u, _)| *u).filter(|u| recorded.contains(&u.0)).collect(),
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

/// The writer's connection with its statements prepared once.
struct Connection {
    client: Client,
    statements: Statements,
}

#[derive(Clone)]
struct Statements {
    lock: Statement,
    append: Statement,
}

/// Takes the counter row's lock (see the schema).
const LOCK: &str = "SELECT last_id FROM message_counter FOR UPDATE";

/// Everything a batch does, in one statement run under the counter's lock
/// (so its snapshot sees every commit before it, deletions of rooms
/// included: they take the same lock). It checks each message's room and
/// reply, numbers the valid ones on from the counter, stores them with
/// their mentions (except from users who blocked the author), moves the
/// direct conversations' newest message and the counter, and answers one
/// row per message in batch order: (position, room exists, id or NULL,
/// users whose mention was recorded).
const APPEND: &str = "
WITH v AS (
    SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::int8[], $6::text[])
        WITH ORDINALITY AS v(room_id, user_id, username, text, reply_to, mentions, ord)
), checked AS (
    SELECT v.*,
        EXISTS (SELECT 1 FROM rooms AS r WHERE r.id = v.room_id) AS room_ok,
        (v.reply_to IS NULL OR EXISTS (
            SELECT 1 FROM messages AS m WHERE m.id = v.reply_to AND m.room_id = v.room_id)) AS reply_ok
    FROM v
), numbered AS (
    SELECT c.*, (SELECT last_id FROM message_counter) + row_number() OVER (ORDER BY c.ord) AS id
    FROM checked AS c WHERE c.room_ok AND c.reply_ok
), stored AS (
    INSERT INTO messages (id, room_id, user_id, username, text, created_at, reply_to, mentions)
    SELECT id, room_id, user_id, username, text, $7, reply_to, mentions FROM numbered
    RETURNING id
), mentioned AS (
    INSERT INTO mentions (user_id, room_id, message_id)
    SELECT mm.user_id, n.room_id, n.id
      FROM UNNEST($8::int8[], $9::int8[]) AS mm(ord, user_id) JOIN numbered AS n ON n.ord = mm.ord
     WHERE mm.user_id <> n.user_id
       AND NOT EXISTS (SELECT 1 FROM blocks AS b WHERE b.blocker_id = mm.user_id AND b.blocked_id = n.user_id)
    ON CONFLICT DO NOTHING
    RETURNING message_id, user_id
), direct AS (
    UPDATE direct_chats AS d SET last_message_id = x.id
      FROM (SELECT room_id, max(id) AS id FROM numbered WHERE left(room_id, 3) = 'dm:' GROUP BY room_id) AS x
     WHERE d.room_id = x.room_id
), counter AS (
    UPDATE message_counter SET last_id = last_id + (SELECT count(*) FROM numbered)
)
SELECT c.ord, c.room_ok, n.id,
       ARRAY(SELECT mentioned.user_id FROM mentioned WHERE mentioned.message_id = n.id) AS recorded
  FROM checked AS c LEFT JOIN numbered AS n ON n.ord = c.ord
 ORDER BY c.ord";

/// A batch as the arrays [`APPEND`] takes.
struct Columns<'a> {
    rooms: Vec<&'a str>,
    users: Vec<i64>,
    names: Vec<&'a str>,
    texts: Vec<&'a str>,
    replies: Vec<Option<i64>>,
    mentions: Vec<Option<String>>,
    /// Each mention as (1-based position in the batch, user).
    mention_ords: Vec<i64>,
    mention_users: Vec<i64>,
}

impl<'a> Columns<'a> {
    fn of(messages: &'a [NewMessage]) -> Self {
        let mut columns = Self {
            rooms: Vec::with_capacity(messages.len()),
            users: Vec::with_capacity(messages.len()),
            names: Vec::with_capacity(messages.len()),
            texts: Vec::with_capacity(messages.len()),
            replies: Vec::with_capacity(messages.len()),
            mentions: Vec::with_capacity(messages.len()),
            mention_ords: Vec::new(),
            mention_users: Vec::new(),
        };
        for (ord, m) in (1_i64..).zip(messages) {
            columns.rooms.push(m.room_id.as_str());
            columns.users.push(m.user_id.0);
            columns.names.push(m.username.as_str());
            columns.texts.push(m.text.as_str());
            columns.replies.push(m.reply_to.map(|id| id.0));
            columns.mentions.push(
                (!m.mentions.is_empty())
                    .then(|| m.mentions.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(" ")),
            );
            for (user, _) in &m.mentions {
                columns.mention_ords.push(ord);
                columns.mention_users.push(user.0);
            }
        }
        columns
    }
}
