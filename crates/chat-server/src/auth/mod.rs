//! Passwords (argon2id on the blocking pool), tokens (HS256 JWT with a
//! pinned algorithm) and the signing secret kept in the data directory.

mod password;
mod secret;
mod token;

pub use password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Passwords};
pub use secret::{SECRET_FILE, load_or_create_secret};
pub use token::{Claims, TokenError, TokenId, Tokens, VerifiedToken, still_valid};
