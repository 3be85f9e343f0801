//! The sign-in screen: log in or register against the server the page came
//! from, then hand the account to the chat screen.

use chat_client::{RestClient, RestError};
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlButtonElement, HtmlInputElement};

use crate::{
    app,
    dom::{self, el, labelled},
    notices, storage,
};

/// Replaces the page with the sign-in form; `reason` explains why it is
/// shown again (a logout, an expired session).
pub(crate) fn show(root: &Element, reason: Option<&str>) {
    dom::clear(root);
    let username: HtmlInputElement = el("input")
        .id("username")
        .attr("name", "username")
        .attr("autocomplete", "username")
        .attr("required", "")
        .into();
    let password: HtmlInputElement = el("input")
        .id("password")
        .attr("name", "password")
        .attr("type", "password")
        .attr("autocomplete", "current-password")
        .attr("required", "")
        .into();
    let error = el("p").id("login-error").attr("role", "alert").text(reason.unwrap_or_default()).build();
    let log_in: HtmlButtonElement = el("button").attr("type", "submit").text("Log in").into();
    let register: HtmlButtonElement = el("button").attr("type", "button").text("Register").into();
    let form = el("form")
        .attr("aria-label", "Sign in")
        .class("sign-in")
        .child(el("h1").text("bidirectional-chat"))
        .child(labelled("Username", username.clone()))
        .child(labelled("Password", password.clone()))
        .child(el("div").class("buttons").child(log_in.clone()).child(register.clone()))
        .child(error.clone())
        .build();
    let _ = root.append_child(&form);
    let _ = username.focus();

    let submit = {
        let (username, password, error, root) = (username.clone(), password.clone(), error.clone(), root.clone());
        move |register_first: bool| {
            let (name, secret) = (username.value().trim().to_owned(), password.value());
            let (error, root) = (error.clone(), root.clone());
            spawn_local(async move {
                error.set_text_content(Some(if register_first { "registering…" } else { "logging in…" }));
                match sign_in(&name, &secret, register_first).await {
                    Ok(account) => {
                        storage::save(&account);
                        app::start(&root, account);
                    }
                    Err(message) => error.set_text_content(Some(&message)),
                }
            });
        }
    };
    let on_submit = submit.clone();
    dom::on(&form, "submit", move |event| {
        event.prevent_default();
        on_submit(false);
    });
    dom::on(&register, "click", move |_| submit(true));
}

/// Registers first when asked, then logs in.
async fn sign_in(username: &str, password: &str, register_first: bool) -> Result<storage::Account, String> {
    let rest = RestClient::new(app::server());
    if register_first {
        rest.register(username, password, None).await.map_err(|e| refusal(&e))?;
    }
    let login = rest.login(username, password).await.map_err(|e| refusal(&e))?;
    Ok(storage::Account { token: login.token, username: login.username.to_string(), role: login.role })
}

fn refusal(error: &RestError) -> String {
    match error {
        RestError::InvalidCredentials { .. } => "wrong username or password".to_owned(),
        RestError::UsernameTaken { .. } => "that username is taken".to_owned(),
        RestError::RateLimited { retry_after, .. } => notices::rate_limited(*retry_after),
        RestError::Banned { message } => message.clone(),
        other => other.to_string(),
    }
}
