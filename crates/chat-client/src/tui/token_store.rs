//! Saved tokens: one small JSON file per server AND user in the user's
//! config directory (`$CHAT_CONFIG_DIR` when set, e.g. in tests), readable
//! by the user only (mode 0600, directories 0700), replaced atomically.
//!
//! The layout is `tokens/<server>/<username>.json`, so logging in as a
//! second account never replaces the first one's token: which account a
//! command acts as is chosen explicitly (see [`super::credentials`]).
//! Earlier versions kept one file per server (`tokens/<server>.json`); such
//! a file is moved into the new layout the first time its server is used,
//! since it names its user.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};
use chat_api::{Role, UserName};
use chat_client::ServerUrl;
use serde::{Deserialize, Serialize};

/// What is kept for one account on one server.
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

    /// A readable slug of the server's URL plus a hash, so different URLs
    /// never share a name.
    fn server_slug(server: &ServerUrl) -> String {
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
        format!("{readable}-{:08x}", hash as u32)
    }

    /// The directory of `server`'s accounts.
    pub(crate) fn server_dir(&self, server: &ServerUrl) -> PathBuf {
        self.dir.join(Self::server_slug(server))
    }

    /// The file for `user` on `server`. Usernames are `a-z 0-9 - _` in
    /// lower case (their look-up key), so they are safe file names and one
    /// account never has two files.
    pub(crate) fn path_for(&self, server: &ServerUrl, user: &UserName) -> PathBuf {
        self.server_dir(server).join(format!("{}.json", user.key()))
    }

    /// Where an earlier version kept the one token of `server`.
    fn legacy_path(&self, server: &ServerUrl) -> PathBuf {
        self.dir.join(format!("{}.json", Self::server_slug(server)))
    }

    /// The saved token of `user` on `server`, if any.
    pub(crate) fn load(&self, server: &ServerUrl, user: &UserName) -> Result<Option<SavedToken>> {
        self.migrate(server)?;
        read_token(&self.path_for(server, user))
    }

    /// Every account saved for `server`, by username.
    pub(crate) fn accounts(&self, server: &ServerUrl) -> Result<Vec<SavedToken>> {
        self.migrate(server)?;
        let dir = self.server_dir(server);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error).with_context(|| format!("cannot read {}", dir.display())),
        };
        let mut accounts = Vec::new();
        for entry in entries {
            let path = entry.with_context(|| format!("cannot read {}", dir.display()))?.path();
            if path.extension().is_some_and(|ext| ext == "json")
                && let Some(saved) = read_token(&path)?
            {
                accounts.push(saved);
            }
        }
        accounts.sort_by_key(|saved| saved.username.key());
        Ok(accounts)
    }

    /// Saves `token` for its user on `server`, replacing that user's earlier
    /// one only. Returns the file.
    pub(crate) fn save(&self, server: &ServerUrl, token: &SavedToken) -> Result<PathBuf> {
        self.migrate(server)?;
        let dir = self.server_dir(server);
        create_private_dir(&self.dir)?;
        create_private_dir(&dir)?;
        let path = self.path_for(server, &token.username);
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

    /// Deletes the saved token of `user` on `server`; returns what was saved.
    pub(crate) fn forget(&self, server: &ServerUrl, user: &UserName) -> Result<Option<SavedToken>> {
        self.migrate(server)?;
        let path = self.path_for(server, user);
        let saved = read_token(&path).unwrap_or(None);
        match fs::remove_file(&path) {
            Ok(()) => Ok(saved),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }

    /// Moves a token saved by an earlier version (one file per server) to
    /// its user's file, unless that user already has a newer one there.
    /// A damaged old file is removed with a note: it cannot say whose it is.
    fn migrate(&self, server: &ServerUrl) -> Result<()> {
        let legacy = self.legacy_path(server);
        if !legacy.is_file() {
            return Ok(());
        }
        match read_token(&legacy) {
            Ok(Some(saved)) => {
                let target = self.path_for(server, &saved.username);
                if !target.exists() {
                    create_private_dir(&self.dir)?;
                    create_private_dir(&self.server_dir(server))?;
                    fs::rename(&legacy, &target)
                        .with_context(|| format!("cannot move {} to {}", legacy.display(), target.display()))?;
                    eprintln!("note: moved the saved token of {} to {}", saved.username, target.display());
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(error) => eprintln!("note: removing an unreadable old token file: {error:#}"),
        }
        fs::remove_file(&legacy).with_context(|| format!("cannot remove {}", legacy.display()))
    }
}

fn read_token(path: &Path) -> Result<Option<SavedToken>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let saved = serde_json::from_str(&text).with_context(|| {
        format!("{} is damaged; delete it, or run `bidirectional-chat-client logout`", path.display())
    })?;
    Ok(Some(saved))
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
            token: format!("token-of-{name}"),
            expires_at: 2_000_000_000,
        }
    }

    fn user(name: &str) -> UserName {
        UserName::parse(name).unwrap()
    }

    fn names(accounts: &[SavedToken]) -> Vec<&str> {
        accounts.iter().map(|saved| saved.username.as_str()).collect()
    }

    #[test]
    fn tokens_are_kept_per_server_and_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("tokens"));
        let here = ServerUrl::parse("localhost:3000").unwrap();
        let there = ServerUrl::parse("https://chat.example.org").unwrap();
        assert!(store.accounts(&here).unwrap().is_empty());

        store.save(&here, &token("carol")).unwrap();
        // Logging in as somebody else keeps carol's token.
        store.save(&here, &token("admin")).unwrap();
        store.save(&there, &token("bob")).unwrap();
        assert_eq!(names(&store.accounts(&here).unwrap()), ["admin", "carol"]);
        assert_eq!(names(&store.accounts(&there).unwrap()), ["bob"]);
        assert_eq!(store.load(&here, &user("carol")).unwrap().unwrap().token, "token-of-carol");
        assert_eq!(store.load(&here, &user("bob")).unwrap(), None);

        // The same server and user spelled differently find the same token.
        let same = ServerUrl::parse("http://LOCALHOST:3000/").unwrap();
        assert_eq!(store.load(&same, &user("CAROL")).unwrap().unwrap().username.as_str(), "carol");

        assert_eq!(store.forget(&here, &user("carol")).unwrap().unwrap().username.as_str(), "carol");
        assert_eq!(names(&store.accounts(&here).unwrap()), ["admin"]);
        assert_eq!(store.forget(&here, &user("carol")).unwrap(), None);
        assert!(store.load(&there, &user("bob")).unwrap().is_some());
    }

    #[test]
    fn a_token_saved_by_the_old_layout_moves_to_its_users_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("tokens"));
        let server = ServerUrl::parse("localhost:3000").unwrap();
        fs::create_dir_all(dir.path().join("tokens")).unwrap();
        let legacy = store.legacy_path(&server);
        fs::write(&legacy, serde_json::to_vec(&token("carol")).unwrap()).unwrap();

        assert_eq!(names(&store.accounts(&server).unwrap()), ["carol"]);
        assert!(!legacy.exists());
        assert!(store.path_for(&server, &user("carol")).is_file());

        // An old file whose user already has a newer token is dropped.
        let mut stale = token("carol");
        stale.token = "stale".into();
        fs::write(&legacy, serde_json::to_vec(&stale).unwrap()).unwrap();
        assert_eq!(store.load(&server, &user("carol")).unwrap().unwrap().token, "token-of-carol");
        assert!(!legacy.exists());

        // A damaged one is removed too: it cannot say whose it was.
        fs::write(&legacy, "{not json").unwrap();
        assert_eq!(names(&store.accounts(&server).unwrap()), ["carol"]);
        assert!(!legacy.exists());
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
        for dir in [dir.path().join("tokens"), store.server_dir(&server)] {
            let dir_mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(dir_mode, 0o700, "{}", dir.display());
        }
        // Saving again over a file with loose permissions tightens them.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        store.save(&server, &token("alice")).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn file_names_are_readable_and_distinct() {
        let store = TokenStore::at(PathBuf::from("/x"));
        let a = store.server_dir(&ServerUrl::parse("http://a_b/").unwrap());
        let b = store.server_dir(&ServerUrl::parse("http://a/b/").unwrap());
        assert_ne!(a, b);
        let path = store.path_for(&ServerUrl::parse("localhost:3000").unwrap(), &user("Carol"));
        let server = path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        assert!(server.starts_with("localhost_3000-"), "{server}");
        assert_eq!(path.file_name().unwrap(), "carol.json");
    }

    #[test]
    fn a_damaged_file_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().to_path_buf());
        let server = ServerUrl::parse("localhost:3000").unwrap();
        fs::create_dir_all(store.server_dir(&server)).unwrap();
        fs::write(store.path_for(&server, &user("alice")), "{not json").unwrap();
        let error = store.load(&server, &user("alice")).unwrap_err();
        assert!(format!("{error:#}").contains("logout"), "{error:#}");
    }
}
