//! The hidden password prompt of `/login`, read on the input thread.
//!
//! dialoguer's prompt (through `console`) prints the prompt first and only
//! then turns echo off with `TCSAFLUSH`, which throws away everything typed
//! in between. A password typed the moment the prompt appears (a quick
//! typist, a password manager, a script; more likely on a loaded machine)
//! could vanish, leaving the prompt waiting for a line that never comes and
//! the session never reconnecting. Here, as getpass(3) does, the terminal
//! is switched first, discarding only what was typed before the prompt
//! existed, and the prompt is shown after: whatever is typed once it is
//! visible is read.

use std::io;

use dialoguer::theme::ColorfulTheme;

/// Asks for a password without echoing it. `None` when nothing was entered
/// (an empty line, or end of input).
#[cfg(unix)]
pub(crate) fn read(prompt: &str) -> io::Result<Option<String>> {
    use dialoguer::{console::Term, theme::Theme};

    let theme = ColorfulTheme::default();
    let term = Term::stderr();
    if !term.is_term() {
        return Err(io::Error::new(io::ErrorKind::NotConnected, "not a terminal"));
    }
    let mut shown = String::new();
    theme.format_password_prompt(&mut shown, prompt).map_err(io::Error::other)?;
    let line = {
        let _hidden = unix::EchoOff::start()?;
        term.write_str(&shown)?;
        term.flush()?;
        unix::read_line()?
    };
    // Enter was not echoed either: the cursor is still on the prompt's line.
    term.clear_line()?;
    let Some(password) = line.filter(|line| !line.is_empty()) else {
        return Ok(None);
    };
    let mut summary = String::new();
    theme.format_password_prompt_selection(&mut summary, prompt).map_err(io::Error::other)?;
    term.write_line(&summary)?;
    Ok(Some(password))
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

#[cfg(unix)]
mod unix {
    use std::io;

    use rustix::{
        io::Errno,
        termios::{self, LocalModes, OptionalActions, Termios},
    };

    /// Echo off (line editing on) until dropped.
    pub(super) struct EchoOff {
        original: Termios,
    }

    impl EchoOff {
        pub(super) fn start() -> io::Result<Self> {
            let stdin = io::stdin();
            let original = termios::tcgetattr(&stdin)?;
            let mut hidden = original.clone();
            hidden.local_modes.remove(LocalModes::ECHO);
            hidden.local_modes.insert(LocalModes::ICANON);
            // Flush: a line typed before the prompt appears is not taken
            // for the password.
            termios::tcsetattr(&stdin, OptionalActions::Flush, &hidden)?;
            Ok(Self { original })
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            // Drain, not flush: what is typed after Enter belongs to the
            // next line.
            termios::tcsetattr(io::stdin(), OptionalActions::Drain, &self.original).ok();
        }
    }

    /// One line from the terminal, without its line ending; `None` at end
    /// of input. Reads the descriptor directly rather than through std's
    /// buffered stdin, so nothing past the line is taken from the line
    /// editor (in canonical mode one `read` never returns more than a line).
    pub(super) fn read_line() -> io::Result<Option<String>> {
        let stdin = io::stdin();
        let mut line = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            match rustix::io::read(&stdin, &mut chunk) {
                Ok(0) if line.is_empty() => return Ok(None),
                Ok(0) => break,
                Ok(read) => {
                    line.extend_from_slice(&chunk[..read]);
                    if line.last() == Some(&b'\n') {
                        break;
                    }
                }
                // A signal, e.g. the window being resized.
                Err(Errno::INTR) => {}
                Err(error) => return Err(error.into()),
            }
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        String::from_utf8(line).map(Some).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"))
    }
}
