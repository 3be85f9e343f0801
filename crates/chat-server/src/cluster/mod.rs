//! Cluster mode: several nodes sharing one PostgreSQL database and NATS.
//!
//! PostgreSQL is the only source of truth. NATS core carries, at most once
//! and fast:
//!
//! - each node's committed messages (a doorbell: a node that sees a hole
//!   in the ids, or hears nothing for a while, reads PostgreSQL; see
//!   `store::postgres::log`);
//! - what the hub relays ([`Relay`]): notifications for everyone, a room
//!   or a user, presence changes, evictions (kick, ban);
//! - liveness: a heartbeat per node every `cluster.heartbeat_ms`. A node
//!   silent for `cluster.presence_ttl_ms` is dead: its users' presence is
//!   dropped everywhere, with `user_left` where that ends it. A node that
//!   (re)connects says hello and every node answers with a snapshot of who
//!   is present through it, so presence heals after NATS was away.
//!
//! Bans are also read back from PostgreSQL every second ([`bans`]), in
//! case NATS lost one.
//!
//! Subjects: `chat.<cluster>.*`, where the cluster is named after its
//! PostgreSQL database, so clusters on different databases can share a
//! NATS server.

mod bans;
mod inbound;
mod wire;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_nats::Event;
use chat_api::{RoomId, ServerEvent, UserId, UserName};
use futures_util::{StreamExt as _, future::BoxFuture};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use self::{
    inbound::{Inbound, deliver_message},
    wire::{Body, Committed, Envelope, Notification},
};
use crate::{
    config::Config,
    hub::{EndedSession, Eviction, Hub, Relay},
    service::Accounts,
    store::Store,
};

/// A running cluster membership; dropping it does not leave (see
/// [`Cluster::leave`]).
#[derive(Debug)]
pub(crate) struct Cluster {
    node: String,
    outbox: mpsc::UnboundedSender<Body>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Cluster {
    /// Joins the cluster if the configuration names a NATS server; `None`
    /// for a single node.
    pub(crate) async fn join(
        config: &Config,
        store: &Arc<Store>,
        hub: &Arc<Hub>,
        accounts: &Arc<Accounts>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(url) = config.cluster.nats_url.clone() else { return Ok(None) };
        let remote = store.remote_commits().context("cluster mode needs the postgres storage backend")?;
        let node = config.cluster.node_id.clone().unwrap_or_else(generated_node_id);
        let subject = subject_prefix(config);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let server: async_nats::ServerAddr = url.expose().parse().context("cluster.nats_url is not a NATS URL")?;
        // The client reads credentials in the URL but does not send them.
        let options = match (server.username(), server.password()) {
            (Some(user), Some(password)) => {
                async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password.to_owned())
            }
            _ => async_nats::ConnectOptions::new(),
        };
        let nats = options
            .name(format!("bidirectional-chat {node}"))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .event_callback(move |event| {
                let events = events_tx.clone();
                async move {
                    let _ = events.send(event);
                }
            })
            .connect(server)
            .await
            .context("connecting to cluster.nats_url")?;
        let subscription = nats.subscribe(format!("{subject}.>")).await.context("subscribing to NATS")?;
        tracing::info!(node, subject, "joined the cluster");

        let (outbox, outgoing) = mpsc::unbounded_channel();
        let nodes = Arc::new(Mutex::new(HashMap::<String, Instant>::new()));
        let relay = Arc::new(NatsRelay {
            outbox: outbox.clone(),
            nats: nats.clone(),
            subject: everything(&subject),
            node: node.clone(),
            nodes: Arc::clone(&nodes),
        });
        hub.set_relay(relay);
        {
            let outbox = outbox.clone();
            remote.announce_with(move |batch| {
                let _ = outbox.send(Body::Commits { messages: batch.iter().map(Committed::from).collect() });
            });
        }
        {
            let hub = Arc::clone(hub);
            remote.deliver_with(move |appended| deliver_message(&hub, &appended));
        }

        let stop = CancellationToken::new();
        let heartbeat = Duration::from_millis(config.cluster.heartbeat_ms);
        let ttl = Duration::from_millis(config.cluster.presence_ttl_ms);
        let tasks = vec![
            tokio::spawn(publish(nats.clone(), subject.clone(), node.clone(), outgoing, stop.clone())),
            tokio::spawn(
                Inbound {
                    node: node.clone(),
                    nats: nats.clone(),
                    accounts: Arc::clone(accounts),
                    store: Arc::clone(store),
                    hub: Arc::clone(hub),
                    nodes: Arc::clone(&nodes),
                    outbox: outbox.clone(),
                }
                .run(subscription),
            ),
            tokio::spawn(liveness(Arc::clone(hub), nodes, outbox.clone(), heartbeat, ttl, stop.clone())),
            tokio::spawn(connection_events(events_rx, Arc::clone(store), outbox.clone())),
            tokio::spawn(bans::follow(Arc::clone(store), Arc::clone(hub), stop.clone())),
        ];
        let _ = outbox.send(Body::Hello);
        Ok(Some(Self { node, outbox, stop, tasks }))
    }

