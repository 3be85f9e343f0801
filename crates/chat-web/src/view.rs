//! The chat screen's skeleton: built once per sign-in, with the elements
//! the rest of the app fills in. The ids, roles and labels here are the
//! page's contract with its tests and with assistive technology
//! (docs/web-client.md lists them).

use chat_api::Role;
use web_sys::{Element, HtmlButtonElement, HtmlDialogElement, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

use crate::dom::{self, el, labelled};

/// The elements the app updates.
pub(crate) struct View {
    pub(crate) rooms: Element,
    pub(crate) directs: Element,
    pub(crate) direct_form: Element,
    pub(crate) direct_user: HtmlInputElement,
    pub(crate) topic: HtmlElement,
    pub(crate) topic_edit: HtmlButtonElement,
    pub(crate) topic_form: HtmlElement,
    pub(crate) topic_box: HtmlInputElement,
    pub(crate) topic_cancel: HtmlButtonElement,
    pub(crate) compose_mode: HtmlElement,
    pub(crate) compose_what: Element,
    pub(crate) compose_cancel: HtmlButtonElement,
    pub(crate) search_form: Element,
    pub(crate) search_box: HtmlInputElement,
    pub(crate) search_results: HtmlElement,
    pub(crate) search_title: Element,
    pub(crate) search_list: Element,
    pub(crate) search_more: HtmlButtonElement,
    pub(crate) search_close: HtmlButtonElement,
    pub(crate) create_form: Element,
    pub(crate) new_room: HtmlInputElement,
    pub(crate) room_title: Element,
    pub(crate) leave: HtmlButtonElement,
    pub(crate) older: HtmlButtonElement,
    pub(crate) messages: Element,
    pub(crate) typing: Element,
    pub(crate) composer: Element,
    pub(crate) message_box: HtmlTextAreaElement,
    pub(crate) presence: Element,
    pub(crate) announcements: Element,
    pub(crate) logout: HtmlButtonElement,
    pub(crate) reconnect: HtmlButtonElement,
    pub(crate) profile_button: HtmlButtonElement,
    pub(crate) profile: HtmlDialogElement,
    pub(crate) side: Element,
}

/// Replaces `root`'s content with the chat screen for `username`.
pub(crate) fn build(root: &Element, username: &str, role: Role) -> View {
    dom::clear(root);
    let logout: HtmlButtonElement = el("button").id("logout").attr("type", "button").text("Log out").into();
    let reconnect: HtmlButtonElement = el("button").id("reconnect").attr("type", "button").text("Reconnect").into();
    reconnect.set_hidden(true);
    let profile_button: HtmlButtonElement =
        el("button").id("profile-button").attr("type", "button").text("Profile").into();
    let search_box: HtmlInputElement =
        el("input").id("search").attr("type", "search").attr("maxlength", "200").attr("required", "").into();
    let search_form = el("form")
        .attr("aria-label", "Search")
        .attr("role", "search")
        .class("search")
        .child(labelled("Search messages", search_box.clone()))
        .child(el("button").attr("type", "submit").text("Search"))
        .build();
    let header = el("header")
        .child(el("span").class("brand").text("bidirectional-chat"))
        .child(search_form.clone())
        .child(el("span").id("me").text(username))
        .child(el("span").id("role").class("badge").text(role.as_str()))
        .child(el("span").id("connection").attr("aria-live", "polite").text("connecting…"))
        .child(reconnect.clone())
        .child(profile_button.clone())
        .child(logout.clone())
        .build();

    let rooms = el("ul").id("rooms").build();
    let new_room: HtmlInputElement =
        el("input").id("new-room").attr("maxlength", "64").attr("autocomplete", "off").attr("required", "").into();
    let create_form = el("form")
        .attr("aria-label", "Create room")
        .class("inline")
        .child(labelled("New room name", new_room.clone()))
        .child(el("button").attr("type", "submit").text("Create"))
        .build();
    let directs = el("ul").id("directs").build();
    let direct_user: HtmlInputElement =
        el("input").id("direct-user").attr("maxlength", "32").attr("autocomplete", "off").attr("required", "").into();
    let direct_form = el("form")
        .attr("aria-label", "Message a user")
        .class("inline")
        .child(labelled("Username to message", direct_user.clone()))
        .child(el("button").attr("type", "submit").text("Message"))
        .build();
    let nav = el("nav")
        .attr("aria-label", "Rooms")
        .child(el("h2").text("Rooms"))
        .child(rooms.clone())
        .child(create_form.clone())
        .child(el("h2").text("Direct messages"))
        .child(directs.clone())
        .child(direct_form.clone());

    let room_title = el("h2").id("room-title").build();
    let topic: HtmlElement = el("p").id("room-topic").attr("dir", "auto").into();
    topic.set_hidden(true);
    let topic_edit: HtmlButtonElement = el("button").id("set-topic").attr("type", "button").text("Set topic").into();
    let topic_box: HtmlInputElement =
        el("input").id("topic").attr("maxlength", "300").attr("autocomplete", "off").into();
    let topic_cancel: HtmlButtonElement = el("button").attr("type", "button").text("Cancel").into();
    let topic_form: HtmlElement = el("form")
        .attr("aria-label", "Room topic")
        .class("topic-form")
        .child(labelled("Topic", topic_box.clone()))
        .child(el("button").attr("type", "submit").text("Save topic"))
        .child(topic_cancel.clone())
        .into();
    topic_form.set_hidden(true);
    let leave: HtmlButtonElement = el("button").id("leave").attr("type", "button").text("Leave room").into();
    let older: HtmlButtonElement = el("button").id("older").attr("type", "button").text("Load older messages").into();
    older.set_hidden(true);
    let messages =
        el("ol").id("messages").attr("role", "log").attr("aria-label", "Messages").attr("tabindex", "0").build();
    let typing = el("p").id("typing").attr("aria-live", "polite").build();
    let message_box: HtmlTextAreaElement = el("textarea")
        .id("message")
        .attr("rows", "2")
        .attr("maxlength", "4000")
        .attr("placeholder", "Write a message")
        .into();
    let compose_what = el("span").id("compose-what").build();
    let compose_cancel: HtmlButtonElement = el("button").attr("type", "button").text("Cancel").into();
    let compose_mode: HtmlElement =
        el("p").id("composer-mode").child(compose_what.clone()).child(compose_cancel.clone()).into();
    compose_mode.set_hidden(true);
    let composer = el("form")
        .attr("aria-label", "Send message")
        .class("composer")
        .child(labelled("Message", message_box.clone()))
        .child(el("button").attr("type", "submit").text("Send"))
        .build();
    let room = el("section")
        .attr("aria-label", "Room")
        .class("room")
        .child(
            el("div")
                .class("room-head")
                .child(el("div").class("room-name").child(room_title.clone()).child(topic.clone()))
                .child(el("div").class("buttons").child(topic_edit.clone()).child(leave.clone())),
        )
        .child(topic_form.clone())
        .child(older.clone())
        .child(messages.clone())
        .child(typing.clone())
        .child(compose_mode.clone())
        .child(composer.clone());

    let search_title = el("h2").id("search-title").build();
    let search_list = el("ol").id("search-list").build();
    let search_more: HtmlButtonElement = el("button").attr("type", "button").text("More results").into();
    let search_close: HtmlButtonElement = el("button").attr("type", "button").text("Close search").into();
    let search_results: HtmlElement = el("section")
        .id("search-results")
        .attr("aria-label", "Search results")
        .child(search_title.clone())
        .child(search_list.clone())
        .child(el("div").class("buttons").child(search_more.clone()).child(search_close.clone()))
        .into();
    search_results.set_hidden(true);
    let presence = el("ul").id("presence").build();
    let side = el("aside")
        .attr("aria-label", "Who is here")
        .child(search_results.clone())
        .child(el("h2").text("Who is here"))
        .child(presence.clone())
        .build();

    let profile: HtmlDialogElement = el("dialog").id("profile").attr("aria-label", "Profile").into();
    let announcements = el("div").id("announcements").build();
    let page = el("div")
        .class("screen")
        .children([
            header,
            announcements.clone(),
            el("p").id("notice").attr("role", "alert").build(),
            el("div").class("layout").child(nav).child(room).child(side.clone()).build(),
            profile.clone().into(),
        ])
        .build();
    let _ = root.append_child(&page);
    View {
        rooms,
        directs,
        direct_form,
        direct_user,
        topic,
        topic_edit,
        topic_form,
        topic_box,
        topic_cancel,
        compose_mode,
        compose_what,
        compose_cancel,
        search_form,
        search_box,
        search_results,
        search_title,
        search_list,
        search_more,
        search_close,
        create_form,
        new_room,
        room_title,
        leave,
        older,
        messages,
        typing,
        composer,
        message_box,
        presence,
        announcements,
        logout,
        reconnect,
        profile_button,
        profile,
        side,
    }
}
