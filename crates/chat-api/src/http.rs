//! Bodies of the REST routes. Every error body is [`ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::{Role, UserId, UserName};

/// `POST /auth/register` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The wanted username.
    pub username: String,
    /// The password (8 to 1024 bytes).
    pub password: String,
    /// Optional display name; defaults to the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `201` answer to `POST /auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// The new account's id.
    pub user_id: UserId,
    /// The username as registered.
    pub username: UserName,
    /// Always `user` for a new account.
    pub role: Role,
}

/// `POST /auth/login` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Username, any case.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `200` answer to `POST /auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The JWT to present to `/ws`.
    pub token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// When the token expires, in Unix seconds.
    pub expires_at: i64,
    /// The account's id.
    pub user_id: UserId,
    /// The username as registered.
    pub username: UserName,
    /// The account's role now.
    pub role: Role,
}

/// `200` answer to `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// Always `"ok"`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// `POST /auth/logout`: revokes the token sent in
/// `Authorization: Bearer <token>` (no body). Answers `204 No Content`;
/// a missing, invalid, expired or already revoked token gets `401` with
/// [`codes::INVALID_TOKEN`]. Connections opened with the token close with
/// 4002.
pub const LOGOUT_PATH: &str = "/auth/logout";

/// The body of every HTTP error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable snake_case code, e.g. `username_taken`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

/// Stable `error.code` values of the REST routes.
pub mod codes {
    /// 400: the username breaks the naming rules.
    pub const INVALID_USERNAME: &str = "invalid_username";
    /// 400: the password is too short or too long.
    pub const INVALID_PASSWORD: &str = "invalid_password";
    /// 400: the `room` of `/ws/text` is not a valid room name.
    pub const INVALID_ROOM: &str = "invalid_room";
    /// 400: the display name breaks its rules.
    pub const INVALID_DISPLAY_NAME: &str = "invalid_display_name";
    /// 400: the body was not the expected JSON.
    pub const INVALID_BODY: &str = "invalid_body";
    /// 413: the request body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// 409: the username is taken (case-insensitively).
    pub const USERNAME_TAKEN: &str = "username_taken";
    /// 401: unknown user or wrong password (deliberately the same).
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// 401: missing, malformed, forged, expired or revoked token.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// 403: the account is banned.
    pub const BANNED: &str = "banned";
    /// 403: the request's `Origin` is not allowed.
    pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
    /// 429: too many attempts; see `Retry-After`.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// 503: the server is at its connection limit.
    pub const SERVER_FULL: &str = "server_full";
    /// 500: the server failed; details are in its log.
    pub const INTERNAL: &str = "internal";
}
