//! The message list: each message once, in id order, own ones marked;
//! older pages loaded on scroll-up; system lines for joins and kicks.

use chat_api::{Message, MessageId, RoomId};
use wasm_bindgen::JsCast as _;
use web_sys::Element;

use crate::{
    app::App,
    dom::{self, el},
    notices,
};

/// Messages asked for per page of older history.
const PAGE: u32 = 50;

/// A message arrived (live, or caught up after a reconnect).
pub(crate) fn received(app: &App, message: Message) {
    let on_screen = app.state.borrow().current.as_ref() == Some(&message.room_id);
    if let Some(log) = app.state.borrow_mut().logs.get_mut(&message.room_id) {
        log.messages.insert(message.message_id, message.clone());
    }
    if on_screen {
        let list = &app.view.messages;
        let near_bottom = list.scroll_height() - list.scroll_top() - list.client_height() < 80;
        insert(list, &app.account.username, &message);
        if near_bottom || message.username.as_str() == app.account.username {
            list.set_scroll_top(list.scroll_height());
        }
    }
}

/// Redraws the list for the room on screen.
pub(crate) fn render_room(app: &App) {
    let list = &app.view.messages;
    dom::clear(list);
    let state = app.state.borrow();
    let log = state.current.as_ref().and_then(|room| state.logs.get(room));
    app.view.older.set_hidden(!log.is_some_and(|log| log.has_more));
    for message in log.into_iter().flat_map(|log| log.messages.values()) {
        let _ = list.append_child(&item(&app.account.username, message));
    }
    list.set_scroll_top(list.scroll_height());
}

/// A line about the room (a kick, say), shown if the room is on screen.
pub(crate) fn system_line(app: &App, room: &RoomId, text: &str) {
    if app.state.borrow().current.as_ref() == Some(room) {
        let _ = app.view.messages.append_child(&el("li").class("system").text(text).build());
    }
}

/// Fetches the page before the oldest message on screen and puts it on top,
/// keeping what the user is looking at in place.
pub(crate) async fn load_older(app: &App) {
    let (room, before) = {
        let state = app.state.borrow();
        let Some(room) = state.current.clone() else { return };
        let Some(log) = state.logs.get(&room) else { return };
        if !log.has_more {
            return;
        }
        (room, log.messages.keys().next().copied())
    };
    app.view.older.set_disabled(true);
    let page = app.session.get_history(&room, before, PAGE).await;
    app.view.older.set_disabled(false);
    let page = match page {
        Ok(page) => page,
        Err(error) => return notices::show(&notices::call_failed(&error)),
    };
    let still_here = app.state.borrow().current.as_ref() == Some(&room);
    if let Some(log) = app.state.borrow_mut().logs.get_mut(&room) {
        log.has_more = page.has_more;
        for message in &page.messages {
            log.messages.insert(message.message_id, message.clone());
        }
    }
    if still_here {
        let list = &app.view.messages;
        let from_bottom = list.scroll_height() - list.scroll_top();
        for message in &page.messages {
            insert(list, &app.account.username, message);
        }
        list.set_scroll_top(list.scroll_height() - from_bottom);
        app.view.older.set_hidden(!page.has_more);
    }
}

/// Puts `message` into `list` in id order, unless it is already there.
fn insert(list: &Element, me: &str, message: &Message) {
    let id = message.message_id;
    if list.query_selector(&format!("li[data-message-id=\"{id}\"]")).ok().flatten().is_some() {
        return;
    }
    let li = item(me, message);
    let later = dom::find::<Element>(list, "li.message:last-child")
        .filter(|last| id_of(last).is_some_and(|last| last < id))
        .map_or_else(|| first_after(list, id), |_| None);
    let _ = list.insert_before(&li, later.as_ref().map(|e| e.as_ref()));
}

/// The first message in `list` with an id above `id`.
fn first_after(list: &Element, id: MessageId) -> Option<Element> {
    let all = list.query_selector_all("li.message").ok()?;
    (0..all.length())
        .filter_map(|i| all.item(i)?.dyn_into::<Element>().ok())
        .find(|li| id_of(li).is_some_and(|other| other > id))
}

fn id_of(li: &Element) -> Option<MessageId> {
    li.get_attribute("data-message-id")?.parse::<i64>().ok().map(MessageId)
}

/// One message as a list item. The text is set as text: markup, links and
/// direction overrides in it are shown, not obeyed (`dir="auto"` and CSS
/// `unicode-bidi: isolate` keep a right-to-left override inside its span).
fn item(me: &str, message: &Message) -> Element {
    let author = message.username.as_str();
    let at = message.timestamp.as_datetime();
    let mut li = el("li")
        .class("message")
        .attr("data-message-id", &message.message_id.to_string())
        .attr("data-author", author)
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
        .child(el("span").class("text").attr("dir", "auto").text(message.text.as_str()));
    if author == me {
        li = li.class("own");
    }
    li.build()
}
