//! Jepsen-style load: writers send uniquely numbered texts as fast as the
//! acknowledgements come back, readers record every `message_received`
//! in the order it arrives, and a checker holds both against each other
//! and against the stored history.
//!
//! A writer whose connection ends while a send is in flight cannot know
//! whether it was stored: that text is *indeterminate*, allowed at most
//! once anywhere. An acknowledged text must reach every reader exactly
//! once, with its acknowledged id, and ids must only grow along each
//! reader's stream.

use std::{
    collections::{HashMap, HashSet},
    fmt::Write as _,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::client::{CallError, Client, WAIT};

/// The text that tells readers the run is over. Every acknowledged message
/// was accepted before it, so it has a smaller id and comes first.
pub const END: &str = "end-of-run";

/// How long a send may take before the writer gives up on it.
const SEND_LIMIT: Duration = Duration::from_secs(10);

/// How long a reader waits for its next message before giving up.
const READ_IDLE: Duration = Duration::from_secs(30);

/// What writers and readers share with the test.
pub struct Load {
    pub room: String,
    /// Every node's `/ws` URL.
    pub urls: Vec<String>,
    /// Whether clients whose connection ends reconnect to another node
    /// (otherwise a lost connection is a failure).
    pub reconnect: bool,
    /// How long a reader waits before reconnecting, as real clients back
    /// off; messages sent meanwhile must come in its catch-up.
    pub reader_backoff: Duration,
    pub stop: AtomicBool,
    /// Acknowledged sends so far, over all writers.
    pub acked: AtomicUsize,
    /// Acknowledged sends so far, by writer.
    pub acked_by: Vec<AtomicUsize>,
    /// A label the test moves forward (before / during / after a fault);
    /// each acknowledgement records the phase it came in.
    pub phase: AtomicU8,
}

impl Load {
    /// Clients that stay on their node (a lost connection is a failure).
    pub fn new(room: &str, urls: Vec<String>, writers: usize) -> Arc<Self> {
        Self::build(room, urls, writers, false, Duration::ZERO)
    }

    /// Clients that move to another node when theirs goes; readers wait
    /// `reader_backoff` first.
    pub fn reconnecting(room: &str, urls: Vec<String>, writers: usize, reader_backoff: Duration) -> Arc<Self> {
        Self::build(room, urls, writers, true, reader_backoff)
    }

    fn build(room: &str, urls: Vec<String>, writers: usize, reconnect: bool, reader_backoff: Duration) -> Arc<Self> {
        Arc::new(Self {
            room: room.to_owned(),
            urls,
            reconnect,
            reader_backoff,
            stop: AtomicBool::new(false),
            acked: AtomicUsize::new(0),
            acked_by: (0..writers).map(|_| AtomicUsize::new(0)).collect(),
            phase: AtomicU8::new(0),
        })
    }

    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    /// Acknowledged sends by writer, now.
    pub fn acked_by(&self) -> Vec<usize> {
        self.acked_by.iter().map(|a| a.load(Ordering::SeqCst)).collect()
    }

    pub fn set_phase(&self, phase: u8) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Waits (bounded) until `condition` holds, polling; panics with `what`.
    pub async fn wait_until(&self, what: &str, limit: Duration, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + limit;
        while !condition() {
            assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One acknowledged send.
#[derive(Debug, Clone)]
pub struct Ack {
    pub text: String,
    pub message_id: i64,
    pub phase: u8,
    /// Node that acknowledged it.
    pub node: usize,
}

#[derive(Debug, Default)]
pub struct WriterReport {
    pub writer: usize,
    pub acked: Vec<Ack>,
    /// Sent, but the connection ended (or the call timed out) before the
    /// answer: maybe stored, maybe not.
    pub indeterminate: Vec<String>,
    /// Error answers: (text, error object).
    pub refused: Vec<(String, Value)>,
    /// Connection losses and reconnections, in order.
    pub events: Vec<String>,
    /// The writer's connection at the end (None if it could not reconnect).
    pub client: Option<Client>,
}

/// Joins `load.room` on `client` and sends until `load.stop`, one call at
/// a time.
pub async fn writer(load: Arc<Load>, writer: usize, token: String, mut client: Client) -> WriterReport {
    client.discard_notifications();
    let mut report = WriterReport { writer, ..WriterReport::default() };
    let mut seq = 0u64;
    while !load.stop.load(Ordering::SeqCst) {
        seq += 1;
        let text = format!("w{writer}-{seq}");
        let params = json!({"room_id": load.room, "text": text});
        match client.try_call("send_message", params, SEND_LIMIT).await {
            Ok(reply) => match reply["result"]["message_id"].as_i64() {
                Some(message_id) => {
                    let phase = load.phase.load(Ordering::SeqCst);
                    report.acked.push(Ack { text, message_id, phase, node: client.node });
                    load.acked.fetch_add(1, Ordering::SeqCst);
                    load.acked_by[writer].fetch_add(1, Ordering::SeqCst);
                }
                None => {
                    report.refused.push((text, reply["error"].clone()));
                    // An error is an answer: carry on, gently.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Err(CallError::Timeout) => {
                report.events.push(format!("{text}: no answer within {SEND_LIMIT:?} on node {}", client.node + 1));
                report.indeterminate.push(text);
            }
            Err(CallError::Closed(code)) => {
                report.indeterminate.push(text);
                let at = client.node;
                report.events.push(format!("connection to node {} ended (close {code:?}) at seq {seq}", at + 1));
                if !load.reconnect {
                    return report;
                }
                let user = client.user.clone();
                drop(client);
                match rejoin(&load, &user, &token, at, None).await {
                    Some((c, _)) => {
                        report.events.push(format!("reconnected to node {}", c.node + 1));
                        client = c;
                        client.discard_notifications();
                    }
                    None => {
                        report.events.push("could not reconnect to any node".into());
                        return report;
                    }
                }
            }
        }
    }
    report.client = Some(client);
    report
}

#[derive(Debug, Default)]
pub struct ReaderReport {
    pub name: String,
    /// (id, text) of every message of the room, in the order received
    /// (catch-up after a reconnect included).
    pub stream: Vec<(i64, String)>,
    /// Whether the END message came.
    pub finished: bool,
    /// Connection losses, reconnections and catch-ups, in order.
    pub events: Vec<String>,
    pub client: Option<Client>,
}

/// Records the room's messages until END arrives.
pub async fn reader(load: Arc<Load>, token: String, mut client: Client) -> ReaderReport {
    let mut report = ReaderReport { name: client.user.clone(), ..ReaderReport::default() };
    loop {
        match client.next_frame(READ_IDLE).await {
            Ok(frame) => {
                if frame.method() != Some("message_received") || frame.params()["room_id"] != load.room.as_str() {
                    continue;
                }
                let id = frame.params()["message_id"].as_i64().unwrap();
                let text = frame.params()["text"].as_str().unwrap().to_owned();
                let end = text == END;
                report.stream.push((id, text));
                if end {
                    report.finished = true;
                    break;
                }
            }
            Err(CallError::Timeout) => {
                report.events.push(format!("nothing for {READ_IDLE:?} on node {}; giving up", client.node + 1));
                break;
            }
            Err(CallError::Closed(code)) => {
                let at = client.node;
                report.events.push(format!(
                    "connection to node {} ended (close {code:?}) after {} messages",
                    at + 1,
                    report.stream.len()
                ));
                if !load.reconnect {
                    report.client = Some(client);
                    return report;
                }
                // The room was joined before its first message: 0 means "all of it".
                let since = Some(report.stream.last().map_or(0, |m| m.0));
                let user = client.user.clone();
                drop(client);
                tokio::time::sleep(load.reader_backoff).await;
                let Some((c, missed)) = rejoin(&load, &user, &token, at, since).await else {
                    report.events.push("could not reconnect to any node".into());
                    return report;
                };
                client = c;
                report.events.push(format!(
                    "reconnected to node {} with since_message_id {since:?}: {} missed messages at position {}",
                    client.node + 1,
                    missed.len(),
                    report.stream.len()
                ));
                for message in missed {
                    let end = message.1 == END;
                    report.stream.push(message);
                    if end {
                        report.finished = true;
                    }
                }
                if report.finished {
                    break;
                }
            }
        }
    }
    report.client = Some(client);
    report
}

/// Connects as `user` to the first node after `from` that accepts, and
/// joins the room; with `since`, also returns what was missed after that
/// id (paging back through `get_history` when the catch-up was capped).
async fn rejoin(
    load: &Load,
    user: &str,
    token: &str,
    from: usize,
    since: Option<i64>,
) -> Option<(Client, Vec<(i64, String)>)> {
    let n = load.urls.len();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        for step in 1..=n {
            let node = (from + step) % n;
            let Ok(mut client) = Client::connect(&load.urls[node], node, user, token).await else { continue };
            let mut params = json!({"room_name": load.room});
            if let Some(since) = since {
                params["since_message_id"] = json!(since);
            }
            let Ok(reply) = client.try_call("join_room", params, WAIT).await else { continue };
            let result = &reply["result"];
            let Some(recent) = result["recent_messages"].as_array() else {
                panic!("{user}: rejoin on node {}: {reply}", node + 1)
            };
            let mut missed: Vec<(i64, String)> = recent.iter().map(as_pair).collect();
            if let Some(since) = since {
                if recent.len() >= 200 {
                    let older = page_back(&mut client, &load.room, since, missed[0].0).await;
                    missed.splice(0..0, older);
                }
            } else {
                missed.clear();
            }
            return Some((client, missed));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The room's messages with ids in (since, before), oldest first.
async fn page_back(client: &mut Client, room: &str, since: i64, mut before: i64) -> Vec<(i64, String)> {
    let mut pages = Vec::new();
    loop {
        let page = client.ok("get_history", json!({"room_id": room, "before_message_id": before, "limit": 200})).await;
        let messages: Vec<(i64, String)> = page["messages"].as_array().unwrap().iter().map(as_pair).collect();
        let done = !page["has_more"].as_bool().unwrap() || messages.is_empty() || messages[0].0 <= since;
        if let Some(first) = messages.first() {
            before = first.0;
        }
        pages.push(messages.into_iter().filter(|m| m.0 > since).collect::<Vec<_>>());
        if done {
            break;
        }
    }
    pages.into_iter().rev().flatten().collect()
}

fn as_pair(message: &Value) -> (i64, String) {
    (message["message_id"].as_i64().unwrap(), message["text"].as_str().unwrap().to_owned())
}

/// Every message of `room` through `get_history` paging, oldest first.
pub async fn full_history(client: &mut Client, room: &str) -> Vec<(i64, String)> {
    let mut pages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut params = json!({"room_id": room, "limit": 200});
        if let Some(b) = before {
            params["before_message_id"] = json!(b);
        }
        let page = client.ok("get_history", params).await;
        let messages: Vec<(i64, String)> = page["messages"].as_array().unwrap().iter().map(as_pair).collect();
        let has_more = page["has_more"].as_bool().unwrap();
        if let Some(first) = messages.first() {
            before = Some(first.0);
        }
        let empty = messages.is_empty();
        pages.push(messages);
        if !has_more || empty {
            break;
        }
    }
    pages.into_iter().rev().flatten().collect()
}

/// What the writers did, indexed for the checker.
pub struct Expected {
    /// Acknowledged text → its ack.
    pub acked: HashMap<String, Ack>,
    /// Texts that may or may not have been stored.
    pub maybe: HashSet<String>,
    /// Other texts the test itself sent to the room (markers, END).
    pub extra: HashSet<String>,
}

impl Expected {
    /// From acknowledgements gathered by the test itself.
    pub fn from_acks(acks: &[Ack], maybe: &[String], extra: &[&str]) -> Self {
        Self {
            acked: acks.iter().map(|a| (a.text.clone(), a.clone())).collect(),
            maybe: maybe.iter().cloned().collect(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub fn new(writers: &[WriterReport], extra: &[&str]) -> Self {
        let acked = writers.iter().flat_map(|w| w.acked.iter()).map(|a| (a.text.clone(), a.clone())).collect();
        let mut maybe: HashSet<String> = writers.iter().flat_map(|w| w.indeterminate.iter().cloned()).collect();
        // An error answer normally means nothing was stored, but a timeout
        // inside the server may come after the commit: allowed once too.
        maybe.extend(writers.iter().flat_map(|w| w.refused.iter().map(|r| r.0.clone())));
        Self { acked, maybe, extra: extra.iter().map(|s| (*s).to_owned()).collect() }
    }
}

/// Problems with one stream of messages (a reader's, or the history):
/// order, duplicates, acknowledged messages missing or with another id,
/// texts nobody sent. Empty when all is well.
pub fn check_stream(name: &str, stream: &[(i64, String)], expected: &Expected, phases: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut out_of_order = Vec::new();
    for (i, pair) in stream.windows(2).enumerate() {
        if pair[0].0 >= pair[1].0 {
            out_of_order.push(format!("#{i}: {} ({}) then {} ({})", pair[0].0, pair[0].1, pair[1].0, pair[1].1));
        }
    }
    if !out_of_order.is_empty() {
        problems.push(format!(
            "{name}: ids not strictly increasing at {} places, e.g. {}",
            out_of_order.len(),
            first_few(&out_of_order)
        ));
    }
    let mut seen: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, text) in stream {
        seen.entry(text.as_str()).or_default().push(*id);
    }
    let origin = |text: &str| match expected.acked.get(text) {
        Some(a) => {
            format!(", acked by node {} {}", a.node + 1, phases.get(usize::from(a.phase)).copied().unwrap_or("?"))
        }
        None => String::new(),
    };
    let duplicates: Vec<String> = seen
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(text, ids)| format!("{text} as {ids:?}{}", origin(text)))
        .collect();
    if !duplicates.is_empty() {
        problems.push(format!(
            "{name}: {} texts delivered more than once, e.g. {}",
            duplicates.len(),
            first_few(&duplicates)
        ));
    }
    let unknown: Vec<String> = seen
        .keys()
        .filter(|t| !expected.acked.contains_key(**t) && !expected.maybe.contains(**t) && !expected.extra.contains(**t))
        .map(|t| (*t).to_owned())
        .collect();
    if !unknown.is_empty() {
        problems.push(format!("{name}: {} texts nobody sent, e.g. {}", unknown.len(), first_few(&unknown)));
    }
    let mut missing: Vec<&Ack> = expected.acked.values().filter(|a| !seen.contains_key(a.text.as_str())).collect();
    missing.sort_by_key(|a| a.message_id);
    if !missing.is_empty() {
        let mut by_phase: HashMap<&str, usize> = HashMap::new();
        for ack in &missing {
            *by_phase.entry(phases.get(usize::from(ack.phase)).copied().unwrap_or("?")).or_default() += 1;
        }
        let examples: Vec<String> =
            missing.iter().map(|a| format!("{} (id {}, acked by node {})", a.text, a.message_id, a.node + 1)).collect();
        problems.push(format!(
            "{name}: {} of {} acknowledged messages missing (by phase {by_phase:?}), e.g. {}",
            missing.len(),
            expected.acked.len(),
            first_few(&examples)
        ));
    }
    let wrong_id: Vec<String> = expected
        .acked
        .values()
        .filter_map(|a| {
            let ids = seen.get(a.text.as_str())?;
            (!ids.contains(&a.message_id)).then(|| format!("{} acked as {} but seen as {ids:?}", a.text, a.message_id))
        })
        .collect();
    if !wrong_id.is_empty() {
        problems.push(format!(
            "{name}: {} messages with another id than acknowledged, e.g. {}",
            wrong_id.len(),
            first_few(&wrong_id)
        ));
    }
    problems
}

/// A reader that was in the room from before its first message must have
/// received exactly what is stored: every stored message (acknowledged or
/// not: its sender's node may have died before answering) and nothing that
/// is not stored (clients never see what the database does not have).
pub fn check_against_history(name: &str, stream: &[(i64, String)], history: &[(i64, String)]) -> Vec<String> {
    let received: HashSet<i64> = stream.iter().map(|m| m.0).collect();
    let stored: HashSet<i64> = history.iter().map(|m| m.0).collect();
    let never: Vec<String> =
        history.iter().filter(|m| !received.contains(&m.0)).map(|m| format!("{} ({})", m.0, m.1)).collect();
    let unstored: Vec<String> =
        stream.iter().filter(|m| !stored.contains(&m.0)).map(|m| format!("{} ({})", m.0, m.1)).collect();
    let mut problems = Vec::new();
    if !never.is_empty() {
        problems.push(format!("{name}: {} stored messages never delivered, e.g. {}", never.len(), first_few(&never)));
    }
    if !unstored.is_empty() {
        problems.push(format!(
            "{name}: {} delivered messages not stored, e.g. {}",
            unstored.len(),
            first_few(&unstored)
        ));
    }
    problems
}

/// Each writer's acknowledged ids must grow with its sequence numbers: it
/// sent one at a time, so each was accepted after the previous one.
pub fn check_writers(writers: &[WriterReport]) -> Vec<String> {
    let mut problems = Vec::new();
    for w in writers {
        for pair in w.acked.windows(2) {
            if pair[0].message_id >= pair[1].message_id {
                problems.push(format!(
                    "writer {}: {} got id {} but the later {} got {}",
                    w.writer, pair[0].text, pair[0].message_id, pair[1].text, pair[1].message_id
                ));
            }
        }
    }
    problems
}

fn first_few(items: &[String]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().take(5).enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{item}");
    }
    if items.len() > 5 {
        let _ = write!(out, "; … ({} more)", items.len() - 5);
    }
    out
}

/// How many of `stream`'s texts are among `texts`.
pub fn count_among(stream: &[(i64, String)], texts: &HashSet<String>) -> usize {
    stream.iter().filter(|m| texts.contains(&m.1)).count()
}

/// Waits for END on `client`; every message of `room` it received up to
/// and including END, in order.
pub async fn read_until_end(client: &mut Client, room: &str) -> Vec<(i64, String)> {
    let end = client.expect("message_received", |p| p["room_id"] == room && p["text"] == END).await;
    let mut stream = crate::client::messages_in(&client.take_buffered(), room);
    stream.push((end.params()["message_id"].as_i64().unwrap(), END.to_owned()));
    stream
}
