//! The room's topic under its name, and setting it. The server lets
//! moderators and the room's creator set it; the page cannot tell who
//! created a room, so it offers the control in every room and explains a
//! refusal.

use std::rc::Rc;

use chat_api::{RoomTopic, notifications::RoomUpdated};
use wasm_bindgen_futures::spawn_local;

use crate::{app::App, dom, notices, rooms};

pub(crate) fn wire(app: &Rc<App>) {
    {
        let app = app.clone();
        dom::on(&app.view.topic_edit.clone(), "click", move |_| {
            let current = {
                let state = app.state.borrow();
                let room = state.current.as_ref().and_then(|room| state.rooms.get(room));
                room.and_then(|info| info.topic.as_ref()).map(|t| t.to_string()).unwrap_or_default()
            };
            app.view.topic_box.set_value(&current);
            app.view.topic_form.set_hidden(false);
            let _ = app.view.topic_box.focus();
        });
    }
    {
        let app = app.clone();
        dom::on(&app.view.topic_cancel.clone(), "click", move |_| app.view.topic_form.set_hidden(true));
    }
    let app = app.clone();
    dom::on(&app.view.topic_form.clone(), "submit", move |event| {
        event.prevent_default();
        let Some(room) = app.state.borrow().current_room() else { return };
        let topic = match RoomTopic::parse(&app.view.topic_box.value()) {
            Ok(topic) => topic,
            Err(error) => return notices::show(&format!("That topic cannot be used: {error}")),
        };
        let app = app.clone();
        spawn_local(async move {
            match app.session.set_room_topic(&room, &topic).await {
                Ok(()) => {
                    app.view.topic_form.set_hidden(true);
                    if let Some(info) = app.state.borrow_mut().rooms.get_mut(&room) {
                        info.topic = Some(topic).filter(|t| !t.is_empty());
                    }
                    render(&app);
                }
                Err(chat_client::CallError::Refused { kind: Some(chat_api::ErrorCode::Forbidden), .. }) => {
                    notices::show("Only moderators and the room's creator can set its topic.")
                }
                Err(error) => notices::show(&notices::call_failed(&error)),
            }
        });
    });
}

/// A room changed (its topic, say): the list and, if on screen, its head.
pub(crate) fn updated(app: &App, update: RoomUpdated) {
    let info = update.room_info;
    app.state.borrow_mut().rooms.insert(info.room_id.clone(), info);
    rooms::render(app);
    render(app);
}

/// Shows the topic of the room on screen; a direct conversation has none.
pub(crate) fn render(app: &App) {
    let state = app.state.borrow();
    let room = state.current.as_ref();
    let direct = room.is_none_or(|room| room.is_direct());
    let topic = room.and_then(|room| state.rooms.get(room)).and_then(|info| info.topic.as_ref());
    app.view.topic.set_text_content(topic.map(|t| t.as_str()));
    app.view.topic.set_hidden(topic.is_none());
    app.view.topic_edit.set_hidden(direct);
    if direct {
        app.view.topic_form.set_hidden(true);
    }
}
