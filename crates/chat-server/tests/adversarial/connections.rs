//! Plain HTTP connections are bounded: a slow request head and a silent
//! connection are closed by timeouts, one address holds a bounded number of
//! sockets, and a flood of idle sockets leaves WebSockets and `/health`
//! working.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use chat_server::config::ServerConfig;

use crate::support::{RawClientExt, TestServer};

/// Where flood connections come from, so that test code on 127.0.0.1 is
/// another address (all of 127.0.0.0/8 is loopback on Linux).
const FLOODER: &str = "127.0.0.2";

async fn connect_from(source: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(server).await.unwrap()
}

/// Whether the server closes `stream` within `limit`, reading (and
/// discarding) whatever it sends before that.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn health_answers(server: &TestServer) -> bool {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    matches!(client.get(server.url("/health")).send().await, Ok(r) if r.status().is_success())
}

#[tokio::test]
async fn a_request_head_sent_byte_by_byte_is_closed_after_the_header_timeout() {
    let server = TestServer::spawn_with(|c| c.server.header_read_timeout_secs = 1).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    let head = b"GET /health HTTP/1.1\r\nHost: chat\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let started = Instant::now();
    let mut closed_after = None;
    for byte in head.iter().cycle().take(200) {
        if slow.write_all(&[*byte]).await.is_err() || closed_within(&mut slow, Duration::from_millis(100)).await {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("a connection trickling its request head for 20 s stays open");
    assert!(closed_after >= Duration::from_millis(900), "closed early: {closed_after:?}");
    assert!(closed_after < Duration::from_secs(3), "closed late: {closed_after:?}");
    assert!(health_answers(&server).await);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::spawn_with(|c| {
        c.server.header_read_timeout_secs = 30;
        c.server.idle_timeout_secs = 1;
    })
    .await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: chat\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    let started = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await, "an idle keep-alive connection stays open");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed early: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_stalled_request_body_is_closed_after_the_idle_timeout() {
    let server = TestServer::spawn_with(|c| {
        c.server.header_read_timeout_secs = 30;
        c.server.idle_timeout_secs = 1;
    })
    .await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"POST /auth/login HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    assert!(closed_within(&mut stalled, Duration::from_secs(3)).await, "a stalled body keeps its connection");
}

#[tokio::test]
async fn connections_past_the_per_ip_limit_are_closed_at_once_while_health_answers() {
    let server = TestServer::spawn_with(|c| c.server.connections_per_ip = 20).await;
    let mut flood = Vec::new();
    for _ in 0..30 {
        flood.push(connect_from(FLOODER, server.addr).await);
    }
    let mut closed = 0;
    let mut held = Vec::new();
    for mut stream in flood {
        if closed_within(&mut stream, Duration::from_millis(300)).await {
            closed += 1;
        } else {
            held.push(stream);
        }
    }
    assert_eq!((held.len(), closed), (20, 10), "held and closed connections from one address");
    assert!(health_answers(&server).await, "/health from another address");

    // A closed connection gives its slot back.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let mut again = connect_from(FLOODER, server.addr).await;
        if !closed_within(&mut again, Duration::from_millis(300)).await {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the slot was never given back");
    }
}

/// Opens `count` connections spread over `addresses` loopback sources and
/// sorts them into those the server keeps and those it closes at once.
async fn flood(server: &TestServer, count: usize, addresses: usize) -> (Vec<TcpStream>, usize) {
    let mut opened = Vec::new();
    for i in 0..count {
        opened.push(connect_from(&format!("127.0.0.{}", 2 + i % addresses), server.addr).await);
    }
    // Checked all at once: one by one would outlast the header timeout.
    let sorted = futures_util::future::join_all(opened.into_iter().map(|mut stream| async move {
        let closed = closed_within(&mut stream, Duration::from_millis(300)).await;
        (stream, closed)
    }))
    .await;
    let closed = sorted.iter().filter(|(_, closed)| *closed).count();
    (sorted.into_iter().filter(|(_, closed)| !closed).map(|(stream, _)| stream).collect(), closed)
}

#[tokio::test]
async fn while_idle_connections_are_held_websockets_and_health_keep_working() {
    let server = TestServer::spawn_with(|c| {
        c.server.connections_per_ip = 20;
        c.server.max_pending_connections = 150;
    })
    .await;
    let mut alice = server.raw_in("alice", "general").await;
    let (held, closed) = flood(&server, 200, 5).await;
    assert_eq!((held.len(), closed), (100, 100), "20 held per address");
    assert!(health_answers(&server).await, "/health while {} idle connections are held", held.len());
    let sent = alice.send_many("general", &["still here".to_owned()]).await;
    assert_eq!(sent.len(), 1);
    assert!(alice.call("list_rooms", json!({})).await.get("result").is_some());
}

#[tokio::test]
async fn idle_connections_past_the_pending_cap_are_closed_and_websockets_keep_working() {
    let server = TestServer::spawn_with(|c| {
        c.server.max_pending_connections = 40;
        c.server.header_read_timeout_secs = 2;
    })
    .await;
    let mut alice = server.raw_in("alice", "general").await;
    let (mut held, closed) = flood(&server, 200, 1).await;
    // The harness's pooled keep-alive HTTP connection may hold one permit.
    assert!((39..=40).contains(&held.len()), "{} held of 40 pending permits", held.len());
    assert_eq!(held.len() + closed, 200);
    // The established WebSocket is not pending HTTP: it keeps working.
    let sent = alice.send_many("general", &["still here".to_owned()]).await;
    assert_eq!(sent.len(), 1);
    // The held ones are closed by the header timeout, and HTTP is served
    // again.
    let started = Instant::now();
    for stream in &mut held {
        let left = Duration::from_secs(4).saturating_sub(started.elapsed());
        assert!(closed_within(stream, left).await, "an idle connection outlived the header timeout");
    }
    assert!(health_answers(&server).await);
}

/// Figures for docs/security.md with the default limits:
/// `cargo test -p bidirectional-chat-server --test adversarial connection_probe -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a probe that prints figures; takes about 15 s"]
async fn connection_probe() {
    let defaults = chat_server::config::ServerConfig::default();
    let server = TestServer::spawn_with(|c| c.server = ServerConfig { port: 0, ..defaults }).await;

    // 600 slowloris connections from one address, one header byte a second.
    let mut slow = Vec::new();
    for _ in 0..600 {
        let mut stream = connect_from(FLOODER, server.addr).await;
        stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    let mut open_for = Vec::new();
    let trickle = futures_util::future::join_all(slow.into_iter().map(|mut stream| async move {
        let opened = Instant::now();
        loop {
            if stream.write_all(b"X").await.is_err() || closed_within(&mut stream, Duration::from_secs(1)).await {
                return opened.elapsed();
            }
            if opened.elapsed() > Duration::from_secs(40) {
                return opened.elapsed();
            }
        }
    }));
    open_for.extend(trickle.await);
    open_for.sort();
    let at_once = open_for.iter().filter(|d| **d < Duration::from_secs(2)).count();
    println!(
        "600 slowloris from one address: {at_once} closed within 2 s, the last closed after {:.1} s (probe ran {:.1} s)",
        open_for.last().unwrap().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    // Idle connections one address can hold.
    let (held, closed) = flood(&server, 3_000, 1).await;
    let health = health_answers(&server).await;
    println!(
        "3000 idle connections from one address: {} held, {closed} closed at once; /health answers: {health}",
        held.len()
    );
}

/// CPU time (user + system) the process has used, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

#[tokio::test]
async fn out_of_file_descriptors_accept_pauses_without_spinning_and_recovers() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("server.log");
    let data = crate::common::ServerData::new().await;
    let server = crate::common::ServerProcess::start(&data, &[], Some(&log)).await;
    let token = server.token("alice", "alice123").await;
    let pid = server.pid();
    // Room for a few WebSockets beyond what the server holds now.
    let limit = open_files(pid) + 12;
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={limit}:{limit}")])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");

    // WebSockets take descriptors until accept fails.
    let mut sockets = Vec::new();
    for _ in 0..40 {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(server.ws_url()).unwrap();
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().unwrap());
        match tokio::time::timeout(Duration::from_secs(1), tokio_tungstenite::connect_async(request)).await {
            Ok(Ok((ws, _))) => sockets.push(ws),
            _ => break,
        }
    }
    assert!(sockets.len() < 40, "the descriptor limit was never reached");
    // One connection waits in the backlog, so every accept fails at once.
    let waiting = TcpStream::connect(server.addr).await.unwrap();
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_ticks(pid) - before;
    assert!(used < 40, "the server used {used}/200 ticks of CPU while accept failed");

    drop(waiting);
    drop(sockets);
    let started = Instant::now();
    while !health_answers_at(&server.url("/health")).await {
        assert!(started.elapsed() < Duration::from_secs(10), "accept never recovered");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("out of file descriptors").count(), 1, "one warning per episode:\n{text}");
    assert!(text.contains("accept works again"), "{text}");
}

async fn health_answers_at(url: &str) -> bool {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    matches!(client.get(url).send().await, Ok(r) if r.status().is_success())
}
