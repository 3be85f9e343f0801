//! What a fresh server starts with: accounts (demo and configured) and the
//! default rooms.

use chat_api::{DisplayName, MessageId, Role, RoomName, UserName};

use crate::{
    auth::Passwords,
    config::Config,
    domain::avatar,
    hub::Hub,
    store::{NewUser, Store, StoreError},
};

/// The demo accounts: username, password, role.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("admin", "admin123", Role::Admin),
    ("moderator", "mod123", Role::Moderator),
    ("alice", "alice123", Role::User),
    ("bob", "bob123", Role::User),
];

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SeedError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
    /// A configured name is invalid (validation should have caught it).
    #[error("invalid initial user: {0}")]
    Name(#[from] chat_api::NameError),
}

/// Creates the configured accounts (and the demo ones, if enabled) when
/// the user table is empty. Returns how many were created.
pub(crate) async fn seed_accounts(store: &Store, passwords: &Passwords, config: &Config) -> Result<usize, SeedError> {
    if store.has_users().await? {
        return Ok(0);
    }
    let mut wanted: Vec<(UserName, String, Role)> = Vec::new();
    for user in &config.admin.users {
        wanted.push((UserName::parse(&user.username)?, user.password.expose().to_owned(), user.role));
    }
    if config.admin.demo_accounts {
        for (name, password, role) in DEMO_ACCOUNTS {
            let name = UserName::parse(name)?;
            if !wanted.iter().any(|(w, _, _)| w.key() == name.key()) {
                wanted.push((name, (*password).to_owned(), *role));
            }
        }
    }
    let mut users = Vec::with_capacity(wanted.len());
    for (username, password, role) in wanted {
        let password_hash = passwords.hash(password).await.map_err(|e| SeedError::Hash(e.to_string()))?;
        users.push(NewUser {
            display_name: DisplayName::parse(username.as_str())?,
            avatar: avatar::default_for(&username),
            username,
            password_hash,
            role,
        });
    }
    let created = store.seed_users(users).await?;
    if created > 0 {
        tracing::info!(created, "created initial accounts");
    }
    Ok(created)
}

/// Logs a warning for every demo account that still has its published
/// password. Returns their names.
pub(crate) async fn warn_about_demo_passwords(store: &Store, passwords: &Passwords) -> Result<Vec<String>, StoreError> {
    let mut exposed = Vec::new();
    for (name, password, _) in DEMO_ACCOUNTS {
        let Ok(name) = UserName::parse(name) else { continue };
        let Some(user) = store.user_by_name(&name).await? else { continue };
        if passwords.verify((*password).to_owned(), Some(user.password_hash)).await {
            exposed.push(name.to_string());
        }
    }
    if !exposed.is_empty() {
        tracing::warn!(
            accounts = %exposed.join(", "),
            "demo accounts still have their published passwords; anyone can log in as them. \
             Change them (`bidirectional-chat-server user set-password NAME`), delete them \
             (`user delete NAME`), or start a fresh data directory with admin.demo_accounts = false"
        );
    }
    Ok(exposed)
}

/// Makes sure `general` and the configured default rooms exist, then loads
/// every stored room into the hub.
pub(crate) async fn load_rooms(store: &Store, hub: &Hub, config: &Config) -> Result<(), StoreError> {
    let general = RoomName::parse("general")?;
    for name in std::iter::once(&general).chain(config.chat.default_rooms.iter()) {
        store.create_room(name.clone()).await?;
    }
    // Everything stored was delivered before this start; new messages
    // get higher ids.
    let upto: MessageId = store.log().last_message_id().await?;
    for room in store.rooms().await? {
        hub.add_room(room, upto);
    }
    Ok(())
}
