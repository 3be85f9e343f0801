//! The painter's output, plain and coloured.

use chat_api::{
    MessageId, MessageText, Reason,
    notifications::{Announcement, Kicked, PresenceChange},
};

use super::*;

fn user(name: &str) -> UserName {
    UserName::parse(name).unwrap()
}

fn message(from: &str, text: &str) -> Message {
    Message::plain(MessageId(1), RoomId::general(), user(from), MessageText::parse(text).unwrap(), Timestamp::now())
}

fn view<'a>(me: &'a UserName, room: &'a RoomId) -> View<'a> {
    View { me: Some(me), current_room: Some(room), time: TimeStyle::Clock }
}

#[test]
fn no_color_and_pipes_turn_colours_off() {
    assert!(colors_wanted(true, None, Some(OsStr::new("xterm-256color"))));
    assert!(colors_wanted(true, Some(OsStr::new("")), None));
    assert!(!colors_wanted(true, Some(OsStr::new("1")), None));
    assert!(!colors_wanted(false, None, None));
    assert!(!colors_wanted(true, None, Some(OsStr::new("dumb"))));
}

#[test]
fn a_message_shows_time_sender_and_text() {
    let me = user("alice");
    let room = RoomId::general();
    let line = Painter::plain().message(&message("bob", "hello there"), &view(&me, &room));
    let (time, rest) = line.split_once(' ').unwrap();
    assert_eq!(time.len(), 5, "{line}");
    assert_eq!(rest, "<bob> hello there  #1");
}

#[test]
fn messages_in_other_rooms_name_their_room() {
    let me = user("alice");
    let elsewhere = RoomId::parse("rust").unwrap();
    let line = Painter::plain().message(&message("bob", "hi"), &view(&me, &elsewhere));
    assert!(line.ends_with(" #general <bob> hi  #1"), "{line}");
}

#[test]
fn multi_line_messages_are_indented_under_the_text() {
    let me = user("alice");
    let room = RoomId::general();
    let line = Painter::plain().message(&message("bob", "one\ntwo"), &view(&me, &room));
    let parts: Vec<&str> = line.split('\n').collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1], format!("{}two  #1", " ".repeat(parts[0].len() - 3)));
}

#[test]
fn actions_read_as_actions() {
    let me = user("alice");
    let room = RoomId::general();
    let line = Painter::plain().message(&message("bob", "/me waves"), &view(&me, &room));
    assert!(line.ends_with(" * bob waves  #1"), "{line}");
}

#[test]
fn hostile_text_cannot_smuggle_escape_sequences_through_any_line() {
    // Message texts are validated by the contract, but announcements,
    // reasons and errors are free text; every path must be safe.
    let hostile = "x\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{202E}gnp.exe\u{9b}1A";
    let painter = Painter::plain();
    let me = user("alice");
    let room = RoomId::general();
    let v = view(&me, &room);
    let lines = [
        painter.announcement(AnnouncementLevel::Warning, hostile),
        painter.error(hostile),
        painter.notice(hostile),
        painter.hint(hostile),
        painter.connection_lost(hostile),
        painter.ended(&EndReason::Kicked { reason: Some(hostile.to_owned()) }),
        painter
            .event(
                &ServerEvent::SystemAnnouncement(Announcement {
                    message: hostile.to_owned(),
                    level: AnnouncementLevel::Error,
                    timestamp: Timestamp::now(),
                }),
                &v,
            )
            .unwrap(),
    ];
    for line in lines {
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(!line.contains('\u{202E}'), "{line:?}");
        assert!(line.contains("␛]0;owned␇"), "{line:?}");
    }
}

#[test]
fn colour_codes_come_only_from_the_painter() {
    let painter = Painter { color: true };
    colored::control::set_override(true);
    let line = painter.error("\u{1b}[31mfake");
    // The only ESC bytes are the painter's own SGR codes around the text.
    assert!(line.contains("␛[31mfake"), "{line:?}");
    let escapes = line.matches('\u{1b}').count();
    assert!(escapes >= 1 && line.starts_with('\u{1b}'), "{line:?}");
}

