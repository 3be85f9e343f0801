//! Registration, login, and the account check made when a connection opens.

use std::{net::IpAddr, sync::Arc, time::Duration};

use chat_api::{
    CloseCode, DisplayName, Role, Timestamp, UserName,
    http::{LoginRequest, LoginResponse, RegisterRequest, RegisterResponse},
};

use super::{RateLimits, revocations::Revocations};
use crate::{
    auth::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Passwords, TokenId, Tokens},
    domain::{avatar, ban},
    hub::{Connection, EndedSession, Hub, Identity},
    store::{NewUser, Store, StoreError},
};

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    /// The username breaks the naming rules.
    #[error("{0}")]
    InvalidUsername(String),
    /// The password is too short or too long.
    #[error("{0}")]
    InvalidPassword(String),
    /// The display name breaks its rules.
    #[error("{0}")]
    InvalidDisplayName(String),
    /// The username is taken (case-insensitively).
    #[error("username is already taken")]
    UsernameTaken,
    /// Unknown user or wrong password; deliberately indistinguishable.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The token is missing, malformed, forged, expired, revoked, or its
    /// account is gone.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The account is banned; the text says until when.
    #[error("{0}")]
    Banned(String),
    /// Too many attempts from this address.
    #[error("too many attempts; retry later")]
    RateLimited(Duration),
    /// Something failed inside; details are logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Internal(e.to_string())
    }
}

/// Accounts and tokens.
#[derive(Debug)]
pub(crate) struct Accounts {
    store: Arc<Store>,
    passwords: Passwords,
    tokens: Tokens,
    limits: Arc<RateLimits>,
    hub: Arc<Hub>,
    revocations: Revocations,
}

impl Accounts {
    /// Builds the account service; loads the revocation list.
    pub(crate) async fn new(
        store: Arc<Store>,
        passwords: Passwords,
        tokens: Tokens,
        limits: Arc<RateLimits>,
        hub: Arc<Hub>,
    ) -> Result<Self, StoreError> {
        let revocations = Revocations::load(&store, Timestamp::now().unix_seconds()).await?;
        Ok(Self { store, passwords, tokens, limits, hub, revocations })
    }

