//! A JSON-RPC client over a raw WebSocket, as an outside program would
//! write one. A task of its own reads the socket into a channel, so that a
//! member never falls behind (and is never closed as too slow) while the
//! test looks at another client; each frame keeps the moment it arrived.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use futures_util::{
    SinkExt, StreamExt,
    stream::{SplitSink, SplitStream},
};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::mpsc, task::JoinHandle};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

/// How long any single wait for something that should happen may take.
pub const WAIT: Duration = Duration::from_secs(10);

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A frame from the server, with the moment it was read off the socket.
#[derive(Debug, Clone)]
pub struct Frame {
    pub at: Instant,
    pub value: Value,
}

impl Frame {
    pub fn method(&self) -> Option<&str> {
        self.value["method"].as_str()
    }

    pub fn params(&self) -> &Value {
        &self.value["params"]
    }
}

enum Event {
    Frame(Frame),
    /// The connection ended: the close frame's code and reason, if one came.
    Closed(Option<(u16, String)>),
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// The handshake was answered with this HTTP status.
    Refused(u16),
    /// No WebSocket: the node is down, or the handshake failed otherwise.
    Failed(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(status) => write!(f, "handshake refused with {status}"),
            Self::Failed(why) => write!(f, "no connection: {why}"),
        }
    }
}

/// Why a call got no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum CallError {
    /// The connection ended first (with this close code, if any).
    Closed(Option<u16>),
    /// Nothing came within the limit.
    Timeout,
}

pub struct Client {
    pub user: String,
    /// Index of the node this client is connected to.
    pub node: usize,
    sink: SplitSink<WsStream, Message>,
    events: mpsc::UnboundedReceiver<Event>,
    /// Frames read while looking for something else.
    pending: VecDeque<Frame>,
    /// Set once the connection ended.
    closed: Option<Option<(u16, String)>>,
    next_id: u64,
    /// Drop notifications instead of keeping them (for writers that only
    /// care about their answers).
    discard_notifications: bool,
    reader: JoinHandle<()>,
}

impl Client {
    /// Opens `/ws` on `url` with `Authorization: Bearer <token>`.
    pub async fn connect(url: &str, node: usize, user: &str, token: &str) -> Result<Self, ConnectError> {
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        let connected = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await;
        let ws = match connected {
            Err(_) => return Err(ConnectError::Failed("handshake timed out".into())),
            Ok(Err(tungstenite::Error::Http(response))) => {
                return Err(ConnectError::Refused(response.status().as_u16()));
            }
            Ok(Err(e)) => return Err(ConnectError::Failed(e.to_string())),
            Ok(Ok((ws, _))) => ws,
        };
        let (sink, stream) = ws.split();
        let (tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_socket(stream, tx));
        Ok(Self {
            user: user.to_owned(),
            node,
            sink,
            events,
            pending: VecDeque::new(),
            closed: None,
            next_id: 1,
            discard_notifications: false,
            reader,
        })
    }

    /// Keep no notifications from now on (only answers).
    pub fn discard_notifications(&mut self) {
        self.discard_notifications = true;
        self.pending.retain(|f| f.value.get("id").is_some());
    }

    fn label(&self) -> String {
        format!("{} on node {}", self.user, self.node + 1)
    }

