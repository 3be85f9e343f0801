//! The HTTP half of the protocol: registering, logging in and out.

use std::time::Duration;

use chat_api::http::{ErrorBody, LoginRequest, LoginResponse, RegisterRequest, RegisterResponse, codes};
use reqwest::{StatusCode, header::RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::ServerUrl;

/// How long one REST call may take. Logins hash a password on the server,
/// which is deliberately slow, but never this slow.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A REST call failed. Every refusal keeps the server's own explanation.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// 409: the username is taken.
    #[error("{message}")]
    UsernameTaken {
        /// The server's explanation.
        message: String,
    },
    /// 400: a field broke the rules (`invalid_username`, `invalid_password`,
    /// `invalid_display_name`, `invalid_body`).
    #[error("{message}")]
    Invalid {
        /// The stable error code.
        code: String,
        /// The server's explanation.
        message: String,
    },
    /// 401: unknown user or wrong password (the server does not say which).
    #[error("{message}")]
    InvalidCredentials {
        /// The server's explanation.
        message: String,
    },
    /// 403: the account is banned.
    #[error("{message}")]
    Banned {
        /// The server's explanation, including until when.
        message: String,
    },
    /// 429: too many attempts.
    #[error("{message}")]
    RateLimited {
        /// The server's explanation.
        message: String,
        /// From the `Retry-After` header.
        retry_after: Option<Duration>,
    },
    /// Any other refusal.
    #[error("the server answered {status}: {message}")]
    Other {
        /// The HTTP status.
        status: u16,
        /// The error code, if the body had one.
        code: Option<String>,
        /// The server's explanation, or the raw body.
        message: String,
    },
    /// No answer: the server is down, the address is wrong, or TLS failed.
    #[error("cannot reach the server at {url}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What went wrong.
        #[source]
        source: reqwest::Error,
    },
    /// A success status with a body that does not parse.
    #[error("unexpected answer from {url}")]
    BadResponse {
        /// The URL tried.
        url: String,
        /// The parse failure.
        #[source]
        source: reqwest::Error,
    },
}

/// Calls the REST routes of one server.
#[derive(Debug, Clone)]
pub struct RestClient {
    http: reqwest::Client,
    server: ServerUrl,
}

impl RestClient {
    /// A client for `server`.
    pub fn new(server: ServerUrl) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("bidirectional-chat-client/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building only fails when the TLS backend cannot initialise;
            // fall back to defaults so the error surfaces on the first call.
            .unwrap_or_default();
        Self { http, server }
    }

    /// The server this client talks to.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// `POST /auth/register`.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<RegisterResponse, RestError> {
        let body = RegisterRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: display_name.map(str::to_owned),
        };
        self.post("auth/register", &body).await
    }

    /// `POST /auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginResponse, RestError> {
        let body = LoginRequest { username: username.to_owned(), password: password.to_owned() };
        self.post("auth/login", &body).await
    }

    /// `POST /auth/logout`: revokes `token` on the server (204). A 401 means
    /// the server already does not accept it ([`RestError::InvalidCredentials`]).
    pub async fn logout(&self, token: &str) -> Result<(), RestError> {
        let url = self.server.endpoint("auth/logout");
        let response = self
            .http
            .post(url.clone())
            .timeout(REQUEST_TIMEOUT)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|source| RestError::Unreachable { url: url.to_string(), source })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(refusal(status, &text, None))
    }

    /// The server's description of the ban on `token`'s account (`banned
    /// until …` or `banned permanently`): the body of the 403 that `/ws`
    /// answers a banned account with, asked without upgrading. `None` when
    /// the account is not banned or the server cannot be reached.
    pub async fn ban_description(&self, token: &str) -> Option<String> {
        let response = self.ask_websocket_route(token).await?;
        if response.status() != StatusCode::FORBIDDEN {
            return None;
        }
        let body = response.json::<ErrorBody>().await.ok()?;
        (body.error.code == codes::BANNED).then_some(body.error.message)
    }

    /// The HTTP status `/ws` refuses `token` with when asked without
    /// upgrading: 401 for a token it does not accept, 403 for a ban, 503
    /// when full; a token it accepts gets a 4xx about the missing upgrade.
    /// A browser cannot see why its WebSocket handshake failed, so it asks
    /// this. `None` when the server cannot be reached.
    pub async fn websocket_refusal(&self, token: &str) -> Option<u16> {
        Some(self.ask_websocket_route(token).await?.status().as_u16())
    }

    async fn ask_websocket_route(&self, token: &str) -> Option<reqwest::Response> {
        let url = self.server.endpoint("ws");
        self.http.get(url).timeout(REQUEST_TIMEOUT).bearer_auth(token).send().await.ok()
    }

    async fn post<B: serde::Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, RestError> {
        let url = self.server.endpoint(path);
        let response = self
            .http
            .post(url.clone())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|source| RestError::Unreachable { url: url.to_string(), source })?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<T>()
                .await
                .map_err(|source| RestError::BadResponse { url: url.to_string(), source });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        Err(refusal(status, &text, retry_after))
    }
}

