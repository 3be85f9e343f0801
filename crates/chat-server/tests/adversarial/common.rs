//! Helpers only the adversarial tests need: the real server binary as a
//! child process (for `kill -9`, SIGTERM, RSS and log capture) with the
//! data it keeps across restarts, a
//! hand-rolled WebSocket framer (for frames a well-behaved library refuses
//! to send), token forging, metrics scraping and history reading.

use crate::support::base64url;
use std::{
    collections::BTreeMap,
    fs::File,
    io::Read as _,
    net::{SocketAddr, TcpListener as StdListener},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use chat_server::{config::StorageConfig, store::Store};

use crate::support::{TestDatabase, WsStream};

/// The server binary built by this package.
const BINARY: &str = env!("CARGO_BIN_EXE_bidirectional-chat-server");

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What a server process keeps between runs: a data directory and, on
/// the PostgreSQL pass, a database of its own. A server started again on
/// the same `ServerData` finds everything the last one stored; dropping it
/// deletes both.
pub struct ServerData {
    dir: tempfile::TempDir,
    database: Option<TestDatabase>,
}

impl ServerData {
    pub async fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), database: TestDatabase::create().await }
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A handle on the storage the servers use, to check what they kept.
    /// Close it when done.
    pub async fn store(&self) -> Store {
        let mut storage = StorageConfig::default();
        if let Some(database) = &self.database {
            database.configure(&mut storage);
        }
        Store::connect(&storage, self.path()).await.expect("open the servers' storage")
    }

    /// Tasks a server may hold for storage beyond one per connection: on
    /// PostgreSQL each pooled connection runs one (the pool grows under
    /// load up to `storage.postgres_pool_size`, 16 by default).
    pub fn storage_tasks(&self) -> f64 {
        if self.database.is_some() { 16.0 } else { 0.0 }
    }

    /// The variables that point the binary at this storage.
    fn env(&self) -> Vec<(&'static str, String)> {
        self.database.as_ref().map(TestDatabase::env).unwrap_or_default()
    }
}

/// The real server binary running as a child process.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    /// Working directory with no config.toml or .env in it.
    _cwd: tempfile::TempDir,
    http: reqwest::Client,
}

impl ServerProcess {
    /// Starts the binary on `data` with rate limits off and waits until
    /// `/health` answers. `env` adds or overrides variables; `log` captures
    /// stdout and stderr (appending), otherwise they go to a scratch file
    /// that only a failed start shows.
    pub async fn start(data: &ServerData, env: &[(&str, &str)], log: Option<&Path>) -> Self {
        // A port picked here may be taken by someone else before the child
        // binds it; retry with another one.
        let mut said = String::new();
        for _ in 0..5 {
            let port = free_port();
            let cwd = tempfile::tempdir().unwrap();
            let output = log.map_or_else(|| cwd.path().join("server.log"), Path::to_path_buf);
            let file = File::options().create(true).append(true).open(&output).unwrap();
            let mut command = Command::new(BINARY);
            command
                .env_clear()
                .current_dir(cwd.path())
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("CHAT_DATA_DIR", data.path())
                .env("CHAT__RATE_LIMIT__ENABLED", "false")
                .env("CHAT__LOGGING__FORMAT", "compact")
                .envs(data.env())
                .stdin(Stdio::null())
                .stdout(file.try_clone().unwrap())
                .stderr(file);
            for (key, value) in env {
                command.env(key, value);
            }
            let child = command.spawn().expect("spawn the server binary");
            let mut server = Self {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                _cwd: cwd,
                http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap(),
            };
            if server.wait_ready().await {
                return server;
            }
            server.kill9();
            said = read_text(&output);
            if !said.contains("cannot listen on") {
                break;
            }
        }
        let tail: Vec<&str> = said.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!("the server binary did not start; the end of its output:\n{}", tail.join("\n"));
    }

