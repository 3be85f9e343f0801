//! Ban expiry.

use chat_api::Timestamp;

use crate::store::BanRecord;

/// Longest timed ban; anything longer should be a permanent ban.
pub(crate) const MAX_BAN_SECONDS: u64 = 100 * 365 * 24 * 60 * 60;

/// Whether `ban` still applies at `now`.
pub(crate) fn is_in_force(ban: &BanRecord, now: Timestamp) -> bool {
    ban.expires_at.is_none_or(|until| until > now)
}

/// When a ban of `duration_seconds` starting at `now` ends; `None` for a
/// permanent ban. Errors on a zero or absurd duration.
pub(crate) fn expiry(now: Timestamp, duration_seconds: Option<u64>) -> Result<Option<Timestamp>, String> {
    let Some(seconds) = duration_seconds else { return Ok(None) };
    if seconds == 0 || seconds > MAX_BAN_SECONDS {
        return Err(format!("duration_seconds must be between 1 and {MAX_BAN_SECONDS}; omit it for a permanent ban"));
    }
    let millis = i64::try_from(seconds).unwrap_or(i64::MAX).saturating_mul(1000);
    Ok(Some(Timestamp::from_unix_millis(now.unix_millis().saturating_add(millis))))
}

/// The human phrase for a ban's end, used in refusals.
pub(crate) fn describe(ban: &BanRecord) -> String {
    match ban.expires_at {
        Some(until) => format!("banned until {until}"),
        None => "banned permanently".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn timed_bans_end_and_permanent_ones_do_not() {
        let timed = BanRecord { reason: String::new(), expires_at: Some(at(10_000)) };
        let forever = BanRecord { reason: String::new(), expires_at: None };
        let table = [(&timed, 9_999, true), (&timed, 10_000, false), (&forever, i64::MAX / 2, true)];
        for (ban, now, expected) in table {
            assert_eq!(is_in_force(ban, at(now)), expected, "{ban:?} at {now}");
        }
    }

    #[test]
    fn expiry_adds_the_duration() {
        assert_eq!(expiry(at(1_000), Some(60)), Ok(Some(at(61_000))));
        assert_eq!(expiry(at(1_000), None), Ok(None));
        assert!(expiry(at(0), Some(0)).is_err());
        assert!(expiry(at(0), Some(u64::MAX)).is_err());
    }
}
