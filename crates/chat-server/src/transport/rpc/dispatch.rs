//! Text frame → JSON-RPC request(s) → the registered methods → response
//! text. Handles single calls, notifications (run, never answered) and
//! batches (answered as one array, in order).
//!
//! A batch's answers wait for one another, so they are held against the
//! connection's outbox byte budget while it runs (`HeldAnswers`, one batch
//! of a connection at a time). Before each request the batch waits until
//! another answer as large as its largest so far fits beside what is
//! queued and held in `connection.send_queue_bytes`; once its own answers
//! leave no room, its remaining requests are not run and are answered
//! with -32600. A batch's answer therefore ends at most one answer beyond
//! the budget, however many batches are in flight.

use std::{borrow::Cow, fmt, sync::Arc};

use chat_api::ErrorCode;
use jsonrpsee::{
    ConnectionId, Extensions, MethodCallback, MethodResponse, Methods,
    types::{Id, Params, TwoPointZero},
};
use serde::{Deserialize, Deserializer, de::Visitor};
use serde_json::value::RawValue;

use super::errors::error_object;
use crate::hub::Connection;

/// Routes frames to the methods of the `ChatApi` trait.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    methods: Methods,
    max_batch: usize,
}

#[derive(Deserialize)]
struct Inbound<'a> {
    #[allow(dead_code)]
    jsonrpc: TwoPointZero,
    /// Absent for notifications; `Some(Id::Null)` for an explicit null.
    #[serde(default, borrow, deserialize_with = "present_id")]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

/// Just the id, to answer a malformed request with the id it carried.
#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(default, borrow, deserialize_with = "present_id")]
    id: Option<Id<'a>>,
}

fn present_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id<'de>>, D::Error> {
    d.deserialize_any(IdVisitor).map(Some)
}

/// Reads an id in one pass. `Id`'s own `Deserialize` is untagged: it tries
/// null, then a number, then a string, and builds a formatted error for
/// every shape that misses. That was a few percent of a busy server's time.
struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = Id<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer, a string or null")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Id::Null)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Id::Number(n))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Id::Str(Cow::Borrowed(s)))
    }

    /// A string with escapes cannot be borrowed from the frame.
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Id::Str(Cow::Owned(s.to_owned())))
    }
}

/// An error response with a null id (the request could not be read).
pub(crate) fn error_response(code: ErrorCode, message: &str) -> String {
    respond_error(Id::Null, code, message)
}

fn respond_error(id: Id<'_>, code: ErrorCode, message: &str) -> String {
    into_text(MethodResponse::error(id, error_object(code, message)))
}

/// The answer to a batch request left unrun because the batch's answers
/// reached the connection's byte budget; none for a notification.
fn not_run(text: &str) -> Option<String> {
    let id = match serde_json::from_str::<IdOnly<'_>>(text) {
        Ok(request) => request.id,
        // Not a request at all: answered with a null id, as when run.
        Err(_) => Some(Id::Null),
    };
    let message = "not run: this batch's answers reached the connection's send budget \
                   (connection.send_queue_bytes); send these requests in a later batch";
    id.map(|id| respond_error(id, ErrorCode::InvalidRequest, message))
}

/// The response's JSON, without copying it.
fn into_text(response: MethodResponse) -> String {
    Box::<str>::from(response.into_json()).into_string()
}

impl Dispatcher {
    /// A dispatcher over `methods`, accepting batches of up to `max_batch`.
    pub(crate) fn new(methods: Methods, max_batch: usize) -> Self {
        Self { methods, max_batch }
    }

    /// Handles one text frame. Returns the response frame, if any is due.
    /// (A connection whose token expired or was revoked is closed before
    /// its frames get here.)
    pub(crate) async fn handle(&self, text: &str, ext: &Extensions) -> Option<String> {
        if text.trim_start().starts_with('[') {
            return self.handle_batch(text, ext).await;
        }
        self.handle_one(text, ext).await
    }

