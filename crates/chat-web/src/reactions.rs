//! Reactions under messages: the server's notifications and this user's
//! own clicks (a reaction of one's own is taken back by clicking it again).

use std::rc::Rc;

use chat_api::{Emoji, MessageId, RoomId, UserName, notifications::ReactionChange};
use wasm_bindgen_futures::spawn_local;

use crate::{app::App, messages, notices};

/// Someone (this user included) added or took back a reaction.
pub(crate) fn changed(app: &App, change: &ReactionChange, added: bool) {
    apply(app, &change.room_id, change.message_id, &change.username, &change.emoji, added);
}

fn apply(app: &App, room: &RoomId, id: MessageId, user: &UserName, emoji: &Emoji, added: bool) {
    let changed = app.state.borrow_mut().logs.get_mut(room).is_some_and(|log| log.react(id, user, emoji, added));
    if changed {
        messages::refresh(app, room, id);
    }
}

/// Adds this user's `emoji` to message `id`, or takes it back if it is
/// there already.
pub(crate) fn toggle(app: &Rc<App>, room: &RoomId, id: MessageId, emoji: &str) {
    let emoji = match Emoji::parse(emoji) {
        Ok(emoji) => emoji,
        Err(error) => return notices::show(&format!("That reaction cannot be used: {error}")),
    };
    let Ok(me) = UserName::parse(&app.account.username) else { return };
    let mine = app.state.borrow().logs.get(room).and_then(|log| log.get(id)).is_some_and(|message| {
        message.reactions.iter().any(|r| r.emoji == emoji && r.usernames.iter().any(|u| u.key() == me.key()))
    });
    let (app, room) = (app.clone(), room.clone());
    spawn_local(async move {
        let done = if mine {
            app.session.remove_reaction(id, &emoji).await
        } else {
            app.session.add_reaction(id, &emoji).await
        };
        match done {
            // Shown at once; the server's notification of it changes nothing more.
            Ok(()) => apply(&app, &room, id, &me, &emoji, !mine),
            Err(error) => notices::show(&notices::call_failed(&error)),
        }
    });
}
