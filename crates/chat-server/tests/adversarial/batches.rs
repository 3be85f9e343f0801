//! A JSON-RPC batch is bounded like single calls: its answers count
//! against the connection's outbox byte budget as they are produced, items
//! beyond it are refused with -32600 without running, and the server's
//! memory stays bounded and comes back afterwards.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

use crate::{
    common::{ServerData, ServerProcess, ws_call, ws_connect},
    support::{WsStream, within},
};

/// Messages in the big room, and the limit of one history page.
const PAGE: usize = 200;
/// Requests in one batch (the default `connection.max_batch`).
const BATCH: usize = 50;

/// A server whose room `big` holds [`PAGE`] messages of 4000 emoji
/// (16 KB each), so one `get_history(limit 200)` answer is 3.2 MB and a
/// batch of 50 of them 160 MB.
async fn server_with_big_room(env: &[(&str, &str)]) -> (ServerData, ServerProcess) {
    let data = ServerData::new().await;
    let server = ServerProcess::start(&data, env, None).await;
    let token = server.login("alice", "alice123").await.unwrap();
    let mut writer = ws_connect(&server.ws_url(), &token).await;
    ws_call(&mut writer, 1, "join_room", json!({"room_name": "big"})).await;
    let text = "😺".repeat(4000);
    for i in 0..PAGE {
        let reply = ws_call(&mut writer, 10 + i as u64, "send_message", json!({"room_id": "big", "text": text})).await;
        assert!(reply.get("result").is_some(), "{reply}");
    }
    (data, server)
}

/// A client that accepts frames of any size, so that it sees what the
/// server sends rather than refusing it itself.
async fn unlimited_client(server: &ServerProcess, username: &str) -> WsStream {
    let token = server.token(username, &format!("{username}-password")).await;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let config = WebSocketConfig::default().max_message_size(None).max_frame_size(None);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false).await.unwrap();
    let joined = ws_call(&mut ws, 1, "join_room", json!({"room_name": "big"})).await;
    assert!(joined.get("result").is_some(), "{joined}");
    ws
}

/// A batch of [`BATCH`] full history pages of `big`, ids from `first`.
fn history_batch(first: u64) -> String {
    let items: Vec<Value> = (0..BATCH as u64)
        .map(|i| {
            json!({"jsonrpc": "2.0", "id": first + i, "method": "get_history",
                   "params": {"room_id": "big", "limit": PAGE}})
        })
        .collect();
    Value::Array(items).to_string()
}

/// What one batching client saw.
#[derive(Debug, Default)]
struct BatchOutcome {
    /// Items answered with a history page.
    pages: usize,
    /// Items answered with an error, by code.
    errors: Vec<i64>,
    /// The largest frame received, in bytes.
    largest_frame: usize,
    /// The close code, if the server closed the connection.
    closed_with: Option<u16>,
}

