//! Point 5: hostile input on the wire. Every abuse gets a contract error or
//! a contract close code, the server's tasks and memory stay bounded, and a
//! well-behaved client in the same room carries on.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::{
    common::{Framer, ServerData, ServerProcess, metric_value, quantile, ws_call, ws_connect},
    support::{RawClient, RawClientExt, TestServer, error_code, within},
};

const CONTRACT_CODES: &[i64] =
    &[-32700, -32600, -32601, -32602, -32001, -32002, -32003, -32004, -32005, -32006, -32007];

async fn alive_tasks(server: &TestServer) -> f64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    metric_value(&text, "chat_runtime_alive_tasks")
}

/// One frame of garbage, the code it must get, and proof the connection
/// still works afterwards.
#[tokio::test]
async fn malformed_frames_get_contract_errors_and_the_connection_survives() {
    let server = TestServer::spawn().await;
    // A moderator, so that ban_user gets as far as checking its duration.
    let mut c = server.raw_in("moderator", "general").await;
    // Deep enough to overflow any recursive parser, small enough to fit a frame.
    let deep_array = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_params = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"send_message","params":{{"room_id":"general","text":{}1{}}}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let call = |method: &str, params: Value| {
        json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string()
    };
    let table: Vec<(&str, String, i64)> = vec![
        ("not JSON", "hello there".into(), -32700),
        ("truncated JSON", r#"{"jsonrpc":"2.0","id":7,"method":"#.into(), -32700),
        ("a bare number", "12".into(), -32600),
        ("a bare string", r#""send_message""#.into(), -32600),
        ("null", "null".into(), -32600),
        ("an empty object", "{}".into(), -32600),
        ("JSON-RPC 1.0", r#"{"jsonrpc":"1.0","id":7,"method":"list_rooms"}"#.into(), -32600),
        ("no method", r#"{"jsonrpc":"2.0","id":7}"#.into(), -32600),
        ("method not a string", r#"{"jsonrpc":"2.0","id":7,"method":42}"#.into(), -32600),
        ("an id that is an object", r#"{"jsonrpc":"2.0","id":{"a":1},"method":"list_rooms"}"#.into(), -32600),
        ("a number JSON cannot hold", r#"{"jsonrpc":"2.0","id":1e400,"method":"list_rooms"}"#.into(), -32700),
        // A batch whose one item is an array (not a request).
        ("deeply nested array", deep_array, -32600),
        ("deeply nested params", deep_params, -32602),
        ("unknown method", call("drop_database", json!({})), -32601),
        ("rpc. method", call("rpc.discover", json!({})), -32601),
        ("room_id a number", call("send_message", json!({"room_id": 5, "text": "x"})), -32602),
        ("text an object", call("send_message", json!({"room_id": "general", "text": {"a": 1}})), -32602),
        ("params a string", call("send_message", json!("general")), -32602),
        ("missing params", r#"{"jsonrpc":"2.0","id":7,"method":"send_message"}"#.into(), -32602),
        ("path in a room name", call("join_room", json!({"room_name": "../../etc/passwd"})), -32602),
        ("NUL in a room name", call("join_room", json!({"room_name": "a\u{0}b"})), -32602),
        ("escape in a message", call("send_message", json!({"room_id": "general", "text": "\u{1b}[2J"})), -32602),
        ("lone surrogate", r#"{"jsonrpc":"2.0","id":7,"method":"send_message","params":{"room_id":"general","text":"\ud800"}}"#.into(), -32602),
        ("huge since id", r#"{"jsonrpc":"2.0","id":7,"method":"join_room","params":{"room_name":"general","since_message_id":99999999999999999999999999}}"#.into(), -32602),
        ("float since id", call("join_room", json!({"room_name": "general", "since_message_id": 1.5})), -32602),
        ("since id 1e308", r#"{"jsonrpc":"2.0","id":7,"method":"join_room","params":{"room_name":"general","since_message_id":1e308}}"#.into(), -32602),
        ("limit beyond u32", call("get_history", json!({"room_id": "general", "limit": 1u64 << 40})), -32602),
        ("limit zero", call("get_history", json!({"room_id": "general", "limit": 0})), -32602),
        ("limit negative", call("get_history", json!({"room_id": "general", "limit": -1})), -32602),
        ("ban for u64::MAX seconds", call("ban_user", json!({"target_username": "bob", "reason": "x", "duration_seconds": u64::MAX})), -32602),
        ("ban for -1 seconds", call("ban_user", json!({"target_username": "bob", "reason": "x", "duration_seconds": -1})), -32602),
        ("message over the limit", call("send_message", json!({"room_id": "general", "text": "x".repeat(4001)})), -32602),
        ("empty batch", "[]".into(), -32600),
        ("batch of 51", format!("[{}]", vec![call("list_rooms", json!({})); 51].join(",")), -32600),
        ("batch of 10,000", format!("[{}]", vec!["1"; 10_000].join(",")), -32600),
    ];
    for (what, frame, expected) in &table {
        c.send_text(frame).await;
        let reply = within(what, c.next_json()).await;
        let reply = if reply.is_array() { reply[0].clone() } else { reply };
        assert!(reply.get("error").is_some(), "{what}: expected an error, got {reply}");
        let code = error_code(&reply);
        assert!(CONTRACT_CODES.contains(&code), "{what}: code {code} is not in the contract");
        assert_eq!(code, *expected, "{what}: {reply}");
        let alive = c.call("list_rooms", json!({})).await;
        assert!(alive.get("result").is_some(), "after {what} the connection must still work: {alive}");
    }
    // A batch of garbage items is answered item by item.
    c.send_text("[1, {}, \"x\"]").await;
    let reply = c.next_json().await;
    let items = reply.as_array().unwrap_or_else(|| panic!("{reply}"));
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["error"]["code"] == -32600), "{reply}");
}

#[tokio::test]
async fn duplicate_ids_and_binary_frames_are_answered_not_fatal() {
    let server = TestServer::spawn().await;
    let mut c = server.raw_in("alice", "general").await;
    let request = json!({"jsonrpc": "2.0", "id": 99, "method": "send_message",
        "params": {"room_id": "general", "text": "twice"}})
    .to_string();
    c.send_text(&request).await;
    c.send_text(&request).await;
    let first = c.response(99).await;
    let second = c.response(99).await;
    let (a, b) = (first["result"]["message_id"].as_i64().unwrap(), second["result"]["message_id"].as_i64().unwrap());
    assert!(a < b, "both calls run, in order: {first} {second}");

    c.send(Message::binary(b"\x00\x01binary".to_vec())).await;
    let mut reply = c.next_json().await;
    while reply.get("method").is_some() {
        reply = c.next_json().await;
    }
    assert_eq!(error_code(&reply), -32600);
    assert!(c.call("list_rooms", json!({})).await.get("result").is_some());
}

#[tokio::test]
async fn invalid_utf8_oversized_and_fragmented_frames_at_the_framing_level() {
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    let request = br#"{"jsonrpc":"2.0","id":1,"method":"list_rooms","params":{}}"#;

    // Fragmented across three frames with a ping in the middle: answered.
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(false, 0x1, &request[..10]).await;
    f.send_frame(false, 0x0, &request[10..30]).await;
    f.send_frame(true, 0x9, b"ping").await;
    f.send_frame(true, 0x0, &request[30..]).await;
    let mut reply = f.next_json().await;
    if reply.get("id").is_none() {
        reply = f.next_json().await;
    }
    assert!(reply["result"]["rooms"].is_array(), "{reply}");

    // A continuation frame with nothing to continue: a protocol error.
    f.send_frame(true, 0x0, b"orphan").await;
    let code = f.close_code(Duration::from_secs(5)).await;
    assert!(matches!(code, Some(1002) | None), "orphan continuation: {code:?}");

    // One frame over max_frame_bytes (64 KiB): 1009.
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(true, 0x1, &vec![b' '; 64 * 1024 + 1]).await;
    assert_eq!(f.close_code(Duration::from_secs(5)).await, Some(1009), "one oversized frame");

    // A header that promises 1 TiB: refused from the header alone.
    let mut f = Framer::connect(server.addr, &token).await;
    let started = Instant::now();
    f.send_header_only(0x1, 1 << 40).await;
    assert_eq!(f.close_code(Duration::from_secs(5)).await, Some(1009), "a 1 TiB frame header");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Small fragments adding up to more than the limit: 1009 too.
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(false, 0x1, &[b' '; 40_000]).await;
    f.send_frame(false, 0x0, &[b' '; 40_000]).await;
    f.send_frame(true, 0x0, b"1").await;
    assert_eq!(f.close_code(Duration::from_secs(5)).await, Some(1009), "fragments over the limit");

    // A control frame over 125 bytes is a protocol error (the server calls
    // it "too big", which is fair).
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(true, 0x9, &[0u8; 200]).await;
    let code = f.close_code(Duration::from_secs(5)).await;
    assert!(matches!(code, Some(1002 | 1009) | None), "oversized ping: {code:?}");

    // The server is fine and other clients are unaffected.
    let mut c = server.raw_in("bob", "general").await;
    assert!(c.call("list_rooms", json!({})).await.get("result").is_some());
}

/// RFC 6455 §8.1: a text frame that is not UTF-8 fails the connection,
/// and the close code for inconsistent data is 1007.
#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(true, 0x1, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}").await;
    assert_eq!(f.close_code(Duration::from_secs(5)).await, Some(1007));
}

#[tokio::test]
async fn invalid_utf8_ends_only_that_connection() {
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    let mut bystander = server.raw_in("bob", "general").await;
    let mut f = Framer::connect(server.addr, &token).await;
    f.send_frame(true, 0x1, b"\xc3\x28 not utf-8").await;
    let code = f.close_code(Duration::from_secs(5)).await;
    assert!(matches!(code, Some(1007) | None), "got close {code:?}");
    assert!(bystander.call("list_rooms", json!({})).await.get("result").is_some());
    // Split inside a multi-byte character across fragments is valid.
    let mut f = Framer::connect(server.addr, &token).await;
    let text = r#"{"jsonrpc":"2.0","id":1,"method":"get_profile","params":{"username":"bob"},"x":"é"}"#.as_bytes();
    let cut = text.iter().position(|b| *b == 0xc3).unwrap() + 1;
    f.send_frame(false, 0x1, &text[..cut]).await;
    f.send_frame(true, 0x0, &text[cut..]).await;
    let reply = f.next_json().await;
    assert_eq!(reply["result"]["profile"]["username"], "bob", "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_in_flight_from_one_client_are_all_answered_with_bounded_tasks() {
    const CALLS: u64 = 10_000;
    // This test is about tasks, not the outbox: on a loaded machine the
    // reader below can fall 1,024 frames behind and be closed with 4008,
    // which `never_reading_client` tests on its own.
    let server = TestServer::spawn_with(|c| {
        c.connection.send_queue = 1_000_000;
        c.connection.send_queue_bytes = 1 << 30;
    })
    .await;
    let mut bystander = server.raw_in("bob", "general").await;
    let baseline = alive_tasks(&server).await;

    let token = server.token("alice").await;
    let (ws, _) = tokio_tungstenite::connect_async({
        let mut r = server.ws_url().into_client_request().unwrap();
        r.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        r
    })
    .await
    .unwrap();
    let mut ws = ws;
    // Calls start in order but run concurrently: wait for the join (which
    // creates the room) before pipelining sends into it.
    let joined = ws_call(&mut ws, 0, "join_room", json!({"room_name": "flood"})).await;
    assert!(joined.get("result").is_some(), "{joined}");
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for id in 1..=CALLS {
            let frame = if id.is_multiple_of(2) {
                json!({"jsonrpc": "2.0", "id": id, "method": "send_message", "params": {"room_id": "flood", "text": format!("m{id}")}})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "method": "get_profile", "params": {"username": "bob"}})
            };
            sink.feed(Message::text(frame.to_string())).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    let mut peak = baseline;
    let mut latencies = Vec::new();
    let reader = tokio::spawn(async move {
        let mut seen = std::collections::HashSet::new();
        let mut stored = std::collections::BTreeMap::new();
        while seen.len() < CALLS as usize {
            let text = match stream.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("the flooding client was cut off after {} answers: {other:?}", seen.len()),
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            let Some(id) = v["id"].as_u64() else { continue };
            assert!(v.get("result").is_some(), "call {id} failed: {v}");
            if let Some(mid) = v["result"]["message_id"].as_i64() {
                stored.insert(id, mid);
            }
            assert!(seen.insert(id), "call {id} answered twice");
        }
        // Answers may come in any order; ids follow the sending order.
        let ids: Vec<i64> = stored.values().copied().collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "messages stored out of sending order");
        stream
    });
    while !reader.is_finished() {
        peak = peak.max(alive_tasks(&server).await);
        let started = Instant::now();
        assert!(bystander.call("list_rooms", json!({})).await.get("result").is_some());
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _stream = within("all answers", reader).await.unwrap();
    let _sink = writer.await.unwrap();
    let median = quantile(&latencies, 0.5);
    let p90 = quantile(&latencies, 0.9);
    eprintln!(
        "10k in flight: tasks {baseline} → peak {peak}; bystander median {median:?}, p90 {p90:?} over {} calls",
        latencies.len()
    );
    assert!(peak - baseline < 100.0, "tasks grew from {baseline} to {peak}: calls are not bounded per connection");
    // The median, for the reason given in `never_reading_client`.
    assert!(median < Duration::from_millis(500), "the bystander waited {median:?} (median)");
}

/// A client that sends requests whose answers are large (a page of 200
/// long messages, 3.2 MB) and never reads. The per-connection outbox is
/// bounded in frames (1024), not bytes, so it can pin up to 1024 × 3.2 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_large_answers_is_cut_off_with_bounded_memory() {
    never_reading_client(200, 10, '😺').await;
}

/// The same non-reading client with small answers: cut off, bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off_and_others_are_unaffected() {
    never_reading_client(1, 3, 'x').await;
}

/// Fills a room with `page` messages of 4000 `fill` characters (4 bytes
/// each for an emoji: a 200-message page is then 3.2 MB), then lets a client
/// ask for that page over and over without reading the answers.
async fn never_reading_client(page: usize, write_timeout_secs: u32, fill: char) {
    let data = ServerData::new().await;
    let timeout = write_timeout_secs.to_string();
    let env = [("CHAT__CONNECTION__WRITE_TIMEOUT_SECS", timeout.as_str())];
    let server = ServerProcess::start(&data, &env, None).await;
    let token = server.login("alice", "alice123").await.unwrap();
    let mut writer = ws_connect(&server.ws_url(), &token).await;
    ws_call(&mut writer, 1, "join_room", json!({"room_name": "big"})).await;
    let text = fill.to_string().repeat(4000);
    for i in 0..page {
        let reply = ws_call(&mut writer, 10 + i as u64, "send_message", json!({"room_id": "big", "text": text})).await;
        assert!(reply.get("result").is_some(), "{reply}");
    }
    let mut bystander =
        RawClient::connect(&server.ws_url(), Some(&server.login("bob", "bob123").await.unwrap())).await.unwrap();
    bystander.join("calm").await;
    let (rss_before, hwm_before) = server.memory_kib();
    let tasks_before = server.metric("chat_runtime_alive_tasks").await;

    // The hostile client: a small receive buffer, many requests, no reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let mut request = server.ws_url().into_client_request().unwrap();
    let hostile_token = server.token("hoarder", "hoarder-password").await;
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {hostile_token}")).unwrap());
    let (mut hostile, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.unwrap();
    hostile
        .send(Message::text(r#"{"jsonrpc":"2.0","id":0,"method":"join_room","params":{"room_name":"big"}}"#))
        .await
        .unwrap();
    let spam = tokio::spawn(async move {
        for id in 1..5_000u64 {
            let frame = json!({"jsonrpc": "2.0", "id": id, "method": "get_history", "params": {"room_id": "big", "limit": page}});
            let sent =
                tokio::time::timeout(Duration::from_secs(1), hostile.send(Message::text(frame.to_string()))).await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
        hostile
    });

    let started = Instant::now();
    let mut peak_rss = rss_before;
    let mut latencies = Vec::new();
    let mut n = 100u64;
    loop {
        let (rss, _) = server.memory_kib();
        peak_rss = peak_rss.max(rss);
        let t = Instant::now();
        let reply = bystander.call("send_message", json!({"room_id": "calm", "text": format!("still here {n}")})).await;
        assert!(reply.get("result").is_some(), "{reply}");
        latencies.push(t.elapsed());
        n += 1;
        if server.metric("chat_connections").await <= 2.0 && started.elapsed() > Duration::from_secs(1) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "the non-reading client was never cut off");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _hostile = spam.await.unwrap();
    let cut_after = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tasks_after = server.metric("chat_runtime_alive_tasks").await;
    let (_, hwm_after) = server.memory_kib();
    let grown_mib = peak_rss.saturating_sub(rss_before).max(hwm_after.saturating_sub(hwm_before)) / 1024;
    let median = quantile(&latencies, 0.5);
    let p90 = quantile(&latencies, 0.9);
    eprintln!(
        "non-reading client (answers of {page} × 4000 {fill:?}): cut off after {cut_after:?}; RSS +{grown_mib} MiB at peak; \
         tasks {tasks_before} → {tasks_after}; bystander median {median:?}, p90 {p90:?} over {} calls",
        latencies.len()
    );
    assert!(grown_mib < 64, "one non-reading client grew the server by {grown_mib} MiB");
    let allowed = tasks_before + 5.0 + data.storage_tasks();
    assert!(tasks_after <= allowed, "tasks leaked: {tasks_before} → {tasks_after}");
    // The median, not a tail: this suite runs its tests side by side on
    // two cores, and another test's burst can stall any one call. A hog
    // that starved the bystander would slow most of its calls.
    assert!(median < Duration::from_millis(500), "the bystander waited {median:?} (median)");
    let slow = server.metric("chat_slow_clients_closed_total").await;
    assert!(slow >= 1.0, "closed as too slow (4008)");
}
