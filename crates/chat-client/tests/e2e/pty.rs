//! The client in a pseudo terminal, driven the way a person would.

use expectrl::{Eof, Expect, Session, session::OsSession};

use crate::support::{Cli, WAIT};

pub(crate) type Terminal = OsSession;

/// Starts the client with `args` in a pty.
pub(crate) fn spawn(cli: &Cli, args: &[&str]) -> Terminal {
    let mut command = cli.command();
    command.args(args).env("TERM", "xterm");
    let mut terminal = Session::spawn(command).expect("the client starts in a pty");
    terminal.set_expect_timeout(Some(WAIT));
    terminal.get_process_mut().set_window_size(120, 40).expect("window size");
    terminal
}

/// Waits for `text`; returns everything shown up to and including it.
#[track_caller]
pub(crate) fn expect(terminal: &mut Terminal, who: &str, text: &str) -> String {
    match terminal.expect(text) {
        Ok(found) => String::from_utf8_lossy(found.as_bytes()).into_owned(),
        Err(error) => {
            let unread = unread(terminal);
            panic!("{who} never showed {text:?}: {error}; shown since the last match: {unread:?}")
        }
    }
}

/// Waits for the client to exit (its end of the pty closes).
#[track_caller]
pub(crate) fn expect_exit(terminal: &mut Terminal, who: &str) {
    if let Err(error) = terminal.expect(Eof) {
        let unread = unread(terminal);
        panic!("{who} did not exit: {error}; shown since the last match: {unread:?}")
    }
}

/// What the terminal printed that no `expect` has consumed, so a failure
/// says what was on the screen instead.
fn unread(terminal: &mut Terminal) -> String {
    let mut shown = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(read @ 1..) = terminal.try_read(&mut chunk) {
        shown.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&shown).into_owned()
}
