//! What the user's clicks and keys do on the chat screen (the message box
//! is `composer`'s, the buttons on messages `message_actions`', search
//! `search`'s, the topic `topic`'s, moderation `moderation`'s). Lists use
//! one listener on the list, not one per item.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;

use crate::{
    app::App, compose, composer, direct, dom, message_actions, messages, profile, rooms, search, topic, unread,
};

pub(crate) fn wire(app: &Rc<App>) {
    let view = &app.view;
    {
        let app = app.clone();
        dom::on(&view.logout.clone(), "click", move |_| app.log_out());
    }
    {
        let app = app.clone();
        dom::on(&view.reconnect.clone(), "click", move |_| {
            app.view.reconnect.set_hidden(true);
            if let Some(come_back) = app.state.borrow_mut().come_back.take() {
                let _ = come_back.send(());
            }
        });
    }
    {
        let app = app.clone();
        dom::on(&view.rooms.clone(), "click", move |event| {
            let Some((_, name)) = rooms::target_element(&event).and_then(|target| rooms::clicked_room(&target)) else {
                return;
            };
            let app = app.clone();
            spawn_local(async move { rooms::open(&app, &name).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.directs.clone(), "click", move |event| {
            let Some(user) = rooms::target_element(&event).and_then(|target| direct::clicked(&target)) else {
                return;
            };
            let app = app.clone();
            spawn_local(async move { direct::open(&app, &user).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.direct_form.clone(), "submit", move |event| {
            event.prevent_default();
            let Some(user) = direct::typed_user(&app) else { return };
            app.view.direct_user.set_value("");
            let app = app.clone();
            spawn_local(async move { direct::open(&app, &user).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.create_form.clone(), "submit", move |event| {
            event.prevent_default();
            let Some(name) = rooms::typed_room_name(&app) else { return };
            app.view.new_room.set_value("");
            let app = app.clone();
            spawn_local(async move { rooms::open(&app, &name).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.leave.clone(), "click", move |_| {
            let app = app.clone();
            spawn_local(async move { rooms::leave_current(&app).await });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.older.clone(), "click", move |_| {
            let app = app.clone();
            spawn_local(async move {
                messages::load_older(&app).await;
            });
        });
    }
    {
        let app = app.clone();
        dom::on(&view.messages.clone(), "scroll", move |_| {
            if app.view.messages.scroll_top() < 40 && !app.view.older.hidden() && !app.view.older.disabled() {
                let app = app.clone();
                spawn_local(async move {
                    messages::load_older(&app).await;
                });
            }
        });
    }
    // A name in the messages or in the presence list opens that profile.
    for list in [view.messages.clone(), view.presence.clone()] {
        let app = app.clone();
        dom::on(&list, "click", move |event| {
            let user = rooms::target_element(&event)
                .and_then(|target| target.closest(".author[data-user]").ok().flatten())
                .and_then(|author| author.get_attribute("data-user"));
            if let Some(user) = user {
                profile::open(&app, &user);
            }
        });
    }
    {
        let app = app.clone();
        dom::on(&view.profile_button.clone(), "click", move |_| {
            let me = app.account.username.clone();
            profile::open(&app, &me);
        });
    }
    composer::wire(app);
    compose::wire(app);
    message_actions::wire(app);
    search::wire(app);
    topic::wire(app);
    unread::wire(app);
}
