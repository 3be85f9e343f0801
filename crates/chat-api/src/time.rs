//! Timestamps on the wire: RFC 3339 strings in UTC with millisecond
//! precision, e.g. `"2026-11-21T09:30:00.125Z"`.

use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, serialized as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time, truncated to whole milliseconds (the precision the
    /// server stores).
    pub fn now() -> Self {
        Self::from_unix_millis(Utc::now().timestamp_millis())
    }

    /// Builds a timestamp from milliseconds since the Unix epoch. Values
    /// outside chrono's range clamp to the epoch.
    pub fn from_unix_millis(millis: i64) -> Self {
        Self(Utc.timestamp_millis_opt(millis).single().unwrap_or_default())
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// The underlying chrono value.
    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`: the length of every timestamp in years
/// 0 to 9999.
const RFC3339_MILLIS_LEN: usize = 24;

/// Writes the timestamp as chrono's `to_rfc3339_opts(Millis, true)` would,
/// without going through `fmt` and an allocation: every message passes
/// here on its way out. `None` for what needs chrono's general path: a
/// year outside 0..=9999 or a leap second.
fn rfc3339_millis(t: &DateTime<Utc>) -> Option<[u8; RFC3339_MILLIS_LEN]> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let millis = t.timestamp_subsec_millis();
    if millis >= 1000 {
        return None;
    }
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut value = value;
        for i in (at..at + digits).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    put(20, millis, 3);
    Some(out)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match rfc3339_millis(&self.0) {
            // The buffer holds ASCII digits and punctuation only.
            Some(text) => f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?),
            None => f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match rfc3339_millis(&self.0) {
            Some(text) => match std::str::from_utf8(&text) {
                Ok(text) => serializer.serialize_str(text),
                Err(_) => serializer.collect_str(self),
            },
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text).map(|t| Self(t.with_timezone(&Utc))).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_rfc3339_utc_with_millis() {
        let t = Timestamp::from_unix_millis(1_700_000_000_125);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.125Z");
        let json = serde_json::to_string(&t).unwrap();
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn the_direct_formatting_matches_chrono() {
        let chrono_text = |t: &Timestamp| t.0.to_rfc3339_opts(SecondsFormat::Millis, true);
        // Edges of the fast path, then a spread of instants (a fixed
        // linear congruential walk, so every run checks the same ones).
        let mut millis = vec![0, 1, 999, -1, 951_782_400_000, 253_402_300_799_999, -62_167_219_200_000];
        let mut x: i64 = 12345;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            millis.push(x.rem_euclid(4_102_444_800_000));
        }
        for m in millis {
            let t = Timestamp::from_unix_millis(m);
            let expected = chrono_text(&t);
            assert_eq!(t.to_string(), expected, "{m}");
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{expected}\""), "{m}");
        }
    }

    #[test]
    fn years_beyond_four_digits_take_chrono_s_path() {
        let t = Timestamp::from_unix_millis(253_402_300_800_000);
        assert_eq!(t.to_string(), t.0.to_rfc3339_opts(SecondsFormat::Millis, true));
        assert!(t.to_string().starts_with("+10000"));
    }
}
