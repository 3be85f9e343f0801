//! The web client's files at `/`: types, caching, compression, the
//! Content-Security-Policy, and nothing served that is not in the bundle.

use reqwest::{StatusCode, header};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::support::TestServer;

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header_of(response: &reqwest::Response, name: header::HeaderName) -> String {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The files `index.html` names (`/name` in `src` and `href`), and those
/// the named scripts name in turn.
async fn referenced_files(server: &TestServer) -> Vec<String> {
    let page = get(server, "/", &[]).await.text().await.unwrap();
    let mut found: Vec<String> = page
        .split(['"', '\''])
        .filter_map(|piece| piece.strip_prefix('/'))
        .filter(|name| name.contains('.') && !name.contains('/'))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[tokio::test]
async fn the_page_and_every_file_it_names_have_their_types_and_cache_rules() {
    let server = TestServer::spawn().await;
    let page = get(&server, "/", &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header_of(&page, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header_of(&page, header::CACHE_CONTROL), "no-cache");
    assert!(page.text().await.unwrap().contains("<main id=\"app\">"));

    let files = referenced_files(&server).await;
    for wanted in [".js", ".css", "_bg.wasm"] {
        assert!(files.iter().any(|f| f.ends_with(wanted)), "index.html names a {wanted} file: {files:?}");
    }
    for name in &files {
        let response = get(&server, &format!("/{name}"), &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let expected = match name.rsplit_once('.').unwrap().1 {
            "wasm" => "application/wasm",
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("unexpected file type {other}"),
        };
        assert_eq!(header_of(&response, header::CONTENT_TYPE), expected, "{name}");
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "public, max-age=31536000, immutable", "{name}");
        assert!(name.split(['-', '_', '.']).any(|part| part.len() == 16), "{name} carries its content hash");
    }
}

#[tokio::test]
async fn every_answer_carries_a_strict_content_security_policy() {
    let server = TestServer::spawn().await;
    let mut paths = vec!["/".to_owned()];
    paths.extend(referenced_files(&server).await.into_iter().map(|name| format!("/{name}")));
    for path in paths {
        let response = get(&server, &path, &[]).await;
        let policy = header_of(&response, header::CONTENT_SECURITY_POLICY);
        for directive in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {directive} missing from {policy}");
        }
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"), "{path}: {policy}");
        assert_eq!(header_of(&response, header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header_of(&response, header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(header_of(&response, header::REFERRER_POLICY), "no-referrer", "{path}");
    }
    // No inline script or style for the policy to have to allow.
    let page = get(&server, "/", &[]).await.text().await.unwrap();
    assert!(!page.contains("<script>") && !page.contains("<style") && !page.contains(" style="), "{page}");
}

#[tokio::test]
async fn files_are_gzipped_only_for_clients_that_accept_it() {
    let server = TestServer::spawn().await;
    let wasm = referenced_files(&server).await.into_iter().find(|f| f.ends_with(".wasm")).unwrap();
    let path = format!("/{wasm}");
    let plain = get(&server, &path, &[]).await;
    assert_eq!(header_of(&plain, header::CONTENT_ENCODING), "");
    assert_eq!(header_of(&plain, header::VARY), "accept-encoding");
    let plain = plain.bytes().await.unwrap();
    assert_eq!(&plain[..4], b"\0asm", "a WebAssembly module");

    let gzipped = get(&server, &path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(header_of(&gzipped, header::CONTENT_ENCODING), "gzip");
    let gzipped = gzipped.bytes().await.unwrap();
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(gzipped.len() < plain.len() / 2, "{} of {} bytes", gzipped.len(), plain.len());

    let refused = get(&server, &path, &[("accept-encoding", "gzip;q=0, br")]).await;
    assert_eq!(header_of(&refused, header::CONTENT_ENCODING), "");
}

#[tokio::test]
async fn an_unchanged_page_is_answered_304_and_head_has_no_body() {
    let server = TestServer::spawn().await;
    let first = get(&server, "/", &[]).await;
    let etag = header_of(&first, header::ETAG);
    assert!(etag.starts_with('"'), "{etag:?}");
    let again = get(&server, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    let head = reqwest::Client::new().head(server.url("/")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header_of(&head, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert!(head.bytes().await.unwrap().is_empty());
}

/// Sends `target` as the request line's path, exactly as written (a URL
/// library would clean up `..`).
async fn raw_status(server: &TestServer, target: &str) -> u16 {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn only_files_of_the_bundle_are_served() {
    let server = TestServer::spawn().await;
    for target in [
        "/nope.js",
        "/../Cargo.toml",
        "/..%2f..%2fCargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/web/index.html",
        "/build.rs",
        "/index.html.gz",
        "/.",
        "/..",
    ] {
        let status = raw_status(&server, target).await;
        assert!(status == 404 || status == 400, "{target} answered {status}");
    }
    assert_eq!(raw_status(&server, "/index.html").await, 200);
}

#[tokio::test]
async fn a_page_request_from_a_foreign_origin_is_refused_like_the_websocket() {
    let server = TestServer::spawn().await;
    let foreign = get(&server, "/", &[("origin", "https://evil.example")]).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let own_origin = format!("http://{}", server.addr);
    let same = get(&server, "/", &[("origin", &own_origin)]).await;
    assert_eq!(same.status(), StatusCode::OK);
}
