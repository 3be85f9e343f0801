//! The message list: each message once, in id order, own ones marked;
//! older pages loaded on scroll-up; changes (edits, deletes, reactions)
//! redrawn in place; system lines for kicks.

use chat_api::{Message, MessageId, Role, RoomId};
use wasm_bindgen::JsCast as _;
use web_sys::Element;

use crate::{
    app::{App, State},
    direct,
    dom::{self, el},
    message_item::{self, Context},
    notices, unread,
};

/// Messages asked for per page of older history.
const PAGE: u32 = 50;

/// How a room's items are drawn for this user.
fn context<'a>(app: &'a App, state: &'a State, room: &RoomId) -> Context<'a> {
    Context {
        me: &app.account.username,
        moderates: app.account.role >= Role::Moderator && !room.is_direct(),
        log: state.logs.get(room),
    }
}

/// A message arrived (live, or caught up after a reconnect). Each is shown
/// and counted once.
pub(crate) fn received(app: &App, message: Message) {
    let room = message.room_id.clone();
    let on_screen = app.state.borrow().current.as_ref() == Some(&room);
    let new = match app.state.borrow_mut().logs.get_mut(&room) {
        Some(log) => log.insert(message.clone()),
        None => true,
    };
    if !new {
        return;
    }
    if room.is_direct() {
        direct::touched(app, &message);
    }
    unread::arrived(app, &message);
    if on_screen {
        let list = &app.view.messages;
        let near_bottom = list.scroll_height() - list.scroll_top() - list.client_height() < 80;
        insert(app, &message);
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
    let Some(room) = state.current.clone() else {
        app.view.older.set_hidden(true);
        return;
    };
    let cx = context(app, &state, &room);
    app.view.older.set_hidden(!cx.log.is_some_and(|log| log.has_more));
    for (id, entry) in cx.log.into_iter().flat_map(|log| log.entries()) {
        let _ = list.append_child(&message_item::build(&cx, id, entry));
    }
    list.set_scroll_top(list.scroll_height());
}

/// Redraws one message in place after a change (when it is on screen),
/// and the replies that quote it.
pub(crate) fn refresh(app: &App, room: &RoomId, id: MessageId) {
    let state = app.state.borrow();
    if state.current.as_ref() != Some(room) {
        return;
    }
    let cx = context(app, &state, room);
    let Some(log) = cx.log else { return };
    let redraw = |li: Element| {
        let Some(id) = id_of(&li) else { return };
        if let Some(entry) = log.entry(id) {
            let _ = li.replace_with_with_node_1(&message_item::build(&cx, id, entry));
        }
    };
    if let Some(li) = item_of(&app.view.messages, id) {
        redraw(li);
    }
    for reply in all(&app.view.messages, &format!("li.message[data-reply-to=\"{id}\"]")) {
        redraw(reply);
    }
}

/// A line about the room (a kick, say), shown if the room is on screen.
pub(crate) fn system_line(app: &App, room: &RoomId, text: &str) {
    if app.state.borrow().current.as_ref() == Some(room) {
        let _ = app.view.messages.append_child(&el("li").class("system").text(text).build());
    }
}

/// Fetches the page before the oldest message on screen and puts it on top,
/// keeping what the user is looking at in place. False when there was
/// nothing more to load.
pub(crate) async fn load_older(app: &App) -> bool {
    let (room, before) = {
        let state = app.state.borrow();
        let Some(room) = state.current.clone() else { return false };
        let Some(log) = state.logs.get(&room) else { return false };
        if !log.has_more {
            return false;
        }
        (room, log.oldest())
    };
    app.view.older.set_disabled(true);
    let page = app.session.get_history(&room, before, PAGE).await;
    app.view.older.set_disabled(false);
    let page = match page {
        Ok(page) => page,
        Err(error) => {
            notices::show(&notices::call_failed(&error));
            return false;
        }
    };
    let still_here = app.state.borrow().current.as_ref() == Some(&room);
    if let Some(log) = app.state.borrow_mut().logs.get_mut(&room) {
        log.has_more = page.has_more;
        for message in &page.messages {
            log.insert(message.clone());
        }
    }
    if still_here {
        let list = &app.view.messages;
        let from_bottom = list.scroll_height() - list.scroll_top();
        for message in &page.messages {
            insert(app, message);
        }
        list.set_scroll_top(list.scroll_height() - from_bottom);
        app.view.older.set_hidden(!page.has_more);
    }
    !page.messages.is_empty()
}

/// Scrolls message `id` of the room on screen into view and marks it for a
/// moment, loading older pages until it is there (or there is no more).
pub(crate) async fn reveal(app: &App, id: MessageId) {
    /// Pages loaded at most to find it: 1,000 messages back.
    const MAX_PAGES: usize = 20;
    for _ in 0..MAX_PAGES {
        if item_of(&app.view.messages, id).is_some() || !load_older(app).await {
            break;
        }
    }
    let Some(li) = item_of(&app.view.messages, id) else {
        return notices::show("That message is no longer there.");
    };
    for old in all(&app.view.messages, "li.found") {
        let _ = old.class_list().remove_1("found");
    }
    let _ = li.class_list().add_1("found");
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    li.scroll_into_view_with_scroll_into_view_options(&options);
}

/// Puts `message` into the list in id order, unless it is already there.
fn insert(app: &App, message: &Message) {
    let list = &app.view.messages;
    let id = message.message_id;
    if item_of(list, id).is_some() {
        return;
    }
    let li = {
        let state = app.state.borrow();
        let cx = context(app, &state, &message.room_id);
        message_item::build(&cx, id, &crate::log::Entry::Message(message.clone()))
    };
    let later = dom::find::<Element>(list, "li.message:last-child")
        .filter(|last| id_of(last).is_some_and(|last| last < id))
        .map_or_else(|| first_after(list, id), |_| None);
    let _ = list.insert_before(&li, later.as_ref().map(|e| e.as_ref()));
}

/// The list item of message `id`, if it is on screen.
pub(crate) fn item_of(list: &Element, id: MessageId) -> Option<Element> {
    dom::find(list, &format!("li.message[data-message-id=\"{id}\"]"))
}

fn all(list: &Element, selector: &str) -> Vec<Element> {
    let Ok(found) = list.query_selector_all(selector) else { return Vec::new() };
    (0..found.length()).filter_map(|i| found.item(i)?.dyn_into::<Element>().ok()).collect()
}

/// The first message in `list` with an id above `id`.
fn first_after(list: &Element, id: MessageId) -> Option<Element> {
    all(list, "li.message").into_iter().find(|li| id_of(li).is_some_and(|other| other > id))
}

pub(crate) fn id_of(li: &Element) -> Option<MessageId> {
    li.get_attribute("data-message-id")?.parse::<i64>().ok().map(MessageId)
}
