//! What the message box is for: a new message, a reply to one, or an edit
//! of one's own. A line above the box says which, with "Cancel" (or
//! Escape) to go back to a new message.

use std::rc::Rc;

use chat_api::{MessageId, RoomId};
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;

use crate::{app::App, dom};

/// The message box's purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Compose {
    #[default]
    New,
    Reply {
        room: RoomId,
        to: MessageId,
    },
    Edit {
        room: RoomId,
        id: MessageId,
    },
}

pub(crate) fn wire(app: &Rc<App>) {
    {
        let app = app.clone();
        dom::on(&app.view.compose_cancel.clone(), "click", move |_| cancel(&app));
    }
    let app = app.clone();
    dom::on(&app.view.message_box.clone(), "keydown", move |event| {
        let escape = event.dyn_ref::<KeyboardEvent>().is_some_and(|key| key.key() == "Escape");
        if escape && app.state.borrow().compose != Compose::New {
            event.prevent_default();
            cancel(&app);
        }
    });
}

/// The box now answers message `to`.
pub(crate) fn reply(app: &App, room: &RoomId, to: MessageId) {
    let said = match app.state.borrow().logs.get(room).and_then(|log| log.get(to)) {
        Some(message) => format!("Replying to {}", message.username),
        None => "Replying".to_owned(),
    };
    app.state.borrow_mut().compose = Compose::Reply { room: room.clone(), to };
    show(app, &said);
}

/// The box now edits message `id`, starting from its text.
pub(crate) fn edit(app: &App, room: &RoomId, id: MessageId) {
    let Some(text) = app.state.borrow().logs.get(room).and_then(|log| log.get(id)).map(|m| m.text.to_string()) else {
        return;
    };
    app.state.borrow_mut().compose = Compose::Edit { room: room.clone(), id };
    app.view.message_box.set_value(&text);
    show(app, "Editing your message");
}

/// Back to a new message (after sending, switching rooms, or Cancel).
pub(crate) fn cancel(app: &App) {
    let was_edit = matches!(app.state.borrow().compose, Compose::Edit { .. });
    app.state.borrow_mut().compose = Compose::New;
    if was_edit {
        app.view.message_box.set_value("");
    }
    app.view.compose_mode.set_hidden(true);
}

/// The purpose, for the send: reset to a new message.
pub(crate) fn take(app: &App) -> Compose {
    let mode = std::mem::take(&mut app.state.borrow_mut().compose);
    app.view.compose_mode.set_hidden(true);
    mode
}

fn show(app: &App, text: &str) {
    app.view.compose_what.set_text_content(Some(text));
    app.view.compose_mode.set_hidden(false);
    let _ = app.view.message_box.focus();
}

/// Puts back the purpose of a message the server refused.
pub(crate) fn restore(app: &App, mode: Compose) {
    match mode {
        Compose::New => {}
        Compose::Reply { room, to } => reply(app, &room, to),
        Compose::Edit { room, id } => {
            app.state.borrow_mut().compose = Compose::Edit { room, id };
            show(app, "Editing your message");
        }
    }
}