/// Sorts an error answer by its status and body.
fn refusal(status: StatusCode, body: &str, retry_after: Option<Duration>) -> RestError {
    let (code, message) = match serde_json::from_str::<ErrorBody>(body) {
        Ok(parsed) => (Some(parsed.error.code), parsed.error.message),
        Err(_) => {
            let message = body.trim();
            let message = if message.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                message.chars().take(300).collect()
            };
            (None, message)
        }
    };
    match (status.as_u16(), code.as_deref()) {
        (409, _) | (_, Some(codes::USERNAME_TAKEN)) => RestError::UsernameTaken { message },
        (400, Some(code)) => RestError::Invalid { code: code.to_owned(), message },
        (401, _) => RestError::InvalidCredentials { message },
        (403, Some(codes::BANNED)) => RestError::Banned { message },
        (429, _) => RestError::RateLimited { message, retry_after },
        (status, _) => RestError::Other { status, code, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, message: &str) -> String {
        serde_json::json!({"error": {"code": code, "message": message}}).to_string()
    }

    #[test]
    fn refusals_are_sorted_by_status_and_code() {
        let taken = refusal(StatusCode::CONFLICT, &body("username_taken", "taken"), None);
        assert!(matches!(taken, RestError::UsernameTaken { ref message } if message == "taken"));

        let invalid = refusal(StatusCode::BAD_REQUEST, &body("invalid_password", "too short"), None);
        assert!(matches!(invalid, RestError::Invalid { ref code, .. } if code == "invalid_password"));
        assert_eq!(invalid.to_string(), "too short");

        let wait = Some(Duration::from_secs(7));
        let throttled = refusal(StatusCode::TOO_MANY_REQUESTS, &body("rate_limited", "slow"), wait);
        assert!(matches!(throttled, RestError::RateLimited { retry_after: Some(_), .. }));

        let banned = refusal(StatusCode::FORBIDDEN, &body("banned", "banned until 2027"), None);
        assert!(matches!(banned, RestError::Banned { .. }));

        let bad = refusal(StatusCode::UNAUTHORIZED, &body("invalid_credentials", "nope"), None);
        assert!(matches!(bad, RestError::InvalidCredentials { .. }));
    }

    #[test]
    fn a_body_that_is_not_json_is_kept_short() {
        let error = refusal(StatusCode::BAD_GATEWAY, &"x".repeat(1000), None);
        match error {
            RestError::Other { status: 502, code: None, message } => assert_eq!(message.len(), 300),
            other => panic!("unexpected {other:?}"),
        }
        let empty = refusal(StatusCode::SERVICE_UNAVAILABLE, "", None);
        assert_eq!(empty.to_string(), "the server answered 503: Service Unavailable");
    }
}
