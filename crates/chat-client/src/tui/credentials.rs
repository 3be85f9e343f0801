//! Getting a token: from `--token`, from the saved file, or by asking.
//! Asking happens only on a terminal; otherwise the commands fail with a
//! message that says which flag to use instead.

use std::{
    io::{BufRead, IsTerminal},
    path::PathBuf,
};

use anyhow::{Context, Result, anyhow};
use chat_api::{Role, UserName};
use chat_client::{RestClient, RestError, ServerUrl, TokenClaims};

use super::{
    exit::CliError,
    password,
    token_store::{SavedToken, TokenStore},
};

/// Fewest and most bytes in a password (the server's rule, checked early
/// so a prompt can ask again instead of failing).
const PASSWORD_BYTES: std::ops::RangeInclusive<usize> = 8..=1024;

/// A token and, when known, whose it is.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub(crate) token: String,
    pub(crate) username: Option<UserName>,
    /// The role, when the token came from a login.
    pub(crate) role: Option<Role>,
}

impl Credentials {
    /// A token given as is; its claims may name the user.
    pub(crate) fn from_token(token: String) -> Self {
        let token = token.trim().to_owned();
        let username = TokenClaims::read(&token).username;
        Self { token, username, role: None }
    }

    fn from_saved(saved: SavedToken) -> Self {
        Self { token: saved.token, username: Some(saved.username), role: Some(saved.role) }
    }
}

/// Whether prompts can be shown.
pub(crate) fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// For the scripted commands: `--token` (or `CHAT_TOKEN`), else the saved
/// token. Never asks.
pub(crate) fn token_for_script(server: &ServerUrl, token: Option<String>, store: &TokenStore) -> Result<Credentials> {
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        return Ok(Credentials::from_token(token));
    }
    match store.load(server)? {
        Some(saved) if saved.is_expired_at(now()) => Err(CliError::NotLoggedIn(format!(
            "the saved token of {} for {server} has expired; run `bidirectional-chat-client login --username {}`",
            saved.username, saved.username
        ))
        .into()),
        Some(saved) => Ok(Credentials::from_saved(saved)),
        None => Err(CliError::NotLoggedIn(format!(
            "not logged in to {server}; run `bidirectional-chat-client login --username NAME` or pass --token"
        ))
        .into()),
    }
}

/// Reads a password: the first line of stdin with `from_stdin`, otherwise
/// a hidden prompt on the terminal (see [`ask_password`] for `new`).
pub(crate) async fn read_password(from_stdin: bool, new: bool, command: &str) -> Result<String> {
    if from_stdin {
        return tokio::task::spawn_blocking(read_stdin_line).await.context("reading stdin failed")?;
    }
    if !stdin_is_terminal() {
        return Err(CliError::Usage(format!(
            "{command} needs a password and stdin is not a terminal; pass --password-stdin and pipe it in"
        ))
        .into());
    }
    ask_password("Password".to_owned(), new).await
}

fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(CliError::Usage("--password-stdin read an empty line".to_owned()).into());
    }
    Ok(password.to_owned())
}

/// A hidden password prompt on the terminal. A `new` password (when
/// registering) is asked twice and must have an acceptable length; an
/// existing one is sent as typed, since demo accounts may predate the rule.
pub(crate) async fn ask_password(prompt: String, new: bool) -> Result<String> {
    blocking(move || {
        let password = if new {
            password::ask(&prompt, Some(("Repeat password", "The passwords do not match")), check_new_password)
        } else {
            password::ask(&prompt, None, |_| Ok(()))
        };
        password.context("no password entered")
    })
    .await
}

fn check_new_password(password: &str) -> Result<(), String> {
    if PASSWORD_BYTES.contains(&password.len()) {
        Ok(())
    } else {
        Err(format!("a password has {} to {} bytes", PASSWORD_BYTES.start(), PASSWORD_BYTES.end()))
    }
}

/// Runs a blocking prompt off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(prompt: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(prompt).await.map_err(|error| anyhow!("the prompt failed: {error}"))?
}

/// Logs in and saves the token. Returns it and where it was saved.
pub(crate) async fn log_in(
    rest: &RestClient,
    store: &TokenStore,
    username: &str,
    password: &str,
) -> Result<(SavedToken, PathBuf)> {
    let answer = rest.login(username, password).await.with_context(|| format!("logging in as {username}"))?;
    let saved = SavedToken {
        server: rest.server().to_string(),
        username: answer.username,
        role: answer.role,
        token: answer.token,
        expires_at: answer.expires_at,
    };
    let path = store.save(rest.server(), &saved)?;
    Ok((saved, path))
}

