//! `register`, `login`, `logout` and `whoami`.

use anyhow::{Context, Result};
use chat_api::UserName;
use chat_client::{RestClient, RestError, ServerUrl, TokenClaims};

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
    println!(
        "Logged in to {} as {} ({}). Token saved to {} (valid until {}).",
        rest.server(),
        saved.username,
        saved.role,
        path.display(),
        until(saved.expires_at)
    );
    Ok(())
}

/// `logout`: revokes the token on the server, then forgets it. The saved
/// file goes whatever the server says: a user logging out means it.
pub(crate) async fn logout(server: ServerUrl, user: Option<UserName>) -> Result<()> {
    let store = TokenStore::locate()?;
    let saved = credentials::pick_saved(&server, user.as_ref(), &store)?;
    let rest = RestClient::new(server.clone());
    let revoked = rest.logout(&saved.token).await;
    store.forget(&server, &saved.username)?;
    match revoked {
        Ok(()) => println!("Logged {} out of {server}: the token is revoked and forgotten.", saved.username),
        Err(RestError::InvalidCredentials { .. }) => {
            println!("Forgot the token of {} for {server} (the server no longer accepted it).", saved.username);
        }
        Err(error) => {
            println!("Forgot the token of {} for {server}.", saved.username);
            eprintln!(
                "{}",
                render::Painter::for_stderr().error(&format!(
                    "the server could not revoke it ({error}); the token was removed locally only and stays valid until {}",
                    until(saved.expires_at)
                ))
            );
        }
    }
    Ok(())
}

/// `whoami`: the account commands act as on this server, and until when its
/// token is valid. Chooses exactly as the scripted commands do.
pub(crate) fn whoami(server: &ServerUrl, token: Option<String>, user: Option<UserName>) -> Result<()> {
    let store = TokenStore::locate()?;
    let credentials = credentials::token_for_script(server, token, user.as_ref(), &store)?;
    let name = credentials.username.as_ref().map_or_else(|| "an unnamed token".to_owned(), ToString::to_string);
    let role = credentials.role.map(|role| format!(" ({role})")).unwrap_or_default();
    let expires_at = credentials.expires_at.or_else(|| TokenClaims::read(&credentials.token).expires_at);
    let validity =
        expires_at.map_or_else(|| "token expiry unknown".to_owned(), |at| format!("token valid until {}", until(at)));
    println!("{name}{role} on {server}; {validity}");
    Ok(())
}

fn until(unix_seconds: i64) -> String {
    let at = chat_api::Timestamp::from_unix_millis(unix_seconds.saturating_mul(1000));
    render::clock(at, render::TimeStyle::Full, chrono::Local::now())
}
