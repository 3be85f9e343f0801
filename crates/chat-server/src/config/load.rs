//! Layered loading. Later layers win:
//!
//! 1. built-in defaults;
//! 2. the TOML file: `--config`, else `CHAT_CONFIG_FILE`, else `config.toml`
//!    in the working directory if it exists;
//! 3. `.env` in the working directory (its variables join the environment
//!    but never replace variables already set);
//! 4. the short environment variables `HOST`, `PORT`, `JWT_SECRET`,
//!    `CHAT_DATA_DIR`;
//! 5. `CHAT__SECTION__KEY` variables (e.g. `CHAT__SERVER__PORT=8080`), which
//!    win over their short twins because they are the more specific spelling;
//! 6. command-line flags.
//!
//! `RUST_LOG` is read by the logging set-up and replaces `logging.level`.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use config::{Environment, File, FileFormat};

use super::Config;

/// Values given on the command line; they win over every other layer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--host`
    pub host: Option<String>,
    /// `--port`
    pub port: Option<u16>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
}

/// Why the configuration could not be used. The message is complete in
/// itself (no `source`), so that it is printed once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read or parsed.
    #[error("configuration: {0}")]
    Load(config::ConfigError),
    /// A value was well-formed but not acceptable.
    #[error("configuration key `{key}`: {message}")]
    Invalid {
        /// The dotted key, e.g. `chat.max_message_length`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl From<config::ConfigError> for ConfigError {
    /// Errors about one key become [`ConfigError::Invalid`] naming it, with
    /// where the value came from (the file or the environment).
    fn from(error: config::ConfigError) -> Self {
        let from = |origin: Option<String>| origin.map(|o| format!(" (in {o})")).unwrap_or_default();
        match error {
            config::ConfigError::At { error, origin, key: Some(key) } => {
                Self::Invalid { key: dotted(&key), message: format!("{error}{}", from(origin)) }
            }
            config::ConfigError::Type { origin, unexpected, expected, key: Some(key) } => Self::Invalid {
                key: dotted(&key),
                message: format!("invalid type: {unexpected}, expected {expected}{}", from(origin)),
            },
            other => Self::Load(other),
        }
    }
}

/// `config` spells a key inside a list `admin.users[0]role`; the dotted
/// form people write is `admin.users[0].role`.
fn dotted(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    let mut after_index = false;
    for c in key.chars() {
        if after_index && c != '.' && c != '[' {
            out.push('.');
        }
        after_index = c == ']';
        out.push(c);
    }
    out
}

/// Collects the layers and builds a validated [`Config`].
#[derive(Debug, Clone, Default)]
pub struct Loader {
    explicit_file: Option<PathBuf>,
    default_file: Option<PathBuf>,
    env: HashMap<String, String>,
    overrides: Overrides,
}

const SHORT_VARIABLES: &[(&str, &str)] = &[
    ("HOST", "SERVER__HOST"),
    ("PORT", "SERVER__PORT"),
    ("JWT_SECRET", "AUTH__JWT_SECRET"),
    ("CHAT_DATA_DIR", "CHAT__DATA_DIR"),
];

impl Loader {
    /// A loader that reads only the given variables and no file unless one
    /// is named. Tests use this to stay independent of the real environment.
    pub fn with_env(env: HashMap<String, String>) -> Self {
        Self { env, ..Self::default() }
    }

    /// A loader over the process: loads `.env`, then reads the environment,
    /// with `config.toml` in the working directory as the default file.
    pub fn from_process() -> Self {
        // A missing .env is normal; a malformed one is reported by dotenvy
        // as an error we surface through the load result below.
        let dotenv_problem = match dotenvy::dotenv() {
            Ok(_) => None,
            Err(e) if e.not_found() => None,
            Err(e) => Some(e.to_string()),
        };
        let mut env: HashMap<String, String> = std::env::vars().collect();
        if let Some(problem) = dotenv_problem {
            env.insert(DOTENV_PROBLEM.to_owned(), problem);
        }
        Self { env, default_file: Some(PathBuf::from("config.toml")), ..Self::default() }
    }

    /// Names the configuration file (`--config`); it must exist.
    pub fn config_file(mut self, path: Option<PathBuf>) -> Self {
        if path.is_some() {
            self.explicit_file = path;
        }
        self
    }

