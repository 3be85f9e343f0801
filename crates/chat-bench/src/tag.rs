//! The stamp a bench message carries in its text, so a receiver can tell
//! who sent it, which one it was and when, without decoding the JSON:
//! `~B<step>.<sender>.<seq>.<unix ns>~` followed by `x` up to the wanted size.

use std::time::{SystemTime, UNIX_EPOCH};

use memchr::memmem;

/// What a receiver learns from a message's stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The step of the run it was sent in.
    pub(crate) step: u32,
    /// The sender's global connection index.
    pub(crate) sender: u32,
    /// The sender's sequence number (from 0, across steps).
    pub(crate) seq: u64,
    /// Wall-clock send time in Unix nanoseconds. Wall clock rather than a
    /// monotonic one because sender and receiver may be different processes.
    pub(crate) sent_ns: u64,
}

/// Unix time in nanoseconds.
pub(crate) fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// Appends the message text for `stamp`, padded with `x` to `size` bytes
/// (longer if the stamp alone is longer).
pub(crate) fn write_text(out: &mut Vec<u8>, stamp: Stamp, size: usize) {
    use std::io::Write as _;
    let start = out.len();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "~B{}.{}.{}.{}~", stamp.step, stamp.sender, stamp.seq, stamp.sent_ns);
    let written = out.len() - start;
    if written < size {
        out.resize(start + size, b'x');
    }
}

/// Finds and parses a stamp anywhere in `frame`.
#[derive(Debug)]
pub(crate) struct StampFinder {
    marker: memmem::Finder<'static>,
}

impl StampFinder {
    pub(crate) fn new() -> Self {
        Self { marker: memmem::Finder::new(b"~B") }
    }

    pub(crate) fn find(&self, frame: &[u8]) -> Option<Stamp> {
        let at = self.marker.find(frame)?;
        let mut rest = &frame[at + 2..];
        let mut fields = [0u64; 4];
        for (i, field) in fields.iter_mut().enumerate() {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || digits > 20 {
                return None;
            }
            let mut value: u64 = 0;
            for &b in &rest[..digits] {
                value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            }
            *field = value;
            let sep = if i == 3 { b'~' } else { b'.' };
            if rest.get(digits) != Some(&sep) {
                return None;
            }
            rest = &rest[digits + 1..];
        }
        Some(Stamp {
            step: u32::try_from(fields[0]).ok()?,
            sender: u32::try_from(fields[1]).ok()?,
            seq: fields[2],
            sent_ns: fields[3],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_a_notification_frame() {
        let stamp = Stamp { step: 3, sender: 17, seq: 123_456, sent_ns: 1_763_000_000_123_456_789 };
        let mut text = Vec::new();
        write_text(&mut text, stamp, 100);
        assert_eq!(text.len(), 100);
        let text = String::from_utf8(text).unwrap();
        let frame = format!(
            r#"{{"jsonrpc":"2.0","method":"message_received","params":{{"message_id":9,"room_id":"r","username":"u","text":"{text}","timestamp":"t"}}}}"#
        );
        assert_eq!(StampFinder::new().find(frame.as_bytes()), Some(stamp));
    }

    #[test]
    fn text_without_a_complete_stamp_is_ignored() {
        let finder = StampFinder::new();
        assert_eq!(finder.find(b"hello"), None);
        assert_eq!(finder.find(b"~B1.2.3~"), None);
        assert_eq!(finder.find(b"~B1.2.3.x~"), None);
    }
}
