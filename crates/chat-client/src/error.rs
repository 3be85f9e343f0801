//! The library's errors, and how jsonrpsee's transport errors are read:
//! HTTP status of a refused handshake, WebSocket close code of a dropped
//! connection.

use std::time::Duration;

use chat_api::{CloseCode, ErrorCode, errors::RateLimitedData};
use jsonrpsee::core::ClientError;

/// Opening a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// HTTP 401 on `/ws`: the token is missing, forged or expired, or the
    /// account is gone. Log in again.
    #[error("the server did not accept the token (expired or invalid); log in again")]
    TokenRejected,
    /// HTTP 403 on `/ws`: the account is banned.
    #[error("this account is banned")]
    Banned,
    /// Another HTTP status refused the upgrade (e.g. 503 when full).
    #[error("the server refused the connection (HTTP {status})")]
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// The token cannot be sent as an HTTP header.
    #[error("the token contains characters that cannot be sent")]
    MalformedToken,
    /// The server could not be reached or the handshake failed.
    #[error("cannot connect to {url}")]
    Unreachable {
        /// The WebSocket URL tried.
        url: String,
        /// What went wrong.
        #[source]
        source: ClientError,
    },
}

impl ConnectError {
    /// Sorts a `WsClientBuilder::build` failure.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn from_handshake(url: &str, error: ClientError) -> Self {
        use jsonrpsee::client_transport::ws::WsHandshakeError;
        let status = match &error {
            ClientError::Transport(inner) => match inner.downcast_ref::<WsHandshakeError>() {
                Some(WsHandshakeError::Rejected { status_code }) => Some(*status_code),
                _ => None,
            },
            _ => None,
        };
        Self::from_refusal(status, url, error)
    }

    /// Sorts a failed connection by the HTTP status that refused it, if
    /// one did.
    pub(crate) fn from_refusal(status: Option<u16>, url: &str, error: ClientError) -> Self {
        match status {
            Some(401) => ConnectError::TokenRejected,
            Some(403) => ConnectError::Banned,
            Some(status) => ConnectError::Refused { status },
            None => ConnectError::Unreachable { url: url.to_owned(), source: error },
        }
    }
}

/// A call on an open session failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server answered with a JSON-RPC error: the reason is its message.
    #[error("{message}")]
    Refused {
        /// The contract's name for the code, when it is one of ours.
        kind: Option<ErrorCode>,
        /// The numeric code.
        code: i32,
        /// The server's explanation.
        message: String,
        /// For rate limiting: when to try again.
        retry_after: Option<Duration>,
    },
    /// No connection right now; the session is reconnecting.
    #[error("not connected (reconnecting)")]
    NotConnected,
    /// The connection dropped before the answer came.
    #[error("the connection was lost before the server answered")]
    ConnectionLost,
    /// No answer within the request timeout.
    #[error("the server did not answer in time")]
    Timeout,
    /// Anything else jsonrpsee reports (e.g. an answer that does not parse).
    #[error("unexpected answer from the server")]
    Protocol(#[source] ClientError),
}

impl CallError {
    /// Whether the server refused with `kind`.
    pub fn is(&self, kind: ErrorCode) -> bool {
        matches!(self, CallError::Refused { kind: Some(k), .. } if *k == kind)
    }
}

impl From<ClientError> for CallError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Call(object) => {
                let retry_after = retry_after(&object);
                CallError::Refused {
                    kind: ErrorCode::from_code(object.code()),
                    code: object.code(),
                    message: object.message().to_owned(),
                    retry_after,
                }
            }
            ClientError::RestartNeeded(_) | ClientError::ServiceDisconnect => CallError::ConnectionLost,
            ClientError::RequestTimeout => CallError::Timeout,
            other => CallError::Protocol(other),
        }
    }
}

/// The wait a rate-limit refusal (-32004) asks for, from its
/// `error.data.retry_after_ms`.
pub(crate) fn retry_after(object: &jsonrpsee::types::ErrorObjectOwned) -> Option<Duration> {
    object
        .data()
        .and_then(|raw| serde_json::from_str::<RateLimitedData>(raw.get()).ok())
        .map(|data| Duration::from_millis(data.retry_after_ms))
}

/// How a connection ended, read from jsonrpsee's disconnect reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseFrame {
    /// The WebSocket close code, when the server sent a close frame.
    pub(crate) code: Option<u16>,
    /// The close frame's reason text, if any.
    pub(crate) reason: Option<String>,
    /// A readable description of the cause.
    pub(crate) description: String,
}