    /// Sets the command-line overrides.
    pub fn overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Builds and validates the configuration.
    pub fn load(&self) -> Result<Config, ConfigError> {
        if let Some(problem) = self.env.get(DOTENV_PROBLEM) {
            return Err(ConfigError::Invalid { key: ".env".to_owned(), message: problem.clone() });
        }
        let mut builder = config::Config::builder();

        let named = self.explicit_file.clone().or_else(|| self.env.get("CHAT_CONFIG_FILE").map(PathBuf::from));
        if let Some(path) = named {
            builder = builder.add_source(toml_file(&path).required(true));
        } else if let Some(path) = &self.default_file {
            builder = builder.add_source(toml_file(path).required(false));
        }

        let short: HashMap<String, String> = SHORT_VARIABLES
            .iter()
            .filter_map(|(from, to)| self.env.get(*from).map(|v| ((*to).to_owned(), v.clone())))
            .collect();
        builder = builder.add_source(Environment::default().separator("__").try_parsing(true).source(Some(short)));
        builder = builder.add_source(
            Environment::with_prefix("CHAT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.cors")
                .with_list_parse_key("chat.default_rooms")
                .source(Some(self.env.clone())),
        );

        if let Some(host) = &self.overrides.host {
            builder = builder.set_override("server.host", host.as_str())?;
        }
        if let Some(port) = self.overrides.port {
            builder = builder.set_override("server.port", u64::from(port))?;
        }
        if let Some(dir) = &self.overrides.data_dir {
            builder = builder.set_override("chat.data_dir", dir.to_string_lossy().as_ref())?;
        }

        let config: Config = builder.build()?.try_deserialize()?;
        config.validate()?;
        Ok(config)
    }
}

/// A key no real variable uses, carrying a `.env` parse problem to `load`.
const DOTENV_PROBLEM: &str = "\u{0}dotenv";

