//! The room list, and joining, switching, leaving and creating rooms.

use chat_api::{RoomId, RoomInfo, RoomName};
use chat_client::Joined;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::{
    app::{App, RoomLog},
    dom::{self, el},
    messages, notices, presence,
};

/// Redraws the room list: name, user count, joined, current.
pub(crate) fn render(app: &App) {
    let state = app.state.borrow();
    dom::clear(&app.view.rooms);
    for room in state.rooms.values() {
        let joined = state.joined.contains(&room.room_id);
        let current = state.current.as_ref() == Some(&room.room_id);
        let count = room.user_count.to_string();
        let mut item = el("li")
            .attr("data-room", room.room_id.as_str())
            .child(el("button").attr("type", "button").text(room.room_name.as_str()))
            .child(
                el("span")
                    .class("count")
                    .attr("data-count", &count)
                    .attr("aria-label", &format!("{count} users"))
                    .text(&count),
            );
        if joined {
            item = item.class("joined");
        }
        if current {
            item = item.attr("aria-current", "true");
        }
        let _ = app.view.rooms.append_child(&item.build());
    }
}

/// Updates one room's user count.
pub(crate) fn set_count(app: &App, room: &RoomId, count: usize) {
    if let Some(info) = app.state.borrow_mut().rooms.get_mut(room) {
        info.user_count = count;
    }
    render(app);
}

/// The room a click in the list landed on.
pub(crate) fn clicked_room(target: &Element) -> Option<(RoomId, RoomName)> {
    let item = target.closest("li[data-room]").ok()??;
    let id = item.get_attribute("data-room")?;
    let name = item.query_selector("button").ok()??.text_content()?;
    Some((RoomId::parse(&id).ok()?, RoomName::parse(&name).ok()?))
}

/// Shows `name`, joining it first when needed (joining creates it).
pub(crate) async fn open(app: &App, name: &RoomName) {
    let id = name.id();
    if app.state.borrow().joined.contains(&id) {
        return switch(app, &id);
    }
    match app.session.join_room(name).await {
        Ok(joined) => {
            remember(app, joined);
            switch(app, &id);
        }
        Err(error) => notices::show(&notices::call_failed(&error)),
    }
}

fn remember(app: &App, joined: Joined) {
    let mut state = app.state.borrow_mut();
    let id = joined.room_id.clone();
    if !state.joined.contains(&id) {
        state.joined.push(id.clone());
    }
    // The joiner is not told of its own join: count from the answer.
    let info = RoomInfo { room_id: id.clone(), room_name: joined.room_name.clone(), user_count: joined.users.len() };
    state.rooms.insert(id.clone(), info);
    state.presence.insert(id.clone(), joined.users.iter().map(|u| u.to_string()).collect());
    let log = state.logs.entry(id).or_insert_with(|| RoomLog { has_more: true, ..RoomLog::default() });
    if joined.messages.is_empty() && log.messages.is_empty() {
        log.has_more = false;
    }
    for message in joined.messages {
        log.messages.insert(message.message_id, message);
    }
}

/// Puts `room` on screen.
pub(crate) fn switch(app: &App, room: &RoomId) {
    app.state.borrow_mut().current = Some(room.clone());
    // The `#` is drawn by the stylesheet: the title is the name itself.
    let title = app.state.borrow().rooms.get(room).map(|r| r.room_name.to_string()).unwrap_or_default();
    app.view.room_title.set_text_content(Some(&title));
    app.view.leave.set_hidden(false);
    render(app);
    messages::render_room(app);
    presence::render(app);
    let _ = app.view.message_box.focus();
}

/// Leaves the room on screen and shows another joined room, if any.
pub(crate) async fn leave_current(app: &App) {
    let Some(room) = app.state.borrow().current_room() else { return };
    match app.session.leave_room(&room).await {
        Ok(()) => forget(app, &room),
        Err(error) => notices::show(&notices::call_failed(&error)),
    }
}

/// Drops everything about `room` (left, deleted, or gone while away).
pub(crate) fn forget(app: &App, room: &RoomId) {
    let next = {
        let mut state = app.state.borrow_mut();
        state.joined.retain(|r| r != room);
        state.logs.remove(room);
        state.presence.remove(room);
        state.typing.remove(room);
        if state.current.as_ref() == Some(room) {
            state.current = state.joined.first().cloned();
            Some(state.current.clone())
        } else {
            None
        }
    };
    match next {
        Some(Some(other)) => switch(app, &other),
        Some(None) => {
            app.view.room_title.set_text_content(None);
            app.view.leave.set_hidden(true);
            messages::render_room(app);
            let hint = dom::el("li").class("system").text("You are in no room: pick one or create one.");
            let _ = app.view.messages.append_child(&hint.build());
            presence::render(app);
        }
        None => {}
    }
    render(app);
}

/// A room was deleted: off the list, and out of the session's rooms.
pub(crate) fn deleted(app: &App, room: &RoomId) {
    app.state.borrow_mut().rooms.remove(room);
    forget(app, room);
}

/// The room name typed into the "New room name" box, checked.
pub(crate) fn typed_room_name(app: &App) -> Option<RoomName> {
    let text = app.view.new_room.value();
    match RoomName::parse(text.trim().trim_start_matches('#')) {
        Ok(name) => Some(name),
        Err(error) => {
            notices::show(&format!("That room name cannot be used: {error}"));
            None
        }
    }
}

/// The element an event happened on.
pub(crate) fn target_element(event: &web_sys::Event) -> Option<Element> {
    event.target()?.dyn_into().ok()
}