    /// This node's name.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// Tells the others this node is going, so they drop its presence at
    /// once instead of after the TTL.
    pub(crate) async fn leave(&mut self) {
        let _ = self.outbox.send(Body::Bye);
        self.stop.cancel();
        let mut tasks = std::mem::take(&mut self.tasks).into_iter();
        // The publisher first: it sends the goodbye before it stops.
        if let Some(publisher) = tasks.next() {
            let _ = tokio::time::timeout(Duration::from_secs(1), publisher).await;
        }
        for task in tasks {
            task.abort();
        }
    }
}

fn generated_node_id() -> String {
    format!("node-{:08x}", rand::random::<u32>())
}

/// `chat.<database name>`, with anything NATS would read as syntax
/// replaced.
fn subject_prefix(config: &Config) -> String {
    let database = config
        .storage
        .postgres_url
        .as_ref()
        .and_then(|url| url.expose().parse::<tokio_postgres::Config>().ok())
        .and_then(|pg| pg.get_dbname().map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    let clean: String =
        database.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("chat.{clean}")
}

/// The one subject every node publishes on and listens to.
fn everything(prefix: &str) -> async_nats::Subject {
    async_nats::Subject::from(format!("{prefix}.all"))
}

/// Sends what the hub and the log hand over, in the order they did.
async fn publish(
    nats: async_nats::Client,
    subject: String,
    node: String,
    mut outgoing: mpsc::UnboundedReceiver<Body>,
    stop: CancellationToken,
) {
    let subject = everything(&subject);
    loop {
        let body = tokio::select! {
            body = outgoing.recv() => match body { Some(body) => body, None => break },
            () = stop.cancelled() => {
                // Say goodbye if it is queued, then stop.
                while let Ok(body) = outgoing.try_recv() {
                    if matches!(body, Body::Bye) {
                        send(&nats, &subject, &node, body).await;
                    }
                }
                let _ = nats.flush().await;
                break;
            }
        };
        send(&nats, &subject, &node, body).await;
    }
}

async fn send(nats: &async_nats::Client, subject: &async_nats::Subject, node: &str, body: Body) {
    let envelope = Envelope { from: node.to_owned(), body };
    match serde_json::to_vec(&envelope) {
        // While NATS is away the client buffers, then drops; what is dropped
        // is recovered: messages from PostgreSQL, presence by snapshots.
        Ok(bytes) => {
            if let Err(e) = nats.publish(subject.clone(), bytes.into()).await {
                tracing::debug!(error = %e, "could not publish to NATS");
            }
        }
        Err(e) => tracing::error!(error = %e, "could not encode a cluster message"),
    }
}

/// Reacts to the NATS connection coming and going.
async fn connection_events(
    mut events: mpsc::UnboundedReceiver<Event>,
    store: Arc<Store>,
    outbox: mpsc::UnboundedSender<Body>,
) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Connected => {
                tracing::info!("connected to NATS");
                // Whatever was said while away is read back: messages from
                // PostgreSQL, presence from everyone's snapshots.
                if let Some(remote) = store.remote_commits() {
                    remote.recheck();
                }
                let _ = outbox.send(Body::Hello);
            }
            Event::Disconnected => tracing::warn!("lost the connection to NATS; reconnecting"),
            other => tracing::debug!(event = %other, "NATS"),
        }
    }
}

