//! A pipelined sender: keeps a window of `send_message` calls in flight on
//! one connection and records every acknowledged one, until the connection
//! ends (the server was killed or shut down).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::ws_call;
use crate::support::WsStream;

/// One acknowledged message.
#[derive(Debug, Clone)]
pub struct Acked {
    pub sender: usize,
    /// Position in the sender's sending order, from 0.
    pub seq: u64,
    pub message_id: i64,
    pub text: String,
}

/// What a sender saw when its connection ended.
#[derive(Debug, Default)]
pub struct SenderEnd {
    /// Requests sent (acknowledged or not).
    pub sent: u64,
    /// The close frame's code, if one came.
    pub close_code: Option<u16>,
    /// Error replies (there should be none).
    pub errors: Vec<Value>,
}

pub fn text_of(tag: &str, sender: usize, seq: u64) -> String {
    format!("{tag}-s{sender}-n{seq}")
}

/// Joins `room`, then returns the future that sends until the connection ends, `window` calls at a
/// time. Acknowledgements go to `acked` as they arrive.
pub async fn pipelined_sender(
    mut ws: WsStream,
    room: String,
    tag: String,
    sender: usize,
    window: usize,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> impl std::future::Future<Output = SenderEnd> {
    let joined = ws_call(&mut ws, 0, "join_room", json!({"room_name": room})).await;
    assert!(joined.get("result").is_some(), "join: {joined}");
    send_until_closed(ws, room, tag, sender, window, acked)
}

async fn send_until_closed(
    mut ws: WsStream,
    room: String,
    tag: String,
    sender: usize,
    window: usize,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> SenderEnd {
    let mut end = SenderEnd::default();
    let mut pending: HashMap<u64, u64> = HashMap::new();
    let mut next_seq = 0u64;
    loop {
        while pending.len() < window {
            let seq = next_seq;
            let id = seq + 1;
            let request = json!({"jsonrpc": "2.0", "id": id, "method": "send_message",
                "params": {"room_id": room, "text": text_of(&tag, sender, seq)}});
            if ws.send(Message::text(request.to_string())).await.is_err() {
                return end;
            }
            pending.insert(id, seq);
            next_seq += 1;
            end.sent += 1;
        }
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let v: Value = serde_json::from_str(&text).unwrap();
                let Some(id) = v.get("id").and_then(Value::as_u64) else { continue };
                let Some(seq) = pending.remove(&id) else { continue };
                if let Some(message_id) = v["result"]["message_id"].as_i64() {
                    acked.lock().unwrap().push(Acked { sender, seq, message_id, text: text_of(&tag, sender, seq) });
                } else {
                    end.errors.push(v);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                end.close_code = frame.map(|f| u16::from(f.code));
                return end;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return end,
        }
    }
}

/// Checks one room's history against what was acknowledged: every
/// acknowledged message is there exactly once with its text, ids are in
/// sending order per sender, and each sender's stored messages are a
/// prefix of what it sent (no holes before an acknowledged one).
pub fn verify_history(history: &[Value], acked: &[Acked], tag_prefix: &str) {
    let stored = crate::common::by_id(history);
    let mut texts_seen = std::collections::HashSet::new();
    for text in stored.values() {
        assert!(texts_seen.insert(text.clone()), "message {text:?} stored twice");
    }
    for a in acked {
        match stored.get(&a.message_id) {
            Some(text) => assert_eq!(text, &a.text, "message {} holds the wrong text", a.message_id),
            None => panic!(
                "acknowledged message {} ({:?}, sender {} #{}) is missing after restart",
                a.message_id, a.text, a.sender, a.seq
            ),
        }
    }
    // Per sender (and tag): stored sequence numbers form 0..=max, in id order.
    let mut per_sender: HashMap<String, Vec<(i64, u64)>> = HashMap::new();
    for (id, text) in &stored {
        if !text.starts_with(tag_prefix) {
            continue;
        }
        let (who, seq) = text.rsplit_once("-n").unwrap();
        per_sender.entry(who.to_owned()).or_default().push((*id, seq.parse().unwrap()));
    }
    for (who, mut items) in per_sender {
        items.sort();
        for (i, (id, seq)) in items.iter().enumerate() {
            assert_eq!(*seq, i as u64, "{who}: message {id} is #{seq} but only {i} earlier ones are stored (a hole)");
        }
    }
}
