//! `/ws/text`: plain-text clients bridged with JSON-RPC clients.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

use crate::support::{RawClient, TestServer, refused_status, within};

struct TextClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl TextClient {
    async fn connect(server: &TestServer, username: &str, room: Option<&str>) -> Self {
        let token = server.token(username).await;
        let mut url = format!("ws://{}/ws/text?token={token}", server.addr);
        if let Some(room) = room {
            url.push_str(&format!("&room={room}"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self { ws }
    }

    async fn say(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    async fn line(&mut self) -> String {
        loop {
            match within("a text line", self.ws.next()).await {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next `system:` line's JSON.
    async fn system(&mut self) -> Value {
        let line = self.line().await;
        let json = line.strip_prefix("system:").unwrap_or_else(|| panic!("not a system line: {line}"));
        serde_json::from_str(json).unwrap()
    }

    async fn message(&mut self) -> Value {
        let line = self.line().await;
        assert!(!line.starts_with("system:"), "expected a message, got {line}");
        serde_json::from_str(&line).unwrap()
    }

    /// Proves the connection has joined its room: a message it sends comes
    /// back to it only once it is a member.
    async fn ready(&mut self) {
        self.say("ready").await;
        assert_eq!(self.message().await["message"], "ready");
    }

    async fn close_code(&mut self) -> Option<u16> {
        within("close", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => continue,
                    _ => return None,
                }
            }
        })
        .await
    }
}

fn now() -> i64 {
    chat_api::Timestamp::now().unix_seconds()
}

#[tokio::test]
async fn text_and_json_rpc_clients_see_each_others_joins_messages_and_leaves() {
    let server = TestServer::spawn().await;
    let mut rpc = server.raw("bob").await;
    rpc.call("join_room", json!({"room_name": "general"})).await;

    let mut text = TextClient::connect(&server, "alice", Some("general")).await;
    let joined = rpc.notification("user_joined").await;
    assert_eq!(joined["params"], json!({"room_id": "general", "username": "alice", "user_count": 2}));

    // Bob (JSON-RPC) speaks; alice (text) reads the plain shape.
    let sent = rpc.call("send_message", json!({"room_id": "general", "text": "hi alice"})).await;
    let line = text.message().await;
    let bob_id = server.login("bob", "bob123").await.json::<Value>().await.unwrap()["user_id"].clone();
    let sent_at =
        chrono::DateTime::parse_from_rfc3339(sent["result"]["timestamp"].as_str().unwrap()).unwrap().timestamp();
    assert_eq!(line, json!({"user_id": bob_id, "username": "bob", "message": "hi alice", "timestamp": sent_at}));

    // Alice (text) speaks; bob gets message_received, stored with an id.
    text.say("hello bob").await;
    let own_echo = rpc.notification("message_received").await;
    assert_eq!(own_echo["params"]["text"], "hi alice");
    let received = rpc.notification("message_received").await;
    assert_eq!(received["params"]["username"], "alice");
    assert_eq!(received["params"]["text"], "hello bob");
    assert!(received["params"]["message_id"].as_i64().unwrap() > sent["result"]["message_id"].as_i64().unwrap());
    let own = text.message().await;
    assert_eq!(own["message"], "hello bob", "text clients see their own messages too");

    // Another text client joins: alice gets a system line.
    let mut carol = TextClient::connect(&server, "carol", None).await;
    let system = text.system().await;
    assert_eq!(system["message"], "carol has joined the chat.");
    assert!((now() - 5..=now() + 5).contains(&system["timestamp"].as_i64().unwrap()));

    // Carol leaves: alice gets a system line, bob user_left.
    carol.ws.close(None).await.unwrap();
    assert_eq!(text.system().await["message"], "carol has left the chat.");
    let left = loop {
        let frame = rpc.notification("user_left").await;
        if frame["params"]["username"] == "carol" {
            break frame;
        }
    };
    assert_eq!(left["params"]["user_count"], 2);

    // Alice leaves: bob gets user_left.
    drop(text);
    let left = rpc.notification("user_left").await;
    assert_eq!(left["params"]["username"], "alice");
}

#[tokio::test]
async fn the_room_defaults_to_general_and_can_be_chosen() {
    let server = TestServer::spawn().await;
    let mut rpc = server.raw("bob").await;
    rpc.call("join_room", json!({"room_name": "lobby"})).await;
    let _text = TextClient::connect(&server, "alice", Some("Lobby")).await;
    assert_eq!(rpc.notification("user_joined").await["params"]["room_id"], "lobby");

    rpc.call("join_room", json!({"room_name": "general"})).await;
    let _general = TextClient::connect(&server, "carol", None).await;
    let joined = rpc.notification("user_joined").await;
    assert_eq!(joined["params"], json!({"room_id": "general", "username": "carol", "user_count": 2}));
    let users = rpc.call("list_users", json!({"room_id": "general"})).await;
    assert_eq!(users["result"]["users"], json!(["bob", "carol"]));
}

#[tokio::test]
async fn a_missing_or_bad_token_is_refused_before_the_upgrade() {
    let server = TestServer::spawn().await;
    let url = format!("ws://{}/ws/text", server.addr);
    assert_eq!(refused_status(&RawClient::connect(&url, None).await), Some(401));
    assert_eq!(refused_status(&RawClient::connect(&url, Some("forged")).await), Some(401));
    let token = server.token("alice").await;
    let bad_room = format!("{url}?room=no%20spaces");
    assert_eq!(refused_status(&RawClient::connect(&bad_room, Some(&token)).await), Some(400));
    // The Authorization header works too.
    assert!(RawClient::connect(&url, Some(&token)).await.is_ok());
}

#[tokio::test]
async fn a_refused_message_is_explained_and_the_connection_stays() {
    let server = TestServer::spawn_with(|c| {
        c.chat.max_message_length = 10;
        c.rate_limit.enabled = true;
        c.rate_limit.message_burst = 2;
        c.rate_limit.messages_per_minute = 1;
    })
    .await;
    let mut text = TextClient::connect(&server, "alice", None).await;
    text.say("this is far too long").await;
    let refused = text.system().await;
    assert!(refused["message"].as_str().unwrap().contains("at most 10 characters"), "{refused}");
    text.say("\u{7}bell").await;
    assert!(text.system().await["message"].as_str().unwrap().starts_with("Message not sent"));

    text.say("one").await;
    assert_eq!(text.message().await["message"], "one");
    text.say("two").await;
    assert_eq!(text.message().await["message"], "two");
    text.say("three").await;
    let limited = text.system().await;
    assert!(limited["message"].as_str().unwrap().contains("rate limited"), "{limited}");
}

#[tokio::test]
async fn a_trailing_line_ending_is_not_part_of_the_message() {
    let server = TestServer::spawn().await;
    let mut text = TextClient::connect(&server, "alice", None).await;
    text.say("typed\r\n").await;
    assert_eq!(text.message().await["message"], "typed");
}

#[tokio::test]
async fn announcements_kicks_and_bans_reach_text_clients_as_system_lines() {
    let server = TestServer::spawn().await;
    let mut admin = server.raw("admin").await;
    let mut text = TextClient::connect(&server, "alice", None).await;
    text.ready().await;
    let mut watcher = TextClient::connect(&server, "carol", None).await;
    assert_eq!(text.system().await["message"], "carol has joined the chat.");

    admin.call("broadcast_announcement", json!({"message": "maintenance soon", "level": "warning"})).await;
    let line = text.system().await;
    assert_eq!(line["message"], "maintenance soon");
    assert_eq!(line["level"], "warning");
    assert_eq!(watcher.system().await["message"], "maintenance soon");

    admin.call("kick_user", json!({"target_username": "alice", "reason": "spam"})).await;
    assert_eq!(text.system().await["message"], "You have been kicked: spam");
    assert_eq!(text.close_code().await, Some(4001));
    assert_eq!(watcher.system().await["message"], "alice was kicked: spam");
    assert_eq!(watcher.system().await["message"], "alice has left the chat.");

    let mut again = TextClient::connect(&server, "alice", None).await;
    assert_eq!(watcher.system().await["message"], "alice has joined the chat.");
    admin.call("ban_user", json!({"target_username": "alice", "reason": "flood"})).await;
    let banned = again.system().await;
    assert_eq!(banned["message"], "You have been banned permanently: flood");
    assert_eq!(again.close_code().await, Some(4003));
    assert_eq!(watcher.system().await["message"], "alice has left the chat.");
}

#[tokio::test]
async fn a_user_connected_both_ways_is_one_member() {
    let server = TestServer::spawn().await;
    let mut bob = server.raw("bob").await;
    bob.call("join_room", json!({"room_name": "general"})).await;
    let mut alice_rpc = server.raw("alice").await;
    alice_rpc.call("join_room", json!({"room_name": "general"})).await;
    assert_eq!(bob.notification("user_joined").await["params"]["user_count"], 2);

    let text = TextClient::connect(&server, "alice", None).await;
    let users = bob.call("list_users", json!({"room_id": "general"})).await;
    assert_eq!(users["result"]["users"], json!(["alice", "bob"]));
    drop(text);
    // Alice is still present through JSON-RPC: no user_left for her.
    let probe = bob.call("list_users", json!({"room_id": "general"})).await;
    assert_eq!(probe["result"]["users"], json!(["alice", "bob"]));
    assert!(!bob.buffered().iter().any(|f| f["method"] == "user_joined" || f["method"] == "user_left"));
}

#[tokio::test]
async fn a_full_room_is_explained_and_closed() {
    let server = TestServer::spawn_with(|c| c.chat.max_users_per_room = 1).await;
    let mut bob = server.raw("bob").await;
    bob.call("join_room", json!({"room_name": "general"})).await;
    let mut alice = TextClient::connect(&server, "alice", None).await;
    assert!(alice.system().await["message"].as_str().unwrap().contains("full"));
    assert_eq!(alice.close_code().await, Some(1008));
}
