//! Sending what is typed: every message line goes through the [`Outbox`]
//! (see there for why), and this is where it is drained.

use chat_api::{ErrorCode, MessageText};

use super::{
    Chat,
    outbox::{self, Pending, Verdict},
};

impl Chat {
    pub(super) async fn say(&mut self, text: &str) {
        let Some(room) = self.current.clone() else {
            self.out_error("you are not in a room", Some("/join <room>"));
            return;
        };
        let text = match MessageText::parse(text) {
            Ok(text) => text,
            Err(error) => return self.out_error(&format!("cannot send {}: {error}", excerpt(text)), None),
        };
        let shown = excerpt(text.as_str());
        if self.outbox.push(Pending { room, text }).is_err() {
            self.out_error(
                &format!("not sent: {} lines are already waiting to go out: {shown}", outbox::CAPACITY),
                Some("type it again once they have gone"),
            );
            return;
        }
        self.flush().await;
        if self.outbox.len() > 0 {
            // The entered line was wiped from the screen; say it is kept.
            self.out_notice(&format!("waiting to send ({} in line): {shown}", self.outbox.len()));
        }
    }

    /// Sends what waits, in order, until something holds it back.
    pub(super) async fn flush(&mut self) {
        while let Some(line) = self.outbox.ready(tokio::time::Instant::now()).cloned() {
            match self.session.send_message(&line.room, &line.text).await {
                Ok(sent) => {
                    self.outbox.sent();
                    self.show_own(&line.room, sent, line.text.clone(), None);
                    // The server ends the typing indicator when a message is sent.
                    self.own_typing.finished();
                    if self.me.is_none() {
                        self.sent_ids.push_back(sent.message_id);
                        if self.sent_ids.len() > 32 {
                            self.sent_ids.pop_front();
                        }
                    }
                }
                Err(error) => {
                    let verdict = outbox::verdict(&error);
                    if self.outbox.failed(verdict, tokio::time::Instant::now()) {
                        self.out_call_error(&format!("not sent: {}", excerpt(line.text.as_str())), &error);
                        continue;
                    }
                    let why = match verdict {
                        Verdict::Retry(_) => {
                            "sending too fast; waiting lines go out in order as the server allows".to_owned()
                        }
                        _ if error.is(ErrorCode::NotAuthenticated) => {
                            "your session expired: type /login; waiting lines are sent after it".to_owned()
                        }
                        _ => "not connected; waiting lines are sent once the connection is back".to_owned(),
                    };
                    // Once per wait: a paste paced by the rate limit would
                    // otherwise say it once per line.
                    if !self.told_why_waiting {
                        self.told_why_waiting = true;
                        self.out_notice(&why);
                    }
                    return;
                }
            }
        }
        if self.outbox.len() == 0 {
            self.told_why_waiting = false;
        }
    }
}

/// A message as quoted in a notice: its first line, shortened.
pub(super) fn excerpt(text: &str) -> String {
    const MOST: usize = 60;
    let first = text.lines().next().unwrap_or_default();
    let mut shown: String = first.chars().take(MOST).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}
