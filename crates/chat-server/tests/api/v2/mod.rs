//! Contract version 2, through raw frames only: what an outside client
//! written from docs/protocol.md sends and reads.

mod direct;
mod editing;
mod migration;

mod reactions;
mod read_markers;
mod search;
mod topics_and_roles;

use serde_json::{Value, json};

use crate::support::{RawClient, error_code, result_of};

/// Sends `text` to `room` and returns the new message id.
async fn send(client: &mut RawClient, room: &str, text: &str) -> i64 {
    let reply = client.call("send_message", json!({"room_id": room, "text": text})).await;
    result_of(&reply)["message_id"].as_i64().unwrap_or_else(|| panic!("send failed: {reply}"))
}

/// Calls `method` and returns its result, failing on an error.
async fn ok(client: &mut RawClient, method: &str, params: Value) -> Value {
    let reply = client.call(method, params).await;
    assert!(reply.get("error").is_none(), "{method} failed: {reply}");
    result_of(&reply).clone()
}

/// Calls `method` and returns its error code, failing on success.
async fn refused(client: &mut RawClient, method: &str, params: Value) -> i64 {
    let reply = client.call(method, params).await;
    assert!(reply.get("error").is_some(), "{method} succeeded: {reply}");
    error_code(&reply)
}
