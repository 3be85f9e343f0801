//! HTTP errors: one type, one body shape, mapped from [`AuthError`] in one
//! place.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    response::{IntoResponse, Response},
};
use chat_api::http::{ErrorBody, ErrorDetail, codes};

use crate::service::AuthError;

/// An HTTP error response: status, stable code, human message, and for 429
/// a `Retry-After`.
#[derive(Debug)]
pub(crate) struct HttpError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<Duration>,
}

impl HttpError {
    /// An error with the given status, code and message.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
}

impl From<AuthError> for HttpError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::InvalidUsername(_) => Self::new(StatusCode::BAD_REQUEST, codes::INVALID_USERNAME, message),
            AuthError::InvalidPassword(_) => Self::new(StatusCode::BAD_REQUEST, codes::INVALID_PASSWORD, message),
            AuthError::InvalidDisplayName(_) => {
                Self::new(StatusCode::BAD_REQUEST, codes::INVALID_DISPLAY_NAME, message)
            }
            AuthError::UsernameTaken => Self::new(StatusCode::CONFLICT, codes::USERNAME_TAKEN, message),
            AuthError::InvalidCredentials => Self::new(StatusCode::UNAUTHORIZED, codes::INVALID_CREDENTIALS, message),
            AuthError::InvalidToken => Self::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, message),
            AuthError::Banned(_) => Self::new(StatusCode::FORBIDDEN, codes::BANNED, message),
            AuthError::RateLimited(wait) => Self {
                retry_after: Some(wait),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED, message)
            },
            AuthError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, "internal error")
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_owned(), message: self.message } };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up so a client that waits exactly this
            // long is not refused again.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Unknown routes answer in the same shape as every other error.
pub(crate) async fn not_found() -> HttpError {
    HttpError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}
