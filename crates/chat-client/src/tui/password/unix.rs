//! The terminal modes and the raw read behind the Unix prompts.

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