#[test]
fn each_user_keeps_one_colour_whatever_the_case() {
    assert_eq!(name_color(&user("Bob")), name_color(&user("bob")));
    let colors: std::collections::BTreeSet<String> =
        ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
            .iter()
            .map(|n| format!("{:?}", name_color(&user(n))))
            .collect();
    assert!(colors.len() > 2, "names should spread over the palette: {colors:?}");
    assert!(!NAME_COLORS.contains(&Color::Green) && !NAME_COLORS.contains(&Color::Red));
}

#[test]
fn presence_and_kicks_are_system_lines() {
    let me = user("alice");
    let room = RoomId::general();
    let v = view(&me, &room);
    let painter = Painter::plain();
    let joined =
        ServerEvent::UserJoined(PresenceChange { room_id: RoomId::general(), username: user("bob"), user_count: 2 });
    assert_eq!(painter.event(&joined, &v).unwrap(), "→ bob joined #general (2 users)");
    let kicked = ServerEvent::UserKicked(Kicked {
        username: user("bob"),
        reason: Reason::parse("spam").unwrap(),
        room_id: Some(RoomId::general()),
    });
    assert_eq!(painter.event(&kicked, &v).unwrap(), "✗ bob was kicked from #general: spam");
}

#[test]
fn the_reconnect_notice_is_one_line() {
    let report = Reconnected {
        attempts: 3,
        rooms: vec![RoomName::parse("general").unwrap(), RoomName::parse("rust").unwrap()],
        gone: vec![],
        missed: 2,
        gaps: vec![],
    };
    let line = Painter::plain().reconnected(&report);
    assert_eq!(line, "-- reconnected; rejoined #general, #rust; 2 missed messages follow");
}

#[test]
fn room_lists_mark_joined_rooms_only_in_the_chat() {
    let rooms = vec![
        RoomInfo {
            room_id: RoomId::general(),
            room_name: RoomName::parse("general").unwrap(),
            user_count: 3,
            topic: None,
        },
        RoomInfo {
            room_id: RoomId::parse("rust").unwrap(),
            room_name: RoomName::parse("Rust").unwrap(),
            user_count: 1,
            topic: None,
        },
    ];
    let painter = Painter::plain();
    assert_eq!(painter.room_list(&rooms, &[], None), ["#general  3 users", "#Rust     1 user"]);
    let joined = [RoomName::parse("general").unwrap(), RoomName::parse("rust").unwrap()];
    assert_eq!(
        painter.room_list(&rooms, &joined, Some(&RoomId::general())),
        ["* #general  3 users", "+ #Rust     1 user"]
    );
}

#[test]
fn the_end_of_a_session_says_why() {
    let line = Painter::plain().ended(&EndReason::Kicked { reason: Some("spam".into()) });
    assert_eq!(line, "You were kicked: spam. Not reconnecting.");
    let line = Painter::plain().ended(&EndReason::Banned { reason: None, length: None });
    assert_eq!(line, "You are banned. Not reconnecting.");
    let forever = EndReason::Banned { reason: Some("spam".into()), length: Some(BanLength::Permanent) };
    assert_eq!(Painter::plain().ended(&forever), "You are banned permanently: spam. Not reconnecting.");
    let until = Timestamp::from_unix_millis(1_700_000_000_000);
    let timed = EndReason::Banned { reason: None, length: Some(BanLength::Until(until)) };
    let expected = format!("You are banned until {}. Not reconnecting.", clock(until, TimeStyle::Full, Local::now()));
    assert_eq!(Painter::plain().ended(&timed), expected);
}

#[test]
fn full_timestamps_carry_the_date() {
    let ts = Timestamp::from_unix_millis(1_700_000_000_000);
    let text = clock(ts, TimeStyle::Full, Local::now());
    assert_eq!(text.len(), "2023-11-14 22:13:20".len());
    assert!(text.starts_with("2023-11-1"), "{text}");
}

