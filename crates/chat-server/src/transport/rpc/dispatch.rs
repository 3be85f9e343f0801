//! Text frame → JSON-RPC request(s) → the registered methods → response
//! text. Handles single calls, notifications (run, never answered) and
//! batches (answered as one array, in order).

use std::borrow::Cow;

use chat_api::ErrorCode;
use jsonrpsee::{
    ConnectionId, Extensions, MethodCallback, MethodResponse, Methods,
    types::{Id, Params, TwoPointZero},
};
use serde::{Deserialize, Deserializer};
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
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<Id<'a>>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

/// Just the id, to answer a malformed request with the id it carried.
#[derive(Deserialize)]
struct IdOnly<'a> {
    #[serde(default, borrow)]
    id: Option<Id<'a>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id<'de>>, D::Error> {
    Id::deserialize(d).map(Some)
}

/// An error response with a null id (the request could not be read).
pub fn error_response(code: ErrorCode, message: &str) -> String {
    respond_error(Id::Null, code, message)
}

fn respond_error(id: Id<'_>, code: ErrorCode, message: &str) -> String {
    MethodResponse::error(id, error_object(code, message)).into_json().get().to_owned()
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
        (!is_notification).then(|| response.into_json().get().to_owned())
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
