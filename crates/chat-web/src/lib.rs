//! The browser client of bidirectional-chat: the same client library as
//! the terminal client (`chat_client`: session, reconnect, catch-up),
//! compiled to WebAssembly, under a plain DOM front end.
//!
//! It uses `wasm-bindgen` and `web-sys` directly rather than a framework:
//! the page is small, the bundle stays small, it builds with cargo alone,
//! and every piece of text goes onto the page through `textContent` (see
//! [`dom`]), so markup in a message, a name or a room name is shown and
//! never run.
//!
//! A tour:
//! - [`app`]: signing in with the stored token, the session's events, and
//!   the per-room state; [`view`]: the chat screen's skeleton.
//! - [`login`]: the sign-in form; [`storage`]: the account in
//!   `localStorage`.
//! - [`rooms`] (rejoined from `my_rooms`), [`direct`] conversations,
//!   [`messages`] (each drawn by [`message_item`] from a room's [`log`]),
//!   [`presence`] (and typing), [`composer`] with [`compose`] (new, reply
//!   or edit), [`announcements`],
//!   [`profile`] with [`avatar`] and [`profile_actions`], [`moderation`],
//!   [`search`], [`topic`]: the parts of the screen; [`actions`] and
//!   [`message_actions`] wire the clicks.
//! - What changes messages after they arrive: [`edits`] (edit, delete),
//!   [`reactions`], [`mentions`]; and [`unread`] counts with the read
//!   marker.
//! - [`notices`]: errors and endings in words; [`dom`]: element helpers.
//!
//! `scripts/build-web.sh` builds the bundle the server serves at `/`.

mod actions;
mod announcements;
mod app;
mod avatar;
mod compose;
mod composer;
mod direct;
mod dom;
mod edits;
mod log;
mod login;
mod mentions;
mod message_actions;
mod message_item;
mod messages;
mod moderation;
mod notices;
mod presence;
mod profile;
mod profile_actions;
mod reactions;
mod rooms;
mod search;
mod storage;
mod topic;
mod unread;
mod view;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module loads: signed in already, or the sign-in form.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(root) = dom::by_id::<web_sys::Element>("app") else {
        return;
    };
    match storage::load() {
        Some(account) => app::start(&root, account),
        None => login::show(&root, None),
    }
}
