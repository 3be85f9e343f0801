//! The signed-in account, kept in the browser's `localStorage` so a reload
//! or a new tab stays signed in. The token never goes in the address bar;
//! the WebSocket URL that carries it is not shown to anyone.

use chat_api::Role;
use serde::{Deserialize, Serialize};

const KEY: &str = "bidirectional-chat.account";

/// What is remembered between visits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Account {
    pub(crate) token: String,
    pub(crate) username: String,
    /// The role at login, to decide which controls to show. The server
    /// checks the role on every privileged call; this only hides buttons.
    pub(crate) role: Role,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The remembered account, if any.
pub(crate) fn load() -> Option<Account> {
    let text = storage()?.get_item(KEY).ok()??;
    serde_json::from_str(&text).ok()
}

/// Remembers `account`.
pub(crate) fn save(account: &Account) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(account)) {
        let _ = storage.set_item(KEY, &text);
    }
}

/// Forgets the account (logout, or a token the server no longer takes).
pub(crate) fn forget() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}
