//! Finding `@username` mentions in a message's text.
//!
//! A mention is `@` followed by a name, where the `@` starts the text or
//! follows a character that cannot be in a name (so `bob@example.com`
//! mentions nobody), and the name runs until a character that cannot be in
//! one, or the end. Whether the name is registered is the caller's look-up.

use chat_api::UserName;

/// Most distinct names taken from one message: each costs a look-up, and
/// each mentioned user a notification.
pub(crate) const MAX_MENTIONS: usize = 20;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The distinct valid usernames mentioned in `text`, in order of first
/// appearance, at most [`MAX_MENTIONS`].
pub(crate) fn candidates(text: &str) -> Vec<UserName> {
    let mut found: Vec<UserName> = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts_mention = c == '@' && previous.is_none_or(|p| !is_name_char(p));
        previous = Some(c);
        if !starts_mention {
            continue;
        }
        let start = at + 1;
        let mut end = start;
        while let Some(&(i, next)) = chars.peek() {
            if !is_name_char(next) {
                break;
            }
            end = i + next.len_utf8();
            previous = Some(next);
            chars.next();
        }
        if let Ok(name) = UserName::parse(&text[start..end])
            && !found.iter().any(|f| f.key() == name.key())
        {
            found.push(name);
            if found.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        candidates(text).iter().map(|n| n.as_str().to_owned()).collect()
    }

    #[test]
    fn mentions_start_at_a_boundary_and_end_at_a_non_name_character() {
        assert_eq!(names("@alice hi"), ["alice"]);
        assert_eq!(names("hi @Bob, and @carol!"), ["Bob", "carol"]);
        assert_eq!(names("mail bob@example.com"), Vec::<String>::new());
        assert_eq!(names("(@dave)"), ["dave"]);
        assert_eq!(names("@alice @ALICE @alice"), ["alice"], "one mention per user");
        assert_eq!(names("@ab @x @"), Vec::<String>::new(), "too short to be a name");
        assert_eq!(names("é@erin"), ["erin"]);
    }

    #[test]
    fn at_most_a_bounded_number_are_taken() {
        let text: String = (0..50).map(|i| format!("@user{i:02} ")).collect();
        assert_eq!(candidates(&text).len(), MAX_MENTIONS);
    }
}
