//! The `/ws` upgrade: tokens are checked before any socket exists.

use chat_api::{Role, UserId, UserName};
use chat_server::auth::{Claims, Tokens};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::support::{RawClient, TestServer, base64url, refused_status};

fn secret_of(server: &TestServer) -> Vec<u8> {
    std::fs::read(server.data_dir().join(chat_server::auth::SECRET_FILE)).unwrap()
}

fn claims(sub: i64, iat: i64, exp: i64) -> Claims {
    Claims { sub: sub.to_string(), name: "alice".into(), role: Role::Admin, iat, exp, jti: None }
}

fn now() -> i64 {
    chat_api::Timestamp::now().unix_seconds()
}

async fn status_for(server: &TestServer, token: Option<&str>) -> Option<u16> {
    refused_status(&RawClient::connect(&server.ws_url(), token).await)
}

#[tokio::test]
async fn a_missing_token_is_refused_with_401() {
    let server = TestServer::spawn().await;
    assert_eq!(status_for(&server, None).await, Some(401));
}

#[tokio::test]
async fn malformed_and_forged_tokens_are_refused_with_401() {
    let server = TestServer::spawn().await;
    assert_eq!(status_for(&server, Some("garbage")).await, Some(401));
    let forged =
        Tokens::new(&[9u8; 40], 3600).issue(UserId(1), &UserName::parse("admin").unwrap(), Role::Admin).unwrap().0;
    assert_eq!(status_for(&server, Some(&forged)).await, Some(401));
}

#[tokio::test]
async fn expired_tokens_are_refused_with_401() {
    let server = TestServer::spawn().await;
    let key = EncodingKey::from_secret(&secret_of(&server));
    let expired =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(1, now() - 7200, now() - 3600), &key).unwrap();
    assert_eq!(status_for(&server, Some(&expired)).await, Some(401));
}

#[tokio::test]
async fn tokens_of_another_algorithm_or_none_are_refused() {
    let server = TestServer::spawn().await;
    let key = EncodingKey::from_secret(&secret_of(&server));
    let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims(1, now(), now() + 3600), &key).unwrap();
    assert_eq!(status_for(&server, Some(&hs512)).await, Some(401));

    // alg "none": header and claims with an empty signature.
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let body = base64url(serde_json::to_string(&claims(1, now(), now() + 3600)).unwrap().as_bytes());
    let unsigned = format!("{header}.{body}.");
    assert_eq!(status_for(&server, Some(&unsigned)).await, Some(401));
}

#[tokio::test]
async fn the_token_may_come_in_the_query_string() {
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    let url = format!("{}?token={token}", server.ws_url());
    let mut client = RawClient::connect(&url, None).await.unwrap();
    let reply = client.call("list_rooms", serde_json::json!({})).await;
    assert!(reply["result"]["rooms"].is_array(), "{reply}");
}

#[tokio::test]
async fn a_token_for_a_deleted_account_is_refused() {
    let server = TestServer::spawn().await;
    let token = server.token("carol").await;
    let store = server.store().await;
    assert!(store.delete_user(&UserName::parse("carol").unwrap()).await.unwrap());
    store.close().await;
    assert_eq!(status_for(&server, Some(&token)).await, Some(401));
}

#[tokio::test]
async fn browsers_from_other_origins_are_refused() {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
    let server = TestServer::spawn().await;
    let token = server.token("alice").await;
    let mut request = format!("{}?token={token}", server.ws_url()).into_client_request().unwrap();
    request.headers_mut().insert("Origin", HeaderValue::from_static("https://evil.example"));
    assert_eq!(refused_status(&RawClient::connect_request(request).await), Some(403));

    let mut same = format!("{}?token={token}", server.ws_url()).into_client_request().unwrap();
    let origin = format!("http://{}", server.addr);
    same.headers_mut().insert("Origin", HeaderValue::from_str(&origin).unwrap());
    assert!(RawClient::connect_request(same).await.is_ok());
}
