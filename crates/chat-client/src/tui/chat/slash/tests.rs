//! How lines are understood.

use super::*;

fn command(line: &str) -> Command {
    match parse(line) {
        Ok(Line::Command(command)) => command,
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn error(line: &str) -> SlashError {
    parse(line).expect_err(line)
}

#[test]
fn plain_text_is_a_message_and_blank_is_nothing() {
    assert_eq!(parse("hello /world").unwrap(), Line::Message("hello /world".into()));
    assert_eq!(parse("   ").unwrap(), Line::Empty);
    assert_eq!(parse("//join is a command").unwrap(), Line::Message("/join is a command".into()));
}

#[test]
fn room_commands_take_room_names_with_or_without_hash() {
    assert_eq!(command("/join #Rust"), Command::Join(RoomName::parse("Rust").unwrap()));
    assert_eq!(command("/switch general"), Command::Switch(RoomName::parse("general").unwrap()));
    assert_eq!(command("/leave"), Command::Leave(None));
    assert!(matches!(error("/join"), SlashError::Usage { .. }));
    assert!(matches!(error("/join two words"), SlashError::Usage { .. }));
    assert!(matches!(error("/join ../etc"), SlashError::Usage { .. }));
}

#[test]
fn history_takes_an_optional_bounded_count() {
    assert_eq!(command("/history"), Command::History(DEFAULT_HISTORY));
    assert_eq!(command("/history 5"), Command::History(5));
    assert!(matches!(error("/history 0"), SlashError::Usage { .. }));
    assert!(matches!(error("/history lots"), SlashError::Usage { .. }));
}

#[test]
fn kick_and_ban_split_user_duration_and_reason() {
    assert_eq!(
        command("/kick bob spamming the room"),
        Command::Kick { user: UserName::parse("bob").unwrap(), reason: Reason::parse("spamming the room").unwrap() }
    );
    assert_eq!(
        command("/kick @bob"),
        Command::Kick { user: UserName::parse("bob").unwrap(), reason: Reason::default() }
    );
    assert_eq!(
        command("/ban bob 2h flooding"),
        Command::Ban {
            user: UserName::parse("bob").unwrap(),
            duration: Some(Duration::from_secs(7200)),
            reason: Reason::parse("flooding").unwrap()
        }
    );
    assert_eq!(
        command("/ban bob permanent being rude"),
        Command::Ban {
            user: UserName::parse("bob").unwrap(),
            duration: None,
            reason: Reason::parse("being rude").unwrap()
        }
    );
    assert_eq!(
        command("/ban bob forever"),
        Command::Ban { user: UserName::parse("bob").unwrap(), duration: None, reason: Reason::default() }
    );
    assert!(matches!(error("/ban"), SlashError::Usage { usage: BAN_USAGE, .. }));
    // A reason where the length belongs is not a permanent ban.
    assert!(matches!(error("/ban bob being rude"), SlashError::Usage { usage: BAN_USAGE, .. }));
    assert!(matches!(error("/ban bob"), SlashError::Usage { usage: BAN_USAGE, .. }));
}

#[test]
fn ban_lengths_need_a_unit() {
    assert_eq!(parse_duration("30s"), Ok(Some(Duration::from_secs(30))));
    assert_eq!(parse_duration("10m"), Ok(Some(Duration::from_secs(600))));
    assert_eq!(parse_duration("2h"), Ok(Some(Duration::from_secs(7200))));
    assert_eq!(parse_duration("7d"), Ok(Some(Duration::from_secs(604_800))));
    assert_eq!(parse_duration("1w"), Ok(Some(Duration::from_secs(604_800))));
    assert_eq!(parse_duration("permanent"), Ok(None));
    assert_eq!(parse_duration("Permanent"), Ok(None));
    // A bare number is refused with the fix in the message.
    let bare = parse_duration("5").unwrap_err();
    assert!(bare.contains("5m") && bare.contains("permanent"), "{bare}");
    for bad in ["", "0m", "0", "10x", "spam", "m", "99999999999999999999w"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
    let shown = error("/ban carol 5");
    assert!(shown.to_string().contains("unit") && shown.hint().contains(BAN_USAGE), "{shown} {}", shown.hint());
}

#[test]
fn announce_defaults_to_info() {
    assert_eq!(
        command("/announce warning restart at 5"),
        Command::Announce { level: AnnouncementLevel::Warning, text: MessageText::parse("restart at 5").unwrap() }
    );
    assert_eq!(
        command("/announce hello all"),
        Command::Announce { level: AnnouncementLevel::Info, text: MessageText::parse("hello all").unwrap() }
    );
    assert!(matches!(error("/announce error"), SlashError::Usage { .. }));
}

#[test]
fn profile_nick_me_and_delete_room() {
    assert_eq!(command("/profile"), Command::Profile(None));
    assert_eq!(command("/profile alice"), Command::Profile(Some(UserName::parse("alice").unwrap())));
    assert_eq!(command("/nick  Bob the Builder "), Command::Nick(DisplayName::parse("Bob the Builder").unwrap()));
    assert_eq!(command("/me waves"), Command::Me("waves".into()));
    assert_eq!(command("/delete-room #Old"), Command::DeleteRoom(RoomId::parse("old").unwrap()));
    assert!(matches!(error("/nick"), SlashError::Usage { .. }));
}

#[test]
fn unknown_commands_get_a_hint() {
    let typo = error("/jion general");
    assert_eq!(typo, SlashError::Unknown { name: "jion".into(), suggestion: Some("join") });
    assert!(typo.hint().contains("/join"));
    let nonsense = error("/xyzzy");
    assert!(matches!(nonsense, SlashError::Unknown { suggestion: None, .. }));
    assert!(nonsense.hint().contains("/help"));
}

#[test]
fn command_names_ignore_case() {
    assert_eq!(command("/QUIT"), Command::Quit);
    assert_eq!(command("/Rooms"), Command::Rooms);
}

#[test]
fn direct_message_commands_take_a_user() {
    let bob = UserName::parse("bob").unwrap();
    assert_eq!(
        command("/msg @bob hi there"),
        Command::Msg { user: bob.clone(), text: MessageText::parse("hi there").unwrap() }
    );
    assert_eq!(command("/dm bob"), Command::Dm(bob.clone()));
    assert_eq!(command("/dms"), Command::Dms);
    assert!(matches!(error("/msg bob"), SlashError::Usage { .. }));
    assert!(matches!(error("/dm"), SlashError::Usage { .. }));
    assert_eq!(command("/block bob"), Command::Block(bob));
}

#[test]
fn message_ids_are_read_with_or_without_a_hash() {
    let id = MessageId(12);
    assert_eq!(command("/reply #12 sure"), Command::Reply { to: id, text: MessageText::parse("sure").unwrap() });
    assert_eq!(command("/react 12 👍"), Command::React { message: id, emoji: Emoji::parse("👍").unwrap() });
    assert_eq!(command("/unreact #12 +1"), Command::Unreact { message: id, emoji: Emoji::parse("+1").unwrap() });
    assert_eq!(command("/delete #12"), Command::Delete(Some(id)));
    assert_eq!(command("/delete"), Command::Delete(None));
    assert!(matches!(error("/reply twelve sure"), SlashError::Usage { .. }));
    assert!(matches!(error("/react 12"), SlashError::Usage { .. }));
    assert!(matches!(error("/react 12 two words"), SlashError::Usage { .. }));
    assert!(matches!(error("/delete #0"), SlashError::Usage { .. }));
}

#[test]
fn edit_reads_a_leading_id_only_when_text_follows() {
    let text = |t: &str| MessageText::parse(t).unwrap();
    assert_eq!(command("/edit #3 fixed"), Command::Edit { message: Some(MessageId(3)), text: text("fixed") });
    assert_eq!(command("/edit fixed typo"), Command::Edit { message: None, text: text("fixed typo") });
    assert_eq!(command("/edit 42"), Command::Edit { message: None, text: text("42") });
    assert!(matches!(error("/edit"), SlashError::Usage { .. }));
}

#[test]
fn topic_shows_sets_and_clears() {
    assert_eq!(command("/topic"), Command::Topic(None));
    assert_eq!(command("/topic -"), Command::Topic(Some(RoomTopic::default())));
    assert_eq!(command("/topic Rust talk"), Command::Topic(Some(RoomTopic::parse("Rust talk").unwrap())));
    assert!(matches!(error(&format!("/topic {}", "t".repeat(301))), SlashError::Usage { .. }));
}

#[test]
fn search_role_and_modlog() {
    assert_eq!(command("/search deploy plan"), Command::Search(SearchQuery::parse("deploy plan").unwrap()));
    assert!(matches!(error("/search"), SlashError::Usage { .. }));
    assert_eq!(
        command("/role bob moderator"),
        Command::Role { user: UserName::parse("bob").unwrap(), role: Role::Moderator }
    );
    assert!(matches!(error("/role bob king"), SlashError::Usage { .. }));
    assert_eq!(command("/modlog"), Command::ModLog(20));
    assert_eq!(command("/modlog 5"), Command::ModLog(5));
}
