//! The hidden prompts: passwords (`login`, `register`, the `chat` menu and
//! `/login` inside the chat) and a pasted token (the `chat` menu).
//!
//! dialoguer's prompt (through `console`) prints the prompt first and only
//! then turns echo off with `TCSAFLUSH`, which throws away everything typed
//! in between. A password typed the moment the prompt appears (a quick
//! typist, a password manager, a script; more likely on a loaded machine)
//! could vanish, leaving the prompt waiting for a line that never comes.
//! Here, as getpass(3) does, the terminal is switched first, discarding only
//! what was typed before the prompt existed, and the prompt is shown after:
//! whatever is typed once it is visible is read. Elsewhere than on Unix,
//! dialoguer's prompt is used as it is.

use std::io;

use dialoguer::theme::ColorfulTheme;
#[cfg(unix)]
use dialoguer::{console::Term, theme::Theme};

#[cfg(unix)]
mod unix;

/// The in-chat prompt: asks once. `None` when nothing was entered (an empty
/// line, or end of input), which cancels.
#[cfg(unix)]
pub(crate) fn read(prompt: &str) -> io::Result<Option<String>> {
    let screen = Screen::start()?;
    let line = screen.line(prompt)?;
    // Enter was not echoed either: the cursor is still on the prompt's line.
    screen.term.clear_line()?;
    let password = line.filter(|line| !line.is_empty());
    if password.is_some() {
        screen.summary(prompt)?;
    }
    Ok(password)
}

/// Asks the way dialoguer's `Password` does: again after an empty line;
/// again, under `check`'s reason, when `check` refuses; with `confirmation`
/// (a prompt and the message for a mismatch), a second time, and both again
/// when the two differ. Once accepted, only `✔ prompt · ********` is left
/// on the screen. Fails at end of input.
#[cfg(unix)]
pub(crate) fn ask(
    prompt: &str,
    confirmation: Option<(&str, &str)>,
    check: impl Fn(&str) -> Result<(), String>,
) -> io::Result<String> {
    // Echo stays off throughout, so a confirmation typed ahead is not
    // discarded when its prompt appears.
    let mut screen = Screen::start()?;
    let password = loop {
        let password = screen.non_empty_line(prompt)?;
        if let Err(reason) = check(&password) {
            screen.error(&reason)?;
            continue;
        }
        let Some((again, mismatch)) = confirmation else { break password };
        if screen.non_empty_line(again)? == password {
            break password;
        }
        screen.error(mismatch)?;
    };
    screen.term.clear_last_lines(screen.lines)?;
    screen.summary(prompt)?;
    Ok(password)
}

/// The prompts' lines on stderr, with echo off while they last.
#[cfg(unix)]
struct Screen {
    term: Term,
    theme: ColorfulTheme,
    /// Lines written, so they can be cleared once a password is accepted.
    lines: usize,
    _echo_off: unix::EchoOff,
}

#[cfg(unix)]
impl Screen {
    fn start() -> io::Result<Self> {
        let term = Term::stderr();
        if !term.is_term() {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "not a terminal"));
        }
        let _echo_off = unix::EchoOff::start()?;
        Ok(Self { term, theme: ColorfulTheme::default(), lines: 0, _echo_off })
    }

    /// Shows `prompt` and reads a line; `None` at end of input.
    fn line(&self, prompt: &str) -> io::Result<Option<String>> {
        let shown = self.format(|theme, text| theme.format_password_prompt(text, prompt))?;
        self.term.write_str(&shown)?;
        self.term.flush()?;
        unix::read_line()
    }

    /// A line of its own per attempt, as dialoguer leaves them.
    fn non_empty_line(&mut self, prompt: &str) -> io::Result<String> {
        loop {
            let line = self.line(prompt)?;
            // In place of the Enter that was not echoed.
            self.write_line("")?;
            match line {
                None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of input")),
                Some(line) if !line.is_empty() => return Ok(line),
                Some(_) => {}
            }
        }
    }

    /// `✘ reason`, as dialoguer shows a validation error.
    fn error(&mut self, reason: &str) -> io::Result<()> {
        let shown = self.format(|theme, text| theme.format_error(text, reason))?;
        self.write_line(&shown)
    }

    fn summary(&self, prompt: &str) -> io::Result<()> {
        let shown = self.format(|theme, text| theme.format_password_prompt_selection(text, prompt))?;
        self.term.write_line(&shown)
    }

    fn write_line(&mut self, text: &str) -> io::Result<()> {
        self.lines += 1 + text.matches('\n').count();
        self.term.write_line(text)
    }

    fn format(
        &self,
        write: impl FnOnce(&ColorfulTheme, &mut dyn std::fmt::Write) -> std::fmt::Result,
    ) -> io::Result<String> {
        let mut text = String::new();
        write(&self.theme, &mut text).map_err(io::Error::other)?;
        Ok(text)
    }
}

/// Elsewhere, dialoguer's prompt as it is.
#[cfg(not(unix))]
pub(crate) fn read(prompt: &str) -> io::Result<Option<String>> {
    let password = dialoguer::Password::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .allow_empty_password(true)
        .interact()
        .map_err(io::Error::other)?;
    Ok(Some(password).filter(|p| !p.is_empty()))
}

/// Elsewhere, dialoguer's prompt as it is.
#[cfg(not(unix))]
pub(crate) fn ask(
    prompt: &str,
    confirmation: Option<(&str, &str)>,
    check: impl Fn(&str) -> Result<(), String>,
) -> io::Result<String> {
    let theme = ColorfulTheme::default();
    let mut input =
        dialoguer::Password::with_theme(&theme).with_prompt(prompt).validate_with(|password: &String| check(password));
    if let Some((again, mismatch)) = confirmation {
        input = input.with_confirmation(again, mismatch);
    }
    input.interact().map_err(io::Error::other)
}
