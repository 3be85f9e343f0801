//! Edits and deletes, from this page or from the server's notifications:
//! the message changes in place ("(edited)", or "This message was
//! deleted."). Each is applied once, whichever copy comes first.

use chat_api::{MessageId, MessageText, RoomId, Timestamp};

use crate::{app::App, compose, messages};

/// Message `id` now reads `text`.
pub(crate) fn edited(app: &App, room: &RoomId, id: MessageId, text: &MessageText, at: Timestamp) {
    let changed = app.state.borrow_mut().logs.get_mut(room).is_some_and(|log| log.edit(id, text, at));
    if changed {
        messages::refresh(app, room, id);
    }
}

/// Message `id` is gone: a tombstone in its place, and the box no longer
/// answers or edits it.
pub(crate) fn deleted(app: &App, room: &RoomId, id: MessageId) {
    let changed = app.state.borrow_mut().logs.get_mut(room).is_some_and(|log| log.delete(id));
    let about_it = match &app.state.borrow().compose {
        compose::Compose::Reply { to, .. } => *to == id,
        compose::Compose::Edit { id: editing, .. } => *editing == id,
        compose::Compose::New => false,
    };
    if about_it {
        compose::cancel(app);
    }
    if changed {
        messages::refresh(app, room, id);
    }
}