    /// Polls `/health` (bounded); false if the process died or never answered.
    async fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(r) = self.http.get(self.url("/health")).send().await
                && r.status().is_success()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (graceful shutdown).
    pub fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Resident memory now and at its peak, in KiB, from /proc.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub async fn register(&self, username: &str, password: &str) -> reqwest::Result<reqwest::StatusCode> {
        let body = json!({"username": username, "password": password});
        Ok(self.http.post(self.url("/auth/register")).json(&body).send().await?.status())
    }

    /// Logs in; the token, or the refusal's status.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, u16> {
        let body = json!({"username": username, "password": password});
        let response = self.http.post(self.url("/auth/login")).json(&body).send().await.map_err(|_| 0u16)?;
        if response.status() != 200 {
            return Err(response.status().as_u16());
        }
        Ok(response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned())
    }

    /// Registers `username` with `password` if needed and logs in.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let status = self.register(username, password).await.unwrap();
        assert!(status == 201 || status == 409, "register {username}: {status}");
        self.login(username, password).await.unwrap_or_else(|s| panic!("login {username}: {s}"))
    }

    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.http.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
        metric_value(&text, name)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A value from Prometheus text (the first sample of that name).
pub fn metric_value(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.split([' ', '{']).next() == Some(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("metric {name} not found"))
}

/// Opens a WebSocket with `Authorization: Bearer`.
pub async fn ws_connect(url: &str, token: &str) -> WsStream {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// One call on a stream nobody else reads: sends and waits for the answer
/// with that id, skipping notifications.
pub async fn ws_call(ws: &mut WsStream, id: u64, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::text(request.to_string())).await.unwrap();
    crate::support::within(method, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    if v["id"] == json!(id) {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("connection ended during {method}: {other:?}"),
            }
        }
    })
    .await
}

/// Every message of `room` via `get_history` paging (oldest first), read on
/// an already joined connection. Checks that the pages are in strict id
/// order.
pub async fn full_history(ws: &mut WsStream, room: &str) -> Vec<Value> {
    let mut pages: Vec<Vec<Value>> = Vec::new();
    let mut before: Option<i64> = None;
    for call in 1_000_000u64.. {
        let mut params = json!({"room_id": room, "limit": 200});
        if let Some(b) = before {
            params["before_message_id"] = json!(b);
        }
        let reply = ws_call(ws, call, "get_history", params).await;
        let result = &reply["result"];
        let page = result["messages"].as_array().unwrap_or_else(|| panic!("get_history: {reply}")).clone();
        let has_more = result["has_more"].as_bool().unwrap();
        if let Some(first) = page.first() {
            before = Some(first["message_id"].as_i64().unwrap());
        }
        let empty = page.is_empty();
        pages.push(page);
        if !has_more || empty {
            break;
        }
    }
    let all: Vec<Value> = pages.into_iter().rev().flatten().collect();
    for pair in all.windows(2) {
        let (a, b) = (pair[0]["message_id"].as_i64().unwrap(), pair[1]["message_id"].as_i64().unwrap());
        assert!(a < b, "history not in strict id order: {a} then {b}");
    }
    all
}

/// `history` as id → text.
pub fn by_id(history: &[Value]) -> BTreeMap<i64, String> {
    history.iter().map(|m| (m["message_id"].as_i64().unwrap(), m["text"].as_str().unwrap().to_owned())).collect()
}

// ---------------------------------------------------------------------------
// Tokens

/// An unsigned token (`alg` as given, empty signature).
pub fn unsigned_token(alg: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "typ": "JWT"});
    format!("{}.{}.", base64url(header.to_string().as_bytes()), base64url(claims.to_string().as_bytes()))
}

/// A token signed with `secret` using an HMAC `alg`.
pub fn hmac_token(alg: jsonwebtoken::Algorithm, secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &jsonwebtoken::EncodingKey::from_secret(secret))
        .unwrap()
}

/// `token` with its claims replaced and the old signature kept.
pub fn with_claims(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let _ = parts.next();
    let signature = parts.next().unwrap();
    format!("{header}.{}.{signature}", base64url(claims.to_string().as_bytes()))
}

