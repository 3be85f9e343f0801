//! Typed configuration, loaded in layers (see [`load`]) and validated once at
//! start-up (see [`validate`]). Every key here is documented in
//! `config.example.toml` and enforced somewhere in the server.

mod by_name;
mod load;
mod secret;
mod validate;

use std::path::{Path, PathBuf};

use chat_api::{Role, RoomName};
use serde::Deserialize;

pub use load::{ConfigError, Loader, Overrides};
pub use secret::Secret;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listening socket and browser access.
    #[serde(default)]
    pub server: ServerConfig,
    /// Tokens.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Rooms, messages and storage.
    #[serde(default)]
    pub chat: ChatConfig,
    /// Log output.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// Accounts created on first start.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Per-user and per-IP rate limits.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Per-connection protections.
    #[serde(default)]
    pub connection: ConnectionConfig,
    /// Where messages and accounts are kept.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Running as one of several nodes.
    #[serde(default)]
    pub cluster: ClusterConfig,
}

/// Which database holds everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// `chat.db` in the data directory: one node, nothing to set up.
    #[default]
    Sqlite,
    /// A PostgreSQL database, which several nodes can share.
    Postgres,
}

/// `[storage]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite` or `postgres`.
    pub backend: StorageBackend,
    /// `postgres://user[:password]@host[:port]/database`; required with
    /// the `postgres` backend. A secret: it may hold a password.
    pub postgres_url: Option<Secret>,
    /// Most PostgreSQL connections this node opens, the message writer's
    /// own included.
    pub postgres_pool_size: usize,
    /// Seconds a PostgreSQL call may take before it fails with a clear
    /// error (the database is down or unreachable).
    pub postgres_timeout_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self { backend: StorageBackend::Sqlite, postgres_url: None, postgres_pool_size: 16, postgres_timeout_secs: 5 }
    }
}

/// `[cluster]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// `nats://[user:password@]host:port` of the NATS server the nodes
    /// share (a secret: it may hold a password). Unset: this is the only
    /// node. Set: the `postgres` backend is required.
    pub nats_url: Option<Secret>,
    /// This node's name in the cluster, unique among the nodes (default:
    /// generated at start).
    pub node_id: Option<String>,
    /// Milliseconds between a node's presence heartbeats.
    pub heartbeat_ms: u64,
    /// Milliseconds without a heartbeat after which a node counts as dead
    /// and its users' presence is dropped everywhere.
    pub presence_ttl_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self { nats_url: None, node_id: None, heartbeat_ms: 1_000, presence_ttl_ms: 5_000 }
    }
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to bind.
    pub host: String,
    /// Port to bind (0 picks a free one).
    pub port: u16,
    /// Browser origins allowed to call the HTTP API and open WebSockets
    /// (`"*"` allows any). Clients that send no `Origin` are always allowed.
    pub cors: Vec<String>,
    /// Most WebSocket connections at once; further upgrades get 503.
    pub max_connections: usize,
    /// Most TCP connections from one IP address at once, HTTP and WebSocket
    /// alike; further ones are closed as soon as they are accepted.
    pub connections_per_ip: usize,
    /// Most connections still speaking plain HTTP (not upgraded) at once;
    /// further ones are closed as soon as they are accepted.
    pub max_pending_connections: usize,
    /// Seconds a client has to send a complete request head.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection that has not upgraded may stay silent before it
    /// is closed.
    pub idle_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 3000,
            cors: Vec::new(),
            max_connections: 10_000,
            connections_per_ip: 100,
            max_pending_connections: 1_024,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// HMAC secret for tokens (at least 32 characters). When absent, a
    /// random one is generated on first start and kept in the data directory.
    pub jwt_secret: Option<Secret>,
    /// How long a token lives, in seconds.
    pub token_ttl_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { jwt_secret: None, token_ttl_secs: 24 * 60 * 60 }
    }
}

/// `[chat]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// Where the database and the generated secret live.
    pub data_dir: PathBuf,
    /// Longest message, in characters.
    pub max_message_length: usize,
    /// Longest room name, in characters.
    pub max_room_name_length: usize,
    /// Most distinct users in one room.
    pub max_users_per_room: usize,
    /// Rooms that exist from the start (`general` always does).
    pub default_rooms: Vec<RoomName>,
    /// Most rooms on the server, `general` and the default rooms included;
    /// a `join_room` that would create one more is refused.
    pub max_rooms: usize,
    /// Seconds a room created by a user may stay empty, with nobody in it
    /// and nothing ever written in it, before it is deleted (0: never).
    /// `general` and the default rooms never expire.
    pub empty_room_expiry_secs: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./chat_data"),
            max_message_length: 4000,
            max_room_name_length: 32,
            max_users_per_room: 5000,
            default_rooms: Vec::new(),
            max_rooms: 10_000,
            empty_room_expiry_secs: 60 * 60,
        }
    }
}

