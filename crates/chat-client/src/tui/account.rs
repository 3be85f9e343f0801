//! `register`, `login` and `logout`.

use anyhow::{Context, Result};
use chat_client::{RestClient, ServerUrl};

use super::{credentials, render, token_store::TokenStore};

/// `register`: creates the account and says so.
pub(crate) async fn register(
    server: ServerUrl,
    username: String,
    display_name: Option<String>,
    password_stdin: bool,
) -> Result<()> {
    let password = credentials::read_password(password_stdin, true, "register").await?;
    let rest = RestClient::new(server);
    let account = rest
        .register(&username, &password, display_name.as_deref())
        .await
        .with_context(|| format!("registering {username} at {}", rest.server()))?;
    println!(
        "Registered {} (user id {}, role {}) at {}.",
        account.username,
        account.user_id,
        account.role,
        rest.server()
    );
    Ok(())
}

/// `login`: saves the token and says where.
pub(crate) async fn login(server: ServerUrl, username: String, password_stdin: bool) -> Result<()> {
    let password = credentials::read_password(password_stdin, false, "login").await?;
    let store = TokenStore::locate()?;
    let rest = RestClient::new(server);
    let (saved, path) = credentials::log_in(&rest, &store, &username, &password).await?;
    let until = chat_api::Timestamp::from_unix_millis(saved.expires_at.saturating_mul(1000));
    println!(
        "Logged in to {} as {} ({}). Token saved to {} (valid until {}).",
        rest.server(),
        saved.username,
        saved.role,
        path.display(),
        render::clock(until, render::TimeStyle::Full, chrono::Local::now())
    );
    Ok(())
}

/// `logout`: forgets the saved token.
pub(crate) fn logout(server: &ServerUrl) -> Result<()> {
    let store = TokenStore::locate()?;
    match store.forget(server)? {
        Some(saved) => println!("Forgot the token of {} for {server}.", saved.username),
        None => println!("No token was saved for {server}."),
    }
    Ok(())
}
