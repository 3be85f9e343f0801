//! JSON-RPC error codes and WebSocket close codes.

use serde::{Deserialize, Serialize};

/// Every `error.code` the server sends in a JSON-RPC error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// -32700: the frame was not JSON.
    ParseError,
    /// -32600: JSON, but not a JSON-RPC request (or a batch too large).
    InvalidRequest,
    /// -32601: no method by that name.
    MethodNotFound,
    /// -32602: wrong parameter types or a value that failed validation.
    InvalidParams,
    /// -32603: the server failed; details are in its log, not the reply.
    Internal,
    /// -32001: the account behind the session is gone. (A session whose
    /// token expired or was revoked is closed with 4002 instead.)
    NotAuthenticated,
    /// -32002: the caller's role is too low or the target outranks them.
    Forbidden,
    /// -32003: no such room or user.
    NotFound,
    /// -32004: rate limited; `error.data` is [`RateLimitedData`].
    RateLimited,
    /// -32005: the caller is banned.
    Banned,
    /// -32006: the caller is not a member of that room.
    NotMember,
    /// -32007: the room has reached its user limit.
    RoomFull,
}

impl ErrorCode {
    /// The numeric code on the wire.
    pub const fn code(self) -> i32 {
        match self {
            ErrorCode::ParseError => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::Internal => -32603,
            ErrorCode::NotAuthenticated => -32001,
            ErrorCode::Forbidden => -32002,
            ErrorCode::NotFound => -32003,
            ErrorCode::RateLimited => -32004,
            ErrorCode::Banned => -32005,
            ErrorCode::NotMember => -32006,
            ErrorCode::RoomFull => -32007,
        }
    }

    /// The code for a number received on the wire, if it is one of ours.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Every code, in a fixed order.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ParseError,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::Internal,
        ErrorCode::NotAuthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::Banned,
        ErrorCode::NotMember,
        ErrorCode::RoomFull,
    ];
}

/// `error.data` of a -32004 (rate limited) error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitedData {
    /// How long to wait before the same call can succeed.
    pub retry_after_ms: u64,
}

/// `error.data` of the -32602 refusing a `join_room` that would create a
/// room when the server already holds as many as it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooManyRoomsData {
    /// The server's limit on rooms.
    pub max_rooms: u64,
}

/// WebSocket close codes the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: a normal close (the server's answer to a client's close).
    Normal,
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1002: the client broke the WebSocket protocol.
    ProtocolError,
    /// 1007: a text frame was not valid UTF-8.
    InvalidPayload,
    /// 1008: a `/ws/text` client could not join its room (full, or joins
    /// rate limited).
    PolicyViolation,
    /// 1009: a frame exceeded the size limit.
    TooLarge,
    /// 4001: kicked by a moderator.
    Kicked,
    /// 4002: the session ended: its token expired or was revoked (logout),
    /// or the account was deleted. The client must log in again; the
    /// reason text says which.
    SessionEnded,
    /// 4003: banned.
    Banned,
    /// 4008: too slow; the send queue overflowed.
    TooSlow,
}

impl CloseCode {
    /// The numeric close code.
    pub const fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::TooLarge => 1009,
            CloseCode::Kicked => 4001,
            CloseCode::SessionEnded => 4002,
            CloseCode::Banned => 4003,
            CloseCode::TooSlow => 4008,
        }
    }

    /// The close code for a number received on the wire, if it is one of ours.
    pub fn from_code(code: u16) -> Option<Self> {
        [
            Self::Normal,
            Self::GoingAway,
            Self::ProtocolError,
            Self::InvalidPayload,
            Self::PolicyViolation,
            Self::TooLarge,
            Self::Kicked,
            Self::SessionEnded,
            Self::Banned,
            Self::TooSlow,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_match_the_contract() {
        let table = [
            (ErrorCode::NotAuthenticated, -32001),
            (ErrorCode::Forbidden, -32002),
            (ErrorCode::NotFound, -32003),
            (ErrorCode::RateLimited, -32004),
            (ErrorCode::Banned, -32005),
            (ErrorCode::NotMember, -32006),
            (ErrorCode::RoomFull, -32007),
        ];
        for (code, number) in table {
            assert_eq!(code.code(), number);
            assert_eq!(ErrorCode::from_code(number), Some(code));
        }
    }

    #[test]
    fn close_codes_match_the_contract() {
        assert_eq!(CloseCode::Kicked.code(), 4001);
        assert_eq!(CloseCode::SessionEnded.code(), 4002);
        assert_eq!(CloseCode::Banned.code(), 4003);
        assert_eq!(CloseCode::TooSlow.code(), 4008);
        assert_eq!(CloseCode::from_code(1009), Some(CloseCode::TooLarge));
    }
}
