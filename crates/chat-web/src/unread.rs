//! Unread and mention counts per room and direct conversation, and the
//! read marker.
//!
//! The server's counts (`my_rooms`, `list_direct`) are the starting point;
//! live messages add to them, and reading brings them to zero. The room on
//! screen, while the tab is visible, is read: its newest message is sent
//! as the read marker, which the user's other tabs and devices receive as
//! `read_marker_updated` and count down from.

use std::rc::Rc;

use chat_api::{Message, MessageId, RoomId, notifications::ReadMarker, rpc::MyRoom};
use wasm_bindgen_futures::spawn_local;

use crate::{app::App, direct, dom, log, rooms};

/// A room's unread messages, and how many of them mention the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) unread: u64,
    pub(crate) mentions: u64,
}

/// Marks the room on screen read whenever the tab comes back into view.
pub(crate) fn wire(app: &Rc<App>) {
    let app = app.clone();
    dom::on(&dom::document(), "visibilitychange", move |_| read_current(&app));
}

/// Takes the server's counts and markers for the user's rooms.
pub(crate) fn load(app: &App, rooms: &[MyRoom]) {
    {
        let mut state = app.state.borrow_mut();
        for room in rooms {
            let counts = Counts { unread: room.unread_count, mentions: room.mention_count };
            state.unread.insert(room.room_id.clone(), counts);
            if let Some(marker) = room.last_read_message_id {
                state.marked.insert(room.room_id.clone(), marker);
            }
        }
    }
    render(app);
}

/// Sets a conversation's count from the server, unless it is being read;
/// true when it changed.
pub(crate) fn set_from_server(app: &App, room: &RoomId, unread: u64) -> bool {
    if is_read_now(app, room) {
        return false;
    }
    let mut state = app.state.borrow_mut();
    let counts = state.unread.entry(room.clone()).or_default();
    let before = *counts;
    counts.unread = unread;
    // `list_direct` counts no mentions: a direct message is for the user.
    counts.mentions = counts.mentions.min(unread);
    *counts != before
}

/// A new message: read at once when its room is on screen, else counted.
pub(crate) fn arrived(app: &App, message: &Message) {
    let room = &message.room_id;
    if message.username.as_str().eq_ignore_ascii_case(&app.account.username) {
        return;
    }
    if is_read_now(app, room) {
        return mark(app, room);
    }
    {
        let mut state = app.state.borrow_mut();
        let counts = state.unread.entry(room.clone()).or_default();
        counts.unread += 1;
        if log::mentions(message, &app.account.username) {
            counts.mentions += 1;
        }
    }
    render(app);
}

/// The room on screen is read (it was just opened, or the tab came back).
pub(crate) fn read_current(app: &App) {
    let Some(room) = app.state.borrow().current_room() else { return };
    if is_read_now(app, &room) {
        mark(app, &room);
    }
}

/// Another tab or device of this user read up to `marker.message_id`.
pub(crate) fn marker_updated(app: &App, marker: &ReadMarker) {
    {
        let mut state = app.state.borrow_mut();
        let known = state.marked.entry(marker.room_id.clone()).or_insert(marker.message_id);
        *known = (*known).max(marker.message_id);
        let counted = state.logs.get(&marker.room_id).map(|log| {
            let newest = log.newest();
            log.unread_after(marker.message_id, &app.account.username)
                .or_else(|| newest.is_some_and(|newest| newest <= marker.message_id).then_some((0, 0)))
        });
        match counted {
            Some(Some((unread, mentions))) => {
                state.unread.insert(marker.room_id.clone(), Counts { unread, mentions });
            }
            // Not in this tab's view of the room: the other device read it all.
            None => {
                state.unread.remove(&marker.room_id);
            }
            Some(None) => {}
        }
    }
    render(app);
}

/// Zero for `room`, and its newest message sent as the read marker when it
/// is newer than the last one sent.
fn mark(app: &App, room: &RoomId) {
    let newest = app.state.borrow().logs.get(room).and_then(|log| log.newest());
    let had = app.state.borrow_mut().unread.remove(room).is_some_and(|c| c != Counts::default());
    if had {
        render(app);
    }
    let Some(newest) = newest else { return };
    let sent = app.state.borrow().marked.get(room).copied();
    if sent.is_some_and(|sent| sent >= newest) {
        return;
    }
    app.state.borrow_mut().marked.insert(room.clone(), newest);
    send_marker(app, room.clone(), newest);
}

fn send_marker(app: &App, room: RoomId, message: MessageId) {
    let session = app.session.clone();
    // A marker that does not arrive (offline) is sent again with the next
    // message read; nothing to tell the user.
    spawn_local(async move {
        let _ = session.mark_read(&room, message).await;
    });
}

fn is_read_now(app: &App, room: &RoomId) -> bool {
    app.state.borrow().current.as_ref() == Some(room) && !dom::document().hidden()
}

/// Redraws the badges, and puts the total in the tab's title.
pub(crate) fn render(app: &App) {
    rooms::render(app);
    direct::render(app);
    let total: u64 = app.state.borrow().unread.values().map(|c| c.unread).sum();
    let title = if total > 0 { format!("({total}) bidirectional-chat") } else { "bidirectional-chat".to_owned() };
    dom::document().set_title(&title);
}

/// The badge beside a room or conversation: hidden at zero.
pub(crate) fn badge(counts: Counts) -> web_sys::Element {
    let mut badge = dom::el("span")
        .class("unread")
        .attr("data-unread", &counts.unread.to_string())
        .attr("data-mentions", &counts.mentions.to_string());
    if counts.mentions > 0 {
        badge = badge.class("mentioned");
    }
    let label = match (counts.unread, counts.mentions) {
        (n, 0) => format!("{n} unread"),
        (n, m) => format!("{n} unread, {m} mentioning you"),
    };
    let text = if counts.mentions > 0 { format!("@{}", counts.unread) } else { counts.unread.to_string() };
    let badge = badge.attr("aria-label", &label).text(&text).build();
    if counts.unread == 0 {
        let _ = badge.set_attribute("hidden", "");
    }
    badge
}
