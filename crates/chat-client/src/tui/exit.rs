//! Errors at the edge of the binary: printed once as a chain, and mapped to
//! the exit code in one place.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else |
//! | 2 | usage: bad arguments, or a prompt was needed without a terminal |
//! | 3 | authentication: not logged in, wrong password, token refused or expired |
//! | 4 | refused by the server: name taken or invalid, forbidden, banned, kicked |
//! | 5 | rate limited |
//! | 6 | the server could not be reached, or the connection was lost |
//! | 7 | no such room (commands that only read never create one) |
//! | 130 | Ctrl-C (see `exit_on_interrupt` in the parent module) |

use std::process::ExitCode;

use chat_api::ErrorCode;
use chat_client::{CallError, ConnectError, RestError};

use super::render::Painter;

/// Failures the binary itself decides on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line or the input cannot work (e.g. a prompt is needed
    /// but stdin is not a terminal).
    #[error("{0}")]
    Usage(String),
    /// No usable token.
    #[error("{0}")]
    NotLoggedIn(String),
    /// The session ended because of the server (kicked, banned).
    #[error("{0}")]
    Removed(String),
    /// The room does not exist, and the command may not create it.
    #[error("{0}")]
    NoSuchRoom(String),
}

pub(crate) const USAGE: u8 = 2;
pub(crate) const AUTH: u8 = 3;
pub(crate) const REFUSED: u8 = 4;
pub(crate) const RATE_LIMITED: u8 = 5;
pub(crate) const UNREACHABLE: u8 = 6;
pub(crate) const NO_SUCH_ROOM: u8 = 7;

/// The exit code for an error: the first cause in the chain that has one.
pub(crate) fn code_for(error: &anyhow::Error) -> u8 {
    error.chain().find_map(code_of).unwrap_or(1)
}

fn code_of(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    if let Some(error) = cause.downcast_ref::<CliError>() {
        return Some(match error {
            CliError::Usage(_) => USAGE,
            CliError::NotLoggedIn(_) => AUTH,
            CliError::Removed(_) => REFUSED,
            CliError::NoSuchRoom(_) => NO_SUCH_ROOM,
        });
    }
    if let Some(error) = cause.downcast_ref::<RestError>() {
        return Some(match error {
            RestError::InvalidCredentials { .. } => AUTH,
            RestError::UsernameTaken { .. } | RestError::Invalid { .. } | RestError::Banned { .. } => REFUSED,
            RestError::RateLimited { .. } => RATE_LIMITED,
            RestError::Unreachable { .. } => UNREACHABLE,
            RestError::Other { .. } | RestError::BadResponse { .. } => 1,
        });
    }
    if let Some(error) = cause.downcast_ref::<ConnectError>() {
        return Some(match error {
            ConnectError::TokenRejected | ConnectError::MalformedToken => AUTH,
            ConnectError::Banned => REFUSED,
            ConnectError::Refused { .. } | ConnectError::Unreachable { .. } => UNREACHABLE,
        });
    }
    if let Some(error) = cause.downcast_ref::<CallError>() {
        return Some(match error {
            CallError::Refused { kind: Some(ErrorCode::NotAuthenticated), .. } => AUTH,
            CallError::Refused { kind: Some(ErrorCode::RateLimited), .. } => RATE_LIMITED,
            CallError::Refused { .. } => REFUSED,
            CallError::NotConnected | CallError::ConnectionLost | CallError::Timeout => UNREACHABLE,
            CallError::Protocol(_) => 1,
        });
    }
    None
}

/// Prints `error` to stderr as `error: outer: cause: root` and returns the
/// exit code.
pub(crate) fn report(error: &anyhow::Error) -> ExitCode {
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    eprintln!("{}", Painter::for_stderr().error(&chain.join(": ")));
    ExitCode::from(code_for(error))
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn the_innermost_known_cause_decides_the_code() {
        let taken =
            anyhow::Error::new(RestError::UsernameTaken { message: "taken".into() }).context("registering alice");
        assert_eq!(code_for(&taken), REFUSED);

        let expired: anyhow::Result<()> = Err(ConnectError::TokenRejected).context("connecting");
        assert_eq!(code_for(&expired.unwrap_err()), AUTH);

        let throttled = anyhow::Error::new(RestError::RateLimited { message: "slow".into(), retry_after: None });
        assert_eq!(code_for(&throttled), RATE_LIMITED);

        let forbidden = anyhow::Error::new(CallError::Refused {
            kind: Some(ErrorCode::Forbidden),
            code: -32002,
            message: "moderators only".into(),
            retry_after: None,
        });
        assert_eq!(code_for(&forbidden), REFUSED);

        assert_eq!(code_for(&anyhow::Error::new(CliError::Usage("no tty".into()))), USAGE);
        let missing = anyhow::Error::new(CliError::NoSuchRoom("no #x".into())).context("history");
        assert_eq!(code_for(&missing), NO_SUCH_ROOM);
        assert_eq!(code_for(&anyhow::anyhow!("something odd")), 1);
    }
}
