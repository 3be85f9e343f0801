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
//! - [`rooms`], [`messages`], [`presence`] (and typing), [`composer`],
//!   [`announcements`], [`profile`] with [`avatar`], [`moderation`]:
//!   the parts of the screen; [`actions`] wires the clicks.
//! - [`notices`]: errors and endings in words; [`dom`]: element helpers.
//!
//! `scripts/build-web.sh` builds the bundle the server serves at `/`.

mod actions;
mod announcements;
mod app;
mod avatar;
mod composer;
mod dom;
mod login;
mod messages;
mod moderation;
mod notices;
mod presence;
mod profile;
mod rooms;
mod storage;
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
