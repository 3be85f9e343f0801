//! One message as a list item: author, time, the message it answers, its
//! text with mentions marked, "edited", its reactions, and the buttons for
//! what this user may do with it. The buttons carry `data-action`; one
//! listener on the list handles them all (`message_actions`).

use chat_api::{Message, MessageId};
use web_sys::Element;

use crate::{
    dom::el,
    log::{self, Entry, RoomLog},
    mentions, notices,
};

/// What an item needs to know besides the message.
pub(crate) struct Context<'a> {
    /// The signed-in user.
    pub(crate) me: &'a str,
    /// Whether the user may delete other people's messages here: a
    /// moderator or admin, in a room (never in a direct conversation).
    pub(crate) moderates: bool,
    /// The room's messages, to quote the ones replied to.
    pub(crate) log: Option<&'a RoomLog>,
}

/// The list item for one entry of a room's log.
pub(crate) fn build(cx: &Context<'_>, id: MessageId, entry: &Entry) -> Element {
    match entry {
        Entry::Message(message) => message_item(cx, message),
        Entry::Deleted => tombstone(id),
    }
}

/// Where a deleted message was.
pub(crate) fn tombstone(id: MessageId) -> Element {
    el("li")
        .class("message")
        .class("deleted")
        .attr("data-message-id", &id.to_string())
        .child(el("span").class("text").text("This message was deleted."))
        .build()
}

/// The text is set as text: markup, links and direction overrides in it
/// are shown, not obeyed (`dir="auto"` and CSS `unicode-bidi: isolate`
/// keep a right-to-left override inside its span).
fn message_item(cx: &Context<'_>, message: &Message) -> Element {
    let author = message.username.as_str();
    let own = author.eq_ignore_ascii_case(cx.me);
    let at = message.timestamp.as_datetime();
    let mut li =
        el("li").class("message").attr("data-message-id", &message.message_id.to_string()).attr("data-author", author);
    if let Some(original) = message.reply_to {
        li = li.attr("data-reply-to", &original.to_string()).child(quote(cx, original));
    }
    li = li
        .child(
            el("button")
                .class("author")
                .attr("type", "button")
                .attr("data-user", author)
                .attr("dir", "auto")
                .text(author),
        )
        .child(
            el("time")
                .attr("datetime", &at.to_rfc3339())
                .attr("title", &notices::local_time(message.timestamp, true))
                .text(&notices::local_time(message.timestamp, false)),
        )
        .child(mentions::text_span(message, cx.me));
    if let Some(edited) = message.edited_at {
        li = li.child(
            el("span")
                .class("edited")
                .attr("title", &format!("edited {}", notices::local_time(edited, true)))
                .text("(edited)"),
        );
    }
    if !message.reactions.is_empty() {
        li = li.child(reactions(cx, message));
    }
    li = li.child(actions(cx, own));
    if own {
        li = li.class("own");
    }
    if log::mentions(message, cx.me) {
        li = li.class("mentions-me");
    }
    li.build()
}

/// "↪ bob: the first words…", a button that shows the original.
fn quote(cx: &Context<'_>, original: MessageId) -> Element {
    let said = match cx.log.and_then(|log| log.entry(original)) {
        Some(Entry::Message(quoted)) => format!("{}: {}", quoted.username, snippet(quoted.text.as_str())),
        Some(Entry::Deleted) => "a deleted message".to_owned(),
        None => "an earlier message".to_owned(),
    };
    el("button")
        .class("reply-quote")
        .attr("type", "button")
        .attr("data-action", "show-original")
        .attr("data-reply-to", &original.to_string())
        .attr("dir", "auto")
        .attr("title", "Show the message this answers")
        .text(&format!("↪ {said}"))
        .build()
}

/// The first line of `text`, cut at 80 characters.
fn snippet(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut cut: String = line.chars().take(80).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

fn reactions(cx: &Context<'_>, message: &Message) -> Element {
    let list = el("ul").class("reactions").attr("aria-label", "Reactions").build();
    for reaction in &message.reactions {
        let mine = reaction.usernames.iter().any(|u| u.as_str().eq_ignore_ascii_case(cx.me));
        let who: Vec<&str> = reaction.usernames.iter().map(|u| u.as_str()).collect();
        let count = reaction.count.to_string();
        let button = el("button")
            .class("reaction")
            .attr("type", "button")
            .attr("data-action", "toggle-reaction")
            .attr("data-emoji", reaction.emoji.as_str())
            .attr("data-count", &count)
            .attr("aria-pressed", if mine { "true" } else { "false" })
            .attr("title", &who.join(", "))
            .text(&format!("{} {count}", reaction.emoji));
        let _ = list.append_child(&el("li").child(button).build());
    }
    list
}

fn actions(cx: &Context<'_>, own: bool) -> Element {
    let button =
        |action: &str, label: &str| el("button").attr("type", "button").attr("data-action", action).text(label).build();
    let mut bar = el("span").class("actions").child(button("reply", "Reply")).child(button("pick-reaction", "React"));
    if own {
        bar = bar.child(button("edit", "Edit"));
    }
    if own || cx.moderates {
        bar = bar.child(button("delete", "Delete"));
    }
    bar.build()
}

/// Emoji offered by the "React" button.
pub(crate) const PICKS: &[&str] = &["👍", "❤️", "😂", "🎉", "😮", "😢"];

/// The row of emoji that "React" opens under a message.
pub(crate) fn picker() -> Element {
    let row = el("span").class("picker").attr("role", "group").attr("aria-label", "Pick a reaction").build();
    for emoji in PICKS {
        let button = el("button")
            .attr("type", "button")
            .attr("data-action", "react")
            .attr("data-emoji", emoji)
            .attr("aria-label", &format!("React with {emoji}"))
            .text(emoji);
        let _ = row.append_child(&button.build());
    }
    row
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet("short"), "short");
        assert_eq!(snippet("one\ntwo"), "one…");
        assert_eq!(snippet(&"x".repeat(100)).chars().count(), 81);
    }
}
