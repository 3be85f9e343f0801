//! The web client at `/`: the bundle that `scripts/build-web.sh` writes to
//! `crates/chat-server/web/` (committed), embedded at compile time.
//!
//! `index.html` is revalidated on every load (`no-cache` with an ETag); every
//! other file has a content hash in its name, so it is cached for a year and
//! never revalidated. Files the build also stored gzipped (`name.gz`) are
//! sent compressed to clients that accept gzip. Every answer carries a strict
//! Content-Security-Policy: scripts and styles only from this origin, no
//! inline code, WebAssembly allowed, connections only back to this origin.
//! A request whose `Origin` the WebSocket would refuse is refused here too.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash as _, Hasher as _},
    sync::LazyLock,
};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chat_api::http::codes;

use super::{error::HttpError, origin};
use crate::app::AppState;

include!(concat!(env!("OUT_DIR"), "/web_bundle.rs"));

/// The page every browser starts from.
const INDEX: &str = "index.html";

/// What the page may load and run. `'wasm-unsafe-eval'` allows compiling
/// WebAssembly and nothing else of `eval`; `connect-src 'self'` covers the
/// same-origin `ws:`/`wss:` in CSP 3 browsers.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One file ready to send.
struct Asset {
    body: &'static [u8],
    gzipped: Option<&'static [u8]>,
    content_type: &'static str,
    etag: String,
}

/// The bundle by name, built once.
static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    let gzipped: HashMap<&str, &[u8]> =
        FILES.iter().filter_map(|(name, body)| Some((name.strip_suffix(".gz")?, *body))).collect();
    FILES
        .iter()
        .filter(|(name, _)| !name.ends_with(".gz"))
        .map(|(name, body)| {
            let mut hasher = DefaultHasher::new();
            body.hash(&mut hasher);
            let asset = Asset {
                body,
                gzipped: gzipped.get(name).copied(),
                content_type: content_type(name),
                etag: format!("\"{:016x}\"", hasher.finish()),
            };
            (*name, asset)
        })
        .collect()
});

/// The MIME type for a bundle file's extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// `GET /`: the page.
pub(crate) async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, &headers, INDEX)
}

/// `GET /{file}`: a file of the bundle; anything else is 404.
pub(crate) async fn file(State(state): State<AppState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&state, &headers, &name)
}

fn serve(state: &AppState, headers: &HeaderMap, name: &str) -> Response {
    if !origin::is_allowed(headers, &state.config.server.cors) {
        return HttpError::new(StatusCode::FORBIDDEN, codes::ORIGIN_NOT_ALLOWED, "origin not allowed").into_response();
    }
    let Some(asset) = ASSETS.get(name) else {
        return HttpError::new(StatusCode::NOT_FOUND, "not_found", "no such file").into_response();
    };
    let is_index = name == INDEX;
    let revalidated = headers.get(header::IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == asset.etag.as_bytes());
    let (status, body, encoding) = if is_index && revalidated {
        (StatusCode::NOT_MODIFIED, &[][..], None)
    } else {
        match asset.gzipped.filter(|_| accepts_gzip(headers)) {
            Some(gzipped) => (StatusCode::OK, gzipped, Some("gzip")),
            None => (StatusCode::OK, asset.body, None),
        }
    };
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    let cache = if is_index { "no-cache" } else { "public, max-age=31536000, immutable" };
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        out.insert(header::ETAG, etag);
    }
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if asset.gzipped.is_some() {
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    out.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    response
}

/// Whether `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(accepted) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accepted.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_encoding(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        assert!(accepts_gzip(&with_encoding("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&with_encoding("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with_encoding("*")));
        assert!(!accepts_gzip(&with_encoding("gzip;q=0")));
        assert!(!accepts_gzip(&with_encoding("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn types_follow_the_extension() {
        assert_eq!(content_type("chat-web-0123_bg.wasm"), "application/wasm");
        assert_eq!(content_type("boot-ab.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("noextension"), "application/octet-stream");
    }

    #[test]
    fn the_bundle_has_a_page_and_everything_it_names() {
        let page = std::str::from_utf8(ASSETS[INDEX].body).unwrap();
        for (name, _) in FILES.iter().filter(|(name, _)| !name.ends_with(".gz") && *name != INDEX) {
            let named = page.contains(name)
                || FILES.iter().any(|(other, body)| {
                    other.ends_with(".js") && { std::str::from_utf8(body).is_ok_and(|text| text.contains(name)) }
                });
            assert!(named, "{name} is in the bundle but nothing refers to it");
        }
    }
}
