//! Rate limits (token buckets with burst, from `governor`) and connection
//! caps. With `rate_limit.enabled = false` only the global connection cap
//! (`server.max_connections`) remains.

use std::{collections::HashMap, net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use chat_api::UserId;
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::{RateLimitConfig, ServerConfig};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Every limit the server applies to users and addresses.
#[derive(Debug)]
pub(crate) struct RateLimits {
    messages: Option<Keyed<UserId>>,
    auth: Option<Keyed<IpAddr>>,
    room_creations: Option<Keyed<UserId>>,
    /// Typing indicators and presence joins per user: each fans out to a
    /// whole room, so unlimited churn could flood its members' outboxes.
    typing: Option<Keyed<UserId>>,
    joins: Option<Keyed<UserId>>,
    /// Reactions, read markers and searches per user: the first two fan
    /// out, the last reads the whole index.
    reactions: Option<Keyed<UserId>>,
    marks: Option<Keyed<UserId>>,
    searches: Option<Keyed<UserId>>,
    per_ip: Option<u32>,
    open_per_ip: Mutex<HashMap<IpAddr, u32>>,
    capacity: Arc<Semaphore>,
    clock: DefaultClock,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionRefused {
    /// `server.max_connections` reached.
    ServerFull,
    /// `rate_limit.connections_per_ip` reached for this address.
    TooManyFromAddress,
}

/// Holds a connection's place under both caps; dropping it frees them.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    limits: Arc<RateLimits>,
    ip: Option<IpAddr>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            let mut open = self.limits.open_per_ip.lock();
            if let Some(count) = open.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&ip);
                }
            }
        }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    /// Limits as configured.
    pub(crate) fn new(rate: &RateLimitConfig, server: &ServerConfig) -> Self {
        let enabled = rate.enabled;
        let messages = enabled.then(|| {
            RateLimiter::keyed(
                Quota::per_minute(nonzero(rate.messages_per_minute)).allow_burst(nonzero(rate.message_burst)),
            )
        });
        let auth = enabled.then(|| {
            RateLimiter::keyed(
                Quota::per_hour(nonzero(rate.login_attempts_per_hour)).allow_burst(nonzero(rate.login_burst)),
            )
        });
        let room_creations = enabled.then(|| {
            RateLimiter::keyed(Quota::per_hour(nonzero(rate.rooms_per_hour)).allow_burst(nonzero(rate.room_burst)))
        });
        let per_minute = |rate: u32, burst: u32| {
            enabled.then(|| RateLimiter::keyed(Quota::per_minute(nonzero(rate)).allow_burst(nonzero(burst))))
        };
        Self {
            messages,
            auth,
            room_creations,
            typing: per_minute(rate.typing_per_minute, rate.typing_burst),
            joins: per_minute(rate.joins_per_minute, rate.join_burst),
            reactions: per_minute(rate.reactions_per_minute, rate.reaction_burst),
            marks: per_minute(rate.marks_per_minute, rate.mark_burst),
            searches: per_minute(rate.searches_per_minute, rate.search_burst),
            per_ip: enabled.then_some(rate.connections_per_ip),
            open_per_ip: Mutex::default(),
            capacity: Arc::new(Semaphore::new(server.max_connections)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one message from the user's bucket, or says how long to wait.
    pub(crate) fn check_message(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.messages.as_ref(), &user)
    }

    /// Takes one login or registration attempt from the address's bucket.
    pub(crate) fn check_auth(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check(self.auth.as_ref(), &ip)
    }

    /// Takes one room creation from the user's bucket, or says how long to
    /// wait. Joining an existing room takes nothing.
    pub(crate) fn check_room_creation(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.room_creations.as_ref(), &user)
    }

    /// Takes one typing indicator from the user's bucket.
    pub(crate) fn check_typing(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.typing.as_ref(), &user)
    }

    /// Takes one presence join from the user's bucket.
    pub(crate) fn check_join(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.joins.as_ref(), &user)
    }

    /// Takes one reaction (added or removed) from the user's bucket.
    pub(crate) fn check_reaction(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.reactions.as_ref(), &user)
    }

    /// Takes one `mark_read` from the user's bucket.
    pub(crate) fn check_mark(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.marks.as_ref(), &user)
    }

    /// Takes one search from the user's bucket.
    pub(crate) fn check_search(&self, user: UserId) -> Result<(), Duration> {
        self.check(self.searches.as_ref(), &user)
    }

    fn check<K: std::hash::Hash + Eq + Clone>(&self, limiter: Option<&Keyed<K>>, key: &K) -> Result<(), Duration> {
        match limiter {
            None => Ok(()),
            Some(limiter) => limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now())),
        }
    }

    /// Reserves a place for a new connection from `ip`.
    pub(crate) fn open_connection(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, ConnectionRefused> {
        let permit = Arc::clone(&self.capacity).try_acquire_owned().map_err(|_| ConnectionRefused::ServerFull)?;
        let Some(max) = self.per_ip else {
            return Ok(ConnectionSlot { limits: Arc::clone(self), ip: None, _permit: permit });
        };
        let mut open = self.open_per_ip.lock();
        let count = open.entry(ip).or_insert(0);
        if *count >= max {
            return Err(ConnectionRefused::TooManyFromAddress);
        }
        *count += 1;
        drop(open);
        Ok(ConnectionSlot { limits: Arc::clone(self), ip: Some(ip), _permit: permit })
    }

    /// Forgets buckets that are full again, so memory tracks only recently
    /// active users and addresses. Called periodically.
    pub(crate) fn forget_idle(&self) {
        if let Some(l) = &self.messages {
            l.retain_recent();
        }
        if let Some(l) = &self.auth {
            l.retain_recent();
        }
        for l in [&self.room_creations, &self.typing, &self.joins, &self.reactions, &self.marks, &self.searches]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(enabled: bool) -> Arc<RateLimits> {
        let rate = RateLimitConfig {
            enabled,
            messages_per_minute: 60,
            message_burst: 3,
            connections_per_ip: 2,
            login_attempts_per_hour: 60,
            login_burst: 2,
            rooms_per_hour: 60,
            room_burst: 2,
            typing_per_minute: 60,
            typing_burst: 2,
            joins_per_minute: 60,
            join_burst: 4,
            ..RateLimitConfig::default()
        };
        let server = ServerConfig { max_connections: 3, ..ServerConfig::default() };
        Arc::new(RateLimits::new(&rate, &server))
    }

    #[test]
    fn a_burst_is_allowed_then_the_rate_applies() {
        let l = limits(true);
        for _ in 0..3 {
            assert!(l.check_message(UserId(1)).is_ok());
        }
        let wait = l.check_message(UserId(1)).unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(l.check_message(UserId(2)).is_ok(), "buckets are per user");
    }

    #[test]
    fn auth_attempts_are_limited_per_address() {
        let l = limits(true);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check_auth(a).is_ok());
        assert!(l.check_auth(a).is_ok());
        assert!(l.check_auth(a).is_err());
        assert!(l.check_auth(b).is_ok());
    }

    #[test]
    fn room_creations_are_limited_per_user() {
        let l = limits(true);
        assert!(l.check_room_creation(UserId(1)).is_ok());
        assert!(l.check_room_creation(UserId(1)).is_ok());
        let wait = l.check_room_creation(UserId(1)).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60), "one a minute: {wait:?}");
        assert!(l.check_room_creation(UserId(2)).is_ok(), "buckets are per user");
        assert!(limits(false).check_room_creation(UserId(1)).is_ok());
    }

    #[test]
    fn typing_and_joins_have_their_own_buckets_per_user() {
        let l = limits(true);
        assert!(l.check_typing(UserId(1)).is_ok() && l.check_typing(UserId(1)).is_ok());
        assert!(l.check_typing(UserId(1)).is_err(), "typing burst of 2");
        for _ in 0..4 {
            assert!(l.check_join(UserId(1)).is_ok(), "joins do not share the typing bucket");
        }
        assert!(l.check_join(UserId(1)).is_err(), "join burst of 4");
        assert!(l.check_message(UserId(1)).is_ok(), "nor messages");
        assert!(l.check_typing(UserId(2)).is_ok() && l.check_join(UserId(2)).is_ok(), "per user");
        let disabled = limits(false);
        assert!((0..100).all(|_| disabled.check_typing(UserId(1)).is_ok() && disabled.check_join(UserId(1)).is_ok()));
    }

    #[test]
    fn connections_are_capped_per_address_and_overall() {
        let l = limits(true);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = l.open_connection(a).unwrap();
        let _second = l.open_connection(a).unwrap();
        assert_eq!(l.open_connection(a).unwrap_err(), ConnectionRefused::TooManyFromAddress);
        drop(first);
        let _third = l.open_connection(a).unwrap();
        let _fourth = l.open_connection(b).unwrap();
        assert_eq!(l.open_connection(b).unwrap_err(), ConnectionRefused::ServerFull, "three open in all");
    }

    #[test]
    fn disabled_limits_allow_everything_but_the_global_cap() {
        let l = limits(false);
        for _ in 0..100 {
            assert!(l.check_message(UserId(1)).is_ok());
        }
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let _s: Vec<_> = (0..3).map(|_| l.open_connection(a).unwrap()).collect();
        assert_eq!(l.open_connection(a).unwrap_err(), ConnectionRefused::ServerFull);
    }
}
