//! The room list, and joining, switching, leaving and creating rooms.

use std::time::Duration;

use chat_api::{ErrorCode, RoomId, RoomInfo, RoomName};
use chat_client::{CallError, Joined};
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::{
    app::{App, RoomLog},
    compose, direct,
    dom::{self, el},
    messages, notices, presence, topic, unread,
};

/// Redraws the room list: name, user count, unread badge, joined, current.
pub(crate) fn render(app: &App) {
    let state = app.state.borrow();
    let focused = dom::focused_item(&app.view.rooms);
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
            )
            .child(unread::badge(state.unread.get(&room.room_id).copied().unwrap_or_default()));
        if joined {
            item = item.class("joined");
        }
        if current {
            item = item.attr("aria-current", "true");
        }
        let _ = app.view.rooms.append_child(&item.build());
    }
    dom::refocus_item(&app.view.rooms, focused);
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

/// On sign-in: joins every room the user is in (`my_rooms`, with their
/// unread counts). The one shown (`general`, or the first of them) is
/// joined first, so it is on screen before the rest are in; a room the
/// user picks meanwhile is not taken away. A new account (or a server
/// without `my_rooms`) starts in `general`.
pub(crate) async fn rejoin_mine(app: &App) {
    let general = RoomName::parse("general").unwrap_or_else(|_| wasm_bindgen::throw_str("room name"));
    let mine = app.session.my_rooms().await.unwrap_or_default();
    unread::load(app, &mine);
    let mut names: Vec<RoomName> = mine.into_iter().map(|room| room.room_name).collect();
    let shown = names.iter().position(|name| name.id() == general.id()).unwrap_or(0);
    if names.is_empty() {
        names.push(general);
    }
    let first = names.remove(shown);
    if join_patiently(app, &first).await && app.state.borrow().current.is_none() {
        switch(app, &first.id());
    }
    for name in names {
        if join_patiently(app, &name).await && app.state.borrow().current.is_none() {
            switch(app, &name.id());
        }
    }
}

/// Joins `name` without showing it, waiting out rate limits (joins are
/// limited per user, and a user may be in many rooms). False on failure.
async fn join_patiently(app: &App, name: &RoomName) -> bool {
    loop {
        match app.session.join_room(name).await {
            Ok(joined) => {
                remember(app, joined);
                render(app);
                return true;
            }
            Err(CallError::Refused { kind: Some(ErrorCode::RateLimited), retry_after, .. }) => {
                gloo_timers::future::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
            }
            Err(error) => {
                notices::show(&format!("Could not rejoin #{name}: {}", notices::call_failed(&error)));
                return false;
            }
        }
    }
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
    let topic = state.rooms.get(&id).and_then(|info| info.topic.clone());
    let info =
        RoomInfo { room_id: id.clone(), room_name: joined.room_name.clone(), user_count: joined.users.len(), topic };
    state.rooms.insert(id.clone(), info);
    state.presence.insert(id.clone(), joined.users.iter().map(|u| u.to_string()).collect());
    let log = state.logs.entry(id).or_insert_with(|| RoomLog::new(true));
    if joined.messages.is_empty() && log.is_empty() {
        log.has_more = false;
    }
    for message in joined.messages {
        log.insert(message);
    }
}

/// Puts `room` (or a direct conversation) on screen, and reads it.
pub(crate) fn switch(app: &App, room: &RoomId) {
    let previous = app.state.borrow_mut().current.replace(room.clone());
    if previous.as_ref() != Some(room) {
        compose::cancel(app);
    }
    // The `#` (or `@`) is drawn by the stylesheet: the title is the name itself.
    let title = match direct::other_user(room, &app.account.username) {
        Some(user) if room.is_direct() => user.to_string(),
        _ => app.state.borrow().rooms.get(room).map(|r| r.room_name.to_string()).unwrap_or_default(),
    };
    app.view.room_title.set_text_content(Some(&title));
    let _ = app.view.room_title.class_list().toggle_with_force("direct", room.is_direct());
    // A direct conversation cannot be left: it is the two users'.
    app.view.leave.set_hidden(room.is_direct());
    render(app);
    direct::render(app);
    topic::render(app);
    messages::render_room(app);
    presence::render(app);
    unread::read_current(app);
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
        state.unread.remove(room);
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
            topic::render(app);
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
