//! Full-text search over the rooms anyone can join and the user's own
//! direct conversations: results newest first, more on request, and a
//! click on one opens its room at that message.

use std::rc::Rc;

use chat_api::{Message, MessageId, RoomId, RoomName, SearchQuery};
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use crate::{
    app::App,
    direct,
    dom::{self, el},
    mentions, messages, notices, rooms,
};

/// Results per page.
const PAGE: u32 = 20;

/// The search on screen: its query, and where "More results" goes on.
pub(crate) struct Search {
    query: SearchQuery,
    before: Option<MessageId>,
}

pub(crate) fn wire(app: &Rc<App>) {
    {
        let app = app.clone();
        dom::on(&app.view.search_form.clone(), "submit", move |event| {
            event.prevent_default();
            let query = match SearchQuery::parse(&app.view.search_box.value()) {
                Ok(query) => query,
                Err(error) => return notices::show(&format!("That search cannot be run: {error}")),
            };
            dom::clear(&app.view.search_list);
            app.state.borrow_mut().search = Some(Search { query, before: None });
            let app = app.clone();
            spawn_local(async move { next_page(&app).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&app.view.search_more.clone(), "click", move |_| {
            let app = app.clone();
            spawn_local(async move { next_page(&app).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&app.view.search_close.clone(), "click", move |_| {
            app.state.borrow_mut().search = None;
            app.view.search_results.set_hidden(true);
        });
    }
    let app = app.clone();
    dom::on(&app.view.search_list.clone(), "click", move |event| {
        let Some(item) = rooms::target_element(&event).and_then(|t| t.closest("li.result").ok().flatten()) else {
            return;
        };
        let room = item.get_attribute("data-room").and_then(|r| RoomId::parse(&r).ok());
        let id = item.get_attribute("data-message-id").and_then(|id| id.parse().ok()).map(MessageId);
        if let (Some(room), Some(id)) = (room, id) {
            let app = app.clone();
            spawn_local(async move { open_result(&app, &room, id).await });
        }
    });
}

/// Fetches and shows the next page of the search on screen.
async fn next_page(app: &App) {
    let Some((query, before)) = app.state.borrow().search.as_ref().map(|s| (s.query.clone(), s.before)) else {
        return;
    };
    app.view.search_more.set_disabled(true);
    let found = app.session.search_messages(&query, None, before, Some(PAGE)).await;
    app.view.search_more.set_disabled(false);
    let found = match found {
        Ok(found) => found,
        Err(error) => return notices::show(&notices::call_failed(&error)),
    };
    // A newer search replaced this one meanwhile: its results are not wanted.
    let mut state = app.state.borrow_mut();
    let Some(search) = state.search.as_mut().filter(|s| s.query == query && s.before == before) else { return };
    search.before = found.messages.last().map(|m| m.message_id);
    drop(state);
    app.view.search_title.set_text_content(Some(&format!("Results for “{query}”")));
    for message in &found.messages {
        let _ = app.view.search_list.append_child(&result(app, message));
    }
    if app.view.search_list.child_element_count() == 0 {
        let _ = app.view.search_list.append_child(&el("li").class("muted").text("Nothing found.").build());
    }
    app.view.search_more.set_hidden(!found.has_more);
    app.view.search_results.set_hidden(false);
    if before.is_none() {
        // On a narrow screen the results sit below the conversation.
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Nearest);
        app.view.search_results.scroll_into_view_with_scroll_into_view_options(&options);
    }
}

fn result(app: &App, message: &Message) -> Element {
    let room = &message.room_id;
    let place = match direct::other_user(room, &app.account.username) {
        Some(user) if room.is_direct() => format!("@{user}"),
        _ => format!("#{room}"),
    };
    let button = el("button")
        .attr("type", "button")
        .child(el("span").class("where").text(&place))
        .child(el("span").class("author").attr("dir", "auto").text(message.username.as_str()))
        .child(
            el("time")
                .attr("datetime", &message.timestamp.as_datetime().to_rfc3339())
                .text(&notices::local_time(message.timestamp, true)),
        )
        .child(mentions::text_span(message, &app.account.username));
    el("li")
        .class("result")
        .attr("data-room", room.as_str())
        .attr("data-message-id", &message.message_id.to_string())
        .child(button)
        .build()
}

/// Opens the result's room (joining it, or opening the conversation) and
/// shows the message there.
async fn open_result(app: &Rc<App>, room: &RoomId, id: MessageId) {
    if room.is_direct() {
        let Some(user) = direct::other_user(room, &app.account.username) else { return };
        direct::open(app, &user).await;
    } else {
        let name = app.state.borrow().rooms.get(room).map(|info| info.room_name.clone());
        let Some(name) = name.or_else(|| RoomName::parse(room.as_str()).ok()) else { return };
        rooms::open(app, &name).await;
    }
    if app.state.borrow().current.as_ref() == Some(room) {
        messages::reveal(app, id).await;
    }
}
