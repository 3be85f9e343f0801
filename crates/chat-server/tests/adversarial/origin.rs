//! Point 7: a browser page from another site cannot open a WebSocket with a
//! victim's token (cross-site WebSocket hijacking), CORS follows
//! `server.cors`, and clients that send no `Origin` still work.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

use crate::support::{RawClient, TestServer};

async fn upgrade_status(server: &TestServer, token: &str, origin: Option<&str>, query: bool) -> (Option<u16>, String) {
    let url = if query { format!("{}?token={token}", server.ws_url()) } else { server.ws_url() };
    let mut request = url.into_client_request().unwrap();
    if !query {
        request.headers_mut().insert("Authorization", HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    match RawClient::connect_request(request).await {
        Ok(_) => (None, String::new()),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            (Some(response.status().as_u16()), body)
        }
        Err(e) => panic!("handshake failed oddly: {e}"),
    }
}

#[tokio::test]
async fn the_upgrade_checks_origin_against_the_allow_list() {
    let server = TestServer::spawn_with(|c| c.server.cors = vec!["https://chat.example".into()]).await;
    let token = server.token("alice").await;
    let own = format!("http://{}", server.addr);
    let table: &[(Option<&str>, bool)] = &[
        (None, true),
        (Some("https://chat.example"), true),
        (Some("HTTPS://CHAT.EXAMPLE"), true),
        (Some(own.as_str()), true),
        (Some("https://evil.example"), false),
        (Some("https://chat.example.evil.example"), false),
        (Some("https://evil.example/https://chat.example"), false),
        (Some("https://chat.example:8443"), false),
        (Some("http://chat.example"), false),
        (Some("null"), false),
        (Some("file://"), false),
        (Some(""), false),
        (Some("http://localhost"), false),
    ];
    for (origin, allowed) in table {
        for query in [false, true] {
            let (status, body) = upgrade_status(&server, &token, *origin, query).await;
            if *allowed {
                assert_eq!(status, None, "Origin {origin:?} (token in query: {query}) must be accepted");
            } else {
                assert_eq!(status, Some(403), "Origin {origin:?} (token in query: {query}) must be refused");
                let body: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(body["error"]["code"], "origin_not_allowed");
            }
        }
    }
}

#[tokio::test]
async fn with_no_allow_list_only_same_origin_and_non_browser_clients_connect() {
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    assert_eq!(upgrade_status(&server, &token, None, false).await.0, None, "a script with no Origin");
    let own = format!("http://{}", server.addr);
    assert_eq!(upgrade_status(&server, &token, Some(&own), true).await.0, None, "the server's own page");
    for evil in ["https://evil.example", "http://127.0.0.1:1", "null"] {
        assert_eq!(upgrade_status(&server, &token, Some(evil), true).await.0, Some(403), "{evil}");
    }
    // The origin is checked before the token: a refused page learns nothing
    // about whether the token it holds is good.
    assert_eq!(upgrade_status(&server, "garbage", Some("https://evil.example"), true).await.0, Some(403));
}

#[tokio::test]
async fn a_wildcard_allow_list_admits_any_origin() {
    let server = TestServer::spawn_with(|c| c.server.cors = vec!["*".into()]).await;
    let token = server.token("alice").await;
    assert_eq!(upgrade_status(&server, &token, Some("https://anywhere.example"), true).await.0, None);
    let (status, _) = upgrade_status(&server, "garbage", Some("https://anywhere.example"), true).await;
    assert_eq!(status, Some(401), "the token is still required");
}

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url("/auth/login"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn allow_origin(response: &reqwest::Response) -> Option<String> {
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn cors_follows_server_cors() {
    let listed = TestServer::spawn_with(|c| c.server.cors = vec!["https://chat.example".into()]).await;
    assert_eq!(
        allow_origin(&preflight(&listed, "https://chat.example").await).as_deref(),
        Some("https://chat.example")
    );
    assert_eq!(allow_origin(&preflight(&listed, "https://evil.example").await), None);
    // A real cross-site request gets no CORS grant either, so the page
    // cannot read the token in the answer.
    let response = reqwest::Client::new()
        .post(listed.url("/auth/login"))
        .header("Origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": "alice123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&response), None);

    let closed = TestServer::spawn().await;
    assert_eq!(allow_origin(&preflight(&closed, "https://evil.example").await), None);

    let open = TestServer::spawn_with(|c| c.server.cors = vec!["*".into()]).await;
    assert_eq!(allow_origin(&preflight(&open, "https://evil.example").await).as_deref(), Some("*"));
}

#[tokio::test]
async fn a_cross_site_form_post_cannot_register_or_log_in() {
    // A form can send text/plain without a preflight; it must not count as JSON.
    let server = TestServer::spawn().await;
    for path in ["/auth/register", "/auth/login"] {
        let response = reqwest::Client::new()
            .post(server.url(path))
            .header("Origin", "https://evil.example")
            .header("Content-Type", "text/plain")
            .body(r#"{"username":"csrfvictim","password":"csrf-password-1"}"#)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{path}: {}", response.status());
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    assert_eq!(server.login("csrfvictim", "csrf-password-1").await.status(), 401);
}
