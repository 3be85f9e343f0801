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

use std::{
    sync::mpsc::{self, Receiver, Sender},
    thread,
    time::Duration,
};

use anyhow::{Context, Result};
use rustyline::ExternalPrinter;

/// How long leaving waits for queued lines to be printed. A line stuck
/// behind a `readline` that will never run again is given up.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

pub(crate) type Printer = Box<dyn ExternalPrinter + Send>;

/// The chat loop's end of the printer thread.
#[derive(Debug)]
pub(crate) struct Output {
    lines: Option<Sender<String>>,
    /// Disconnected once the thread has printed everything and ended.
    finished: Receiver<()>,
}

impl Output {
    /// Starts the printer thread; without an external printer (no
    /// terminal) it prints plainly.
    pub(super) fn start(printer: Option<Printer>) -> Result<Self> {
        let (lines, queued) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        thread::Builder::new()
            .name("output".to_owned())
            .spawn(move || print_all(&queued, printer, finished_tx))
            .context("cannot start the output thread")?;
        Ok(Self { lines: Some(lines), finished })
    }

    /// Queues one (possibly multi-line) entry; never waits.
    pub(crate) fn line(&mut self, text: impl Into<String>) {
        if let Some(lines) = &self.lines {
            // Only fails once the thread is gone, and then nothing prints.
            lines.send(text.into()).ok();
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        drop(self.lines.take());
        // Err(Disconnected) as soon as the thread has ended.
        let _ = self.finished.recv_timeout(FLUSH_WAIT);
    }
}

fn print_all(queued: &Receiver<String>, mut printer: Option<Printer>, _finished: Sender<()>) {
    for text in queued {
        if let Some(external) = &mut printer {
            match external.print(format!("{text}\n")) {
                Ok(()) => continue,
                Err(error) => {
                    // Plain printing from now on, this line included.
                    tracing::debug!(%error, "external printer failed");
                    printer = None;
                }
            }
        }
        println!("{text}");
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
        let mut output = Output::start(Some(Box::new(recorder.clone()))).unwrap();
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
}
