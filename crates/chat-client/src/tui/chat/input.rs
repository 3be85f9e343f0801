//! The input line. rustyline blocks while it reads, so it runs on its own
//! thread and talks to the async chat loop over channels:
//!
//! - the loop asks for one line (or one hidden password) at a time, so the
//!   answer to a command is printed before the next prompt appears;
//! - every key press in a message (not in a `/command`) is reported, for the
//!   typing indicator;
//! - output goes through rustyline's external printer, which prints above
//!   the input line and redraws the half-typed line below it, so incoming
//!   messages never garble what is being typed (see [`super::output`]);
//! - on a terminal the prompt has two rows: a status row (who is typing),
//!   redrawn with every repaint and never left in the scrollback, and the
//!   input row;
//! - Tab completes commands, usernames and room names (see
//!   [`super::completion`]);
//! - an entered message is wiped from the screen at once: the server's echo
//!   prints it (with its time and in order with everyone else's), so it is
//!   shown once. Commands stay, as typed, without the status row.

use std::{
    borrow::Cow,
    io::{IsTerminal, Write},
    sync::{Arc, mpsc as std_mpsc},
    thread,
};

use anyhow::{Context, Result, anyhow};
use parking_lot::Mutex;
use rustyline::{
    Cmd, ColorMode, CompletionType, ConditionalEventHandler, Config, Context as LineContext, Editor, Event,
    EventContext, EventHandler, KeyCode, KeyEvent, Modifiers, RepeatCount, completion::Completer, error::ReadlineError,
    highlight::Highlighter, hint::Hinter, history::DefaultHistory, validate::Validator,
};
use tokio::sync::mpsc;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{
    completion::Vocabulary,
    output::{Gate, Output, Printer},
};

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

/// Closes the output gate the moment Enter is pressed, while rustyline
/// still owns the terminal: from then on the output thread holds its lines
/// until the next prompt, so none lands between the entered line and the
/// wiping of it.
struct EnterHook {
    gate: Gate,
}

impl ConditionalEventHandler for EnterHook {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, _: &EventContext<'_>) -> Option<Cmd> {
        self.gate.entered();
        None
    }
}

/// The text of the status row, shared with the chat loop's [`Output`].
pub(crate) type Status = Arc<Mutex<String>>;

/// Draws the status row as the first row of the prompt. rustyline repaints
/// the prompt after every line printed above it, so the row always shows
/// the current status and is never left behind in the scrollback.
///
/// Drawing the prompt also tells the output thread that rustyline now owns
/// the terminal (see [`Gate`]).
struct StatusRow {
    status: Status,
    gate: Gate,
    vocabulary: Vocabulary,
}

impl Highlighter for StatusRow {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _default: bool) -> Cow<'b, str> {
        self.gate.prompt_drawn();
        let status = self.status.lock().clone();
        if status.is_empty() {
            return Cow::Borrowed(prompt);
        }
        // One row exactly: a wrapped status would push the input row down
        // without rustyline knowing.
        let room = terminal_columns().saturating_sub(1);
        let mut shown = String::new();
        let mut width = 0;
        for c in status.chars() {
            width += c.width().unwrap_or(0);
            if width > room {
                break;
            }
            shown.push(c);
        }
        Cow::Owned(format!("{shown}{prompt}"))
    }
}

impl Completer for StatusRow {
    type Candidate = String;

    fn complete(&self, line: &str, pos: usize, _: &LineContext<'_>) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.vocabulary.complete(line, pos))
    }
}

impl Hinter for StatusRow {
    type Hint = String;
}

impl Validator for StatusRow {}

impl rustyline::Helper for StatusRow {}

fn terminal_columns() -> usize {
    rustix::termios::tcgetwinsize(std::io::stdout()).map_or(80, |size| usize::from(size.ws_col).max(1))
}

/// Rows that `text` (prompt and line) took on a terminal `columns` wide,
/// counted as rustyline lays them out: a row per `\n`, and a wrap each time
/// a row is full (a full last row puts the cursor on the next one).
pub(crate) fn rows_taken(text: &str, columns: usize) -> usize {
    let columns = columns.max(1);
    text.split('\n').map(|row| row.width() / columns).sum::<usize>() + text.matches('\n').count() + 1
}

/// Whether an entered line is a message (or nothing), which the server's
/// echo will show, rather than a command, which is kept on screen.
pub(crate) fn is_echoed(line: &str) -> bool {
    let line = line.trim_start();
    !line.starts_with('/') || line.starts_with("//")
}

/// After Enter: the cursor is on the row below the prompt. Wipe the prompt
/// (status row included) and the line, and put a command back as typed.
fn wipe_entered(prompt: &str, line: &str) {
    let rows = rows_taken(&format!("{prompt}{line}"), terminal_columns());
    let mut out = std::io::stdout().lock();
    let mut text = format!("\x1b[{rows}A\r\x1b[J");
    if !is_echoed(line) {
        text.push_str(prompt.trim_start_matches('\n'));
        text.push_str(line);
        text.push('\n');
    }
    // A failure leaves the line on screen, which is harmless.
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).ok();
}

