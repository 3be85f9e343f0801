//! Direct conversations: the list under "Direct messages", most recent
//! activity first with unread badges, and opening one with a user (its id
//! is `dm:<a>:<b>`; `open_direct` answers like `join_room`). Their
//! messages need no join: the session delivers them like a room's, and a
//! conversation someone else starts appears with its first message.

use std::rc::Rc;

use chat_api::{ErrorCode, Message, MessageId, RoomId, UserName, rpc::DirectChat};
use web_sys::Element;

use crate::{
    app::App,
    dom::{self, el},
    log::RoomLog,
    notices, rooms, unread,
};

/// One conversation in the list.
pub(crate) struct Direct {
    /// The other participant.
    pub(crate) user: UserName,
    /// Its newest message known, for the order of the list.
    pub(crate) last: Option<MessageId>,
}

/// The other participant of conversation `room`, for this user.
pub(crate) fn other_user(room: &RoomId, me: &str) -> Option<UserName> {
    let (a, b) = room.direct_keys()?;
    let other = if a.eq_ignore_ascii_case(me) { b } else { a };
    UserName::parse(other).ok()
}

/// Fetches the conversations with their unread counts (on sign-in, and
/// after a reconnect for those started while away).
pub(crate) async fn load(app: &App) {
    match app.session.list_direct().await {
        Ok(chats) => update(app, &chats),
        Err(error) => notices::show(&notices::call_failed(&error)),
    }
}

/// Takes `list_direct`'s answer: the conversations, their newest messages
/// and unread counts. Redraws only on a change, so a refresh that brings
/// nothing new leaves the lists (and the keyboard focus in them) alone.
fn update(app: &App, chats: &[DirectChat]) {
    let mut changed = false;
    for chat in chats {
        {
            let mut state = app.state.borrow_mut();
            let last = chat.last_message.as_ref().map(|m| m.message_id);
            changed |= !state.directs.contains_key(&chat.room_id);
            let direct = state
                .directs
                .entry(chat.room_id.clone())
                .or_insert_with(|| Direct { user: chat.username.clone(), last: None });
            changed |= direct.last < last;
            direct.last = direct.last.max(last);
        }
        changed |= unread::set_from_server(app, &chat.room_id, chat.unread_count);
    }
    if changed {
        unread::render(app);
    }
}

/// A message in a direct conversation: it moves to the top of the list
/// (and joins it, when someone else started it).
pub(crate) fn touched(app: &App, message: &Message) {
    let Some(user) = other_user(&message.room_id, &app.account.username) else { return };
    {
        let mut state = app.state.borrow_mut();
        let direct = state.directs.entry(message.room_id.clone()).or_insert(Direct { user, last: None });
        direct.last = direct.last.max(Some(message.message_id));
    }
    render(app);
}

/// Redraws the list of conversations.
pub(crate) fn render(app: &App) {
    let state = app.state.borrow();
    let list = &app.view.directs;
    let focused = dom::focused_item(list);
    dom::clear(list);
    let mut chats: Vec<(&RoomId, &Direct)> = state.directs.iter().collect();
    chats.sort_by(|a, b| b.1.last.cmp(&a.1.last).then_with(|| a.1.user.cmp(&b.1.user)));
    for (room, direct) in chats {
        let counts = state.unread.get(room).copied().unwrap_or_default();
        let mut item = el("li")
            .attr("data-room", room.as_str())
            .attr("data-user", direct.user.as_str())
            .child(el("button").attr("type", "button").attr("dir", "auto").text(direct.user.as_str()))
            .child(unread::badge(counts));
        if state.current.as_ref() == Some(room) {
            item = item.attr("aria-current", "true");
        }
        let _ = list.append_child(&item.build());
    }
    dom::refocus_item(list, focused);
}

/// The conversation a click in the list landed on.
pub(crate) fn clicked(target: &Element) -> Option<UserName> {
    let item = target.closest("#directs li[data-user]").ok()??;
    UserName::parse(&item.get_attribute("data-user")?).ok()
}

/// Opens (creating if needed) the conversation with `user` and shows it.
pub(crate) async fn open(app: &Rc<App>, user: &UserName) {
    if user.as_str().eq_ignore_ascii_case(&app.account.username) {
        return notices::show("That is you: pick someone else to message.");
    }
    let Ok(me) = UserName::parse(&app.account.username) else { return };
    let Some(room) = RoomId::direct(&me, user) else { return };
    if app.state.borrow().logs.contains_key(&room) {
        return rooms::switch(app, &room);
    }
    let answer = match app.session.open_direct(user, None).await {
        Ok(answer) => answer,
        // Blocked: said as plainly as the server says it, no more.
        Err(error) if error.is(ErrorCode::Forbidden) => return notices::show(&format!("You cannot write to {user}.")),
        Err(error) if error.is(ErrorCode::NotFound) => return notices::show(&format!("There is no user {user}.")),
        Err(error) => return notices::show(&notices::call_failed(&error)),
    };
    {
        let mut state = app.state.borrow_mut();
        let last = answer.recent_messages.last().map(|m| m.message_id);
        let direct = state.directs.entry(answer.room_id.clone()).or_insert(Direct { user: user.clone(), last: None });
        direct.last = direct.last.max(last);
        state.presence.insert(answer.room_id.clone(), answer.existing_users.iter().map(|u| u.to_string()).collect());
        let log = state
            .logs
            .entry(answer.room_id.clone())
            .or_insert_with(|| RoomLog::new(!answer.recent_messages.is_empty()));
        for message in answer.recent_messages {
            log.insert(message);
        }
    }
    rooms::switch(app, &answer.room_id);
}

/// The user typed into "Message a user".
pub(crate) fn typed_user(app: &App) -> Option<UserName> {
    let text = app.view.direct_user.value();
    match UserName::parse(text.trim().trim_start_matches('@')) {
        Ok(name) => Some(name),
        Err(error) => {
            notices::show(&format!("That is not a username: {error}"));
            None
        }
    }
}
