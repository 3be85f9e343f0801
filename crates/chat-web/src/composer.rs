//! The message box: Enter sends, Shift+Enter starts a new line, and typing
//! tells the room (at most one `start_typing` per few seconds, and a
//! `stop_typing` after a pause).

use std::{cell::Cell, rc::Rc, time::Duration};

use chat_api::MessageText;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::KeyboardEvent;

use crate::{
    app::App,
    compose::{self, Compose},
    dom, edits, notices,
};

/// A new `start_typing` no sooner than this after the last (the server
/// keeps a typing notice alive for 5 s).
const TYPING_REFRESH_MS: f64 = 3_000.0;
/// Quiet time after which the room is told this user stopped typing.
const TYPING_PAUSE: Duration = Duration::from_secs(4);

/// Typing bookkeeping: when `start_typing` was last sent (0 when not
/// typing), and when a key was last pressed.
#[derive(Default)]
struct Typing {
    sent_at: Cell<f64>,
    last_key: Cell<f64>,
}

pub(crate) fn wire(app: &Rc<App>) {
    let typing = Rc::new(Typing::default());
    let form = app.view.composer.clone();
    {
        let (app, typing) = (app.clone(), typing.clone());
        dom::on(&form, "submit", move |event| {
            event.prevent_default();
            send(&app, &typing);
        });
    }
    {
        let (app, typing) = (app.clone(), typing.clone());
        dom::on(&app.view.message_box.clone(), "keydown", move |event| {
            let Some(key) = event.dyn_ref::<KeyboardEvent>() else { return };
            if key.key() == "Enter" && !key.shift_key() && !key.is_composing() {
                event.prevent_default();
                send(&app, &typing);
            }
        });
    }
    let app = app.clone();
    dom::on(&app.view.message_box.clone(), "input", move |_| typed(&app, &typing));
}

fn send(app: &Rc<App>, typing: &Rc<Typing>) {
    let text = app.view.message_box.value();
    if text.trim().is_empty() {
        return;
    }
    let Some(room) = app.state.borrow().current_room() else {
        return notices::show("Join a room first.");
    };
    let text = match MessageText::parse(&text) {
        Ok(text) => text,
        Err(error) => return notices::show(&format!("That message cannot be sent: {error}")),
    };
    // Cleared at once so the next message can be typed; put back (with
    // its purpose) if the server refuses it.
    app.view.message_box.set_value("");
    typing.sent_at.set(0.0);
    let mode = compose::take(app);
    let app = app.clone();
    spawn_local(async move {
        let sent = match &mode {
            Compose::Edit { room, id } => app.session.edit_message(*id, &text).await.map(|done| {
                edits::edited(&app, room, *id, &text, done.edited_at);
            }),
            Compose::Reply { room: replied_in, to } if *replied_in == room => {
                app.session.send_reply(&room, &text, *to).await.map(drop)
            }
            _ => app.session.send_message(&room, &text).await.map(drop),
        };
        match sent {
            Ok(()) => notices::clear(),
            Err(error) => {
                if app.view.message_box.value().is_empty() {
                    app.view.message_box.set_value(text.as_str());
                    compose::restore(&app, mode);
                }
                notices::show(&notices::call_failed(&error));
            }
        }
    });
}

fn typed(app: &Rc<App>, typing: &Rc<Typing>) {
    let now = js_sys::Date::now();
    typing.last_key.set(now);
    let Some(room) = app.state.borrow().current_room() else { return };
    if now - typing.sent_at.get() >= TYPING_REFRESH_MS {
        typing.sent_at.set(now);
        let session = app.session.clone();
        let room = room.clone();
        // A refused typing notice (rate limit) is not worth telling anyone.
        spawn_local(async move {
            let _ = session.start_typing(&room).await;
        });
    }
    let (session, typing) = (app.session.clone(), typing.clone());
    spawn_local(async move {
        gloo_timers::future::sleep(TYPING_PAUSE).await;
        let quiet = js_sys::Date::now() - typing.last_key.get() >= TYPING_PAUSE.as_millis() as f64 - 50.0;
        if quiet && typing.sent_at.get() > 0.0 {
            typing.sent_at.set(0.0);
            let _ = session.stop_typing(&room).await;
        }
    });
}
