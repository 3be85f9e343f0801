//! Serialized frames shared by every recipient.

use axum::extract::ws::Utf8Bytes;
use chat_api::ServerEvent;

/// One serialized text frame. Cloning shares the bytes, so an event is
/// serialized once however many connections receive it.
#[derive(Debug, Clone)]
pub struct Frame(Utf8Bytes);

impl Frame {
    /// Serializes a notification.
    pub fn event(event: &ServerEvent) -> Self {
        match event.to_frame() {
            Ok(text) => Self(text.into()),
            // Our payload types always serialize; if one ever did not, a
            // visible error beats a silently missing notification.
            Err(e) => {
                tracing::error!(method = event.method(), error = %e, "could not serialize notification");
                Self(Utf8Bytes::from_static(""))
            }
        }
    }

    /// Wraps text that is already a complete frame (a response).
    pub fn text(text: String) -> Self {
        Self(text.into())
    }

    /// The frame's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The bytes to hand to the socket.
    pub fn into_inner(self) -> Utf8Bytes {
        self.0
    }
}
