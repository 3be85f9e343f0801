//! The input line. rustyline blocks while it reads, so it runs on its own
//! thread and talks to the async chat loop over channels:
//!
//! - the loop asks for one line (or one hidden password) at a time, so the
//!   answer to a command is printed before the next prompt appears;
//! - every key press in a message (not in a `/command`) is reported, for the
//!   typing indicator;
//! - output goes through rustyline's external printer, which prints above
//!   the input line and redraws the half-typed line below it, so incoming
//!   messages never garble what is being typed (see [`super::output`]).

use std::{sync::mpsc as std_mpsc, thread};

use anyhow::{Context, Result, anyhow};
use rustyline::{
    Cmd, ConditionalEventHandler, Config, DefaultEditor, Event, EventContext, EventHandler, KeyCode, KeyEvent,
    Modifiers, RepeatCount, error::ReadlineError,
};
use tokio::sync::mpsc;

use super::output::{Output, Printer};

/// What the input thread reports.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FromInput {
    /// A line was entered.
    Line(String),
    /// A password was entered (`None`: cancelled).
    Password(Option<String>),
    /// A key was pressed while typing a message.
    Keystroke,
    /// Ctrl-C or Ctrl-D: leave.
    Closed,
    /// The terminal failed.
    Failed(String),
}

/// What the chat loop asks of the input thread.
#[derive(Debug)]
enum Request {
    ReadLine { prompt: String },
    ReadPassword { prompt: String },
}

/// The chat loop's end of the input thread.
#[derive(Debug)]
pub(crate) struct Input {
    requests: std_mpsc::Sender<Request>,
    replies: mpsc::Receiver<FromInput>,
}

impl Input {
    /// Asks for the next line.
    pub(crate) fn read_line(&self, prompt: String) -> Result<()> {
        self.requests.send(Request::ReadLine { prompt }).map_err(|_| anyhow!("the input thread has stopped"))
    }

    /// Asks for a hidden password.
    pub(crate) fn read_password(&self, prompt: String) -> Result<()> {
        self.requests.send(Request::ReadPassword { prompt }).map_err(|_| anyhow!("the input thread has stopped"))
    }

    /// The next report; `None` when the thread is gone.
    pub(crate) async fn next(&mut self) -> Option<FromInput> {
        self.replies.recv().await
    }
}

/// Reports key presses that type a message (not a command) to the loop.
struct TypingHook {
    replies: mpsc::Sender<FromInput>,
}

impl ConditionalEventHandler for TypingHook {
    fn handle(&self, event: &Event, _: RepeatCount, _: bool, context: &EventContext<'_>) -> Option<Cmd> {
        if let Some(KeyEvent(KeyCode::Char(c), modifiers)) = event.get(0)
            && (*modifiers == Modifiers::NONE || *modifiers == Modifiers::SHIFT)
            && is_message_typing(context.line(), *c)
        {
            // Dropping a report when the loop is busy is harmless: the next
            // key press reports again.
            self.replies.try_send(FromInput::Keystroke).ok();
        }
        None
    }
}

/// Whether typing `key` into `line` is typing a message rather than a
/// command. (The hook runs before the key is applied; appending is close
/// enough to tell `/cmd` from `//text`.)
pub(crate) fn is_message_typing(line: &str, key: char) -> bool {
    let would_be = format!("{line}{key}");
    !would_be.starts_with('/') || would_be.starts_with("//")
}

/// Starts the input thread.
pub(crate) fn start() -> Result<(Input, Output)> {
    let (requests, requests_rx) = std_mpsc::channel();
    // Lines and passwords wait for the next request, so at most a couple are
    // ever queued; key presses beyond the capacity are dropped.
    let (replies_tx, replies) = mpsc::channel(64);
    let (printer_tx, printer_rx) = std_mpsc::sync_channel(1);
    thread::Builder::new()
        .name("input".to_owned())
        .spawn(move || run(requests_rx, replies_tx, printer_tx))
        .context("cannot start the input thread")?;
    let printer = printer_rx.recv().context("the input thread failed to start")??;
    Ok((Input { requests, replies }, Output::start(printer)?))
}

type PrinterSetup = Result<Option<Printer>>;

fn run(
    requests: std_mpsc::Receiver<Request>,
    replies: mpsc::Sender<FromInput>,
    printer: std_mpsc::SyncSender<PrinterSetup>,
) {
    let config = Config::builder().auto_add_history(true).max_history_size(1000).map(|b| b.build());
    let editor = config.and_then(DefaultEditor::with_config);
    let mut editor = match editor {
        Ok(editor) => editor,
        Err(error) => {
            printer.send(Err(anyhow!("cannot set up the input line: {error}"))).ok();
            return;
        }
    };
    editor.bind_sequence(Event::Any, EventHandler::Conditional(Box::new(TypingHook { replies: replies.clone() })));
    // Without a terminal (input piped in) there is no line to protect and
    // output is printed as is.
    let external = editor.create_external_printer().ok().map(|p| Box::new(p) as Printer);
    if printer.send(Ok(external)).is_err() {
        return;
    }
    while let Ok(request) = requests.recv() {
        let reply = match request {
            Request::ReadLine { prompt } => match editor.readline(&prompt) {
                Ok(line) => FromInput::Line(line),
                Err(ReadlineError::Interrupted | ReadlineError::Eof) => FromInput::Closed,
                Err(error) => FromInput::Failed(error.to_string()),
            },
            Request::ReadPassword { prompt } => {
                FromInput::Password(crate::tui::password::read(&prompt).unwrap_or_else(|error| {
                    tracing::debug!(%error, "the password prompt failed");
                    None
                }))
            }
        };
        let closing = matches!(reply, FromInput::Closed | FromInput::Failed(_));
        if replies.blocking_send(reply).is_err() || closing {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_message_keys_count_as_typing() {
        assert!(is_message_typing("", 'h'));
        assert!(is_message_typing("hello", ' '));
        assert!(!is_message_typing("", '/'));
        assert!(!is_message_typing("/jo", 'i'));
        assert!(is_message_typing("//not a command", 'x'));
        assert!(is_message_typing("/", '/'));
    }
}
