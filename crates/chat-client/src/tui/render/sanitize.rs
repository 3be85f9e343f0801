//! Making text from the network safe to print.
//!
//! Names, messages, reasons and announcements come from other people. Printed
//! raw, an escape sequence could repaint the screen, move the cursor over
//! earlier lines, set the window title or fake a message from someone else,
//! and a bidirectional override could make text read differently from what
//! it is. Every such character is replaced by a visible stand-in:
//! C0 controls by their Control Pictures symbol (ESC shows as `␛`), DEL by
//! `␡`, and C1 controls, bidi controls and line/paragraph separators by
//! `�`. Line feeds are kept only where the caller asks for multi-line text.

use std::borrow::Cow;

/// Whether `c` must never reach the terminal as is.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}'                  // Arabic letter mark
            | '\u{200E}' | '\u{200F}'   // left-to-right / right-to-left marks
            | '\u{202A}'..='\u{202E}'   // embeddings and overrides
            | '\u{2066}'..='\u{2069}'   // isolates
            | '\u{2028}' | '\u{2029}'   // line / paragraph separators
        )
}

fn stand_in(c: char) -> char {
    match c {
        // U+2400 CONTROL PICTURE FOR NULL onwards mirror C0 one to one.
        '\u{0}'..='\u{1F}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7F}' => '\u{2421}',
        _ => '\u{FFFD}',
    }
}

/// One line of untrusted text: every control character, the line feed
/// included, is replaced; tabs become a space.
pub(crate) fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_dangerous) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\t' => ' ',
                c if is_dangerous(c) => stand_in(c),
                c => c,
            })
            .collect(),
    )
}

/// Untrusted text that may span lines: split at line feeds (a CR LF pair
/// counts as one), each line made safe as by [`line`].
pub(crate) fn lines(text: &str) -> Vec<Cow<'_, str>> {
    text.split('\n').map(|part| line(part.strip_suffix('\r').unwrap_or(part))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        assert!(matches!(line("héllo 👋 wörld"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_cannot_reach_the_terminal() {
        let hostile = "\u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{7}\u{9b}31m";
        let safe = line(hostile);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe:?}");
        assert_eq!(safe, "␛[2J␛[H␛]0;pwned␇\u{FFFD}31m");
    }

    #[test]
    fn carriage_returns_and_backspaces_cannot_overwrite_a_line() {
        assert_eq!(line("innocent\rEVIL"), "innocent␍EVIL");
        assert_eq!(line("abc\u{8}\u{8}\u{8}xyz\u{7f}"), "abc␈␈␈xyz␡");
    }

    #[test]
    fn bidi_overrides_are_neutralised() {
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200F}',
        ] {
            let text = format!("txt.{c}exe");
            assert_eq!(line(&text), "txt.\u{FFFD}exe", "{:?}", c);
        }
    }

    #[test]
    fn multi_line_text_is_split_and_each_line_cleaned() {
        let parts = lines("one\r\ntwo\u{1b}[1A\n\tthree");
        assert_eq!(parts, ["one", "two␛[1A", " three"]);
        assert_eq!(line("a\nb"), "a␊b");
    }
}
