//! Account maintenance for operators, run from the command line against
//! the data directory (`bidirectional-chat-server user …`). Safe while the
//! server runs: SQLite serializes the writes, the server reads roles and
//! accounts from the database whenever they matter, and a deletion is
//! also logged in `account_deletions`, from which a running server closes
//! the account's connections within about a second.

use crate::config::Config;

use chat_api::{Role, UserName};

use crate::{
    auth::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, Passwords},
    store::Store,
};

/// One maintenance action.
#[derive(Debug, Clone)]
pub enum UserCommand {
    /// Change a user's role.
    SetRole {
        /// Whose.
        username: UserName,
        /// The new role.
        role: Role,
    },
    /// Replace a user's password.
    SetPassword {
        /// Whose.
        username: UserName,
        /// The new password.
        password: String,
    },
    /// Delete an account; its messages stay.
    Delete {
        /// Whose.
        username: UserName,
    },
}

/// Runs the command and returns what to tell the operator.
pub async fn run(config: &Config, command: UserCommand) -> anyhow::Result<String> {
    let store = Store::connect(&config.storage, &config.chat.data_dir).await?;
    let outcome = apply(&store, command).await;
    store.close().await;
    outcome
}

async fn apply(store: &Store, command: UserCommand) -> anyhow::Result<String> {
    match command {
        UserCommand::SetRole { username, role } => {
            anyhow::ensure!(store.set_role(&username, role).await?, "no user named {username}");
            Ok(format!("{username} is now {role}"))
        }
        UserCommand::SetPassword { username, password } => {
            anyhow::ensure!(
                (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.len()),
                "password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes"
            );
            let passwords = Passwords::new().await.map_err(|e| anyhow::anyhow!("password hasher: {e}"))?;
            let hash = passwords.hash(password).await.map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
            anyhow::ensure!(store.set_password_hash(&username, hash).await?, "no user named {username}");
            Ok(format!("password of {username} changed"))
        }
        UserCommand::Delete { username } => {
            anyhow::ensure!(store.delete_user(&username).await?, "no user named {username}");
            Ok(format!("{username} deleted"))
        }
    }
}