/// For `chat`: `--token`, or `--username` with a password prompt, or a menu.
pub(crate) async fn for_chat(
    rest: &RestClient,
    store: &TokenStore,
    username: Option<UserName>,
    token: Option<String>,
) -> Result<Credentials> {
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        return Ok(Credentials::from_token(token));
    }
    if !stdin_is_terminal() {
        return Err(CliError::Usage(
            "chat asks how to log in, but stdin is not a terminal; pass --token (or set CHAT_TOKEN)".to_owned(),
        )
        .into());
    }
    if let Some(username) = username {
        return log_in_interactively(rest, store, Some(username.to_string())).await;
    }
    loop {
        match menu(rest, store).await {
            Ok(credentials) => return Ok(credentials),
            // A refusal (wrong password, name taken) goes back to the menu.
            Err(error) if error.chain().any(|cause| cause.downcast_ref::<RestError>().is_some_and(is_retryable)) => {
                eprintln!("{}", super::render::Painter::for_stderr().error(&format!("{error:#}")));
            }
            Err(error) => return Err(error),
        }
    }
}

fn is_retryable(error: &RestError) -> bool {
    matches!(error, RestError::InvalidCredentials { .. } | RestError::UsernameTaken { .. } | RestError::Invalid { .. })
}

async fn menu(rest: &RestClient, store: &TokenStore) -> Result<Credentials> {
    const LOGIN: &str = "Login with username/password";
    const PASTE: &str = "Use existing token (paste)";
    const REGISTER: &str = "Register a new account";
    let saved = store.load(rest.server()).unwrap_or(None).filter(|s| !s.is_expired_at(now()));
    let mut items = vec![LOGIN.to_owned(), PASTE.to_owned()];
    if let Some(saved) = &saved {
        items.push(format!("Use saved token ({})", saved.username));
    }
    items.push(REGISTER.to_owned());
    let default = if saved.is_some() { 2 } else { 0 };
    let server = rest.server().to_string();
    let chosen = blocking(move || {
        dialoguer::Select::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt(format!("Connect to {server}"))
            .items(&items)
            .default(default)
            .interact()
            .map(|index| items[index].clone())
            .context("nothing chosen")
    })
    .await?;
    match chosen.as_str() {
        LOGIN => log_in_interactively(rest, store, None).await,
        PASTE => {
            let token = blocking(|| password::ask("Token", None, |_| Ok(())).context("no token entered")).await?;
            Ok(Credentials::from_token(token))
        }
        REGISTER => register_interactively(rest, store).await,
        _ => saved.map(Credentials::from_saved).context("the saved token disappeared"),
    }
}

async fn ask_username(prompt: &'static str, initial: Option<String>) -> Result<String> {
    blocking(move || {
        let theme = dialoguer::theme::ColorfulTheme::default();
        let mut input = dialoguer::Input::<String>::with_theme(&theme)
            .with_prompt(prompt)
            .validate_with(|name: &String| UserName::parse(name.trim()).map(|_| ()).map_err(|e| e.to_string()));
        if let Some(initial) = initial {
            input = input.with_initial_text(initial);
        }
        input.interact_text().map(|name| name.trim().to_owned()).context("no username entered")
    })
    .await
}

/// Asks for the password (and the username unless given), logs in, saves.
pub(crate) async fn log_in_interactively(
    rest: &RestClient,
    store: &TokenStore,
    username: Option<String>,
) -> Result<Credentials> {
    let username = match username {
        Some(name) => name,
        None => ask_username("Username", None).await?,
    };
    let password = ask_password(format!("Password for {username}"), false).await?;
    let (saved, path) = log_in(rest, store, &username, &password).await?;
    eprintln!("Logged in as {}; token saved to {}", saved.username, path.display());
    Ok(Credentials::from_saved(saved))
}

async fn register_interactively(rest: &RestClient, store: &TokenStore) -> Result<Credentials> {
    let username = ask_username("New username", None).await?;
    let display_name = blocking(|| {
        dialoguer::Input::<String>::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt("Display name (optional)")
            .allow_empty(true)
            .interact_text()
            .context("no display name entered")
    })
    .await?;
    let display_name = Some(display_name.trim().to_owned()).filter(|d| !d.is_empty());
    let password = ask_password("Password".to_owned(), true).await?;
    let account = rest
        .register(&username, &password, display_name.as_deref())
        .await
        .with_context(|| format!("registering {username}"))?;
    eprintln!("Registered {} (user id {}).", account.username, account.user_id);
    let (saved, path) = log_in(rest, store, &username, &password).await?;
    eprintln!("Logged in; token saved to {}", path.display());
    Ok(Credentials::from_saved(saved))
}
