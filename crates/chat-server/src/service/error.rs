//! Errors of the chat use cases.

use std::time::Duration;

use chat_api::RoomId;

use crate::store::StoreError;

/// Why a chat call was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value passed validation of its type but not the server's settings.
    #[error("{0}")]
    Invalid(String),
    /// The caller's account no longer exists or their token expired.
    #[error("not authenticated")]
    NotAuthenticated,
    /// The caller's role does not allow it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such room or user.
    #[error("{0} not found")]
    NotFound(String),
    /// Too many calls; retry after the given time.
    #[error("rate limited")]
    RateLimited(Duration),
    /// The caller is banned.
    #[error("{0}")]
    Banned(String),
    /// The connection has not joined that room.
    #[error("not a member of room {0}")]
    NotMember(RoomId),
    /// The room is at its user limit.
    #[error("room {0} is full")]
    RoomFull(RoomId),
    /// Creating the room would exceed `chat.max_rooms` (the limit).
    #[error("the server has reached its limit of {0} rooms; join an existing room")]
    TooManyRooms(usize),
    /// Storage failed; details go to the log only.
    #[error("storage: {0}")]
    Storage(#[from] StoreError),
}

impl ServiceError {
    pub(crate) fn room_not_found(room: &RoomId) -> Self {
        Self::NotFound(format!("room {room}"))
    }

    pub(crate) fn user_not_found(name: &impl std::fmt::Display) -> Self {
        Self::NotFound(format!("user {name}"))
    }
}
