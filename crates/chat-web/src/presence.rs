//! Who is here, and who is typing, in the room on screen.

use std::{rc::Weak, time::Duration};

use chat_api::RoomId;
use wasm_bindgen_futures::spawn_local;

use crate::{
    app::App,
    dom::{self, el},
};

/// How long a typing notice holds without a refresh: the server expires
/// typing after 5 s and says so, but a lost notice must not stick.
const TYPING_HOLD_MS: f64 = 6_000.0;

/// Redraws the presence list for the room on screen.
pub(crate) fn render(app: &App) {
    let list = &app.view.presence;
    dom::clear(list);
    let state = app.state.borrow();
    let users = state.current.as_ref().and_then(|room| state.presence.get(room));
    for user in users.into_iter().flatten() {
        let mut item = el("li").attr("data-user", user).child(
            el("button").class("author").attr("type", "button").attr("data-user", user).attr("dir", "auto").text(user),
        );
        if *user == app.account.username {
            item = item.class("own");
        }
        let _ = list.append_child(&item.build());
    }
    drop(state);
    render_typing(app);
}

pub(crate) fn joined(app: &App, room: &RoomId, user: &str) {
    if let Some(users) = app.state.borrow_mut().presence.get_mut(room) {
        users.insert(user.to_owned());
    }
    if is_current(app, room) {
        render(app);
    }
}

pub(crate) fn left(app: &App, room: &RoomId, user: &str) {
    if let Some(users) = app.state.borrow_mut().presence.get_mut(room) {
        users.remove(user);
    }
    typing_stopped(app, room, user);
    if is_current(app, room) {
        render(app);
    }
}

pub(crate) fn typing_started(app: &App, room: &RoomId, user: &str) {
    if user == app.account.username {
        return;
    }
    let until = js_sys::Date::now() + TYPING_HOLD_MS;
    app.state.borrow_mut().typing.entry(room.clone()).or_default().insert(user.to_owned(), until);
    if is_current(app, room) {
        render_typing(app);
    }
}

pub(crate) fn typing_stopped(app: &App, room: &RoomId, user: &str) {
    let removed = app.state.borrow_mut().typing.get_mut(room).and_then(|users| users.remove(user)).is_some();
    if removed && is_current(app, room) {
        render_typing(app);
    }
}

/// "bob is typing…", "bob and carol are typing…", "several people are typing…".
fn render_typing(app: &App) {
    let now = js_sys::Date::now();
    let state = app.state.borrow();
    let typing: Vec<&str> = state
        .current
        .as_ref()
        .and_then(|room| state.typing.get(room))
        .into_iter()
        .flatten()
        .filter(|(_, until)| **until > now)
        .map(|(user, _)| user.as_str())
        .collect();
    let text = match typing.as_slice() {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        [one, two] => format!("{one} and {two} are typing…"),
        _ => "several people are typing…".to_owned(),
    };
    app.view.typing.set_text_content(Some(&text));
}

/// Clears typing notices that were never stopped, once a second, for as
/// long as the page's app lives.
pub(crate) fn expire_typing_forever(app: Weak<App>) {
    spawn_local(async move {
        loop {
            gloo_timers::future::sleep(Duration::from_secs(1)).await;
            let Some(app) = app.upgrade() else { return };
            if app.state.borrow().closed {
                return;
            }
            let now = js_sys::Date::now();
            for users in app.state.borrow_mut().typing.values_mut() {
                users.retain(|_, until| *until > now);
            }
            render_typing(&app);
        }
    });
}

fn is_current(app: &App, room: &RoomId) -> bool {
    app.state.borrow().current.as_ref() == Some(room)
}