/// Sends `batches` batch frames at once, then reads every answer (as fast
/// as it can) until all batches are answered or the connection ends.
async fn run_batches(mut ws: WsStream, batches: usize) -> BatchOutcome {
    for b in 0..batches {
        ws.send(Message::text(history_batch(1_000 + (b * BATCH) as u64))).await.unwrap();
    }
    let mut outcome = BatchOutcome::default();
    let mut answered = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered < batches {
        let next = tokio::time::timeout_at(deadline.into(), ws.next()).await.expect("batch answers in time");
        match next {
            Some(Ok(Message::Text(text))) => {
                outcome.largest_frame = outcome.largest_frame.max(text.len());
                let frame: Value = serde_json::from_str(&text).unwrap();
                let Some(items) = frame.as_array() else { continue };
                answered += 1;
                for item in items {
                    match item.get("error") {
                        None => outcome.pages += 1,
                        Some(error) => outcome.errors.push(error["code"].as_i64().unwrap()),
                    }
                }
            }
            Some(Ok(Message::Close(frame))) => {
                outcome.closed_with = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    outcome
}

/// Resident memory of the server (MiB above what it was before `work`):
/// its peak while `work` runs, after 3 s idle, and after 2 s more of light
/// traffic from `calm` (the allocator gives freed memory back to the
/// system lazily, from threads that allocate again).
async fn rss_during<T>(server: &ServerProcess, calm: &mut WsStream, work: impl Future<Output = T>) -> (T, [u64; 3]) {
    let (before, _) = server.memory_kib();
    let mut work = std::pin::pin!(work);
    let mut peak = before;
    let value = loop {
        tokio::select! {
            value = &mut work => break value,
            () = tokio::time::sleep(Duration::from_millis(20)) => peak = peak.max(server.memory_kib().0),
        }
    };
    peak = peak.max(server.memory_kib().1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = server.memory_kib().0;
    let busy_until = Instant::now() + Duration::from_secs(2);
    for id in 1_000_000u64.. {
        let reply = ws_call(calm, id, "get_history", json!({"room_id": "big", "limit": 5})).await;
        assert!(reply.get("result").is_some(), "{reply}");
        if Instant::now() > busy_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = server.memory_kib().0;
    let mib = |kib: u64| kib.saturating_sub(before) / 1024;
    (value, [mib(peak), mib(idle), mib(busy)])
}

/// The figures behind docs/security.md: `connections` clients each send
/// `batches` batches of 50 full history pages at once and read every
/// answer. Prints the server's RSS growth at its peak and after the load.
///
/// `cargo test -p bidirectional-chat-server --test adversarial batch_memory_probe -- --ignored --nocapture`
/// (`PROBE_CONNECTIONS` and `PROBE_BATCHES` change the load; 4 × 2 by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check; run it by name"]
async fn batch_memory_probe() {
    let from_env = |key: &str, default: usize| std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (connections, batches) = (from_env("PROBE_CONNECTIONS", 4), from_env("PROBE_BATCHES", 2));
    // MIMALLOC_* options pass through, to compare allocator settings.
    let allocator: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("MIMALLOC_")).collect();
    let env: Vec<(&str, &str)> = allocator.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (_data, server) = server_with_big_room(&env).await;
    let mut clients = Vec::new();
    for c in 0..connections {
        clients.push(unlimited_client(&server, &format!("prober{c}")).await);
    }
    let mut calm = unlimited_client(&server, "calm").await;
    let started = Instant::now();
    let load = futures_util::future::join_all(clients.into_iter().map(|ws| run_batches(ws, batches)));
    let (outcomes, [peak_mib, idle_mib, busy_mib]) = rss_during(&server, &mut calm, load).await;
    let pages: usize = outcomes.iter().map(|o| o.pages).sum();
    let refused: usize = outcomes.iter().map(|o| o.errors.len()).sum();
    let largest = outcomes.iter().map(|o| o.largest_frame).max().unwrap_or(0);
    let closed: Vec<Option<u16>> = outcomes.iter().map(|o| o.closed_with).collect();
    eprintln!(
        "batch probe: {connections} connections × {batches} batches of {BATCH} × get_history({PAGE}) in {:?}: \
         {pages} pages, {refused} refused, largest frame {} KiB, closes {closed:?}; \
         server RSS +{peak_mib} MiB at peak, +{idle_mib} MiB after 3 s idle, +{busy_mib} MiB after 2 s of light \
         traffic (now {} MiB; {allocator:?})",
        started.elapsed(),
        largest / 1024,
        server.memory_kib().0 / 1024,
    );
}

/// With `connection.send_queue_bytes` at 7 MiB, a batch of 50 pages of
/// 3.2 MB gets two pages (a third would not fit beside them) and 48
/// refusals, and the connection carries on. Clients that read get every
/// batch answered so, even with batches pipelined; a client that sends
/// batch after batch without reading is closed as too slow; a bystander
/// is served throughout, and the server's memory stays bounded (without
/// the budget, four clients with two such batches each grew it by 3 GiB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_bounded_by_the_send_budget_like_single_calls() {
    const BUDGET: usize = 7 * 1024 * 1024;
    let budget = BUDGET.to_string();
    let env = [("CHAT__CONNECTION__SEND_QUEUE_BYTES", budget.as_str())];
    let (_data, server) = server_with_big_room(&env).await;
    let mut bystander = unlimited_client(&server, "bystander").await;
    let mut reader = unlimited_client(&server, "reader").await;
    let mut readers = Vec::new();
    for c in 0..3 {
        readers.push(unlimited_client(&server, &format!("reader{c}")).await);
    }

    // One batch on a quiet connection: exactly two pages, then refusals
    // that name their requests; the connection still works.
    reader.send(Message::text(history_batch(100))).await.unwrap();
    let (bytes, answer) = within("the batch's answer", async {
        loop {
            if let Some(Ok(Message::Text(text))) = reader.next().await {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame.is_array() {
                    break (text.len(), frame);
                }
            }
        }
    })
    .await;
    let items = answer.as_array().unwrap();
    assert_eq!(items.len(), BATCH, "every request is answered");
    let ids: Vec<u64> = items.iter().map(|i| i["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (100..100 + BATCH as u64).collect::<Vec<_>>(), "in order");
    let pages = items.iter().filter(|i| i["result"]["messages"].as_array().is_some_and(|m| m.len() == PAGE)).count();
    assert_eq!(pages, 2, "the second page fits beside the first, a third would not");
    for item in &items[2..] {
        assert_eq!(item["error"]["code"], -32600, "{item}");
    }
    assert!(bytes <= BUDGET, "an answer of {bytes} bytes");
    let alive = ws_call(&mut reader, 2, "list_rooms", json!({})).await;
    assert!(alive.get("result").is_some(), "{alive}");

    // Readers with three batches each in flight, and a client that sends
    // batches and never reads, all at once.
    let (rss_before, hwm_before) = server.memory_kib();
    let _hoarder = silent_batcher(&server).await;
    let load = futures_util::future::join_all(readers.into_iter().map(|ws| run_batches(ws, 3)));
    let load = tokio::spawn(load);
    let started = Instant::now();
    let mut peak = rss_before;
    loop {
        peak = peak.max(server.memory_kib().0);
        let reply = ws_call(&mut bystander, 3, "get_history", json!({"room_id": "big", "limit": 1})).await;
        assert!(reply.get("result").is_some(), "the bystander is served: {reply}");
        let hoarder_closed = server.metric("chat_slow_clients_closed_total").await >= 1.0;
        if load.is_finished() && hoarder_closed {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the load did not end (hoarder closed: {hoarder_closed})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for outcome in load.await.unwrap() {
        assert_eq!(outcome.closed_with, None, "a reading client stays connected: {outcome:?}");
        assert_eq!((outcome.pages, outcome.errors.len()), (3 * 2, 3 * (BATCH - 2)), "{outcome:?}");
        assert!(outcome.errors.iter().all(|c| *c == -32600) && outcome.largest_frame <= BUDGET, "{outcome:?}");
    }
    let grown_mib = peak.max(server.memory_kib().1).saturating_sub(rss_before.max(hwm_before)) / 1024;
    eprintln!("batches under a {BUDGET}-byte budget: server RSS +{grown_mib} MiB at peak");
    assert!(grown_mib < 200, "the server grew by {grown_mib} MiB");
}

/// Sends 32 batches of 50 full pages from a socket with a small receive
/// buffer, and never reads. Hold the returned stream until the end.
async fn silent_batcher(server: &ServerProcess) -> WsStream {
    let token = server.token("hoarder", "hoarder-password").await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let (mut ws, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.unwrap();
    let joined = ws_call(&mut ws, 1, "join_room", json!({"room_name": "big"})).await;
    assert!(joined.get("result").is_some(), "{joined}");
    for b in 0..32u64 {
        ws.send(Message::text(history_batch(1_000 + b * BATCH as u64))).await.unwrap();
    }
    ws
}
