//! Tab completion: slash commands, usernames and room names.
//!
//! The chat loop keeps the [`Vocabulary`] up to date (people seen, rooms
//! known); the input thread reads it when Tab is pressed. The lock is held
//! for a copy or an insert, never across anything slow.

use std::{collections::BTreeSet, sync::Arc};

use parking_lot::Mutex;

use super::slash;

/// Commands whose first argument is a user.
const USER_ARGUMENT: &[&str] =
    &["msg", "tell", "dm", "query", "profile", "whois", "kick", "ban", "unban", "block", "unblock", "role"];
/// Commands whose first argument is a room.
const ROOM_ARGUMENT: &[&str] = &["join", "j", "switch", "s", "leave", "part", "delete-room"];

#[derive(Debug, Default)]
struct Words {
    users: BTreeSet<String>,
    rooms: BTreeSet<String>,
}

/// The names Tab can complete, shared by the chat loop and the input line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vocabulary(Arc<Mutex<Words>>);

impl Vocabulary {
    /// A user seen (in a room, writing, reacting).
    pub(crate) fn add_user(&self, user: &str) {
        let mut words = self.0.lock();
        if !words.users.contains(user) {
            words.users.insert(user.to_owned());
        }
    }

    /// A room that exists.
    pub(crate) fn add_room(&self, room: &str) {
        self.0.lock().rooms.insert(room.to_owned());
    }

    /// A room that no longer exists.
    pub(crate) fn remove_room(&self, room: &str) {
        self.0.lock().rooms.retain(|known| !known.eq_ignore_ascii_case(room));
    }

    /// Where the word under the cursor starts, and what it may become.
    pub(crate) fn complete(&self, line: &str, cursor: usize) -> (usize, Vec<String>) {
        let before = line.get(..cursor).unwrap_or(line);
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[start..];
        let words = self.0.lock();
        let candidates = match what_to_complete(before, start, word) {
            Kind::Command => slash::command_names()
                .iter()
                .filter(|name| starts_with_folded(name, &word[1..]))
                .map(|name| format!("/{name} "))
                .collect(),
            Kind::User { sigil } => matching(&words.users, word.strip_prefix('@').unwrap_or(word), sigil),
            Kind::Room { sigil } => matching(&words.rooms, word.strip_prefix('#').unwrap_or(word), sigil),
            Kind::Nothing => Vec::new(),
        };
        (start, candidates)
    }
}

enum Kind {
    Command,
    User { sigil: &'static str },
    Room { sigil: &'static str },
    Nothing,
}

fn what_to_complete(before: &str, start: usize, word: &str) -> Kind {
    if start == 0 && word.starts_with('/') && !word.starts_with("//") {
        return Kind::Command;
    }
    if word.starts_with('@') {
        return Kind::User { sigil: "@" };
    }
    if word.starts_with('#') && !word[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return Kind::Room { sigil: "#" };
    }
    if word.is_empty() {
        return Kind::Nothing;
    }
    let Some(command) = before.strip_prefix('/').filter(|rest| !rest.starts_with('/')) else {
        // A word in a message: a name, as people address each other.
        return Kind::User { sigil: "" };
    };
    let mut words = command.split_whitespace();
    let name = words.next().unwrap_or_default().to_ascii_lowercase();
    // The word being completed is the command's first argument.
    let first_argument = before[..start].split_whitespace().count() == 1;
    match name.as_str() {
        name if first_argument && USER_ARGUMENT.contains(&name) => Kind::User { sigil: "" },
        name if first_argument && ROOM_ARGUMENT.contains(&name) => Kind::Room { sigil: "" },
        _ => Kind::Nothing,
    }
}

fn starts_with_folded(candidate: &str, prefix: &str) -> bool {
    candidate.len() >= prefix.len()
        && candidate.is_char_boundary(prefix.len())
        && candidate[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn matching(known: &BTreeSet<String>, prefix: &str, sigil: &str) -> Vec<String> {
    known.iter().filter(|name| starts_with_folded(name, prefix)).map(|name| format!("{sigil}{name}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        let words = Vocabulary::default();
        for user in ["alice", "bob", "Bobby"] {
            words.add_user(user);
        }
        for room in ["general", "rust", "random"] {
            words.add_room(room);
        }
        words
    }

    fn complete(line: &str) -> (usize, Vec<String>) {
        vocabulary().complete(line, line.len())
    }

    #[test]
    fn commands_complete_at_the_start_of_the_line() {
        assert_eq!(complete("/jo"), (0, vec!["/join ".to_owned()]));
        let (_, all) = complete("/de");
        assert_eq!(all, ["/delete-room ", "/delete "].map(str::to_owned).to_vec());
        assert!(complete("//jo").1.is_empty());
    }

    #[test]
    fn users_complete_after_at_signs_and_user_commands() {
        assert_eq!(complete("hi @bo"), (3, vec!["@Bobby".to_owned(), "@bob".to_owned()]));
        assert_eq!(complete("/msg al"), (5, vec!["alice".to_owned()]));
        assert_eq!(complete("/dm B"), (4, vec!["Bobby".to_owned(), "bob".to_owned()]));
        assert_eq!(complete("ali"), (0, vec!["alice".to_owned()]));
        // Only the first argument of a command is a user.
        assert!(complete("/msg alice al").1.is_empty());
    }

    #[test]
    fn rooms_complete_after_hashes_and_room_commands() {
        assert_eq!(complete("/join ru"), (6, vec!["rust".to_owned()]));
        assert_eq!(complete("see #r"), (4, vec!["#random".to_owned(), "#rust".to_owned()]));
        // `#12` is a message id, not a room.
        assert!(complete("/react #1").1.is_empty());
        let words = vocabulary();
        words.remove_room("RUST");
        assert_eq!(words.complete("/join ru", 8).1, Vec::<String>::new());
    }

    #[test]
    fn the_cursor_decides_the_word() {
        assert_eq!(vocabulary().complete("/jo rust", 3), (0, vec!["/join ".to_owned()]));
        assert!(complete("").1.is_empty());
    }
}
