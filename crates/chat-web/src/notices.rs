//! Human words for what went wrong, shown in `#notice` (an ARIA alert, so
//! screen readers say it at once).

use std::time::Duration;

use chat_api::{ErrorCode, Timestamp};
use chat_client::{BanLength, CallError, EndReason};

use crate::dom;

/// Shows `text` in the notice line.
pub(crate) fn show(text: &str) {
    dom::set_text("notice", text);
}

/// Clears the notice line.
pub(crate) fn clear() {
    show("");
}

/// "rate limited: try again in 3 s".
pub(crate) fn rate_limited(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!("rate limited: try again in {} s", wait.as_millis().div_ceil(1000).max(1)),
        None => "rate limited: try again shortly".to_owned(),
    }
}

/// A refused or failed call, for people.
pub(crate) fn call_failed(error: &CallError) -> String {
    match error {
        CallError::Refused { kind: Some(ErrorCode::RateLimited), retry_after, .. } => rate_limited(*retry_after),
        CallError::NotConnected | CallError::ConnectionLost => {
            "not connected: the message was not sent; try again when reconnected".to_owned()
        }
        other => other.to_string(),
    }
}

/// Why the session ended, for people.
pub(crate) fn ended(reason: &EndReason) -> String {
    match reason {
        EndReason::Kicked { reason: Some(reason) } => format!("You were kicked: {reason}"),
        EndReason::Kicked { reason: None } => "You were kicked.".to_owned(),
        EndReason::Banned { reason, length } => {
            let how_long = match length {
                Some(BanLength::Until(until)) => format!("until {}", local_time(*until, true)),
                Some(BanLength::Permanent) => "permanently".to_owned(),
                None => String::new(),
            };
            let why = reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            format!("You are banned {how_long}{why}").replace("  ", " ")
        }
    }
}

/// A timestamp in the browser's time zone: `14:05`, or with the date.
pub(crate) fn local_time(at: Timestamp, with_date: bool) -> String {
    let local = at.as_datetime().with_timezone(&chrono::Local);
    if with_date { local.format("%Y-%m-%d %H:%M").to_string() } else { local.format("%H:%M").to_string() }
}
