//! Which browser origins may use the server (`server.cors`).
//!
//! Browsers attach `Origin` to cross-site requests and to every WebSocket
//! handshake; other clients do not. A request with no `Origin` is allowed
//! (it cannot be a hijacked browser session); one with an `Origin` must be
//! same-origin or listed.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Whether a request's `Origin` is acceptable.
pub(crate) fn is_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    if allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// The CORS layer for the HTTP routes: none when the list is empty
/// (same-origin only), any origin for `"*"`, otherwise the listed ones.
pub(crate) fn cors_layer(allowed: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    if allowed.iter().any(|a| a == "*") {
        return base.allow_origin(AllowOrigin::any());
    }
    let origins: Vec<HeaderValue> = allowed.iter().filter_map(|a| HeaderValue::from_str(a).ok()).collect();
    base.allow_origin(AllowOrigin::list(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origin_rules_as_a_table() {
        let listed = vec!["https://chat.example".to_owned()];
        let any = vec!["*".to_owned()];
        let none: Vec<String> = Vec::new();
        let table: &[(Option<&str>, &[String], bool)] = &[
            (None, &none, true),
            (Some("http://localhost:3000"), &none, true),
            (Some("https://evil.example"), &none, false),
            (Some("https://chat.example"), &listed, true),
            (Some("https://evil.example"), &listed, false),
            (Some("https://evil.example"), &any, true),
            (Some("null"), &none, false),
        ];
        for (origin, allowed, expected) in table {
            assert_eq!(is_allowed(&headers(*origin, "localhost:3000"), allowed), *expected, "{origin:?} {allowed:?}");
        }
    }
}
