//! Keeps direct conversations current by asking the server.
//!
//! The client library's session passes on live messages only for rooms it
//! joined, and a direct conversation is never joined: the server sends its
//! messages to both users' connections unasked. Until the library passes
//! them on too, the page asks `list_direct` every few seconds while
//! connected; a conversation whose newest message is newer than what the
//! page holds gets its newest page of history, merged by id. Merging by id
//! keeps this correct (each message shown and counted once) also when the
//! same messages arrive live.

use std::{rc::Weak, time::Duration};

use chat_api::{RoomId, rpc::DirectChat};

use crate::{app::App, direct, messages};

/// How often to ask: the delay before a direct message shows.
const EVERY: Duration = Duration::from_secs(3);

/// Messages fetched for a conversation that moved on.
const PAGE: u32 = 50;

/// Asks every few seconds for as long as the page's app lives.
pub(crate) fn run_forever(app: Weak<App>) {
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            gloo_timers::future::sleep(EVERY).await;
            let Some(app) = app.upgrade() else { return };
            if app.state.borrow().closed {
                return;
            }
            if app.session.is_connected() {
                sync(&app).await;
            }
        }
    });
}

/// One round: the list, then the history of every open conversation that
/// has messages the page does not.
pub(crate) async fn sync(app: &App) {
    // A failure here is retried next round; the user sees no error for it.
    let Ok(chats) = app.session.list_direct().await else { return };
    let behind: Vec<RoomId> = chats.iter().filter(|chat| is_behind(app, chat)).map(|c| c.room_id.clone()).collect();
    for room in behind {
        let Ok(page) = app.session.get_history(&room, None, PAGE).await else { continue };
        for message in page.messages {
            messages::received(app, message);
        }
    }
    // After the messages, so the server's unread counts (which include
    // them) are the ones that stay.
    direct::update(app, &chats);
}

/// Whether the page shows this conversation but not its newest message.
fn is_behind(app: &App, chat: &DirectChat) -> bool {
    let Some(last) = chat.last_message.as_ref().map(|m| m.message_id) else { return false };
    let state = app.state.borrow();
    state.logs.get(&chat.room_id).is_some_and(|log| log.newest().is_none_or(|newest| newest < last))
}
