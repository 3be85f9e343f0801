//! The profile dialog: anyone's cat and names; one's own can be edited,
//! someone else's offers a direct conversation and blocking.

use std::rc::Rc;

use chat_api::{Avatar, Breed, CatColor, DisplayName, Expression, Profile, UserName};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};

use crate::{
    app::App,
    avatar,
    dom::{self, el, labelled},
    notices, profile_actions,
};

/// Opens `username`'s profile.
pub(crate) fn open(app: &Rc<App>, username: &str) {
    let Ok(user) = UserName::parse(username) else { return };
    let app = app.clone();
    spawn_local(async move {
        match app.session.get_profile(&user).await {
            Ok(profile) => {
                let own = profile.username.as_str().eq_ignore_ascii_case(&app.account.username);
                // Unknown (the call failed) reads as not blocked: blocking
                // again changes nothing.
                let blocked = !own
                    && app.session.list_blocked().await.is_ok_and(|list| list.iter().any(|u| u.key() == user.key()));
                show(&app, &profile, blocked)
            }
            Err(error) => notices::show(&notices::call_failed(&error)),
        }
    });
}

fn show(app: &Rc<App>, profile: &Profile, blocked: bool) {
    let dialog = &app.view.profile;
    dom::clear(dialog);
    let own = profile.username.as_str() == app.account.username;
    let display_name: HtmlInputElement = el("input").attr("maxlength", "64").into();
    display_name.set_value(profile.display_name.as_str());
    let breed = select(Breed::ALL.iter().map(|b| b.as_str()), profile.avatar.breed.as_str());
    let color = select(CatColor::ALL.iter().map(|c| c.as_str()), profile.avatar.color.as_str());
    let expression = select(Expression::ALL.iter().map(|e| e.as_str()), profile.avatar.expression.as_str());
    for control in [display_name.as_ref(), breed.as_ref(), color.as_ref(), expression.as_ref()] {
        let control: &Element = control;
        if !own {
            let _ = control.set_attribute("disabled", "");
        }
    }
    let picture = el("div").class("avatar-frame").child(avatar::draw(profile.avatar, 96)).build();
    let close = el("button").attr("type", "button").text("Close").build();
    let mut body = el("div")
        .class("profile")
        .child(picture.clone())
        .child(el("h2").attr("dir", "auto").text(profile.username.as_str()))
        .child(el("p").class("muted").text(&format!(
            "{} · member since {}",
            profile.role.as_str(),
            notices::local_time(profile.created_at, true)
        )))
        .child(labelled("Display name", display_name.clone()))
        .child(labelled("Breed", breed.clone()))
        .child(labelled("Colour", color.clone()))
        .child(labelled("Expression", expression.clone()));
    let buttons = el("div").class("buttons");
    let buttons = if own {
        let save = el("button").attr("type", "button").text("Save").build();
        let app = app.clone();
        let (picture, dialog) = (picture.clone(), dialog.clone());
        dom::on(&save, "click", move |_| {
            let avatar = Avatar {
                breed: breed.value().parse().unwrap_or(Breed::Tabby),
                color: color.value().parse().unwrap_or(CatColor::Orange),
                expression: expression.value().parse().unwrap_or(Expression::Happy),
            };
            let name = match DisplayName::parse(display_name.value().trim()) {
                Ok(name) => name,
                Err(error) => return notices::show(&format!("That display name cannot be used: {error}")),
            };
            let (app, picture, dialog) = (app.clone(), picture.clone(), dialog.clone());
            spawn_local(async move {
                match app.session.update_profile(Some(name), Some(avatar)).await {
                    Ok(saved) => {
                        dom::clear(&picture);
                        let _ = picture.append_child(&avatar::draw(saved.avatar, 96));
                        notices::show("Profile saved.");
                        dialog.close();
                    }
                    Err(error) => notices::show(&notices::call_failed(&error)),
                }
            });
        });
        buttons.child(save)
    } else {
        buttons.children(profile_actions::buttons(app, &profile.username, blocked, dialog))
    };
    body = body.child(buttons.child(close.clone()));
    let _ = dialog.append_child(&body.build());
    let dialog_for_close = dialog.clone();
    dom::on(&close, "click", move |_| dialog_for_close.close());
    let _ = dialog.show_modal();
}

fn select<'a>(options: impl Iterator<Item = &'a str>, chosen: &str) -> HtmlSelectElement {
    let select: HtmlSelectElement = el("select").into();
    for option in options {
        let mut item = el("option").attr("value", option).text(&option.replace('_', " "));
        if option == chosen {
            item = item.attr("selected", "");
        }
        let _ = select.append_child(&item.build());
    }
    select
}
