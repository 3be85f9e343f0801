//! What can be done from someone else's profile: start a direct
//! conversation with them, and block or unblock them (a blocked user can
//! no longer open a conversation with this user or write in one).

use std::rc::Rc;

use chat_api::UserName;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlDialogElement};

use crate::{
    app::App,
    direct,
    dom::{self, el},
    notices,
};

/// "Message" and "Block"/"Unblock" for `user`, whom this user has
/// `blocked` or not.
pub(crate) fn buttons(app: &Rc<App>, user: &UserName, blocked: bool, dialog: &HtmlDialogElement) -> Vec<Element> {
    let message = el("button").attr("type", "button").text("Message").build();
    {
        let (app, user, dialog) = (app.clone(), user.clone(), dialog.clone());
        dom::on(&message, "click", move |_| {
            dialog.close();
            let (app, user) = (app.clone(), user.clone());
            spawn_local(async move { direct::open(&app, &user).await });
        });
    }
    let block =
        el("button").attr("type", "button").class("danger").text(if blocked { "Unblock" } else { "Block" }).build();
    {
        let (app, user, dialog) = (app.clone(), user.clone(), dialog.clone());
        dom::on(&block, "click", move |_| {
            let (app, user, dialog) = (app.clone(), user.clone(), dialog.clone());
            spawn_local(async move {
                let done =
                    if blocked { app.session.unblock_user(&user).await } else { app.session.block_user(&user).await };
                match done {
                    Ok(()) => {
                        dialog.close();
                        notices::show(&if blocked {
                            format!("{user} is no longer blocked.")
                        } else {
                            format!("{user} is blocked: they cannot write to you directly.")
                        });
                    }
                    Err(error) => notices::show(&notices::call_failed(&error)),
                }
            });
        });
    }
    vec![message, block]
}
