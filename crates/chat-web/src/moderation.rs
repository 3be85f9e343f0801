//! Moderator and admin controls, built only for those roles: a user's own
//! page has none of them. The server checks the role on every call, so
//! this only spares users buttons they cannot use.

use std::{rc::Rc, time::Duration};

use chat_api::{MessageText, Reason, Role, UserName, notifications::AnnouncementLevel};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};

use crate::{
    app::App,
    dom::{self, el, labelled},
    notices, rooms,
};

/// Ban lengths offered, by label.
const BAN_LENGTHS: &[(&str, Option<u64>)] = &[
    ("10 minutes", Some(600)),
    ("1 hour", Some(3_600)),
    ("1 day", Some(86_400)),
    ("1 week", Some(604_800)),
    ("permanent", None),
];

pub(crate) fn build(app: &Rc<App>) {
    if app.account.role < Role::Moderator {
        return;
    }
    let user: HtmlInputElement = el("input").id("moderate-user").attr("autocomplete", "off").into();
    let reason: HtmlInputElement = el("input").id("moderate-reason").attr("maxlength", "200").into();
    let length: HtmlSelectElement = el("select").id("ban-length").into();
    for (label, _) in BAN_LENGTHS {
        let _ = length.append_child(&el("option").attr("value", label).text(label).build());
    }
    let kick = el("button").attr("type", "button").text("Kick").build();
    let ban = el("button").attr("type", "button").text("Ban").build();
    let unban = el("button").attr("type", "button").text("Unban").build();
    let mut section = el("section")
        .attr("aria-label", "Moderation")
        .class("moderation")
        .child(el("h2").text("Moderation"))
        .child(labelled("User", user.clone()))
        .child(labelled("Reason", reason.clone()))
        .child(labelled("Ban duration", length.clone()))
        .child(el("div").class("buttons").child(kick.clone()).child(ban.clone()).child(unban.clone()));

    let target = {
        let (user, reason) = (user.clone(), reason.clone());
        move || -> Option<(UserName, Reason)> {
            let name = UserName::parse(user.value().trim()).map_err(|e| notices::show(&format!("User: {e}"))).ok()?;
            let why = Reason::parse(reason.value().trim()).map_err(|e| notices::show(&format!("Reason: {e}"))).ok()?;
            Some((name, why))
        }
    };
    {
        let (app, target) = (app.clone(), target.clone());
        dom::on(&kick, "click", move |_| {
            let Some((user, reason)) = target() else { return };
            let app = app.clone();
            spawn_local(async move {
                let said = match app.session.kick_user(&user, &reason).await {
                    Ok(true) => format!("{user} was kicked."),
                    Ok(false) => format!("{user} is not connected."),
                    Err(error) => notices::call_failed(&error),
                };
                notices::show(&said);
            });
        });
    }
    {
        let (app, target) = (app.clone(), target.clone());
        dom::on(&ban, "click", move |_| {
            let Some((user, reason)) = target() else { return };
            let chosen = length.value();
            let seconds = BAN_LENGTHS.iter().find(|(label, _)| *label == chosen).and_then(|(_, s)| *s);
            let app = app.clone();
            spawn_local(async move {
                let said = match app.session.ban_user(&user, &reason, seconds.map(Duration::from_secs)).await {
                    Ok(_) => format!("{user} is banned ({chosen})."),
                    Err(error) => notices::call_failed(&error),
                };
                notices::show(&said);
            });
        });
    }
    {
        let app = app.clone();
        dom::on(&unban, "click", move |_| {
            let Ok(name) = UserName::parse(user.value().trim()) else { return notices::show("User: not a username") };
            let app = app.clone();
            spawn_local(async move {
                let said = match app.session.unban_user(&name).await {
                    Ok(true) => format!("{name} is no longer banned."),
                    Ok(false) => format!("{name} was not banned."),
                    Err(error) => notices::call_failed(&error),
                };
                notices::show(&said);
            });
        });
    }
    if app.account.role == Role::Admin {
        section = section.child(admin_controls(app));
    }
    let _ = app.view.side.append_child(&section.build());
}

fn admin_controls(app: &Rc<App>) -> web_sys::Element {
    let text: HtmlInputElement = el("input").id("announcement-text").attr("maxlength", "4000").into();
    let level: HtmlSelectElement = el("select").id("announcement-level").into();
    for option in ["info", "warning", "error"] {
        let _ = level.append_child(&el("option").attr("value", option).text(option).build());
    }
    let announce = el("button").attr("type", "button").text("Announce").build();
    let delete = el("button").attr("type", "button").class("danger").text("Delete room").build();
    {
        let (app, text, level) = (app.clone(), text.clone(), level.clone());
        dom::on(&announce, "click", move |_| {
            let Ok(message) = MessageText::parse(text.value().trim()) else {
                return notices::show("Announcement: write something first");
            };
            let level = match level.value().as_str() {
                "warning" => AnnouncementLevel::Warning,
                "error" => AnnouncementLevel::Error,
                _ => AnnouncementLevel::Info,
            };
            text.set_value("");
            let app = app.clone();
            spawn_local(async move {
                if let Err(error) = app.session.broadcast_announcement(&message, level).await {
                    notices::show(&notices::call_failed(&error));
                }
            });
        });
    }
    {
        let app = app.clone();
        dom::on(&delete, "click", move |_| {
            let Some(room) = app.state.borrow().current_room() else { return };
            let question = format!("Delete #{room} and all its messages for everyone?");
            let sure = web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false);
            if !sure {
                return;
            }
            let app = app.clone();
            spawn_local(async move {
                match app.session.delete_room(&room).await {
                    Ok(()) => rooms::deleted(&app, &room),
                    Err(error) => notices::show(&notices::call_failed(&error)),
                }
            });
        });
    }
    el("div")
        .class("admin")
        .child(labelled("Announcement", text))
        .child(labelled("Level", level))
        .child(el("div").class("buttons").child(announce).child(delete))
        .build()
}
