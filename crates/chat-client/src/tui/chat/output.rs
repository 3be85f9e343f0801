//! Where the chat's output goes: above the input line while one is being
//! edited (rustyline's external printer), printed by a thread of its own.
//!
//! rustyline's printer hands each line to the running `readline`, which
//! draws it, and holds at most one line meanwhile: printing another waits
//! until `readline` has taken the first. A line printed just as a
//! `readline` ends (the terminal still raw, nobody left to draw it) waits
//! for the next `readline`, and the chat loop is what asks for that one.
//! Were the loop to print itself, a second line at that moment would stop
//! it for good. So the loop only queues lines, and this thread does the
//! waiting.
//!
//! The thread also waits for the [`Gate`]: it prints only while a prompt is
//! up (or once the chat is over). Between Enter and the next prompt the
//! input thread wipes the entered line by moving the cursor up; a line
//! printed in between would be wiped instead, or push the cursor off.
//!
//! The status row (who is typing) is the first row of the prompt (see
//! [`super::input`]); changing it asks rustyline for a repaint, in order
//! with the lines.

use std::{
    sync::{
        Arc,
        mpsc::{self, Receiver, Sender},
    },
    thread,
    time::Duration,
};

use anyhow::{Context, Result};
use parking_lot::{Condvar, Mutex};
use rustyline::ExternalPrinter;

use super::input::Status;

/// How long leaving waits for queued lines to be printed. A line stuck
/// behind a `readline` that will never run again is given up.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

pub(crate) type Printer = Box<dyn ExternalPrinter + Send>;

/// Asks rustyline to redraw the prompt (and so the status row) without
/// printing anything: the printer clears the prompt, and this moves up a
/// row and back down (rustyline adds no newline to text ending in one).
const REPAINT: &str = "\x1b[1A\n";

/// Whether the output thread may print: open while a prompt is up.
///
/// It opens when rustyline draws the prompt, not when `readline` is
/// called: rustyline's printer writes straight to the terminal until the
/// terminal is in raw mode, and a line written that way would overtake one
/// still waiting in rustyline's queue. It closes when Enter is pressed,
/// still inside `readline`, and stays closed until the next prompt.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    /// Enter was pressed: repaints until `readline` returns do not reopen.
    entered: bool,
    /// The chat is over: print whatever is left, prompt or not.
    over: bool,
}

impl Gate {
    /// A `readline` is about to start (the gate opens when it draws).
    pub(crate) fn new_line(&self) {
        self.0.0.lock().entered = false;
    }

    /// The prompt was drawn: rustyline owns the terminal, in raw mode.
    pub(crate) fn prompt_drawn(&self) {
        let mut state = self.0.0.lock();
        if !state.entered && !state.open {
            state.open = true;
            self.0.1.notify_all();
        }
    }

    /// Enter was pressed.
    pub(crate) fn entered(&self) {
        let mut state = self.0.0.lock();
        state.entered = true;
        state.open = false;
    }

    /// `readline` returned.
    pub(crate) fn close(&self) {
        self.0.0.lock().open = false;
    }

    /// Opens for a test, as a drawn prompt would.
    #[cfg(test)]
    fn open(&self) {
        self.prompt_drawn();
    }

    fn end(&self) {
        self.0.0.lock().over = true;
        self.0.1.notify_all();
    }

    fn wait_open(&self) {
        let mut state = self.0.0.lock();
        while !state.open && !state.over {
            self.0.1.wait(&mut state);
        }
    }
}

/// What the printer thread is asked to do.
#[derive(Debug)]
enum Entry {
    Line(String),
    Repaint,
}

/// The chat loop's end of the printer thread.
#[derive(Debug)]
pub(crate) struct Output {
    lines: Option<Sender<Entry>>,
    /// Disconnected once the thread has printed everything and ended.
    finished: Receiver<()>,
    status: Status,
    gate: Gate,
    /// Whether there is a status row to draw on (a terminal).
    has_status_row: bool,
}