#[test]
fn replies_edits_and_reactions_show_around_the_text() {
    use chat_api::{Emoji, Reaction};
    let me = user("alice");
    let room = RoomId::general();
    let original = message("bob", "is the deploy done?");
    let mut reply = message("carol", "yes");
    reply.message_id = MessageId(2);
    reply.reply_to = Some(MessageId(1));
    reply.edited_at = Some(Timestamp::now());
    reply.reactions =
        vec![Reaction { emoji: Emoji::parse("👍").unwrap(), count: 2, usernames: vec![user("alice"), user("bob")] }];
    let painter = Painter::plain();
    let line = painter.message_quoting(&reply, &view(&me, &room), Some(Quoted::Found(&original)));
    let rows: Vec<&str> = line.split('\n').collect();
    assert!(rows[0].ends_with("<carol> ↳ reply to #1 <bob> is the deploy done?"), "{line}");
    assert_eq!(rows[1].trim_start(), "yes (edited)  #2", "{line}");
    assert_eq!(rows[2].trim_start(), "👍 2 (alice, bob)", "{line}");
    let gone = painter.message_quoting(&reply, &view(&me, &room), Some(Quoted::Deleted));
    assert!(gone.contains("↳ reply to #1 (message deleted)"), "{gone}");
}

#[test]
fn a_message_that_mentions_the_reader_is_marked() {
    let me = user("alice");
    let room = RoomId::general();
    let mut hello = message("bob", "hi @alice");
    hello.mentions = vec![user("Alice")];
    let painter = Painter::plain();
    assert!(painter.message(&hello, &view(&me, &room)).starts_with("▶ "));
    // One's own message mentioning oneself is not news.
    let own = Message { username: user("alice"), ..hello };
    assert!(!painter.message(&own, &view(&me, &room)).starts_with("▶ "));
}

#[test]
fn direct_conversations_are_named_after_the_other_user() {
    let dm = RoomId::parse("dm:alice:bob").unwrap();
    assert_eq!(conversation_name(&dm, Some(&user("alice"))), "@bob");
    assert_eq!(conversation_name(&dm, Some(&user("Bob"))), "@alice");
    assert_eq!(conversation_name(&RoomId::general(), None), "#general");
}

#[test]
fn the_room_overview_shows_unread_counts_and_topics() {
    use chat_api::{RoomTopic, rpc::MyRoom};
    let rooms = vec![
        RoomInfo {
            room_id: RoomId::general(),
            room_name: RoomName::parse("general").unwrap(),
            user_count: 2,
            topic: Some(RoomTopic::parse("say hi").unwrap()),
        },
        RoomInfo {
            room_id: RoomId::parse("rust").unwrap(),
            room_name: RoomName::parse("rust").unwrap(),
            user_count: 1,
            topic: None,
        },
    ];
    let mine = vec![MyRoom {
        room_id: RoomId::parse("rust").unwrap(),
        room_name: RoomName::parse("rust").unwrap(),
        user_count: 1,
        last_message_id: Some(MessageId(9)),
        last_read_message_id: Some(MessageId(6)),
        unread_count: 3,
        mention_count: 1,
    }];
    let lines = Painter::plain().room_overview(&rooms, &mine, &[], Some(&RoomId::general()));
    assert_eq!(lines, ["* #general  2 users  — say hi", "+ #rust     1 user  3 unread, 1 mention"]);
    assert_eq!(rejoined(&RoomName::parse("rust").unwrap(), 3, 0), "#rust (3 unread)");
}

#[test]
fn edits_deletes_and_reactions_name_the_message() {
    use chat_api::{
        Emoji,
        notifications::{MessageDeleted, MessageEdited, ReactionChange},
    };
    let me = user("alice");
    let room = RoomId::general();
    let v = view(&me, &room);
    let painter = Painter::plain();
    let before = message("bob", "helo");
    let edit = MessageEdited {
        message_id: MessageId(1),
        room_id: RoomId::general(),
        text: MessageText::parse("hello").unwrap(),
        edited_at: Timestamp::now(),
    };
    assert_eq!(painter.edited(&edit, Some(&before), &v), "✎ #1 <bob> edited: hello");
    let deleted = MessageDeleted { message_id: MessageId(1), room_id: RoomId::general() };
    assert_eq!(painter.deleted(&deleted, Some(&before), &v), "✗ #1 <bob> helo: message deleted");
    let change = ReactionChange {
        message_id: MessageId(1),
        room_id: RoomId::general(),
        username: user("carol"),
        emoji: Emoji::parse("🎉").unwrap(),
    };
    assert_eq!(painter.reaction(&change, true, Some(&before), &v), "carol reacted 🎉 to #1 <bob> helo");
    assert_eq!(painter.reaction(&change, false, None, &v), "carol took back 🎉 on #1");
}
