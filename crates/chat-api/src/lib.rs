//! The wire contract of bidirectional-chat, shared by the server and every
//! Rust client.
//!
//! A tour of the modules:
//! - [`names`]: validated user, room and text newtypes. Parsing is the only
//!   way to build them, so code that holds one never re-checks it.
//! - [`ids`] and [`role`]: message and user ids, and the three roles.
//! - [`time`]: the RFC 3339 timestamps used on the wire.
//! - [`model`]: the shapes that travel inside results and notifications
//!   (`Message`, `RoomInfo`, `Profile`, the cat `Avatar`).
//! - [`rpc`]: every JSON-RPC method as one jsonrpsee `#[rpc]` trait, with its
//!   results. The server half is behind the `server` feature and the client
//!   half behind `client`.
//! - [`notifications`]: server → client notifications, their method names and
//!   payloads.
//! - [`errors`]: JSON-RPC error codes and WebSocket close codes.
//! - [`http`]: the REST bodies of `/auth/register`, `/auth/login`, `/health`.

pub mod errors;
pub mod http;
pub mod ids;
pub mod model;
pub mod names;
pub mod notifications;
pub mod role;
#[cfg(any(feature = "server", feature = "client"))]
pub mod rpc;
pub mod time;

pub use errors::{CloseCode, ErrorCode};
pub use ids::{MessageId, UserId};
pub use model::{Avatar, Breed, CatColor, Expression, Message, Profile, Reaction, RoomInfo};
pub use names::{
    DisplayName, Emoji, MessageText, NameError, Reason, RoomId, RoomName, RoomTopic, SearchQuery, UserName,
};
pub use notifications::ServerEvent;
pub use role::Role;
pub use time::Timestamp;
