//! A raw WebSocket client for exact frames, close codes and handshake
//! status.

use std::collections::VecDeque;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

use super::within;

pub struct RawClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Frames read while looking for something else.
    pending: VecDeque<Value>,
    next_id: u64,
}

/// The outcome of a handshake that may be refused.
pub type Handshake = Result<RawClient, tungstenite::Error>;

impl RawClient {
    /// Connects with `Authorization: Bearer` when a token is given.
    pub async fn connect(url: &str, token: Option<&str>) -> Handshake {
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = token {
            request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        }
        Self::connect_request(request).await
    }

    pub async fn connect_request(request: tungstenite::handshake::client::Request) -> Handshake {
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { ws, pending: VecDeque::new(), next_id: 1 })
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    /// Sends a request with a fresh numeric id and returns that id.
    pub async fn request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()).await;
        id
    }

    /// Calls a method and returns the whole response object.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        self.response(id).await
    }

    /// The response with `id`, keeping other frames for later.
    pub async fn response(&mut self, id: u64) -> Value {
        self.find(&format!("response {id}"), |v| v.get("id") == Some(&json!(id))).await
    }

    /// The next notification named `method` (its whole frame).
    pub async fn notification(&mut self, method: &str) -> Value {
        self.find(method, |v| v.get("method") == Some(&json!(method)) && v.get("id").is_none()).await
    }

    /// The next frame, whatever it is.
    pub async fn next_json(&mut self) -> Value {
        if let Some(v) = self.pending.pop_front() {
            return v;
        }
        self.read_json().await
    }

    async fn find(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(pos) = self.pending.iter().position(&matches) {
            return self.pending.remove(pos).unwrap();
        }
        within(what, async {
            loop {
                let v = self.read_json().await;
                if matches(&v) {
                    return v;
                }
                self.pending.push_back(v);
            }
        })
        .await
    }

    async fn read_json(&mut self) -> Value {
        loop {
            let message = within("a frame", self.ws.next()).await;
            match message {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Reads until the server closes; returns the close code (None when the
    /// socket ended without a close frame).
    pub async fn close_code(&mut self) -> Option<u16> {
        within("close", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
    }

    /// Like [`close_code`](Self::close_code) but also returns the reason.
    pub async fn close_frame(&mut self) -> Option<(u16, String)> {
        within("close", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
    }

    /// Frames buffered while waiting for others.
    pub fn buffered(&self) -> &VecDeque<Value> {
        &self.pending
    }

    pub fn inner(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>> {
        &mut self.ws
    }
}

/// The HTTP status of a refused handshake, or None if it was accepted.
pub fn refused_status(result: &Handshake) -> Option<u16> {
    match result {
        Err(tungstenite::Error::Http(response)) => Some(response.status().as_u16()),
        _ => None,
    }
}
