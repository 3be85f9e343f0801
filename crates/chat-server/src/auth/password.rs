//! Password hashing with argon2id.
//!
//! Hashing is deliberately slow and memory-hungry. It runs on a small pool
//! of its own threads, one per core, at a lower scheduling priority than
//! the rest of the server: when cores are contended, the threads that
//! deliver messages get about ten times the hashing threads' share, so a
//! login storm makes logins slower rather than chat. A semaphore caps the
//! hashes queued or running, so a burst waits here instead of exhausting
//! memory.

use std::sync::Arc;

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::{Semaphore, oneshot};

/// Shortest accepted password, in bytes.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password, in bytes; bounds the work one request causes.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// How much nicer than the server the hashing threads are. Ten steps of
/// nice weigh about 10:1 in Linux's scheduler.
const HASHING_NICENESS: i32 = 10;

/// Hashes and verifies passwords.
#[derive(Debug, Clone)]
pub struct Passwords {
    pool: Arc<rayon::ThreadPool>,
    permits: Arc<Semaphore>,
    /// A real hash of a random password. Unknown usernames are verified
    /// against it so they take as long as wrong passwords.
    decoy_hash: Arc<str>,
}

/// Why the hasher could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused the input or parameters.
    #[error("password hashing: {0}")]
    Hash(#[from] argon2::password_hash::Error),
    /// The hashing threads could not be started, or went away.
    #[error("password hashing threads: {0}")]
    Threads(String),
}

impl Passwords {
    /// Starts the hashing threads and computes the decoy hash once.
    pub async fn new() -> Result<Self, PasswordError> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("chat-argon2-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .map_err(|e| PasswordError::Threads(e.to_string()))?;
        let decoy_hash =
            tokio::task::spawn_blocking(decoy_hash).await.map_err(|e| PasswordError::Threads(e.to_string()))??.into();
        Ok(Self { pool: Arc::new(pool), permits: Arc::new(Semaphore::new(threads)), decoy_hash })
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        Ok(self.run(move || hash_now(&password)).await??)
    }

    /// Checks a password against a stored hash. With no hash (unknown user)
    /// it checks against the decoy and answers false, in the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.decoy_hash.to_string());
        let matched = self.run(move || verify_now(&password, &hash)).await.unwrap_or(false);
        known && matched
    }

    /// Runs `work` on a hashing thread once a permit is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        let gone = || PasswordError::Threads("stopped".to_owned());
        let _permit = self.permits.acquire().await.map_err(|_| gone())?;
        let (done, result) = oneshot::channel();
        self.pool.spawn(move || {
            // The caller may have gone away; nothing to tell then.
            let _ = done.send(work());
        });
        result.await.map_err(|_| gone())
    }
}

/// Hashes a random password on a thread of its own and waits for that
/// thread to end. The allocator hands a finished thread's memory back to
/// the system, so argon2's ~19 MiB of working memory does not stay
/// resident in a server that has not seen a login yet. Computed on a pool
/// thread, it stayed resident in about half of the starts (RSS one second
/// after start 55 instead of 37 MiB), and so did it when start-up went on
/// as soon as the hash arrived, before the thread had ended.
fn decoy_hash() -> Result<String, PasswordError> {
    let decoy: String = {
        use rand::Rng;
        rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect()
    };
    let thread = std::thread::Builder::new()
        .name("chat-argon2-decoy".to_owned())
        .spawn(move || hash_now(&decoy))
        .map_err(|e| PasswordError::Threads(e.to_string()))?;
    let hash = thread.join().map_err(|_| PasswordError::Threads("the decoy thread panicked".to_owned()))??;
    Ok(hash)
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Makes the calling thread [`HASHING_NICENESS`] steps nicer (Linux keeps a
/// nice value per thread). Failing only costs the protection, so it warns.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    use rustix::{process, thread};
    let me = Some(thread::gettid());
    let lowered = process::getpriority_process(me)
        .and_then(|current| process::setpriority_process(me, (current + HASHING_NICENESS).min(19)));
    if let Err(e) = lowered {
        tracing::warn!(error = %e, "could not lower the priority of a password-hashing thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

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

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority_than_the_server() {
        use rustix::{process, thread};
        let passwords = Passwords::new().await.unwrap();
        let mine = process::getpriority_process(Some(thread::gettid())).unwrap();
        let theirs = passwords.run(|| process::getpriority_process(Some(thread::gettid())).unwrap()).await.unwrap();
        assert_eq!(theirs, (mine + HASHING_NICENESS).min(19));
    }
}