impl CloseFrame {
    /// Reads the close code out of `client.on_disconnect()`'s error: it is a
    /// `RestartNeeded` wrapping the transport's error, which carries the
    /// close frame when the server sent one.
    pub(crate) fn from_disconnect(error: &ClientError) -> Self {
        let inner = match error {
            ClientError::RestartNeeded(inner) => inner.as_ref(),
            other => other,
        };
        let closed = match inner {
            ClientError::Transport(source) => close_frame_of(source.as_ref()),
            _ => None,
        };
        match closed {
            Some((code, reason)) => Self {
                code: Some(code),
                description: describe_close(code, reason.as_deref()),
                reason: reason.filter(|r| !r.is_empty()),
            },
            None => Self { code: None, reason: None, description: inner.to_string() },
        }
    }

    /// The contract's name for the close code.
    pub(crate) fn kind(&self) -> Option<CloseCode> {
        self.code.and_then(CloseCode::from_code)
    }
}

/// The close code and reason in a native transport error: soketto's
/// `Closed(CloseReason)` when the server closed cleanly.
#[cfg(not(target_arch = "wasm32"))]
fn close_frame_of(source: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<(u16, Option<String>)> {
    use jsonrpsee::client_transport::ws::WsError;
    match source.downcast_ref::<WsError>()? {
        WsError::Closed(reason) => Some((reason.code, reason.descr.clone())),
        _ => None,
    }
}

/// The close code and reason in a browser transport error: the WebSocket's
/// `close` event. 1006 is the browser's word for "no close frame" (a
/// dropped network), which is no code from the server at all.
#[cfg(target_arch = "wasm32")]
fn close_frame_of(source: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<(u16, Option<String>)> {
    use gloo_net::websocket::WebSocketError;
    use jsonrpsee::client_transport::web::Error;
    match source.downcast_ref::<Error>()? {
        Error::WebSocket(WebSocketError::ConnectionClose(event)) if event.code != 1006 => {
            Some((event.code, Some(event.reason.clone())))
        }
        _ => None,
    }
}

fn describe_close(code: u16, reason: Option<&str>) -> String {
    let known = match CloseCode::from_code(code) {
        Some(CloseCode::Normal) => "the connection was closed",
        Some(CloseCode::GoingAway) => "the server is restarting",
        Some(CloseCode::TooSlow) => "this client fell behind",
        Some(CloseCode::TooLarge) => "a message was too large",
        Some(CloseCode::ProtocolError | CloseCode::InvalidPayload) => "the server rejected malformed data",
        Some(CloseCode::PolicyViolation) => "the server refused this connection",
        Some(CloseCode::Kicked) => "kicked",
        Some(CloseCode::SessionEnded) => "the session ended; log in again",
        Some(CloseCode::Banned) => "banned",
        None => "",
    };
    match reason.filter(|r| !r.is_empty()) {
        _ if !known.is_empty() => known.to_owned(),
        Some(reason) => format!("closed by the server with code {code}: {reason}"),
        None => format!("closed by the server with code {code}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jsonrpsee::types::ErrorObjectOwned;

    use super::*;

    #[test]
    fn refusals_keep_the_servers_reason_and_code() {
        let object = ErrorObjectOwned::owned(-32002, "moderators only", None::<()>);
        let error = CallError::from(ClientError::Call(object));
        assert!(error.is(ErrorCode::Forbidden));
        assert_eq!(error.to_string(), "moderators only");
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let object = ErrorObjectOwned::owned(-32004, "slow down", Some(serde_json::json!({"retry_after_ms": 1500})));
        match CallError::from(ClientError::Call(object)) {
            CallError::Refused { retry_after, kind, .. } => {
                assert_eq!(kind, Some(ErrorCode::RateLimited));
                assert_eq!(retry_after, Some(Duration::from_millis(1500)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn close_codes_are_described_for_people() {
        assert_eq!(describe_close(1001, Some("server shutting down")), "the server is restarting");
        assert_eq!(describe_close(4999, Some("odd")), "closed by the server with code 4999: odd");
        assert_eq!(describe_close(1000, None), "the connection was closed");
    }

    #[test]
    fn a_dropped_socket_has_no_close_code() {
        let error = ClientError::RestartNeeded(Arc::new(ClientError::Transport("reset".into())));
        let frame = CloseFrame::from_disconnect(&error);
        assert_eq!(frame.code, None);
        assert!(frame.description.contains("reset"));
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn handshake_statuses_are_sorted() {
        use jsonrpsee::client_transport::ws::WsHandshakeError;
        let rejected = |status_code| ClientError::Transport(Box::new(WsHandshakeError::Rejected { status_code }));
        assert!(matches!(ConnectError::from_handshake("ws://x", rejected(401)), ConnectError::TokenRejected));
        assert!(matches!(ConnectError::from_handshake("ws://x", rejected(403)), ConnectError::Banned));
        assert!(matches!(ConnectError::from_handshake("ws://x", rejected(503)), ConnectError::Refused { status: 503 }));
    }
}
