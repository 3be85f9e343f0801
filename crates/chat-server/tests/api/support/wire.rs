//! Helpers for the feature tests: reading replies, joining rooms,
//! pipelined sends, hanging up so that the server has surely noticed, and
//! sockets that never read.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{io::AsyncReadExt, net::TcpStream};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use super::{RawClient, TestServer, within};

/// The `error.code` of a JSON-RPC reply, failing the test on a success.
pub fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or_else(|| panic!("expected an error, got {reply}"))
}

/// The `result` of a JSON-RPC reply, failing the test on an error.
pub fn result_of(reply: &Value) -> &Value {
    assert!(reply.get("error").is_none() && reply.get("result").is_some(), "expected a result, got {reply}");
    &reply["result"]
}

/// The `method` of each notification in `frames`, in order.
pub fn methods(frames: &[Value]) -> Vec<&str> {
    frames.iter().filter_map(|f| f["method"].as_str()).collect()
}

/// The notifications named `method` in `frames`.
pub fn named<'a>(frames: &'a [Value], method: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["method"] == method).collect()
}

impl TestServer {
    /// A raw client authenticated as `username` that has joined `room`.
    pub async fn raw_in(&self, username: &str, room: &str) -> RawClient {
        let mut client = self.raw(username).await;
        client.join(room).await;
        client
    }
}

/// Conveniences over [`RawClient`]. A trait rather than inherent methods
/// so that they can never clash with methods added to `RawClient` itself.
pub trait RawClientExt {
    /// Joins `room`, failing the test on an error; returns the result.
    async fn join(&mut self, room: &str) -> Value;

    /// One round trip (`list_rooms`), then every frame that arrived before
    /// its answer, in order. Everything the server queued for this
    /// connection before answering shows up here, which is how a test
    /// asserts that something was *not* sent without sleeping.
    async fn sync(&mut self) -> Vec<Value>;

    /// Sends `texts` to `room` as pipelined requests, then waits for every
    /// answer; returns the message ids in the order the requests were sent.
    async fn send_many(&mut self, room: &str, texts: &[String]) -> Vec<i64>;

    /// Closes cleanly and waits until the server has dropped the TCP
    /// connection, which it does only after its cleanup (leaving rooms)
    /// has run.
    async fn hang_up(self);
}

impl RawClientExt for RawClient {
    async fn join(&mut self, room: &str) -> Value {
        let reply = self.call("join_room", json!({"room_name": room})).await;
        result_of(&reply).clone()
    }

    async fn sync(&mut self) -> Vec<Value> {
        let reply = self.call("list_rooms", json!({})).await;
        result_of(&reply);
        let mut frames = Vec::new();
        while !self.buffered().is_empty() {
            frames.push(self.next_json().await);
        }
        frames
    }

    async fn send_many(&mut self, room: &str, texts: &[String]) -> Vec<i64> {
        let mut ids = Vec::with_capacity(texts.len());
        for text in texts {
            ids.push(self.request("send_message", json!({"room_id": room, "text": text})).await);
        }
        let mut message_ids = Vec::with_capacity(ids.len());
        for id in ids {
            let reply = self.response(id).await;
            message_ids.push(result_of(&reply)["message_id"].as_i64().unwrap());
        }
        message_ids
    }

    async fn hang_up(mut self) {
        self.send(Message::Close(None)).await;
        within("the server to end the connection", async {
            let ws = self.inner();
            while let Some(Ok(_)) = ws.next().await {}
            let mut rest = [0u8; 4096];
            while matches!(ws.get_mut().read(&mut rest).await, Ok(1..)) {}
        })
        .await;
    }
}

/// TCP segment size of silent members, in bytes.
const SMALL_SEGMENT: u32 = 1024;

/// A client WebSocket (also what [`RawClient::inner`] lends).
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects as `username` and joins `room`, on a socket meant to stop
/// reading: a receive buffer of about `receive_buffer` bytes, and small
/// TCP segments, which keep the server's send buffer small too (Linux
/// sizes it from the segment size). So the kernel holds kilobytes for it
/// rather than megabytes, and the server notices soon.
pub async fn silent_member(server: &TestServer, username: &str, room: &str, receive_buffer: u32) -> WsStream {
    let token = server.token(username).await;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(receive_buffer as usize).unwrap();
    socket.set_tcp_mss(SMALL_SEGMENT).unwrap();
    let addr: SocketAddr = server.addr;
    // Loopback connects complete in the kernel, without waiting for the
    // server to accept, so blocking here is harmless.
    socket.connect(&addr.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let tcp = TcpStream::from_std(socket.into()).unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp)).await.unwrap();
    let join = json!({"jsonrpc": "2.0", "id": 1, "method": "join_room", "params": {"room_name": room}});
    ws.send(Message::text(join.to_string())).await.unwrap();
    within("the silent member's join", async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["id"] == 1 {
                        result_of(&frame);
                        break;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("silent member lost its connection while joining: {other:?}"),
            }
        }
    })
    .await;
    ws
}

/// Everything still coming on `ws` until it ends: the text frames, then
/// the close frame's code and reason (`None` when the connection ended
/// without one).
pub async fn drain(ws: &mut WsStream) -> (Vec<Value>, Option<(u16, String)>) {
    within("the rest of the stream", async {
        let mut frames = Vec::new();
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => frames.push(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return (frames, frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, None),
            }
        }
    })
    .await
}
