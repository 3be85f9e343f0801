//! The file-descriptor budget.
//!
//! Each connection costs a descriptor. The soft open-file limit is raised to
//! the hard one at start (the default soft limit, often 1024, is far below
//! what a chat server holds), and the pending-HTTP cap is kept below the
//! limit minus a reserve, so idle or half-sent HTTP connections can never
//! take the descriptors that WebSockets, the database and `/health` need.

/// Descriptors kept out of reach of pending HTTP connections.
pub(crate) const RESERVE: usize = 256;

/// Raises the soft open-file limit to the hard one, returning the soft
/// limit now in force (`None` when unlimited or unknown).
pub(crate) fn raise_open_file_limit() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => tracing::info!(from = ?limit.current, to = ?limit.maximum, "raised the open-file limit"),
                Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
            }
        }
        getrlimit(Resource::Nofile).current.and_then(|n| usize::try_from(n).ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The pending-connection cap that fits in `open_files` with the reserve.
pub(crate) fn pending_cap(configured: usize, open_files: Option<usize>) -> usize {
    match open_files {
        Some(limit) => configured.min(limit.saturating_sub(RESERVE).max(1)),
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_connections_leave_the_reserve_free() {
        assert_eq!(pending_cap(1024, None), 1024);
        assert_eq!(pending_cap(1024, Some(100_000)), 1024);
        assert_eq!(pending_cap(1024, Some(1024)), 1024 - RESERVE);
        assert_eq!(pending_cap(1024, Some(10)), 1);
    }
}