/// Sends heartbeats and drops nodes that stopped sending theirs.
async fn liveness(
    hub: Arc<Hub>,
    nodes: Arc<Mutex<HashMap<String, Instant>>>,
    outbox: mpsc::UnboundedSender<Body>,
    every: Duration,
    ttl: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => break,
        }
        let _ = outbox.send(Body::Heartbeat);
        let now = Instant::now();
        let dead: Vec<String> = {
            let mut nodes = nodes.lock();
            let dead =
                nodes.iter().filter(|(_, seen)| now.duration_since(**seen) > ttl).map(|(n, _)| n.clone()).collect();
            nodes.retain(|_, seen| now.duration_since(*seen) <= ttl);
            dead
        };
        for node in dead {
            tracing::warn!(node, ?ttl, "a node stopped answering; dropping its users' presence");
            drop_node(&hub, &node);
        }
    }
}

pub(super) fn drop_node(hub: &Hub, node: &str) {
    for room in hub.rooms() {
        room.drop_node(node);
    }
}

/// How long an eviction waits for the other nodes' answers.
const EVICTION_ANSWERS: Duration = Duration::from_secs(1);

/// The hub's side of the cluster: what it relays goes out as envelopes.
#[derive(Debug)]
struct NatsRelay {
    outbox: mpsc::UnboundedSender<Body>,
    /// For evictions, which wait for answers.
    nats: async_nats::Client,
    subject: async_nats::Subject,
    node: String,
    nodes: Arc<Mutex<HashMap<String, Instant>>>,
}

impl NatsRelay {
    fn send(&self, body: Body) {
        let _ = self.outbox.send(body);
    }
}

impl Relay for NatsRelay {
    fn everyone(&self, event: &ServerEvent) {
        if let Some(event) = Notification::of(event) {
            self.send(Body::Everyone { event });
        }
    }

    fn room(&self, room: &RoomId, event: &ServerEvent, except: Option<UserId>) {
        if let Some(event) = Notification::of(event) {
            self.send(Body::Room { room_id: room.clone(), event, except });
        }
    }

    fn user(&self, user: UserId, event: &ServerEvent) {
        if let Some(event) = Notification::of(event) {
            self.send(Body::User { user, event });
        }
    }

    fn presence(&self, room: &RoomId, user: UserId, username: &UserName, present: bool) {
        self.send(Body::Presence { room_id: room.clone(), user, username: username.clone(), present });
    }

    fn evict(&self, eviction: &Eviction) -> BoxFuture<'static, bool> {
        let envelope = Envelope { from: self.node.clone(), body: Body::Evict { eviction: eviction.clone() } };
        let (nats, subject, nodes) = (self.nats.clone(), self.subject.clone(), Arc::clone(&self.nodes));
        Box::pin(async move {
            let Ok(bytes) = serde_json::to_vec(&envelope) else { return false };
            // Asked, not told: each node answers whether it had a
            // connection, so that a kick can say whether anyone was kicked.
            let inbox = nats.new_inbox();
            let Ok(mut answers) = nats.subscribe(inbox.clone()).await else { return false };
            if nats.publish_with_reply(subject, inbox, bytes.into()).await.is_err() {
                return false;
            }
            let expected = nodes.lock().len();
            let mut had = false;
            let mut heard = 0;
            let deadline = tokio::time::sleep(EVICTION_ANSWERS);
            tokio::pin!(deadline);
            while heard < expected {
                tokio::select! {
                    answer = answers.next() => match answer {
                        Some(answer) => {
                            heard += 1;
                            had |= answer.payload.as_ref() == b"true";
                        }
                        None => break,
                    },
                    () = &mut deadline => break,
                }
            }
            had
        })
    }

    fn unbanned(&self, user: UserId) {
        self.send(Body::Unbanned { user });
    }

    fn session_ended(&self, ended: &EndedSession) {
        self.send(Body::SessionEnded { ended: ended.clone() });
    }
}
