//! Mentions: `@name` marked inside a message's text, and a banner when
//! someone mentions the user in a room this page is not in.

use std::rc::Rc;

use chat_api::{Message, UserName};
use web_sys::Element;

use crate::{
    app::App,
    dom::{self, el},
    notices, rooms,
};

/// A piece of a message's text: plain, or an `@name` that mentions a user.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    Plain(&'a str),
    Mention(&'a str),
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Splits `text` at the `@name`s of the users the server says it mentions
/// (the rule of PROTOCOL.md §4: any case, and the name must end there).
pub(crate) fn segments<'a>(text: &'a str, mentioned: &[UserName]) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find('@') {
        let at = search_from + offset;
        let name_end = text[at + 1..].find(|c: char| !is_name_char(c)).map_or(text.len(), |n| at + 1 + n);
        let name = &text[at + 1..name_end];
        if !name.is_empty() && mentioned.iter().any(|user| user.as_str().eq_ignore_ascii_case(name)) {
            if plain_from < at {
                out.push(Segment::Plain(&text[plain_from..at]));
            }
            out.push(Segment::Mention(&text[at..name_end]));
            plain_from = name_end;
        }
        search_from = name_end.max(at + 1);
    }
    if plain_from < text.len() {
        out.push(Segment::Plain(&text[plain_from..]));
    }
    out
}

/// Whether `text` mentions `user` by the same rule.
pub(crate) fn names(text: &str, user: &UserName) -> bool {
    segments(text, std::slice::from_ref(user)).iter().any(|segment| matches!(segment, Segment::Mention(_)))
}

/// The `.text` span of a message: its text, with mentions in their own
/// spans (`.mention`, `.me` for the user's own name). Text only, never
/// markup.
pub(crate) fn text_span(message: &Message, me: &str) -> Element {
    let span = el("span").class("text").attr("dir", "auto").build();
    for segment in segments(message.text.as_str(), &message.mentions) {
        let node: web_sys::Node = match segment {
            Segment::Plain(text) => dom::document().create_text_node(text).into(),
            Segment::Mention(text) => {
                let mut mark = el("span").class("mention").attr("data-user", &text[1..]);
                if text[1..].eq_ignore_ascii_case(me) {
                    mark = mark.class("me");
                }
                mark.text(text).build().into()
            }
        };
        let _ = span.append_child(&node);
    }
    span
}

/// Someone mentioned the user in a room this page is not in: a banner
/// with the message that opens the room on request.
pub(crate) fn elsewhere(app: &Rc<App>, message: &Message) {
    let room = message.room_id.clone();
    let open = el("button").attr("type", "button").text(&format!("Open #{room}")).build();
    let dismiss = el("button").attr("type", "button").text("Dismiss").build();
    let banner = el("div")
        .class("mentioned")
        .attr("role", "status")
        .attr("data-room", room.as_str())
        .attr("data-message-id", &message.message_id.to_string())
        .child(el("strong").text(&format!("{} mentioned you in #{room}: ", message.username)))
        .child(el("span").attr("dir", "auto").text(message.text.as_str()))
        .child(open.clone())
        .child(dismiss.clone())
        .build();
    let _ = app.view.announcements.append_child(&banner);
    {
        let banner = banner.clone();
        dom::on(&dismiss, "click", move |_| banner.remove());
    }
    let app = app.clone();
    dom::on(&open, "click", move |_| {
        banner.remove();
        let app = app.clone();
        let room = room.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match chat_api::RoomName::parse(room.as_str()) {
                Ok(name) => rooms::open(&app, &name).await,
                Err(error) => notices::show(&error.to_string()),
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(names: &[&str]) -> Vec<UserName> {
        names.iter().map(|n| UserName::parse(n).unwrap()).collect()
    }

    #[test]
    fn only_whole_names_the_server_reported_are_marked() {
        use Segment::*;
        let bob = users(&["bob"]);
        assert_eq!(segments("hi @bob!", &bob), [Plain("hi "), Mention("@bob"), Plain("!")]);
        assert_eq!(segments("@BOB", &bob), [Mention("@BOB")]);
        assert_eq!(segments("@bobby and @carol", &bob), [Plain("@bobby and @carol")]);
        assert_eq!(segments("mail bob@bob", &bob), [Plain("mail bob"), Mention("@bob")]);
        assert_eq!(segments("@@bob", &bob), [Plain("@"), Mention("@bob")]);
        assert_eq!(segments("no mentions", &[]), [Plain("no mentions")]);
        assert_eq!(segments("", &bob), []);
    }
}