fn toml_file(path: &Path) -> File<config::FileSourceFile, FileFormat> {
    File::from(path.to_path_buf()).format(FileFormat::Toml)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        f.write_all(contents.as_bytes()).unwrap();
        f
    }

    #[test]
    fn the_cluster_variables_set_their_keys() {
        let config = Loader::with_env(env(&[
            ("CHAT__STORAGE__BACKEND", "postgres"),
            ("CHAT__STORAGE__POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/chat"),
            ("CHAT__CLUSTER__NATS_URL", "nats://127.0.0.1:4222"),
            ("CHAT__CLUSTER__NODE_ID", "node-2"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ]))
        .load()
        .unwrap();
        assert_eq!(config.storage.backend, super::super::StorageBackend::Postgres);
        assert_eq!(config.storage.postgres_url.unwrap().expose(), "postgres://postgres@127.0.0.1:5432/chat");
        assert_eq!(config.cluster.nats_url.map(|u| u.expose().to_owned()).as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(config.cluster.node_id.as_deref(), Some("node-2"));
    }

    #[test]
    fn the_example_file_loads_as_it_is() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config.example.toml");
        let config = Loader::with_env(HashMap::new()).config_file(Some(path)).load().unwrap();
        assert_eq!(config.storage.backend, super::super::StorageBackend::Sqlite);
        assert!(config.cluster.nats_url.is_none());
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Loader::with_env(HashMap::new()).load().unwrap();
        assert_eq!(config.server.port, 3000);
        assert_eq!(config.server.host, "127.0.0.1");
        assert_eq!(config.chat.data_dir, PathBuf::from("./chat_data"));
        assert!(config.rate_limit.enabled);
        assert!(config.admin.demo_accounts);
    }

    #[test]
    fn each_layer_overrides_the_one_below() {
        let f = file("[server]\nport = 4000\nhost = \"0.0.0.0\"\n[chat]\nmax_message_length = 100\n");
        let path = f.path().to_path_buf();

        let from_file = Loader::with_env(HashMap::new()).config_file(Some(path.clone())).load().unwrap();
        assert_eq!(from_file.server.port, 4000);
        assert_eq!(from_file.chat.max_message_length, 100);

        let short = Loader::with_env(env(&[("PORT", "4001")])).config_file(Some(path.clone()));
        assert_eq!(short.load().unwrap().server.port, 4001);

        let prefixed =
            Loader::with_env(env(&[("PORT", "4001"), ("CHAT__SERVER__PORT", "4002")])).config_file(Some(path.clone()));
        assert_eq!(prefixed.load().unwrap().server.port, 4002);

        let flag = prefixed.overrides(Overrides { port: Some(4003), ..Overrides::default() });
        let config = flag.load().unwrap();
        assert_eq!(config.server.port, 4003);
        assert_eq!(config.server.host, "0.0.0.0", "untouched keys keep the file's value");
    }

    #[test]
    fn config_file_can_be_named_by_environment() {
        let f = file("[chat]\nmax_users_per_room = 7\n");
        let vars = env(&[("CHAT_CONFIG_FILE", f.path().to_str().unwrap())]);
        assert_eq!(Loader::with_env(vars).load().unwrap().chat.max_users_per_room, 7);
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() {
        let loader = Loader::with_env(HashMap::new()).config_file(Some(PathBuf::from("/nonexistent/chat.toml")));
        assert!(loader.load().is_err());
    }

    #[test]
    fn short_variables_set_their_keys() {
        let vars = env(&[
            ("HOST", "0.0.0.0"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CHAT_DATA_DIR", "/tmp/chat-x"),
        ]);
        let config = Loader::with_env(vars).load().unwrap();
        assert_eq!(config.server.host, "0.0.0.0");
        assert_eq!(config.auth.jwt_secret.unwrap().expose(), "0123456789abcdef0123456789abcdef");
        assert_eq!(config.chat.data_dir, PathBuf::from("/tmp/chat-x"));
    }

    #[test]
    fn prefixed_variables_reach_every_section_and_parse_lists() {
        let vars = env(&[
            ("CHAT__SERVER__CORS", "https://a.example,https://b.example"),
            ("CHAT__CHAT__DEFAULT_ROOMS", "lobby,random"),
            ("CHAT__RATE_LIMIT__ENABLED", "false"),
            ("CHAT__LOGGING__FORMAT", "json"),
            ("CHAT__CONNECTION__SEND_QUEUE", "64"),
            ("CHAT__AUTH__TOKEN_TTL_SECS", "3600"),
            ("CHAT__ADMIN__DEMO_ACCOUNTS", "false"),
        ]);
        let config = Loader::with_env(vars).load().unwrap();
        assert_eq!(config.server.cors, vec!["https://a.example", "https://b.example"]);
        let rooms: Vec<&str> = config.chat.default_rooms.iter().map(|r| r.as_str()).collect();
        assert_eq!(rooms, vec!["lobby", "random"]);
        assert!(!config.rate_limit.enabled);
        assert_eq!(config.logging.format, super::super::LogFormat::Json);
        assert_eq!(config.connection.send_queue, 64);
        assert_eq!(config.auth.token_ttl_secs, 3600);
        assert!(!config.admin.demo_accounts);
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let f = file("[server]\nprot = 1\n");
        let err = Loader::with_env(HashMap::new()).config_file(Some(f.path().into())).load().unwrap_err();
        assert!(err.to_string().contains("prot"), "{err}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let err = Loader::with_env(env(&[("CHAT__SERVER__PORT", "lots")])).load().unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn an_unknown_enum_value_names_the_key_and_lists_the_valid_values() {
        let err = Loader::with_env(env(&[("CHAT__LOGGING__FORMAT", "xml")])).load().unwrap_err();
        let ConfigError::Invalid { key, message } = &err else { panic!("{err:?}") };
        assert_eq!(key, "logging.format");
        assert!(message.contains("`xml`") && message.contains("`pretty`, `json`, `compact`"), "{message}");

        let f = file("[[admin.users]]\nusername = \"root\"\npassword = \"s3cret-pass\"\nrole = \"root\"\n");
        let err = Loader::with_env(HashMap::new()).config_file(Some(f.path().into())).load().unwrap_err();
        let ConfigError::Invalid { key, message } = &err else { panic!("{err:?}") };
        assert_eq!(key, "admin.users[0].role");
        assert!(message.contains("`user`, `moderator`, `admin`"), "{message}");
    }

    #[test]
    fn a_load_error_is_said_once() {
        use std::error::Error as _;
        for err in [
            Loader::with_env(env(&[("CHAT__SERVER__PORT", "lots")])).load().unwrap_err(),
            Loader::with_env(HashMap::new())
                .config_file(Some(PathBuf::from("/nonexistent/chat.toml")))
                .load()
                .unwrap_err(),
        ] {
            assert!(err.source().is_none(), "the message already holds the cause: {err}");
        }
    }

    #[test]
    fn admin_users_come_from_the_file() {
        let f = file(
            "[admin]\ndemo_accounts = false\n[[admin.users]]\nusername = \"root\"\npassword = \"s3cret-pass\"\nrole = \"admin\"\n",
        );
        let config = Loader::with_env(HashMap::new()).config_file(Some(f.path().into())).load().unwrap();
        assert_eq!(config.admin.users.len(), 1);
        assert_eq!(config.admin.users[0].role, chat_api::Role::Admin);
        assert_eq!(config.admin.users[0].password.expose(), "s3cret-pass");
    }
}
