//! The token signing secret.

use std::{
    fs::OpenOptions,
    io::{ErrorKind, Read, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use rand::Rng;

use crate::config::Secret;

/// File in the data directory holding the generated secret.
pub const SECRET_FILE: &str = "jwt_secret";

/// The configured secret, or the one kept in `data_dir`, generating and
/// saving a random one (mode 0600) on first start. Keeping it means tokens
/// stay valid across restarts.
pub fn load_or_create_secret(configured: Option<&Secret>, data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    let generated: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(64).map(char::from).collect();
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
        Ok(mut file) => {
            file.write_all(generated.as_bytes())?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "generated a new token signing secret");
            Ok(generated.into_bytes())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let mut text = String::new();
            OpenOptions::new().read(true).open(&path)?.read_to_string(&mut text)?;
            let text = text.trim();
            if text.len() < 32 {
                return Err(std::io::Error::new(
                    ErrorKind::InvalidData,
                    format!("{} holds fewer than 32 characters; delete it to generate a new secret", path.display()),
                ));
            }
            Ok(text.as_bytes().to_vec())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_generated_secret_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        let second = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        let mode = std::fs::metadata(dir.path().join(SECRET_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_configured_secret_wins() {
        let dir = tempfile::tempdir().unwrap();
        let secret = Secret::new("x".repeat(40));
        assert_eq!(load_or_create_secret(Some(&secret), dir.path()).unwrap(), b"x".repeat(40));
        assert!(!dir.path().join(SECRET_FILE).exists());
    }
}
