//! Reading a token's claims without verifying it: the client only wants to
//! know whose token it holds and when it expires, to greet the right user
//! and to ask for a new login before the server refuses a stale token. The
//! server verifies tokens; nothing here is a security decision.

use chat_api::UserName;
use serde::Deserialize;

/// What the client could read from a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenClaims {
    /// The username, if the token names one.
    pub username: Option<UserName>,
    /// Expiry in Unix seconds (`exp`), if present.
    pub expires_at: Option<i64>,
}

impl TokenClaims {
    /// Reads the payload of a JWT. Anything unreadable yields empty claims.
    pub fn read(token: &str) -> Self {
        #[derive(Deserialize)]
        struct Payload {
            #[serde(default)]
            username: Option<String>,
            #[serde(default)]
            name: Option<String>,
            #[serde(default)]
            preferred_username: Option<String>,
            #[serde(default)]
            exp: Option<i64>,
        }
        let Some(payload) = token.split('.').nth(1).and_then(base64url_decode) else {
            return Self::default();
        };
        let Ok(payload) = serde_json::from_slice::<Payload>(&payload) else {
            return Self::default();
        };
        let username = [payload.username, payload.preferred_username, payload.name]
            .into_iter()
            .flatten()
            .find_map(|name| UserName::parse(&name).ok());
        Self { username, expires_at: payload.exp }
    }

    /// Whether the token has expired at `now` (Unix seconds). Unknown expiry
    /// counts as not expired; the server has the last word.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|exp| exp <= now)
    }
}

/// Decodes unpadded (or padded) base64url; `None` on any invalid input.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    fn value(byte: u8) -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, byte) in chunk.iter().enumerate() {
            acc |= value(*byte)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        out.extend_from_slice(&acc.to_be_bytes()[1..=produced]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_known_vectors() {
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("Zg").unwrap(), b"f");
        assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert!(base64url_decode("a").is_none());
        assert!(base64url_decode("a*b=").is_none());
    }

    #[test]
    fn claims_name_the_user_and_expiry() {
        // {"sub":"7","username":"alice","exp":1700000000}
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3IiwidXNlcm5hbWUiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.sig";
        let claims = TokenClaims::read(token);
        assert_eq!(claims.username.as_ref().map(UserName::as_str), Some("alice"));
        assert_eq!(claims.expires_at, Some(1_700_000_000));
        assert!(claims.is_expired_at(1_700_000_000));
        assert!(!claims.is_expired_at(1_699_999_999));
    }

    #[test]
    fn garbage_yields_empty_claims() {
        assert_eq!(TokenClaims::read("not a token"), TokenClaims::default());
        assert_eq!(TokenClaims::read("a.!!!.c"), TokenClaims::default());
        assert!(!TokenClaims::default().is_expired_at(i64::MAX));
    }
}
