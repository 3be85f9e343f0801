//! Where the server lives: its HTTP base URL, and the REST and WebSocket
//! URLs derived from it.

use std::fmt;

use reqwest::Url;

/// The base URL of a server, e.g. `http://localhost:3000` or
/// `https://chat.example.org/prefix/`. Always `http` or `https`, always with
/// a trailing slash on its path so relative joins stay under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: Url,
}

/// Why a server URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum ServerUrlError {
    /// Not a URL at all.
    #[error("{text:?} is not a URL: {reason}")]
    Invalid {
        /// What was given.
        text: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A scheme other than http, https, ws or wss.
    #[error("unsupported scheme {0:?}; use http:// or https://")]
    Scheme(String),
    /// A URL without a host, such as `http:///x`.
    #[error("{0:?} has no host")]
    NoHost(String),
}

impl ServerUrl {
    /// Parses a server address. A missing scheme means `http://`; `ws://`
    /// and `wss://` are accepted as their HTTP counterparts; any query or
    /// fragment is dropped.
    pub fn parse(text: &str) -> Result<Self, ServerUrlError> {
        let trimmed = text.trim();
        let with_scheme = if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
        let mut base = Url::parse(&with_scheme)
            .map_err(|error| ServerUrlError::Invalid { text: text.to_owned(), reason: error.to_string() })?;
        let scheme = match base.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            other => return Err(ServerUrlError::Scheme(other.to_owned())),
        };
        if base.host_str().is_none_or(str::is_empty) {
            return Err(ServerUrlError::NoHost(text.to_owned()));
        }
        if base.scheme() != scheme && base.set_scheme(scheme).is_err() {
            return Err(ServerUrlError::Scheme(base.scheme().to_owned()));
        }
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { base })
    }

    /// The base URL itself.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// A REST endpoint below the base, e.g. `endpoint("auth/login")`.
    pub fn endpoint(&self, relative: &str) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}{}", self.base.path(), relative.trim_start_matches('/'));
        url.set_path(&path);
        url
    }

    /// The JSON-RPC WebSocket: `ws://…/ws`, or `wss://…/ws` for https.
    pub fn websocket(&self) -> String {
        as_websocket(&self.endpoint("ws"))
    }

    /// The JSON-RPC WebSocket with the token in its query, for clients that
    /// cannot set headers (browsers): `ws://…/ws?token=…`.
    pub fn websocket_with_token(&self, token: &str) -> String {
        let mut http = self.endpoint("ws");
        http.query_pairs_mut().append_pair("token", token);
        as_websocket(&http)
    }

    /// The plain-text WebSocket with its query: `ws://…/ws/text?token=…&room=…`
    /// (`wss://` for https).
    pub fn text_websocket(&self, token: &str, room: Option<&str>) -> String {
        let mut http = self.endpoint("ws/text");
        {
            let mut query = http.query_pairs_mut();
            query.append_pair("token", token);
            if let Some(room) = room {
                query.append_pair("room", room);
            }
        }
        as_websocket(&http)
    }

    /// A stable spelling of this server for keying saved tokens:
    /// `http://localhost:3000/` for all of `localhost:3000`,
    /// `http://LOCALHOST:3000` and `ws://localhost:3000/?x`.
    pub fn key(&self) -> &str {
        self.base.as_str()
    }
}

/// The WebSocket spelling of an HTTP URL: `ws://` for `http://`, `wss://`
/// for `https://`.
fn as_websocket(http: &Url) -> String {
    let text = http.as_str();
    match text.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", text.trim_start_matches("http://")),
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base.as_str().trim_end_matches('/'))
    }
}

impl std::str::FromStr for ServerUrl {
    type Err = ServerUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_map_to_ws_and_https_to_wss() {
        let plain = ServerUrl::parse("http://localhost:3000").unwrap();
        assert_eq!(plain.websocket(), "ws://localhost:3000/ws");
        assert_eq!(plain.endpoint("auth/login").as_str(), "http://localhost:3000/auth/login");

        let tls = ServerUrl::parse("https://chat.example.org").unwrap();
        assert_eq!(tls.websocket(), "wss://chat.example.org/ws");
    }

    #[test]
    fn a_path_prefix_is_kept() {
        let url = ServerUrl::parse("https://example.org/chat").unwrap();
        assert_eq!(url.endpoint("/auth/register").as_str(), "https://example.org/chat/auth/register");
        assert_eq!(url.websocket(), "wss://example.org/chat/ws");
    }

    #[test]
    fn spellings_of_one_server_share_a_key() {
        let keys: Vec<String> = ["localhost:3000", "http://LOCALHOST:3000", "ws://localhost:3000/?x=1"]
            .iter()
            .map(|text| ServerUrl::parse(text).unwrap().key().to_owned())
            .collect();
        assert!(keys.iter().all(|k| k == "http://localhost:3000/"), "{keys:?}");
        assert_eq!(ServerUrl::parse("wss://h").unwrap().key(), "https://h/");
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(matches!(ServerUrl::parse("ftp://x"), Err(ServerUrlError::Scheme(_))));
        assert!(ServerUrl::parse("http://").is_err());
        assert!(ServerUrl::parse("http://exa mple").is_err());
    }

    #[test]
    fn display_has_no_trailing_slash() {
        assert_eq!(ServerUrl::parse("localhost:3000").unwrap().to_string(), "http://localhost:3000");
    }

    #[test]
    fn the_text_websocket_carries_token_and_room_in_its_query() {
        let url = ServerUrl::parse("https://chat.example/prefix").unwrap();
        assert_eq!(
            url.text_websocket("a.b.c", Some("lobby")),
            "wss://chat.example/prefix/ws/text?token=a.b.c&room=lobby"
        );
        let local = ServerUrl::parse("localhost:3000").unwrap();
        assert_eq!(local.text_websocket("t", None), "ws://localhost:3000/ws/text?token=t");
    }
}
