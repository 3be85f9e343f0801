//! System announcements as banners at the top, each dismissible.

use chat_api::notifications::Announcement;

use crate::{
    dom::{self, el},
    view::View,
};

/// Shows `announcement` until dismissed.
pub(crate) fn show(view: &View, announcement: &Announcement) {
    let dismiss = el("button").attr("type", "button").text("Dismiss").build();
    let banner = el("div")
        .class("announcement")
        .attr("role", "status")
        .attr("data-level", announcement.level.as_str())
        .child(el("strong").text("Announcement: "))
        .child(el("span").attr("dir", "auto").text(&announcement.message))
        .child(dismiss.clone())
        .build();
    let _ = view.announcements.append_child(&banner);
    dom::on(&dismiss, "click", move |_| banner.remove());
}