    async fn handle_batch(&self, text: &str, ext: &Extensions) -> Option<String> {
        let items: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(items) => items,
            Err(_) => return Some(error_response(ErrorCode::ParseError, "parse error")),
        };
        if items.is_empty() {
            return Some(error_response(ErrorCode::InvalidRequest, "empty batch"));
        }
        if items.len() > self.max_batch {
            return Some(error_response(
                ErrorCode::InvalidRequest,
                &format!("batch of {} requests exceeds the limit of {}", items.len(), self.max_batch),
            ));
        }
        // Only harnesses call without a connection; they get no budget.
        let mut held = match ext.get::<Arc<Connection>>() {
            Some(conn) => Some(conn.hold_answers().await),
            None => None,
        };
        let mut answer = String::from("[");
        for item in items {
            let room = match &held {
                Some(held) => held.has_room().await,
                None => true,
            };
            let reply = if room { self.handle_one(item.get(), ext).await } else { not_run(item.get()) };
            let Some(reply) = reply else { continue };
            if let Some(held) = &mut held {
                held.add(reply.len() + 1);
            }
            if answer.len() > 1 {
                answer.push(',');
            }
            answer.push_str(&reply);
        }
        answer.push(']');
        // A batch of notifications gets no answer at all.
        (answer.len() > 2).then_some(answer)
    }

    async fn handle_one(&self, text: &str, ext: &Extensions) -> Option<String> {
        let request: Inbound<'_> = match serde_json::from_str(text) {
            Ok(request) => request,
            Err(e) if e.is_syntax() || e.is_eof() => return Some(error_response(ErrorCode::ParseError, "parse error")),
            Err(e) => {
                let id = serde_json::from_str::<IdOnly<'_>>(text).ok().and_then(|r| r.id).unwrap_or(Id::Null);
                return Some(respond_error(id, ErrorCode::InvalidRequest, &format!("invalid request: {e}")));
            }
        };
        let is_notification = request.id.is_none();
        let id = request.id.unwrap_or(Id::Null).into_owned();
        let params = Params::new(request.params.map(RawValue::get)).into_owned();
        let response = self.call(&request.method, id, params, ext).await;
        (!is_notification).then(|| into_text(response))
    }

    async fn call(&self, method: &str, id: Id<'static>, params: Params<'static>, ext: &Extensions) -> MethodResponse {
        match self.methods.method(method) {
            Some(MethodCallback::Async(callback)) => {
                callback(id, params, ConnectionId(0), usize::MAX, ext.clone()).await
            }
            Some(MethodCallback::Sync(callback)) => callback(id, params, usize::MAX, ext.clone()),
            // The contract has no subscriptions; anything else is unknown.
            _ => {
                MethodResponse::error(id, error_object(ErrorCode::MethodNotFound, format!("unknown method {method:?}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(json: &str) -> Result<Option<Id<'_>>, serde_json::Error> {
        serde_json::from_str::<IdOnly<'_>>(json).map(|r| r.id)
    }

    #[test]
    fn ids_are_numbers_strings_or_null_and_absent_means_a_notification() {
        assert_eq!(id_of(r#"{"id":7}"#).unwrap(), Some(Id::Number(7)));
        assert_eq!(id_of(r#"{"id":"a-1"}"#).unwrap(), Some(Id::Str("a-1".into())));
        assert_eq!(id_of(r#"{"id":"tab\tin"}"#).unwrap(), Some(Id::Str("tab\tin".into())));
        assert_eq!(id_of(r#"{"id":null}"#).unwrap(), Some(Id::Null));
        assert_eq!(id_of("{}").unwrap(), None);
    }

    #[test]
    fn other_ids_are_refused() {
        for json in [r#"{"id":-1}"#, r#"{"id":1.5}"#, r#"{"id":true}"#, r#"{"id":[1]}"#, r#"{"id":{}}"#] {
            assert!(id_of(json).is_err(), "{json} was accepted");
        }
    }
}
