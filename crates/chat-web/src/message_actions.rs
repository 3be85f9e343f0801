//! The buttons on messages (`data-action`), handled by one listener on the
//! list: show the message replied to, reply, react, edit, delete.

use std::rc::Rc;

use web_sys::{Element, Event};

use crate::{app::App, compose, dom, edits, message_item, messages, notices, reactions, rooms};

pub(crate) fn wire(app: &Rc<App>) {
    let app = app.clone();
    dom::on(&app.view.messages.clone(), "click", move |event| clicked(&app, &event));
}

fn clicked(app: &Rc<App>, event: &Event) {
    let Some(button) = rooms::target_element(event).and_then(|t| t.closest("[data-action]").ok().flatten()) else {
        return;
    };
    let Some(li) = button.closest("li.message").ok().flatten() else { return };
    let (Some(id), Some(room)) = (messages::id_of(&li), app.state.borrow().current_room()) else { return };
    let emoji = button.get_attribute("data-emoji").unwrap_or_default();
    match button.get_attribute("data-action").as_deref() {
        Some("show-original") => {
            let Some(original) = button.get_attribute("data-reply-to").and_then(|id| id.parse().ok()) else { return };
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                messages::reveal(&app, chat_api::MessageId(original)).await;
            });
        }
        Some("reply") => compose::reply(app, &room, id),
        Some("pick-reaction") => toggle_picker(&li),
        Some("react") => {
            if let Some(picker) = dom::find::<Element>(&li, ".picker") {
                picker.remove();
            }
            reactions::toggle(app, &room, id, &emoji);
        }
        Some("toggle-reaction") => reactions::toggle(app, &room, id, &emoji),
        Some("edit") => compose::edit(app, &room, id),
        Some("delete") => {
            let sure = web_sys::window()
                .and_then(|w| w.confirm_with_message("Delete this message for everyone?").ok())
                .unwrap_or(false);
            if !sure {
                return;
            }
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match app.session.delete_message(id).await {
                    Ok(()) => edits::deleted(&app, &room, id),
                    Err(error) => notices::show(&notices::call_failed(&error)),
                }
            });
        }
        _ => {}
    }
}

/// Opens the row of emoji under a message, or closes it.
fn toggle_picker(li: &Element) {
    match dom::find::<Element>(li, ".picker") {
        Some(picker) => picker.remove(),
        None => {
            let picker = message_item::picker();
            let _ = li.append_child(&picker);
            if let Some(first) = dom::find::<web_sys::HtmlElement>(&picker, "button") {
                let _ = first.focus();
            }
        }
    }
}
