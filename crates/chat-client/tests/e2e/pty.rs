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

/// Rows and columns of the pseudo terminals whose screen is checked: tall
/// enough that a scenario never scrolls off it.
const SCREEN: (u16, u16) = (100, 120);

/// A client in a pty, with what it printed rendered on a screen the way a
/// terminal would: cursor moves, erased rows and all. Tests of what a
/// person sees (a line shown once, a status row that is redrawn rather
/// than repeated) read this rather than the raw bytes.
pub(crate) struct Screen {
    pub(crate) terminal: Terminal,
    parser: vt100::Parser<Bells>,
    who: &'static str,
}

/// Counts the terminal bells the client rang.
#[derive(Debug, Default)]
pub(crate) struct Bells(usize);

impl vt100::Callbacks for Bells {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.0 += 1;
    }
}

impl Screen {
    pub(crate) fn spawn(cli: &Cli, args: &[&str], who: &'static str) -> Self {
        let mut terminal = spawn(cli, args);
        terminal.get_process_mut().set_window_size(SCREEN.1, SCREEN.0).expect("window size");
        Self { terminal, parser: vt100::Parser::new_with_callbacks(SCREEN.0, SCREEN.1, 0, Bells::default()), who }
    }

    /// How many times the client rang the bell so far.
    pub(crate) fn bells(&self) -> usize {
        self.parser.callbacks().0
    }

    pub(crate) fn send(&mut self, text: &str) {
        self.terminal.send(text).expect("typing into the pty");
    }

    /// The screen's text, trailing blank rows left out.
    pub(crate) fn text(&self) -> String {
        self.parser.screen().contents().trim_end().to_owned()
    }

    /// Reads what the client prints until `ready` holds for the screen;
    /// returns the screen. Panics with the screen after [`WAIT`].
    #[track_caller]
    pub(crate) fn wait_for(&mut self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_until(what, |text, _| ready(text))
    }

    /// Like [`Screen::wait_for`], with the number of bells rung so far.
    #[track_caller]
    pub(crate) fn wait_until(&mut self, what: &str, ready: impl Fn(&str, usize) -> bool) -> String {
        let deadline = std::time::Instant::now() + WAIT;
        let mut chunk = [0u8; 4096];
        loop {
            let text = self.text();
            if ready(&text, self.bells()) {
                return text;
            }
            assert!(std::time::Instant::now() < deadline, "{} never showed {what}; the screen:\n{text}", self.who);
            match self.terminal.try_read(&mut chunk) {
                Ok(0) => panic!("{} exited before showing {what}; the screen:\n{text}", self.who),
                Ok(read) => self.parser.process(&chunk[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => panic!("{} could not be read ({error}); the screen:\n{text}", self.who),
            }
        }
    }
}

/// The row just above the last prompt on `screen` (the status row), if any.
pub(crate) fn status_row<'s>(screen: &'s str, prompt: &str) -> Option<&'s str> {
    let rows: Vec<&str> = screen.lines().collect();
    let at = rows.iter().rposition(|row| row.starts_with(prompt))?;
    at.checked_sub(1).map(|above| rows[above].trim_end())
}