    /// `POST /auth/register`.
    pub(crate) async fn register(&self, ip: IpAddr, request: RegisterRequest) -> Result<RegisterResponse, AuthError> {
        self.limits.check_auth(ip).map_err(AuthError::RateLimited)?;
        let username = UserName::parse(&request.username).map_err(|e| AuthError::InvalidUsername(e.to_string()))?;
        check_password(&request.password)?;
        let display_name = match &request.display_name {
            Some(text) => DisplayName::parse(text).map_err(|e| AuthError::InvalidDisplayName(e.to_string()))?,
            None => DisplayName::parse(username.as_str()).map_err(|e| AuthError::InvalidDisplayName(e.to_string()))?,
        };
        let password_hash =
            self.passwords.hash(request.password).await.map_err(|e| AuthError::Internal(e.to_string()))?;
        let user =
            NewUser { avatar: avatar::default_for(&username), username, password_hash, role: Role::User, display_name };
        match self.store.create_user(user).await {
            Ok(user) => {
                tracing::info!(user = %user.username, "registered");
                Ok(RegisterResponse { user_id: user.id, username: user.username, role: user.role })
            }
            Err(StoreError::UsernameTaken) => Err(AuthError::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /auth/login`. Unknown users and wrong passwords take the same
    /// path and time and get the same answer.
    pub(crate) async fn login(&self, ip: IpAddr, request: LoginRequest) -> Result<LoginResponse, AuthError> {
        self.limits.check_auth(ip).map_err(AuthError::RateLimited)?;
        let user = match UserName::parse(&request.username) {
            Ok(name) if request.password.len() <= MAX_PASSWORD_LEN => self.store.user_by_name(&name).await?,
            _ => None,
        };
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = if request.password.len() <= MAX_PASSWORD_LEN { request.password } else { String::new() };
        let verified = self.passwords.verify(password, stored_hash).await;
        let Some(user) = user.filter(|_| verified) else {
            metrics::counter!(crate::metrics::LOGINS, "result" => "refused").increment(1);
            return Err(AuthError::InvalidCredentials);
        };
        if let Some(active) = self.store.active_ban(user.id, Timestamp::now()).await? {
            return Err(AuthError::Banned(ban::describe(&active)));
        }
        let (token, expires_at) =
            self.tokens.issue(user.id, &user.username, user.role).map_err(|e| AuthError::Internal(e.to_string()))?;
        metrics::counter!(crate::metrics::LOGINS, "result" => "ok").increment(1);
        tracing::info!(user = %user.username, "logged in");
        Ok(LoginResponse {
            token,
            token_type: "Bearer".to_owned(),
            expires_at,
            user_id: user.id,
            username: user.username,
            role: user.role,
        })
    }

    /// Checks a token and the account behind it as it is now (exists, not
    /// banned, current role).
    pub(crate) async fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        let verified = self.tokens.verify(token).map_err(|_| AuthError::InvalidToken)?;
        if self.revocations.is_revoked(&verified.id) {
            return Err(AuthError::InvalidToken);
        }
        let (user, active_ban) =
            self.store.account_standing(verified.user_id, Timestamp::now()).await?.ok_or(AuthError::InvalidToken)?;
        if let Some(active) = active_ban {
            return Err(AuthError::Banned(ban::describe(&active)));
        }
        Ok(Identity {
            user_id: user.id,
            username: user.username,
            token_expires_at: verified.expires_at,
            token_id: verified.id,
        })
    }

    /// `POST /auth/logout`: revokes the token (stored, so it stays revoked
    /// across restarts, until it would have expired) and closes the
    /// connections it opened with 4002. Any valid token may be revoked,
    /// also one whose account was since deleted or banned.
    pub(crate) async fn logout(&self, token: &str) -> Result<(), AuthError> {
        let verified = self.tokens.verify(token).map_err(|_| AuthError::InvalidToken)?;
        if self.revocations.is_revoked(&verified.id) {
            return Err(AuthError::InvalidToken);
        }
        self.revocations
            .revoke(&self.store, verified.id.clone(), verified.expires_at, Timestamp::now().unix_seconds())
            .await?;
        self.hub.end_session(&EndedSession {
            user: verified.user_id,
            token_id: verified.id.as_str().to_owned(),
            expires_at: verified.expires_at,
        });
        tracing::info!(user = verified.user_id.0, "logged out");
        Ok(())
    }

    /// Another node revoked a token (it is stored already): refuse it here
    /// too, and close what it opened here.
    pub(crate) fn session_ended_elsewhere(&self, ended: &EndedSession) {
        self.revocations.note(TokenId::from_stored(ended.token_id.clone()), ended.expires_at);
        self.hub.end_session_local(ended);
    }

    /// Why the connection's session no longer holds, if it does not, with
    /// the close code to say it: its user was banned (on any node), or its
    /// token expired (valid only before its `exp` second) or was revoked.
    /// Cheap (a clock read and in-memory look-ups): made per call.
    pub(crate) fn session_ended(&self, conn: &Connection) -> Option<(CloseCode, &'static str)> {
        let identity = conn.identity();
        let now = Timestamp::now();
        if self.hub.recently_banned(conn.user_id(), now) {
            Some((CloseCode::Banned, "banned"))
        } else if !crate::auth::still_valid(identity.token_expires_at, now.unix_seconds()) {
            Some((CloseCode::SessionEnded, "token expired"))
        } else if self.revocations.is_revoked(&identity.token_id) {
            Some((CloseCode::SessionEnded, "logged out"))
        } else {
            None
        }
    }
}

fn check_password(password: &str) -> Result<(), AuthError> {
    if password.len() < MIN_PASSWORD_LEN {
        return Err(AuthError::InvalidPassword(format!("password must be at least {MIN_PASSWORD_LEN} bytes")));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(AuthError::InvalidPassword(format!("password must be at most {MAX_PASSWORD_LEN} bytes")));
    }
    Ok(())
}
