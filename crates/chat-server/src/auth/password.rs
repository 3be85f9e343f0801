//! Password hashing with argon2id.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on the
//! blocking pool, and a semaphore caps how many run at once: a burst of
//! logins queues here instead of exhausting memory or starving the
//! threads that deliver messages.

use std::sync::Arc;

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

/// Shortest accepted password, in bytes.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password, in bytes; bounds the work one request causes.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a random password. Unknown usernames are verified
    /// against it so they take as long as wrong passwords.
    decoy_hash: Arc<str>,
}

impl Passwords {
    /// Prepares the hasher; computes the decoy hash once.
    pub async fn new() -> Result<Self, argon2::password_hash::Error> {
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let permits = Arc::new(Semaphore::new(parallel));
        let decoy: String = {
            use rand::Rng;
            rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect()
        };
        let decoy_hash = tokio::task::spawn_blocking(move || hash_now(&decoy))
            .await
            .map_err(|_| argon2::password_hash::Error::Crypto)??;
        Ok(Self { permits, decoy_hash: decoy_hash.into() })
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, argon2::password_hash::Error> {
        let _permit = self.permits.acquire().await.map_err(|_| argon2::password_hash::Error::Crypto)?;
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|_| argon2::password_hash::Error::Crypto)?
    }

    /// Checks a password against a stored hash. With no hash (unknown user)
    /// it checks against the decoy and answers false, in the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.to_string());
        let matched = tokio::task::spawn_blocking(move || verify_now(&password, &hash)).await.unwrap_or(false);
        known && matched
    }
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let passwords = Passwords::new().await.unwrap();
        let hash = passwords.hash("correct horse".to_owned()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse".to_owned(), Some(hash.clone())).await);
        assert!(!passwords.verify("wrong horse".to_owned(), Some(hash)).await);
        assert!(!passwords.verify("anything".to_owned(), None).await);
    }
}
