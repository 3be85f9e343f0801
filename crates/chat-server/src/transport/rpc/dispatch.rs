//! Text frame → JSON-RPC request(s) → the registered methods → response
//! text. Handles single calls, notifications (run, never answered) and
//! batches (answered as one array, in order).

use std::{borrow::Cow, fmt};

use chat_api::ErrorCode;
use jsonrpsee::{
    ConnectionId, Extensions, MethodCallback, MethodResponse, Methods,
    types::{Id, Params, TwoPointZero},
};
use serde::{Deserialize, Deserializer, de::Visitor};
use serde_json::value::RawValue;

use super::errors::error_object;

/// Routes frames to the methods of the `ChatApi` trait.
#[derive(Debug)]
pub struct Dispatcher {
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
pub fn error_response(code: ErrorCode, message: &str) -> String {
    respond_error(Id::Null, code, message)
}

fn respond_error(id: Id<'_>, code: ErrorCode, message: &str) -> String {
    into_text(MethodResponse::error(id, error_object(code, message)))
}

/// The response's JSON, without copying it.
fn into_text(response: MethodResponse) -> String {
    Box::<str>::from(response.into_json()).into_string()
}

impl Dispatcher {
    /// A dispatcher over `methods`, accepting batches of up to `max_batch`.
    pub fn new(methods: Methods, max_batch: usize) -> Self {
        Self { methods, max_batch }
    }

    /// Handles one text frame. Returns the response frame, if any is due.
    /// With `expired`, every call is refused with "not authenticated".
    pub async fn handle(&self, text: &str, ext: &Extensions, expired: bool) -> Option<String> {
        if text.trim_start().starts_with('[') {
            return self.handle_batch(text, ext, expired).await;
        }
        self.handle_one(text, ext, expired).await
    }

    async fn handle_batch(&self, text: &str, ext: &Extensions, expired: bool) -> Option<String> {
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
        let mut replies = Vec::with_capacity(items.len());
        for item in items {
            if let Some(reply) = self.handle_one(item.get(), ext, expired).await {
                replies.push(reply);
            }
        }
        // A batch of notifications gets no answer at all.
        (!replies.is_empty()).then(|| format!("[{}]", replies.join(",")))
    }

    async fn handle_one(&self, text: &str, ext: &Extensions, expired: bool) -> Option<String> {
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
        let response = if expired {
            MethodResponse::error(id, error_object(ErrorCode::NotAuthenticated, "token expired; log in again"))
        } else {
            let params = Params::new(request.params.map(RawValue::get)).into_owned();
            self.call(&request.method, id, params, ext).await
        };
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
