//! `POST /auth/register`, `POST /auth/login`, `POST /auth/logout`,
//! `GET /health`.

use serde_json::{Value, json};

use crate::support::{PASSWORD, RawClient, TestServer, refused_status};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn health_reports_ok_and_the_version() {
    let server = TestServer::spawn().await;
    let response = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body(response).await, json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}));
}

#[tokio::test]
async fn registering_creates_a_user_account() {
    let server = TestServer::spawn().await;
    let response = server.register("Carol", PASSWORD).await;
    assert_eq!(response.status(), 201);
    let created = body(response).await;
    assert_eq!(created["username"], "Carol");
    assert_eq!(created["role"], "user");
    assert!(created["user_id"].is_i64());
}

#[tokio::test]
async fn a_taken_name_in_any_case_is_refused_and_the_account_is_untouched() {
    let server = TestServer::spawn().await;
    assert_eq!(server.register("carol", PASSWORD).await.status(), 201);
    let again = server.register("CAROL", "another-password").await;
    assert_eq!(again.status(), 409);
    assert_eq!(body(again).await["error"]["code"], "username_taken");
    assert_eq!(server.login("carol", PASSWORD).await.status(), 200);
    assert_eq!(server.login("carol", "another-password").await.status(), 401);
    // The demo accounts are protected the same way.
    assert_eq!(server.register("Admin", PASSWORD).await.status(), 409);
    assert_eq!(server.login("admin", "admin123").await.status(), 200);
}

#[tokio::test]
async fn invalid_registrations_get_400_with_a_code() {
    let server = TestServer::spawn().await;
    let cases = [
        (json!({"username": "a b", "password": PASSWORD}), "invalid_username"),
        (json!({"username": "x", "password": PASSWORD}), "invalid_username"),
        (json!({"username": "dave", "password": "short"}), "invalid_password"),
        (json!({"username": "dave", "password": "p".repeat(2000)}), "invalid_password"),
        (json!({"username": "dave", "password": PASSWORD, "display_name": "two\nlines"}), "invalid_display_name"),
        (json!({"username": "dave"}), "invalid_body"),
        (json!("just a string"), "invalid_body"),
    ];
    for (request, code) in cases {
        let response = server.post("/auth/register", request.clone()).await;
        assert_eq!(response.status(), 400, "{request}");
        let error = body(response).await;
        assert_eq!(error["error"]["code"], code, "{request}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn login_returns_a_bearer_token_with_expiry_and_role() {
    let server = TestServer::spawn().await;
    let response = server.login("moderator", "mod123").await;
    assert_eq!(response.status(), 200);
    let login = body(response).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["username"], "moderator");
    assert_eq!(login["role"], "moderator");
    let now = chat_api::Timestamp::now().unix_seconds();
    let expires_at = login["expires_at"].as_i64().unwrap();
    assert!((now + 24 * 3600 - 5..=now + 24 * 3600 + 5).contains(&expires_at));
    assert!(login["token"].as_str().unwrap().split('.').count() == 3);
}

#[tokio::test]
async fn login_is_case_insensitive_for_the_username() {
    let server = TestServer::spawn().await;
    let response = server.login("ALICE", "alice123").await;
    assert_eq!(response.status(), 200);
    assert_eq!(body(response).await["username"], "alice");
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let server = TestServer::spawn().await;
    let wrong = server.login("alice", "not-her-password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = body(wrong).await;
    let unknown = server.login("nobody", "whatever-password").await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(body(unknown).await, wrong);
    let invalid_name = server.login("not a name", "whatever-password").await;
    assert_eq!(invalid_name.status(), 401);
    assert_eq!(body(invalid_name).await, wrong);
}

#[tokio::test]
async fn unknown_routes_answer_in_the_error_shape() {
    let server = TestServer::spawn().await;
    let response = reqwest::get(server.url("/nope")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(body(response).await["error"]["code"], "not_found");
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_error_shape() {
    let server = TestServer::spawn().await;
    let response = server.register("dave", &"p".repeat(20_000)).await;
    assert_eq!(response.status(), 413);
    assert_eq!(body(response).await["error"]["code"], "payload_too_large");
}

async fn logout(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(server.url(chat_api::http::LOGOUT_PATH));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn logout_revokes_the_token_and_closes_the_connections_it_opened() {
    let server = TestServer::spawn().await;
    let revoked = server.token("leaver").await;
    let other = server.token("leaver").await;
    let mut on_revoked = RawClient::connect(&server.ws_url(), Some(&revoked)).await.unwrap();
    let text_url = format!("{}/text?token={revoked}", server.ws_url());
    let mut text_on_revoked = RawClient::connect(&text_url, None).await.unwrap();
    let mut on_other = RawClient::connect(&server.ws_url(), Some(&other)).await.unwrap();

    let response = logout(&server, Some(&revoked)).await;
    assert_eq!(response.status(), 204);
    assert!(response.text().await.unwrap().is_empty());

    assert_eq!(on_revoked.close_frame().await, Some((4002, "logged out".to_owned())));
    assert_eq!(text_on_revoked.close_frame().await, Some((4002, "logged out".to_owned())));
    assert_eq!(refused_status(&RawClient::connect(&server.ws_url(), Some(&revoked)).await), Some(401));
    // The same account's other token is untouched.
    assert!(on_other.call("list_rooms", json!({})).await.get("result").is_some());

    // A revoked, missing or invalid token: 401 invalid_token.
    for token in [Some(revoked.as_str()), None, Some("not-a-token")] {
        let response = logout(&server, token).await;
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(body(response).await["error"]["code"], "invalid_token", "{token:?}");
    }
}

#[tokio::test]
async fn a_revoked_token_stays_revoked_after_a_restart() {
    let mut server = TestServer::spawn().await;
    let token = server.token("leaver").await;
    assert_eq!(logout(&server, Some(&token)).await.status(), 204);
    server.restart().await;
    assert_eq!(refused_status(&RawClient::connect(&server.ws_url(), Some(&token)).await), Some(401));
    assert_eq!(logout(&server, Some(&token)).await.status(), 401);
}