impl Output {
    /// Starts the printer thread; without an external printer (no
    /// terminal) it prints plainly.
    pub(super) fn start(printer: Option<Printer>, status: Status, gate: Gate) -> Result<Self> {
        let has_status_row = printer.is_some();
        if !has_status_row {
            // Nothing to protect: print as soon as a line comes.
            gate.end();
        }
        let (lines, queued) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let thread_gate = gate.clone();
        thread::Builder::new()
            .name("output".to_owned())
            .spawn(move || print_all(&queued, printer, &thread_gate, finished_tx))
            .context("cannot start the output thread")?;
        Ok(Self { lines: Some(lines), finished, status, gate, has_status_row })
    }

    /// Queues one (possibly multi-line) entry; never waits.
    pub(crate) fn line(&mut self, text: impl Into<String>) {
        self.send(Entry::Line(text.into()));
    }

    /// Shows `text` on the status row (empty clears it). Without a terminal
    /// there is no status row and nothing is shown.
    pub(crate) fn status(&mut self, text: &str) {
        if !self.has_status_row {
            return;
        }
        {
            let mut status = self.status.lock();
            if *status == text {
                return;
            }
            text.clone_into(&mut status);
        }
        self.send(Entry::Repaint);
    }

    fn send(&mut self, entry: Entry) {
        if let Some(lines) = &self.lines {
            // Only fails once the thread is gone, and then nothing prints.
            lines.send(entry).ok();
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.status.lock().clear();
        drop(self.lines.take());
        self.gate.end();
        // Err(Disconnected) as soon as the thread has ended.
        let _ = self.finished.recv_timeout(FLUSH_WAIT);
    }
}

fn print_all(queued: &Receiver<Entry>, mut printer: Option<Printer>, gate: &Gate, _finished: Sender<()>) {
    for entry in queued {
        gate.wait_open();
        let text = match entry {
            Entry::Line(text) => format!("{text}\n"),
            Entry::Repaint if printer.is_some() => REPAINT.to_owned(),
            Entry::Repaint => continue,
        };
        if let Some(external) = &mut printer {
            match external.print(text.clone()) {
                Ok(()) => continue,
                Err(error) => {
                    // Plain printing from now on, this line included.
                    tracing::debug!(%error, "external printer failed");
                    printer = None;
                }
            }
        }
        if text != REPAINT {
            print!("{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records what it is given, and can be made to hold every line until
    /// released, as rustyline's printer does when no `readline` runs.
    #[derive(Clone, Default)]
    struct Recorder {
        printed: Arc<Mutex<Vec<String>>>,
        gate: Arc<Mutex<()>>,
    }

    impl ExternalPrinter for Recorder {
        fn print(&mut self, msg: String) -> rustyline::Result<()> {
            let _open = self.gate.lock().unwrap();
            self.printed.lock().unwrap().push(msg);
            Ok(())
        }
    }

    #[test]
    fn queuing_never_waits_for_a_blocked_printer_and_order_is_kept() {
        let recorder = Recorder::default();
        let closed = recorder.gate.lock().unwrap();
        let gate = Gate::default();
        gate.open();
        let mut output = Output::start(Some(Box::new(recorder.clone())), Status::default(), gate).unwrap();
        // The printer is stuck; the loop can still queue as much as it likes.
        for i in 0..100 {
            output.line(format!("line {i}"));
        }
        drop(closed);
        drop(output);
        let printed = recorder.printed.lock().unwrap().clone();
        let expected: Vec<String> = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(printed, expected);
    }

    #[test]
    fn lines_wait_for_the_prompt_and_status_changes_repaint_in_order() {
        let recorder = Recorder::default();
        let gate = Gate::default();
        let status = Status::default();
        let mut output = Output::start(Some(Box::new(recorder.clone())), status.clone(), gate.clone()).unwrap();
        output.line("before the prompt");
        output.status("bob is typing…");
        output.status("bob is typing…");
        std::thread::sleep(Duration::from_millis(50));
        assert!(recorder.printed.lock().unwrap().is_empty(), "printed while no prompt was up");
        assert_eq!(*status.lock(), "bob is typing…");
        gate.open();
        output.status("");
        drop(output);
        let printed = recorder.printed.lock().unwrap().clone();
        assert_eq!(printed, ["before the prompt\n", REPAINT, REPAINT]);
    }
}
