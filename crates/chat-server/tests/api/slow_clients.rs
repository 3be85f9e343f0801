//! A client that stops reading must not hold up anybody else: it is cut
//! off (queue overflow → 4008, or a write that stays blocked past the write
//! timeout), while everyone else keeps receiving every message.

use std::time::Instant;

use chat_api::{MessageText, RoomId, rpc::ChatApiClient as _};
use futures_util::{StreamExt, future::join_all};
use jsonrpsee::ws_client::WsClient;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{RawClient, TestServer, WsStream, drain, silent_member, within};

/// Characters per message. Each is a four-byte cat, so a message is
/// ~64 KB on the wire and a few dozen fill the kernel's socket buffers.
const BIG: usize = 16_000;

fn big_message() -> MessageText {
    MessageText::parse(&"🐱".repeat(BIG)).unwrap()
}

/// Lets big messages in: a request carrying one is ~64 KB.
const FRAME_BYTES: usize = 256 * 1024;

/// Sends `n` messages at once (one group commit) and returns their ids,
/// which is the order every member receives them in.
async fn send_together(alice: &WsClient, room: &RoomId, text: &MessageText, n: usize) -> Vec<i64> {
    let sends = (0..n).map(|_| alice.send_message(room.clone(), text.clone(), None));
    let mut ids: Vec<i64> = join_all(sends)
        .await
        .into_iter()
        .map(|stored| stored.expect("the sender is never refused").message_id.0)
        .collect();
    ids.sort_unstable();
    ids
}

/// What a well-behaved member saw, read continuously in its own task.
#[derive(Default)]
struct Observed {
    message_ids: Vec<i64>,
    left: Vec<String>,
}

impl Observed {
    fn record(&mut self, frame: &Value) {
        match frame["method"].as_str() {
            Some("message_received") => self.message_ids.push(frame["params"]["message_id"].as_i64().unwrap()),
            Some("user_left") => self.left.push(frame["params"]["username"].as_str().unwrap().to_owned()),
            _ => {}
        }
    }
}

/// Reads `client` for as long as the test runs and forwards every frame.
fn keep_reading(mut client: RawClient) -> mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = client.inner().next().await {
            if let Message::Text(text) = message
                && tx.send(serde_json::from_str(&text).unwrap()).is_err()
            {
                break;
            }
        }
    });
    rx
}

/// The message ids a silent socket received once it read again, and how
/// it ended.
async fn what_the_silent_client_got(ws: &mut WsStream) -> (Vec<i64>, Option<(u16, String)>) {
    let (frames, close) = drain(ws).await;
    let ids = frames
        .iter()
        .filter(|f| f["method"] == "message_received")
        .map(|f| f["params"]["message_id"].as_i64().unwrap())
        .collect();
    (ids, close)
}

fn assert_in_order_and_among(got: &[i64], sent: &[i64]) {
    assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
    assert!(got.iter().all(|id| sent.contains(id)), "ids that were never sent");
}

#[tokio::test]
async fn a_client_whose_queue_overflows_is_cut_off_with_4008_and_nobody_else_misses_anything() {
    let server = TestServer::spawn_with(|c| {
        c.connection.send_queue = 8;
        c.connection.max_frame_bytes = FRAME_BYTES;
        c.chat.max_message_length = BIG;
        c.rate_limit.enabled = false;
    })
    .await;
    let mut silent = silent_member(&server, "slowpoke", "flood", 4096).await;
    let mut bob = keep_reading(server.raw_in("bob", "flood").await);
    let alice = server.client_in("alice", "flood").await;
    let room = RoomId::parse("flood").unwrap();
    let text = big_message();

    // A few at a time: a well-behaved member never has more than a handful
    // of frames queued, well under the queue of 8; only the client that
    // does not read piles up.
    let mut seen = Observed::default();
    let mut sent = Vec::new();
    let mut rounds_after_cut_off = 0;
    while rounds_after_cut_off < 2 {
        assert!(sent.len() < 1_000, "the silent client was never cut off");
        sent.extend(send_together(&alice, &room, &text, 3).await);
        while let Ok(frame) = bob.try_recv() {
            seen.record(&frame);
        }
        if seen.left.iter().any(|u| u == "slowpoke") {
            rounds_after_cut_off += 1;
        }
    }
    within("bob to receive every message", async {
        while seen.message_ids.len() < sent.len() {
            seen.record(&bob.recv().await.unwrap());
        }
    })
    .await;
    assert_eq!(seen.message_ids, sent, "bob got every message, in order");

    // The server stops queueing for it at once but lets the write already
    // under way finish; once the client reads again it gets a prefix of
    // the messages, then the close frame.
    let (got, close) = what_the_silent_client_got(&mut silent).await;
    assert_in_order_and_among(&got, &sent);
    assert!(got.len() < sent.len(), "it was cut off before the end");
    assert_eq!(close.map(|(code, _)| code), Some(4008), "after {} of {} messages", got.len(), sent.len());

    assert_eq!(reqwest::get(server.url("/health")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_client_whose_socket_stays_full_is_dropped_after_the_write_timeout() {
    let server = TestServer::spawn_with(|c| {
        c.connection.write_timeout_secs = 1;
        c.connection.max_frame_bytes = FRAME_BYTES;
        c.chat.max_message_length = BIG;
        c.rate_limit.enabled = false;
    })
    .await;
    let queue = server.config.connection.send_queue;
    let mut silent = silent_member(&server, "slowpoke", "flood", 4096).await;
    let mut bob = keep_reading(server.raw_in("bob", "flood").await);
    let alice = server.client_in("alice", "flood").await;
    let room = RoomId::parse("flood").unwrap();
    let text = big_message();

    // Far more bytes than the kernel holds for the silent socket (tens of
    // kilobytes), but far fewer frames than the queue holds: if the client
    // is dropped, the write timeout did it, not an overflow.
    let count = 2 * 1024 * 1024 / (4 * BIG);
    assert!(count < queue / 2);
    let started = Instant::now();
    let mut sent = Vec::new();
    while sent.len() < count {
        sent.extend(send_together(&alice, &room, &text, 16).await);
    }
    let last_sent = Instant::now();

    let mut seen = Observed::default();
    within("the silent client to be dropped", async {
        while !seen.left.iter().any(|u| u == "slowpoke") {
            seen.record(&bob.recv().await.unwrap());
        }
    })
    .await;
    let (since_start, since_last) = (started.elapsed(), last_sent.elapsed());
    assert!(since_start.as_secs_f64() >= 1.0, "dropped {since_start:?} after the first message");
    assert!(since_last.as_secs_f64() < 3.0, "dropped {since_last:?} after the last message");
    within("bob to receive every message", async {
        while seen.message_ids.len() < sent.len() {
            seen.record(&bob.recv().await.unwrap());
        }
    })
    .await;
    assert_eq!(seen.message_ids, sent);

    // The blocked write was abandoned, and no close frame can follow it:
    // the client reads what the kernel still held, then the connection
    // simply ends.
    let (got, close) = what_the_silent_client_got(&mut silent).await;
    assert_in_order_and_among(&got, &sent);
    assert!(got.len() < sent.len(), "it was cut off before the end");
    assert_eq!(close, None, "no close frame after an abandoned write");
    assert_eq!(reqwest::get(server.url("/health")).await.unwrap().status(), 200);
}
