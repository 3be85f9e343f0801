//! JWT issue and verification. HS256 only: the algorithm is pinned, so a
//! token claiming `none` or any other algorithm is refused.

use chat_api::{Role, Timestamp, UserId, UserName};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a token says. The role is informational: the server always uses
/// the account's current role from the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (JWT convention).
    pub sub: String,
    /// The username when the token was issued.
    pub name: String,
    /// The role when the token was issued.
    pub role: Role,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The token's own id (128 random bits in hex), which a logout
    /// revokes. Tokens issued before ids existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// A token that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Whose it is.
    pub user_id: UserId,
    /// When it stops being valid, Unix seconds.
    pub expires_at: i64,
    /// What revokes it (see [`TokenId`]).
    pub id: TokenId,
}

/// What identifies a token for revocation: its `jti`, or for a token
/// without one its signature, which is unique to its claims and cannot be
/// chosen without the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenId(Box<str>);

impl TokenId {
    /// The id as stored in the revocation list.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id read back from the revocation list.
    pub fn from_stored(text: String) -> Self {
        Self(text.into_boxed_str())
    }

    fn of(jti: Option<String>, token: &str) -> Self {
        match jti {
            Some(jti) => Self(format!("jti:{jti}").into_boxed_str()),
            None => Self(format!("sig:{}", token.rsplit('.').next().unwrap_or_default()).into_boxed_str()),
        }
    }
}

/// Why a token was refused. Deliberately coarse: clients learn only that
/// the token is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Forged, malformed or of another algorithm.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// Past its `exp` (valid only while now < exp, RFC 7519 4.1.4).
    #[error("token expired")]
    Expired,
    /// The subject is not a user id.
    #[error("invalid token subject")]
    BadSubject,
}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens signed with `secret`, living `ttl_secs`.
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
        }
    }

    /// A fresh token for the user, and its expiry in Unix seconds.
    pub fn issue(&self, id: UserId, name: &UserName, role: Role) -> Result<(String, i64), TokenError> {
        let now = Timestamp::now().unix_seconds();
        let claims = Claims {
            sub: id.0.to_string(),
            name: name.to_string(),
            role,
            iat: now,
            exp: now.saturating_add(self.ttl_secs),
            jti: Some(format!("{:032x}", rand::random::<u128>())),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// Checks signature, algorithm and times.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.verify_at(token, Timestamp::now().unix_seconds())
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        // jsonwebtoken still accepts a token in its `exp` second.
        if !still_valid(data.claims.exp, now) {
            return Err(TokenError::Expired);
        }
        let user: i64 = data.claims.sub.parse().map_err(|_| TokenError::BadSubject)?;
        Ok(VerifiedToken {
            user_id: UserId(user),
            expires_at: data.claims.exp,
            id: TokenId::of(data.claims.jti, token),
        })
    }
}

/// Whether a token expiring at `exp` is valid at `now` (both Unix seconds):
/// only before its `exp` second begins.
pub fn still_valid(exp: i64, now: i64) -> bool {
    now < exp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[7u8; 32], 3600)
    }

    #[test]
    fn an_issued_token_verifies() {
        let t = tokens();
        let (token, exp) = t.issue(UserId(5), &UserName::parse("alice").unwrap(), Role::User).unwrap();
        let verified = t.verify(&token).unwrap();
        assert_eq!(verified.user_id, UserId(5));
        assert_eq!(verified.expires_at, exp);
    }

    #[test]
    fn a_token_is_refused_from_its_exp_second_on() {
        assert!(still_valid(100, 99));
        assert!(!still_valid(100, 100));
        assert!(!still_valid(100, 101));
        let t = tokens();
        let (token, exp) = t.issue(UserId(5), &UserName::parse("alice").unwrap(), Role::User).unwrap();
        assert!(t.verify_at(&token, exp - 1).is_ok());
        assert!(matches!(t.verify_at(&token, exp), Err(TokenError::Expired)));
    }

    #[test]
    fn issued_tokens_have_distinct_ids() {
        let t = tokens();
        let name = UserName::parse("alice").unwrap();
        let (a, _) = t.issue(UserId(5), &name, Role::User).unwrap();
        let (b, _) = t.issue(UserId(5), &name, Role::User).unwrap();
        let (a, b) = (t.verify(&a).unwrap().id, t.verify(&b).unwrap().id);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("jti:"));
    }

    #[test]
    fn another_secret_or_a_tampered_token_fails() {
        let (token, _) = tokens().issue(UserId(5), &UserName::parse("alice").unwrap(), Role::User).unwrap();
        assert!(Tokens::new(&[8u8; 32], 3600).verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(tokens().verify(&tampered).is_err());
        assert!(tokens().verify("not a token").is_err());
    }
}
