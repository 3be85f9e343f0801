//! Name and text validation (`chat_api` newtypes): whatever the input, no
//! panic, and everything accepted keeps the rules the rest of the server
//! relies on without re-checking (parse once at the boundary).

#![no_main]

use chat_api::{DisplayName, MessageText, Reason, RoomId, RoomName, UserName};
use libfuzzer_sys::fuzz_target;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The JSON string form of `text` deserializes to the same value `parse` gives.
fn same_via_json<T>(text: &str, parsed: &Result<T, chat_api::NameError>)
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(text).expect("a str always serializes");
    let decoded: Result<T, _> = serde_json::from_str(&json);
    match (parsed, decoded) {
        (Ok(p), Ok(d)) => {
            assert_eq!(p, &d);
            // And it serializes back to a string that parses to itself.
            let again = serde_json::to_string(&d).expect("serializes");
            let back: T = serde_json::from_str(&again).expect("round trip");
            assert_eq!(back, d);
        }
        (Err(_), Err(_)) => {}
        (p, d) => panic!("parse and deserialize disagree on {text:?}: {p:?} vs {:?}", d.map(|_| ())),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    let user = UserName::parse(text);
    if let Ok(name) = &user {
        let s = name.as_str();
        assert!((UserName::MIN_LEN..=UserName::MAX_LEN).contains(&s.len()), "{s:?}");
        assert!(s.chars().all(is_name_char), "{s:?}");
        assert_eq!(s, text, "usernames keep their spelling");
        assert_eq!(name.key(), s.to_ascii_lowercase());
        assert_eq!(UserName::parse(&name.key()).map(|n| n.key()), Ok(name.key()));
    }
    same_via_json(text, &user);

    let room = RoomName::parse(text);
    if let Ok(name) = &room {
        assert!((1..=RoomName::MAX_LEN).contains(&name.len()));
        assert!(name.as_str().chars().all(is_name_char));
        let id = name.id();
        assert_eq!(RoomId::parse(name.as_str()).as_ref(), Ok(&id), "a room name's id is its parsed id");
        assert_eq!(id.as_str(), id.as_str().to_ascii_lowercase());
        // Never a path component that escapes a directory.
        assert!(!id.as_str().contains(['/', '\\', '.']));
    }
    same_via_json(text, &room);

    let id = RoomId::parse(text);
    if let Ok(id) = &id {
        assert_eq!(RoomId::parse(id.as_str()).as_ref(), Ok(id), "parsing an id is idempotent");
        assert!(!id.as_str().chars().any(|c| c.is_ascii_uppercase()));
    }
    same_via_json(text, &id);

    let message = MessageText::parse(text);
    if let Ok(m) = &message {
        assert_eq!(m.as_str(), text, "message text is kept exactly");
        assert!(!m.as_str().trim().is_empty());
        assert!(m.char_len() <= MessageText::MAX_LEN);
        assert!(m.as_str().chars().all(|c| !c.is_control() || c == '\n' || c == '\t'), "{text:?}");
    }
    same_via_json(text, &message);

    let display = DisplayName::parse(text);
    if let Ok(d) = &display {
        let s = d.as_str();
        assert_eq!(s, s.trim());
        assert!(!s.is_empty());
        assert!(s.chars().count() <= DisplayName::MAX_LEN);
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert_eq!(DisplayName::parse(s).as_ref(), Ok(d), "parsing a display name is idempotent");
    }
    same_via_json(text, &display);

    let reason = Reason::parse(text);
    if let Ok(r) = &reason {
        let s = r.as_str();
        assert_eq!(s, s.trim());
        assert!(s.chars().count() <= Reason::MAX_LEN);
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert_eq!(Reason::parse(s).as_ref(), Ok(r));
    }
    same_via_json(text, &reason);
});
