//! The chat screen's skeleton: built once per sign-in, with the elements
//! the rest of the app fills in. The ids, roles and labels here are the
//! page's contract with its tests and with assistive technology
//! (docs/web-client.md lists them).

use chat_api::Role;
use web_sys::{Element, HtmlButtonElement, HtmlDialogElement, HtmlInputElement, HtmlTextAreaElement};

use crate::dom::{self, el, labelled};

/// The elements the app updates.
pub(crate) struct View {
    pub(crate) rooms: Element,
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
    let header = el("header")
        .child(el("span").class("brand").text("bidirectional-chat"))
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
    let nav = el("nav")
        .attr("aria-label", "Rooms")
        .child(el("h2").text("Rooms"))
        .child(rooms.clone())
        .child(create_form.clone());

    let room_title = el("h2").id("room-title").build();
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
    let composer = el("form")
        .attr("aria-label", "Send message")
        .class("composer")
        .child(labelled("Message", message_box.clone()))
        .child(el("button").attr("type", "submit").text("Send"))
        .build();
    let room = el("section")
        .attr("aria-label", "Room")
        .class("room")
        .child(el("div").class("room-head").child(room_title.clone()).child(leave.clone()))
        .child(older.clone())
        .child(messages.clone())
        .child(typing.clone())
        .child(composer.clone());

    let presence = el("ul").id("presence").build();
    let side = el("aside")
        .attr("aria-label", "Who is here")
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
