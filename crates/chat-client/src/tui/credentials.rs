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
    /// When the token expires (Unix seconds), when saved with it.
    pub(crate) expires_at: Option<i64>,
}

impl Credentials {
    /// A token given as is; its claims may name the user.
    pub(crate) fn from_token(token: String) -> Self {
        let token = token.trim().to_owned();
        let username = TokenClaims::read(&token).username;
        Self { token, username, role: None, expires_at: None }
    }

    fn from_saved(saved: SavedToken) -> Self {
        Self {
            token: saved.token,
            username: Some(saved.username),
            role: Some(saved.role),
            expires_at: Some(saved.expires_at),
        }
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
/// token of `--user` (or `CHAT_USER`), else the only account saved for the
/// server. Never asks, and never guesses between several accounts.
pub(crate) fn token_for_script(
    server: &ServerUrl,
    token: Option<String>,
    user: Option<&UserName>,
    store: &TokenStore,
) -> Result<Credentials> {
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        let credentials = Credentials::from_token(token);
        if let (Some(wanted), Some(holder)) = (user, &credentials.username)
            && wanted.key() != holder.key()
        {
            return Err(CliError::Usage(format!("the given token is {holder}'s, not {wanted}'s")).into());
        }
        return Ok(credentials);
    }
    let saved = pick_account(server, store.accounts(server)?, user, now())?;
    Ok(Credentials::from_saved(saved))
}

/// The saved account `user` (or the only one) of `server`, expired or not:
/// for `logout`, which must be able to remove a stale token.
pub(crate) fn pick_saved(server: &ServerUrl, user: Option<&UserName>, store: &TokenStore) -> Result<SavedToken> {
    Ok(pick_account(server, store.accounts(server)?, user, i64::MIN)?)
}

/// Which saved account of `server` a command acts as: `user`'s when given,
/// otherwise the only one saved. Several accounts and no `user` is an
/// error listing them, so a script never acts as somebody else because a
/// different account logged in last.
pub(crate) fn pick_account(
    server: &ServerUrl,
    accounts: Vec<SavedToken>,
    user: Option<&UserName>,
    now: i64,
) -> Result<SavedToken, CliError> {
    let chosen = match user {
        Some(user) => accounts.into_iter().find(|saved| saved.username.key() == user.key()).ok_or_else(|| {
            CliError::NotLoggedIn(format!(
                "{user} is not logged in to {server}; run `bidirectional-chat-client login --username {user}`"
            ))
        })?,
        None => {
            let mut accounts = accounts;
            match accounts.len() {
                0 => {
                    return Err(CliError::NotLoggedIn(format!(
                        "not logged in to {server}; run `bidirectional-chat-client login --username NAME` or pass --token"
                    )));
                }
                1 => accounts.remove(0),
                _ => {
                    let names: Vec<&str> = accounts.iter().map(|saved| saved.username.as_str()).collect();
                    return Err(CliError::Usage(format!(
                        "several accounts are logged in to {server} ({}); say which with --user NAME (or CHAT_USER)",
                        names.join(", ")
                    )));
                }
            }
        }
    };
    if chosen.is_expired_at(now) {
        return Err(CliError::NotLoggedIn(format!(
            "the saved token of {} for {server} has expired; run `bidirectional-chat-client login --username {}`",
            chosen.username, chosen.username
        )));
    }
    Ok(chosen)
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
/// `--user` uses that account's saved token, or asks for its password when
/// none is saved or it has expired.
pub(crate) async fn for_chat(
    rest: &RestClient,
    store: &TokenStore,
    user: Option<UserName>,
    username: Option<UserName>,
    token: Option<String>,
) -> Result<Credentials> {
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        return token_for_script(rest.server(), Some(token), user.as_ref(), store);
    }
    if let Some(user) = &user
        && username.is_none()
        && let Some(saved) = store.load(rest.server(), user)?.filter(|saved| !saved.is_expired_at(now()))
    {
        return Ok(Credentials::from_saved(saved));
    }
    let username = username.or(user);
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
    let mut saved = store.accounts(rest.server()).unwrap_or_default();
    saved.retain(|saved| !saved.is_expired_at(now()));
    let mut items = vec![LOGIN.to_owned(), PASTE.to_owned()];
    items.extend(saved.iter().map(|saved| format!("Use saved token of {} ({})", saved.username, saved.role)));
    items.push(REGISTER.to_owned());
    let default = if saved.len() == 1 { 2 } else { 0 };
    let server = rest.server().to_string();
    let chosen = blocking(move || {
        dialoguer::Select::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt(format!("Connect to {server}"))
            .items(&items)
            .default(default)
            .interact()
            .map(|index| (index, items[index].clone()))
            .context("nothing chosen")
    })
    .await?;
    match chosen {
        (_, item) if item == LOGIN => log_in_interactively(rest, store, None).await,
        (_, item) if item == PASTE => {
            let token = blocking(|| password::ask("Token", None, |_| Ok(())).context("no token entered")).await?;
            Ok(Credentials::from_token(token))
        }
        (_, item) if item == REGISTER => register_interactively(rest, store).await,
        (index, _) => {
            saved.into_iter().nth(index - 2).map(Credentials::from_saved).context("the saved token disappeared")
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000;

    fn saved(name: &str, expires_at: i64) -> SavedToken {
        SavedToken {
            server: "http://localhost:3000".into(),
            username: UserName::parse(name).unwrap(),
            role: Role::User,
            token: format!("token-of-{name}"),
            expires_at,
        }
    }

    fn pick(accounts: &[SavedToken], user: Option<&str>) -> Result<String, CliError> {
        let server = ServerUrl::parse("localhost:3000").unwrap();
        let user = user.map(|name| UserName::parse(name).unwrap());
        pick_account(&server, accounts.to_vec(), user.as_ref(), NOW).map(|saved| saved.username.to_string())
    }

    #[test]
    fn the_acting_account_is_never_a_guess() {
        let carol = saved("carol", NOW + 60);
        let admin = saved("admin", NOW + 60);
        // One account: that one, with or without --user.
        assert_eq!(pick(std::slice::from_ref(&carol), None).unwrap(), "carol");
        assert_eq!(pick(std::slice::from_ref(&carol), Some("Carol")).unwrap(), "carol");
        // Several: only with --user; the refusal lists them.
        let both = [admin, carol];
        match pick(&both, None) {
            Err(CliError::Usage(text)) => assert!(text.contains("admin, carol") && text.contains("--user"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(pick(&both, Some("carol")).unwrap(), "carol");
        assert_eq!(pick(&both, Some("admin")).unwrap(), "admin");
        // Nobody, or not the one asked for: log in first.
        assert!(
            matches!(pick(&both, Some("bob")), Err(CliError::NotLoggedIn(text)) if text.contains("login --username bob"))
        );
        assert!(matches!(pick(&[], None), Err(CliError::NotLoggedIn(_))));
        // An expired token is not used.
        assert!(
            matches!(pick(&[saved("carol", NOW)], None), Err(CliError::NotLoggedIn(text)) if text.contains("expired"))
        );
    }
}
