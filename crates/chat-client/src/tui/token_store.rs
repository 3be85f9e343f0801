//! Saved tokens: one small JSON file per server in the user's config
//! directory (`$CHAT_CONFIG_DIR` when set, e.g. in tests), readable by the
//! user only (mode 0600, directory 0700), replaced atomically.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use chat_api::{Role, UserName};
use chat_client::ServerUrl;
use serde::{Deserialize, Serialize};

/// What is kept for a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedToken {
    /// The server's base URL, for people reading the file.
    pub(crate) server: String,
    /// Whose token it is.
    pub(crate) username: UserName,
    /// The account's role when the token was issued.
    pub(crate) role: Role,
    /// The JWT.
    pub(crate) token: String,
    /// When it expires, in Unix seconds.
    pub(crate) expires_at: i64,
}

impl SavedToken {
    /// Whether it has expired at `now` (Unix seconds).
    pub(crate) fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at <= now
    }
}

/// The directory of saved tokens.
#[derive(Debug, Clone)]
pub(crate) struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    /// `$CHAT_CONFIG_DIR/tokens`, or `tokens` in the platform's config
    /// directory for bidirectional-chat (`~/.config/bidirectional-chat` on
    /// Linux).
    pub(crate) fn locate() -> Result<Self> {
        let base = match std::env::var_os("CHAT_CONFIG_DIR").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => directories::ProjectDirs::from("", "", "bidirectional-chat")
                .context("cannot find a home directory for saving tokens; set CHAT_CONFIG_DIR")?
                .config_dir()
                .to_path_buf(),
        };
        Ok(Self::at(base.join("tokens")))
    }

    /// A store in `dir`.
    pub(crate) fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file for `server`: a readable slug of the URL plus a hash, so
    /// different URLs never share a file.
    pub(crate) fn path_for(&self, server: &ServerUrl) -> PathBuf {
        let key = server.key();
        let readable: String = key
            .split_once("://")
            .map_or(key, |(_, rest)| rest)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .collect();
        let readable = readable.trim_matches('_');
        let hash = key
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
        self.dir.join(format!("{readable}-{:08x}.json", hash as u32))
    }

    /// The saved token for `server`, if any.
    pub(crate) fn load(&self, server: &ServerUrl) -> Result<Option<SavedToken>> {
        let path = self.path_for(server);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
        };
        let saved = serde_json::from_str(&text).with_context(|| {
            format!("{} is damaged; run `bidirectional-chat-client logout` to remove it", path.display())
        })?;
        Ok(Some(saved))
    }

    /// Saves `token` for `server`, replacing any earlier one. Returns the file.
    pub(crate) fn save(&self, server: &ServerUrl, token: &SavedToken) -> Result<PathBuf> {
        create_private_dir(&self.dir)?;
        let path = self.path_for(server);
        let temporary = path.with_extension(format!("json.{}.tmp", std::process::id()));
        let body = serde_json::to_vec_pretty(token).context("cannot encode the token")?;
        let written = write_private(&temporary, &body)
            .and_then(|()| fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display())));
        if written.is_err() {
            // Best effort: a leftover temporary file holds a secret.
            if let Err(error) = fs::remove_file(&temporary) {
                tracing::debug!(%error, "could not remove the temporary token file");
            }
        }
        written.map(|()| path)
    }

    /// Deletes the saved token for `server`; returns what was saved.
    pub(crate) fn forget(&self, server: &ServerUrl) -> Result<Option<SavedToken>> {
        let saved = self.load(server).unwrap_or(None);
        let path = self.path_for(server);
        match fs::remove_file(&path) {
            Ok(()) => Ok(saved),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create {}", dir.display()))
}

fn write_private(path: &Path, body: &[u8]) -> Result<()> {
    // A leftover from a crashed run may have other permissions: start fresh.
    fs::remove_file(path).ok();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(body).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str) -> SavedToken {
        SavedToken {
            server: "http://localhost:3000".into(),
            username: UserName::parse(name).unwrap(),
            role: Role::User,
            token: "a.b.c".into(),
            expires_at: 2_000_000_000,
        }
    }

    #[test]
    fn tokens_are_kept_per_server() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("tokens"));
        let here = ServerUrl::parse("localhost:3000").unwrap();
        let there = ServerUrl::parse("https://chat.example.org").unwrap();
        assert_eq!(store.load(&here).unwrap(), None);

        store.save(&here, &token("alice")).unwrap();
        store.save(&there, &token("bob")).unwrap();
        assert_eq!(store.load(&here).unwrap().unwrap().username.as_str(), "alice");
        assert_eq!(store.load(&there).unwrap().unwrap().username.as_str(), "bob");

        // The same server spelled differently finds the same token.
        let same = ServerUrl::parse("http://LOCALHOST:3000/").unwrap();
        assert_eq!(store.load(&same).unwrap().unwrap().username.as_str(), "alice");

        assert_eq!(store.forget(&here).unwrap().unwrap().username.as_str(), "alice");
        assert_eq!(store.load(&here).unwrap(), None);
        assert_eq!(store.forget(&here).unwrap(), None);
        assert!(store.load(&there).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn only_the_user_can_read_tokens() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("tokens"));
        let server = ServerUrl::parse("localhost:3000").unwrap();
        let path = store.save(&server, &token("alice")).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(dir.path().join("tokens")).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        // Saving again over a file with loose permissions tightens them.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        store.save(&server, &token("alice")).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn file_names_are_readable_and_distinct() {
        let store = TokenStore::at(PathBuf::from("/x"));
        let a = store.path_for(&ServerUrl::parse("http://a_b/").unwrap());
        let b = store.path_for(&ServerUrl::parse("http://a/b/").unwrap());
        assert_ne!(a, b);
        let name = store.path_for(&ServerUrl::parse("localhost:3000").unwrap());
        let name = name.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("localhost_3000-") && name.ends_with(".json"), "{name}");
    }

    #[test]
    fn a_damaged_file_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().to_path_buf());
        let server = ServerUrl::parse("localhost:3000").unwrap();
        fs::write(store.path_for(&server), "{not json").unwrap();
        let error = store.load(&server).unwrap_err();
        assert!(format!("{error:#}").contains("logout"), "{error:#}");
    }
}