/// `[logging]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// A tracing filter such as `info` or `chat_server=debug,info`.
    /// `RUST_LOG`, when set, replaces it.
    pub level: String,
    /// Output format.
    #[serde(deserialize_with = "by_name::by_name")]
    pub format: LogFormat,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self { level: "info".to_owned(), format: LogFormat::Pretty }
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Multi-line, coloured, for people.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
    /// One short line per event.
    Compact,
}

/// `[admin]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Create the demo accounts (admin, moderator, alice, bob) when the user
    /// table is empty.
    pub demo_accounts: bool,
    /// Further accounts to create when the user table is empty.
    pub users: Vec<InitialUser>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { demo_accounts: true, users: Vec::new() }
    }
}

/// One entry of `[[admin.users]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialUser {
    /// Its username.
    pub username: String,
    /// Its password.
    pub password: Secret,
    /// Its role (default `user`).
    #[serde(default = "default_role", deserialize_with = "by_name::by_name")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::User
}

/// `[rate_limit]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Master switch for every limit in this section.
    pub enabled: bool,
    /// Sustained messages per minute per user.
    pub messages_per_minute: u32,
    /// Messages a user may send at once before the rate applies.
    pub message_burst: u32,
    /// Open WebSocket connections per client IP.
    pub connections_per_ip: u32,
    /// Sustained login and registration attempts per hour per client IP.
    pub login_attempts_per_hour: u32,
    /// Attempts allowed at once before the hourly rate applies.
    pub login_burst: u32,
    /// Sustained rooms a user may create per hour (joining an existing
    /// room is not creating one).
    pub rooms_per_hour: u32,
    /// Rooms a user may create at once before the hourly rate applies.
    pub room_burst: u32,
    /// Sustained typing indicators per minute per user: `start_typing`
    /// calls that tell the room (repeats while already typing are free).
    pub typing_per_minute: u32,
    /// Typing indicators a user may start at once before the rate applies.
    pub typing_burst: u32,
    /// Sustained room joins per minute per user: `join_room` calls that
    /// make the user present in a room (and so tell its members).
    pub joins_per_minute: u32,
    /// Such joins a user may make at once (e.g. rejoining every room on
    /// reconnect) before the rate applies.
    pub join_burst: u32,
    /// Sustained reactions added or removed per minute per user.
    pub reactions_per_minute: u32,
    /// Reactions a user may add or remove at once before the rate applies.
    pub reaction_burst: u32,
    /// Sustained `mark_read` calls per minute per user.
    pub marks_per_minute: u32,
    /// `mark_read` calls a user may make at once before the rate applies.
    pub mark_burst: u32,
    /// Sustained searches per minute per user.
    pub searches_per_minute: u32,
    /// Searches a user may run at once before the rate applies.
    pub search_burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            messages_per_minute: 120,
            message_burst: 20,
            connections_per_ip: 50,
            login_attempts_per_hour: 120,
            login_burst: 20,
            rooms_per_hour: 20,
            room_burst: 5,
            typing_per_minute: 60,
            typing_burst: 20,
            joins_per_minute: 120,
            join_burst: 60,
            reactions_per_minute: 60,
            reaction_burst: 20,
            marks_per_minute: 120,
            mark_burst: 30,
            searches_per_minute: 30,
            search_burst: 10,
        }
    }
}

/// `[connection]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionConfig {
    /// Frames queued for one client before it is disconnected with 4008.
    pub send_queue: usize,
    /// Bytes queued for one client before it is disconnected with 4008
    /// (bounds memory when answers are large; one frame larger than this
    /// still goes out when the queue is otherwise empty). A batch's answers
    /// count against it while the batch runs.
    pub send_queue_bytes: usize,
    /// Seconds a single socket write may take before the client is dropped.
    pub write_timeout_secs: u64,
    /// Calls from one connection processed at once; further frames wait
    /// unread (TCP back-pressure).
    pub max_in_flight: usize,
    /// Largest WebSocket message accepted, in bytes; larger closes with 1009.
    pub max_frame_bytes: usize,
    /// Most requests in one JSON-RPC batch.
    pub max_batch: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            send_queue: 1024,
            send_queue_bytes: 8 * 1024 * 1024,
            write_timeout_secs: 10,
            max_in_flight: 32,
            max_frame_bytes: 64 * 1024,
            max_batch: 50,
        }
    }
}

impl Config {
    /// Built-in defaults only.
    pub fn defaults() -> Self {
        Self {
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            chat: ChatConfig::default(),
            logging: LoggingConfig::default(),
            admin: AdminConfig::default(),
            rate_limit: RateLimitConfig::default(),
            connection: ConnectionConfig::default(),
            storage: StorageConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }

    /// Settings for tests: loopback, port 0, the given data directory,
    /// demo accounts, and rate limits off (tests that need them turn them on).
    pub fn for_tests(data_dir: &Path) -> Self {
        let mut config = Self::defaults();
        config.server.port = 0;
        config.chat.data_dir = data_dir.to_path_buf();
        config.rate_limit.enabled = false;
        // Tests open many connections from 127.0.0.1.
        config.server.connections_per_ip = 1_000_000;
        config.server.max_pending_connections = 1_000_000;
        config
    }
}