pub fn now() -> i64 {
    chat_api::Timestamp::now().unix_seconds()
}

// ---------------------------------------------------------------------------
// A hand-rolled WebSocket client, for frames tungstenite will not send.

/// A WebSocket spoken frame by frame over a plain TCP stream.
pub struct Framer {
    pub tcp: TcpStream,
    buffer: Vec<u8>,
}

/// A frame from the server.
#[derive(Debug)]
pub struct ServerFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl ServerFrame {
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    pub fn json(&self) -> Value {
        assert_eq!(self.opcode, 1, "expected a text frame, got {self:?}");
        serde_json::from_slice(&self.payload).unwrap()
    }
}

impl Framer {
    /// Performs the opening handshake with a Bearer token; panics unless
    /// the server answers 101.
    pub async fn connect(addr: SocketAddr, token: &str) -> Self {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let n = crate::support::within("the handshake", tcp.read(&mut chunk)).await.unwrap();
            assert!(n > 0, "connection closed during the handshake");
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "handshake refused: {head}");
        buffer.drain(..end);
        Self { tcp, buffer }
    }

    /// Writes one masked client frame.
    pub async fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        let header = frame_header(fin, opcode, payload.len() as u64);
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut bytes = header;
        bytes.extend_from_slice(&mask);
        bytes.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        // A write error means the server already hung up; the caller reads
        // the close frame (or its absence) next.
        let _ = self.tcp.write_all(&bytes).await;
    }

    /// Writes just a frame header (masked) claiming `len` payload bytes.
    pub async fn send_header_only(&mut self, opcode: u8, len: u64) {
        let mut bytes = frame_header(true, opcode, len);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let _ = self.tcp.write_all(&bytes).await;
    }

    /// The next frame, or None when the stream ends (or nothing arrives
    /// within `limit`).
    pub async fn read_frame(&mut self, limit: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(frame) = self.parse() {
                return Some(frame);
            }
            let mut chunk = vec![0u8; 65536];
            match tokio::time::timeout_at(deadline, self.tcp.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buffer.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }

    /// Frames until a close frame; its code, or None if the stream ended
    /// without one.
    pub async fn close_code(&mut self, limit: Duration) -> Option<u16> {
        while let Some(frame) = self.read_frame(limit).await {
            if frame.opcode == 8 {
                return frame.close_code();
            }
        }
        None
    }

    /// Next text frame as JSON, skipping control frames.
    pub async fn next_json(&mut self) -> Value {
        loop {
            let frame = self.read_frame(crate::support::WAIT).await.expect("a frame");
            if frame.opcode == 1 {
                return frame.json();
            }
            assert!(frame.opcode != 8, "closed: {:?}", frame.close_code());
        }
    }

    fn parse(&mut self) -> Option<ServerFrame> {
        let b = &self.buffer;
        if b.len() < 2 {
            return None;
        }
        let opcode = b[0] & 0x0f;
        let (len, mut at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap()), 10),
            126 | 127 => return None,
            n => (u64::from(n), 2),
        };
        if b[1] & 0x80 != 0 {
            at += 4;
        }
        let len = usize::try_from(len).unwrap();
        if b.len() < at + len {
            return None;
        }
        let payload = b[at..at + len].to_vec();
        self.buffer.drain(..at + len);
        Some(ServerFrame { opcode, payload })
    }
}

fn frame_header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut bytes = vec![(u8::from(fin) << 7) | opcode];
    match len {
        0..=125 => bytes.push(0x80 | len as u8),
        126..=65535 => {
            bytes.push(0x80 | 126);
            bytes.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            bytes.push(0x80 | 127);
            bytes.extend_from_slice(&len.to_be_bytes());
        }
    }
    bytes
}

/// Reads a whole file as text (lossy).
pub fn read_text(path: &Path) -> String {
    let mut bytes = Vec::new();
    File::open(path).unwrap().read_to_end(&mut bytes).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Median of durations (sorted copy).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The `q`-quantile (0..=1) of durations.
pub fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}