    /// Sends a request with a fresh id; Err when the connection is gone.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<u64, CallError> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        match self.sink.send(Message::text(frame.to_string())).await {
            Ok(()) => Ok(id),
            Err(_) => Err(CallError::Closed(self.closed.clone().flatten().map(|c| c.0))),
        }
    }

    /// The answer to request `id` within `limit`, keeping other frames.
    pub async fn response_within(&mut self, id: u64, limit: Duration) -> Result<Value, CallError> {
        let frame = self.find_within(limit, |v| v.get("id") == Some(&json!(id)) && v.get("method").is_none()).await?;
        Ok(frame.value)
    }

    /// One call: the whole response object, or why none came.
    pub async fn try_call(&mut self, method: &str, params: Value, limit: Duration) -> Result<Value, CallError> {
        let id = self.request(method, params).await?;
        self.response_within(id, limit).await
    }

    /// One call that must be answered (result or error) within [`WAIT`].
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let label = self.label();
        self.try_call(method, params.clone(), WAIT)
            .await
            .unwrap_or_else(|e| panic!("{label}: {method} {params}: no answer: {e:?}"))
    }

    /// One call that must succeed; its `result`.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params.clone()).await;
        assert!(reply.get("error").is_none(), "{}: {method} {params} failed: {reply}", self.label());
        reply["result"].clone()
    }

    /// One call that must fail; its `error` object.
    pub async fn err(&mut self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params.clone()).await;
        assert!(reply.get("error").is_some(), "{}: {method} {params} should have failed: {reply}", self.label());
        reply["error"].clone()
    }

    /// `join_room`, which must succeed; its result.
    pub async fn join(&mut self, room: &str) -> Value {
        self.ok("join_room", json!({"room_name": room})).await
    }

    /// `send_message`, which must succeed; the message id.
    pub async fn send(&mut self, room: &str, text: &str) -> i64 {
        let result = self.ok("send_message", json!({"room_id": room, "text": text})).await;
        result["message_id"].as_i64().unwrap()
    }

    /// Sends `texts` as pipelined requests, then waits for every answer;
    /// the message ids in sending order.
    pub async fn send_many(&mut self, room: &str, texts: &[String]) -> Vec<i64> {
        let mut ids = Vec::new();
        for text in texts {
            ids.push(self.request("send_message", json!({"room_id": room, "text": text})).await.unwrap());
        }
        let mut message_ids = Vec::new();
        for id in ids {
            let label = self.label();
            let reply = self.response_within(id, WAIT).await.unwrap_or_else(|e| panic!("{label}: send: {e:?}"));
            let message_id = reply["result"]["message_id"].as_i64();
            message_ids.push(message_id.unwrap_or_else(|| panic!("{label}: send failed: {reply}")));
        }
        message_ids
    }

    /// The next notification named `method` whose params satisfy `matches`,
    /// within [`WAIT`]; panics with what came instead.
    pub async fn expect(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Frame {
        self.expect_within(method, WAIT, matches).await
    }

    pub async fn expect_within(&mut self, method: &str, limit: Duration, matches: impl Fn(&Value) -> bool) -> Frame {
        match self.notification_within(method, limit, matches).await {
            Ok(frame) => frame,
            Err(e) => panic!(
                "{}: no matching {method} within {limit:?} ({e:?}); frames seen meanwhile: {}",
                self.label(),
                self.summary()
            ),
        }
    }

    /// Like [`expect`](Self::expect), but leaves the frame in its place
    /// among the buffered ones (for a test that reads the whole stream
    /// later); returns a copy.
    pub async fn wait_for(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Frame {
        let is = |v: &Value| v["method"] == method && v.get("id").is_none() && matches(&v["params"]);
        if let Some(frame) = self.pending.iter().find(|f| is(&f.value)) {
            return frame.clone();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match self.read_event(deadline).await {
                Ok(frame) => {
                    let hit = is(&frame.value);
                    self.pending.push_back(frame.clone());
                    if hit {
                        return frame;
                    }
                }
                Err(e) => panic!(
                    "{}: no matching {method} within {WAIT:?} ({e:?}); frames seen meanwhile: {}",
                    self.label(),
                    self.summary()
                ),
            }
        }
    }

    /// The next notification named `method` whose params satisfy `matches`.
    pub async fn notification_within(
        &mut self,
        method: &str,
        limit: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Frame, CallError> {
        self.find_within(limit, |v| v["method"] == method && v.get("id").is_none() && matches(&v["params"])).await
    }

    /// The next frame of any kind within `limit` (buffered ones first).
    pub async fn next_frame(&mut self, limit: Duration) -> Result<Frame, CallError> {
        if let Some(frame) = self.pending.pop_front() {
            return Ok(frame);
        }
        self.read_event(tokio::time::Instant::now() + limit).await
    }

    /// Waits until the server ends the connection; the close frame's code
    /// and reason (None when it ended without one). Frames that came first
    /// stay buffered.
    pub async fn closed_within(&mut self, limit: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + limit;
        while self.closed.is_none() {
            match self.read_event(deadline).await {
                Ok(frame) => self.keep(frame),
                Err(CallError::Closed(_)) => break,
                Err(CallError::Timeout) => {
                    panic!(
                        "{}: the connection was not closed within {limit:?}; frames: {}",
                        self.label(),
                        self.summary()
                    )
                }
            }
        }
        self.closed.clone().flatten()
    }

    /// Whether the connection has ended (as far as has been read).
    pub fn is_closed(&mut self) -> bool {
        self.drain_ready();
        self.closed.is_some()
    }

    /// Reads whatever has already arrived into the buffer, without waiting.
    pub fn drain_ready(&mut self) {
        while self.closed.is_none() {
            match self.events.try_recv() {
                Ok(Event::Frame(frame)) => self.keep(frame),
                Ok(Event::Closed(close)) => self.closed = Some(close),
                Err(_) => break,
            }
        }
    }

    /// Everything buffered so far, oldest first, emptying the buffer.
    pub fn take_buffered(&mut self) -> Vec<Frame> {
        self.drain_ready();
        self.pending.drain(..).collect()
    }

    /// Closes cleanly and waits until the server has dropped the
    /// connection (which it does after its cleanup has run).
    pub async fn hang_up(mut self) {
        let _ = self.sink.send(Message::Close(None)).await;
        let label = self.label();
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.closed.is_none() {
            match self.read_event(deadline).await {
                Ok(_) | Err(CallError::Closed(_)) => {}
                Err(CallError::Timeout) => panic!("{label}: the server did not end the connection"),
            }
        }
    }

    /// The methods (or ids) of the buffered frames, for failure messages.
    pub fn summary(&mut self) -> String {
        self.drain_ready();
        let frames: Vec<String> = self
            .pending
            .iter()
            .map(|f| match f.method() {
                Some(m) => format!("{m} {}", f.params()),
                None => format!("answer {}", f.value),
            })
            .collect();
        let closed = match &self.closed {
            Some(close) => format!(" [connection closed: {close:?}]"),
            None => String::new(),
        };
        format!("[{}]{closed}", frames.join(", "))
    }

    async fn find_within(&mut self, limit: Duration, matches: impl Fn(&Value) -> bool) -> Result<Frame, CallError> {
        if let Some(pos) = self.pending.iter().position(|f| matches(&f.value)) {
            return Ok(self.pending.remove(pos).unwrap());
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = self.read_event(deadline).await?;
            if matches(&frame.value) {
                return Ok(frame);
            }
            self.keep(frame);
        }
    }

    fn keep(&mut self, frame: Frame) {
        if !(self.discard_notifications && frame.value.get("id").is_none()) {
            self.pending.push_back(frame);
        }
    }

    async fn read_event(&mut self, deadline: tokio::time::Instant) -> Result<Frame, CallError> {
        if let Some(close) = &self.closed {
            return Err(CallError::Closed(close.as_ref().map(|c| c.0)));
        }
        match tokio::time::timeout_at(deadline, self.events.recv()).await {
            Err(_) => Err(CallError::Timeout),
            Ok(Some(Event::Frame(frame))) => Ok(frame),
            Ok(Some(Event::Closed(close))) => {
                let code = close.as_ref().map(|c| c.0);
                self.closed = Some(close);
                Err(CallError::Closed(code))
            }
            Ok(None) => {
                self.closed = Some(None);
                Err(CallError::Closed(None))
            }
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({} on node {})", self.user, self.node + 1)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Reads the socket until it ends, forwarding text frames as JSON.
async fn read_socket(mut stream: SplitStream<WsStream>, tx: mpsc::UnboundedSender<Event>) {
    let mut close = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(Message::Text(text)) => {
                let value = serde_json::from_str(&text).unwrap_or_else(|_| json!({"unparsable": text.as_str()}));
                if tx.send(Event::Frame(Frame { at: Instant::now(), value })).is_err() {
                    return;
                }
            }
            Ok(Message::Close(frame)) => close = frame.map(|f| (u16::from(f.code), f.reason.to_string())),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Event::Closed(close));
}

/// The `message_received` notifications among `frames` for `room`, as
/// (id, text).
pub fn messages_in(frames: &[Frame], room: &str) -> Vec<(i64, String)> {
    frames
        .iter()
        .filter(|f| f.method() == Some("message_received") && f.params()["room_id"] == room)
        .map(|f| (f.params()["message_id"].as_i64().unwrap(), f.params()["text"].as_str().unwrap().to_owned()))
        .collect()
}
