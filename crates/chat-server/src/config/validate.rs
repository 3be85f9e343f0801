//! Start-up checks: every value must make sense before anything binds or
//! opens. Each failure names its key.

use std::collections::HashSet;

use chat_api::{MessageText, RoomName, UserName};

use super::{Config, ConfigError, StorageBackend};

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.to_owned(), message: message.into() }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(key: &str, value: T, min: T, max: T) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(invalid(key, format!("must be between {min} and {max} (got {value})")));
    }
    Ok(())
}

impl Config {
    /// The `[storage]` and `[cluster]` keys, which must agree.
    fn validate_storage(&self) -> Result<(), ConfigError> {
        let st = &self.storage;
        if st.backend == StorageBackend::Postgres {
            match &st.postgres_url {
                None => return Err(invalid("storage.postgres_url", "is required with storage.backend = \"postgres\"")),
                Some(url)
                    if !(url.expose().starts_with("postgres://") || url.expose().starts_with("postgresql://")) =>
                {
                    return Err(invalid("storage.postgres_url", "must start with postgres:// or postgresql://"));
                }
                Some(_) => {}
            }
        }
        in_range("storage.postgres_pool_size", st.postgres_pool_size, 2, 1_000)?;
        in_range("storage.postgres_timeout_secs", st.postgres_timeout_secs, 1, 600)?;

        let cl = &self.cluster;
        if let Some(url) = &cl.nats_url {
            if url.expose().trim().is_empty() {
                return Err(invalid("cluster.nats_url", "must not be empty (leave it unset for one node)"));
            }
            if self.auth.jwt_secret.is_none() {
                return Err(invalid(
                    "auth.jwt_secret",
                    "is required with cluster.nats_url: every node must check the tokens the others sign",
                ));
            }
            if st.backend != StorageBackend::Postgres {
                return Err(invalid(
                    "cluster.nats_url",
                    "needs storage.backend = \"postgres\": nodes share their messages through PostgreSQL",
                ));
            }
        }
        if let Some(id) = &cl.node_id {
            let ok = !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(invalid("cluster.node_id", "must be 1 to 64 letters, digits, '-' or '_'"));
            }
        }
        in_range("cluster.heartbeat_ms", cl.heartbeat_ms, 100, 60_000)?;
        in_range("cluster.presence_ttl_ms", cl.presence_ttl_ms, 2 * cl.heartbeat_ms, 600_000)?;
        Ok(())
    }

    /// Checks every key; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.host.trim().is_empty() {
            return Err(invalid("server.host", "must not be empty"));
        }
        for origin in &s.cors {
            let ok = origin == "*" || origin.starts_with("http://") || origin.starts_with("https://");
            if !ok {
                return Err(invalid("server.cors", format!("{origin:?} is not \"*\" or an http(s) origin")));
            }
        }
        in_range("server.max_connections", s.max_connections, 1, 1_000_000)?;
        in_range("server.connections_per_ip", s.connections_per_ip, 1, 1_000_000)?;
        in_range("server.max_pending_connections", s.max_pending_connections, 1, 1_000_000)?;
        in_range("server.header_read_timeout_secs", s.header_read_timeout_secs, 1, 3_600)?;
        in_range("server.idle_timeout_secs", s.idle_timeout_secs, 1, 24 * 60 * 60)?;

        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(invalid("auth.jwt_secret", "must be at least 32 characters"));
        }
        in_range("auth.token_ttl_secs", self.auth.token_ttl_secs, 60, 366 * 24 * 60 * 60)?;

        self.validate_storage()?;

        let c = &self.chat;
        if c.data_dir.as_os_str().is_empty() {
            return Err(invalid("chat.data_dir", "must not be empty"));
        }
        in_range("chat.max_message_length", c.max_message_length, 1, MessageText::MAX_LEN)?;
        in_range("chat.max_room_name_length", c.max_room_name_length, 1, RoomName::MAX_LEN)?;
        in_range("chat.max_users_per_room", c.max_users_per_room, 1, 1_000_000)?;
        for room in &c.default_rooms {
            if room.len() > c.max_room_name_length {
                return Err(invalid(
                    "chat.default_rooms",
                    format!("{room:?} is longer than chat.max_room_name_length"),
                ));
            }
        }

        in_range("chat.max_rooms", c.max_rooms, 1, 1_000_000)?;
        if c.max_rooms < 1 + c.default_rooms.len() {
            return Err(invalid(
                "chat.max_rooms",
                format!("must leave room for general and the {} chat.default_rooms", c.default_rooms.len()),
            ));
        }
        in_range("chat.empty_room_expiry_secs", c.empty_room_expiry_secs, 0, 366 * 24 * 60 * 60)?;

        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.logging.level) {
            return Err(invalid("logging.level", e.to_string()));
        }

        let mut seen = HashSet::new();
        for user in &self.admin.users {
            let name = UserName::parse(&user.username).map_err(|e| invalid("admin.users.username", e.to_string()))?;
            if !seen.insert(name.key()) {
                return Err(invalid("admin.users.username", format!("{name} is listed twice")));
            }
            if user.password.expose().len() < crate::auth::MIN_PASSWORD_LEN {
                return Err(invalid(
                    "admin.users.password",
                    format!("password of {name} must be at least {} bytes", crate::auth::MIN_PASSWORD_LEN),
                ));
            }
        }

        let r = &self.rate_limit;
        if r.enabled {
            in_range("rate_limit.messages_per_minute", r.messages_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.message_burst", r.message_burst, 1, 1_000_000)?;
            in_range("rate_limit.connections_per_ip", r.connections_per_ip, 1, 1_000_000)?;
            // Every WebSocket is also a TCP connection: a larger WebSocket
            // limit could never be reached.
            if r.connections_per_ip as usize > self.server.connections_per_ip {
                return Err(invalid("rate_limit.connections_per_ip", "must not exceed server.connections_per_ip"));
            }
            in_range("rate_limit.login_attempts_per_hour", r.login_attempts_per_hour, 1, 1_000_000)?;
            in_range("rate_limit.login_burst", r.login_burst, 1, 1_000_000)?;
            in_range("rate_limit.rooms_per_hour", r.rooms_per_hour, 1, 1_000_000)?;
            in_range("rate_limit.room_burst", r.room_burst, 1, 1_000_000)?;
            in_range("rate_limit.typing_per_minute", r.typing_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.typing_burst", r.typing_burst, 1, 1_000_000)?;
            in_range("rate_limit.joins_per_minute", r.joins_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.join_burst", r.join_burst, 1, 1_000_000)?;
            in_range("rate_limit.reactions_per_minute", r.reactions_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.reaction_burst", r.reaction_burst, 1, 1_000_000)?;
            in_range("rate_limit.marks_per_minute", r.marks_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.mark_burst", r.mark_burst, 1, 1_000_000)?;
            in_range("rate_limit.searches_per_minute", r.searches_per_minute, 1, 1_000_000)?;
            in_range("rate_limit.search_burst", r.search_burst, 1, 1_000_000)?;
        }

        let n = &self.connection;
        in_range("connection.send_queue", n.send_queue, 1, 1_000_000)?;
        in_range("connection.send_queue_bytes", n.send_queue_bytes, 64 * 1024, 1024 * 1024 * 1024)?;
        in_range("connection.write_timeout_secs", n.write_timeout_secs, 1, 3600)?;
        in_range("connection.max_in_flight", n.max_in_flight, 1, 10_000)?;
        in_range("connection.max_frame_bytes", n.max_frame_bytes, 1024, 16 * 1024 * 1024)?;
        in_range("connection.max_batch", n.max_batch, 1, 10_000)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{InitialUser, Secret};

    fn key_of(config: &Config) -> String {
        match config.validate() {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        Config::defaults().validate().unwrap();
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Breaker = fn(&mut Config);
        let cases: &[(&str, Breaker)] = &[
            ("server.host", |c| c.server.host = " ".into()),
            ("server.cors", |c| c.server.cors = vec!["example.com".into()]),
            ("server.max_connections", |c| c.server.max_connections = 0),
            ("auth.jwt_secret", |c| c.auth.jwt_secret = Some(Secret::new("short"))),
            ("auth.token_ttl_secs", |c| c.auth.token_ttl_secs = 1),
            ("chat.max_message_length", |c| c.chat.max_message_length = 0),
            ("chat.max_message_length", |c| c.chat.max_message_length = 100_000),
            ("chat.max_room_name_length", |c| c.chat.max_room_name_length = 65),
            ("chat.max_users_per_room", |c| c.chat.max_users_per_room = 0),
            ("chat.default_rooms", |c| {
                c.chat.max_room_name_length = 3;
                c.chat.default_rooms = vec![RoomName::parse("lobby").unwrap()];
            }),
            ("chat.max_rooms", |c| c.chat.max_rooms = 0),
            ("chat.max_rooms", |c| {
                c.chat.max_rooms = 2;
                c.chat.default_rooms = vec![RoomName::parse("a").unwrap(), RoomName::parse("b").unwrap()];
            }),
            ("chat.empty_room_expiry_secs", |c| c.chat.empty_room_expiry_secs = 400 * 24 * 60 * 60),
            ("logging.level", |c| c.logging.level = "=[".into()),
            ("admin.users.username", |c| {
                c.admin.users = vec![InitialUser {
                    username: "no spaces".into(),
                    password: Secret::new("long enough"),
                    role: chat_api::Role::User,
                }]
            }),
            ("admin.users.password", |c| {
                c.admin.users = vec![InitialUser {
                    username: "carol".into(),
                    password: Secret::new("short"),
                    role: chat_api::Role::User,
                }]
            }),
            ("storage.postgres_url", |c| c.storage.backend = super::StorageBackend::Postgres),
            ("storage.postgres_url", |c| {
                c.storage.backend = super::StorageBackend::Postgres;
                c.storage.postgres_url = Some(Secret::new("mysql://x"));
            }),
            ("storage.postgres_pool_size", |c| c.storage.postgres_pool_size = 1),
            ("storage.postgres_timeout_secs", |c| c.storage.postgres_timeout_secs = 0),
            ("cluster.nats_url", |c| {
                c.auth.jwt_secret = Some(Secret::new("0123456789abcdef0123456789abcdef"));
                c.cluster.nats_url = Some(Secret::new("nats://127.0.0.1:4222"));
            }),
            ("auth.jwt_secret", |c| {
                c.storage.backend = super::StorageBackend::Postgres;
                c.storage.postgres_url = Some(Secret::new("postgres://h/db"));
                c.cluster.nats_url = Some(Secret::new("nats://127.0.0.1:4222"));
            }),
            ("cluster.node_id", |c| c.cluster.node_id = Some("no spaces".into())),
            ("cluster.presence_ttl_ms", |c| c.cluster.presence_ttl_ms = c.cluster.heartbeat_ms),
            ("server.connections_per_ip", |c| c.server.connections_per_ip = 0),
            ("server.max_pending_connections", |c| c.server.max_pending_connections = 0),
            ("server.header_read_timeout_secs", |c| c.server.header_read_timeout_secs = 0),
            ("server.idle_timeout_secs", |c| c.server.idle_timeout_secs = 0),
            ("rate_limit.messages_per_minute", |c| c.rate_limit.messages_per_minute = 0),
            ("rate_limit.message_burst", |c| c.rate_limit.message_burst = 0),
            ("rate_limit.connections_per_ip", |c| c.rate_limit.connections_per_ip = 0),
            ("rate_limit.connections_per_ip", |c| c.server.connections_per_ip = 10),
            ("rate_limit.login_attempts_per_hour", |c| c.rate_limit.login_attempts_per_hour = 0),
            ("rate_limit.login_burst", |c| c.rate_limit.login_burst = 0),
            ("rate_limit.rooms_per_hour", |c| c.rate_limit.rooms_per_hour = 0),
            ("rate_limit.room_burst", |c| c.rate_limit.room_burst = 0),
            ("rate_limit.typing_per_minute", |c| c.rate_limit.typing_per_minute = 0),
            ("rate_limit.typing_burst", |c| c.rate_limit.typing_burst = 0),
            ("rate_limit.joins_per_minute", |c| c.rate_limit.joins_per_minute = 0),
            ("rate_limit.join_burst", |c| c.rate_limit.join_burst = 0),
            ("rate_limit.reactions_per_minute", |c| c.rate_limit.reactions_per_minute = 0),
            ("rate_limit.reaction_burst", |c| c.rate_limit.reaction_burst = 0),
            ("rate_limit.marks_per_minute", |c| c.rate_limit.marks_per_minute = 0),
            ("rate_limit.mark_burst", |c| c.rate_limit.mark_burst = 0),
            ("rate_limit.searches_per_minute", |c| c.rate_limit.searches_per_minute = 0),
            ("rate_limit.search_burst", |c| c.rate_limit.search_burst = 0),
            ("connection.send_queue", |c| c.connection.send_queue = 0),
            ("connection.send_queue_bytes", |c| c.connection.send_queue_bytes = 10),
            ("connection.write_timeout_secs", |c| c.connection.write_timeout_secs = 0),
            ("connection.max_in_flight", |c| c.connection.max_in_flight = 0),
            ("connection.max_frame_bytes", |c| c.connection.max_frame_bytes = 10),
            ("connection.max_batch", |c| c.connection.max_batch = 0),
        ];
        for (key, breaker) in cases {
            let mut config = Config::defaults();
            breaker(&mut config);
            assert_eq!(key_of(&config), *key);
        }
    }

    #[test]
    fn rate_limit_values_are_not_checked_while_disabled() {
        let mut config = Config::defaults();
        config.rate_limit.enabled = false;
        config.rate_limit.messages_per_minute = 0;
        config.validate().unwrap();
    }
}