/// Whether typing `key` into `line` is typing a message rather than a
/// command. (The hook runs before the key is applied; appending is close
/// enough to tell `/cmd` from `//text`.)
pub(crate) fn is_message_typing(line: &str, key: char) -> bool {
    let would_be = format!("{line}{key}");
    !would_be.starts_with('/') || would_be.starts_with("//")
}

/// Starts the input thread.
pub(crate) fn start(vocabulary: Vocabulary) -> Result<(Input, Output)> {
    let (requests, requests_rx) = std_mpsc::channel();
    // Lines and passwords wait for the next request, so at most a couple are
    // ever queued; key presses beyond the capacity are dropped.
    let (replies_tx, replies) = mpsc::channel(64);
    let (printer_tx, printer_rx) = std_mpsc::sync_channel(1);
    let status = Status::default();
    let gate = Gate::default();
    let (thread_status, thread_gate) = (status.clone(), gate.clone());
    thread::Builder::new()
        .name("input".to_owned())
        .spawn(move || {
            run(requests_rx, replies_tx, printer_tx, StatusRow { status: thread_status, gate: thread_gate, vocabulary })
        })
        .context("cannot start the input thread")?;
    let printer = printer_rx.recv().context("the input thread failed to start")??;
    Ok((Input { requests, replies }, Output::start(printer, status, gate)?))
}

type PrinterSetup = Result<Option<Printer>>;

fn run(
    requests: std_mpsc::Receiver<Request>,
    replies: mpsc::Sender<FromInput>,
    printer: std_mpsc::SyncSender<PrinterSetup>,
    helper: StatusRow,
) {
    let gate = helper.gate.clone();
    // Only a terminal has a screen to manage; piped input is read as is.
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // The status row is drawn by the prompt "highlighter", which rustyline
    // only calls with colours on; the row itself has no colours, so
    // NO_COLOR is still honoured.
    let color = if terminal { ColorMode::Forced } else { ColorMode::Disabled };
    // A list of candidates, as a shell shows them, rather than cycling
    // through names one Tab at a time.
    let config = Config::builder()
        .auto_add_history(true)
        .max_history_size(1000)
        .map(|b| b.color_mode(color).completion_type(CompletionType::List).build());
    let editor = config.and_then(Editor::<StatusRow, DefaultHistory>::with_config);
    let mut editor = match editor {
        Ok(editor) => editor,
        Err(error) => {
            printer.send(Err(anyhow!("cannot set up the input line: {error}"))).ok();
            return;
        }
    };
    editor.set_helper(Some(helper));
    editor.bind_sequence(Event::Any, EventHandler::Conditional(Box::new(TypingHook { replies: replies.clone() })));
    for enter in [KeyEvent(KeyCode::Enter, Modifiers::NONE), KeyEvent::ctrl('J'), KeyEvent::ctrl('M')] {
        editor.bind_sequence(enter, EventHandler::Conditional(Box::new(EnterHook { gate: gate.clone() })));
    }
    // Without a terminal (input piped in) there is no line to protect and
    // output is printed as is.
    let external = editor.create_external_printer().ok().map(|p| Box::new(p) as Printer);
    let managed = terminal && external.is_some();
    if printer.send(Ok(external)).is_err() {
        return;
    }
    while let Ok(request) = requests.recv() {
        let reply = match request {
            Request::ReadLine { prompt } => {
                let prompt = if managed { format!("\n{prompt}") } else { prompt };
                gate.new_line();
                let read = editor.readline(&prompt);
                gate.close();
                match read {
                    Ok(line) => {
                        if managed {
                            wipe_entered(&prompt, &line);
                        }
                        FromInput::Line(line)
                    }
                    Err(ReadlineError::Interrupted | ReadlineError::Eof) => FromInput::Closed,
                    Err(error) => FromInput::Failed(error.to_string()),
                }
            }
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
    fn rows_are_counted_as_the_terminal_wraps_them() {
        // The status row, then the prompt and line.
        assert_eq!(rows_taken("\n#general> hi", 80), 2);
        assert_eq!(rows_taken("#g> hi", 80), 1);
        // A row filled exactly puts the cursor on the next one.
        assert_eq!(rows_taken(&"x".repeat(80), 80), 2);
        assert_eq!(rows_taken(&"x".repeat(79), 80), 1);
        assert_eq!(rows_taken(&"x".repeat(170), 80), 3);
        // Pasted lines, and wide characters.
        assert_eq!(rows_taken("\n#g> one\ntwo", 80), 3);
        assert_eq!(rows_taken(&"猫".repeat(40), 80), 2);
    }

    #[test]
    fn messages_are_echoed_and_commands_are_not() {
        assert!(is_echoed("hello"));
        assert!(is_echoed(""));
        assert!(is_echoed("//not a command"));
        assert!(!is_echoed("/join rust"));
    }

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
