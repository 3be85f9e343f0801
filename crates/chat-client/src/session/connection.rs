//! Opening one WebSocket connection: the jsonrpsee client (natively with
//! the token in its `Authorization` header; in a browser, which cannot set
//! headers on a WebSocket, in `?token=`), and one local handler per
//! notification name merged into a single stream.
//!
//! jsonrpsee keeps a separate buffer per notification name, so notifications
//! of *different* names may be seen in a slightly different order than the
//! server sent them. Messages of one room keep their order, and message ids
//! make the rest of the bookkeeping order-independent.

use std::{pin::Pin, sync::Arc};

use chat_api::notifications;
use futures_util::{
    Stream, StreamExt,
    stream::{self, SelectAll},
};
use jsonrpsee::core::client::{Subscription, SubscriptionClientT};

use super::SessionOptions;
use crate::{ConnectError, ServerUrl};

/// One notification off the wire, tagged with its method name. `item` is
/// `None` once when that method's stream has ended: the connection closed,
/// or jsonrpsee dropped the stream because it fell too far behind.
#[derive(Debug)]
pub(crate) struct Tagged {
    pub(crate) method: &'static str,
    pub(crate) item: Option<Result<serde_json::Value, serde_json::Error>>,
}

/// The JSON-RPC client of one connection: the same type over both
/// transports.
pub(crate) type RpcClient = jsonrpsee::core::client::Client;

/// Every notification of one connection, as one stream.
pub(crate) type Notifications = SelectAll<Pin<Box<dyn Stream<Item = Tagged> + Send>>>;

/// An open connection.
pub(crate) struct Connection {
    pub(crate) client: Arc<RpcClient>,
    pub(crate) notifications: Notifications,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("connected", &self.client.is_connected()).finish()
    }
}

/// Connects to `server` with `token` and registers a handler for every
/// notification of the contract before anything can be missed: nothing is
/// sent to a connection about a room before it joins one.
pub(crate) async fn open(
    server: &ServerUrl,
    token: &str,
    options: &SessionOptions,
) -> Result<Connection, ConnectError> {
    let url = server.websocket();
    let client = transport::connect(server, token, options).await?;

    let mut merged = SelectAll::new();
    for &method in notifications::ALL {
        let subscription: Subscription<serde_json::Value> = client
            .subscribe_to_method(method)
            .await
            .map_err(|source| ConnectError::Unreachable { url: url.clone(), source })?;
        let tagged = subscription
            .map(move |item| Tagged { method, item: Some(item) })
            .chain(stream::once(async move { Tagged { method, item: None } }));
        merged.push(Box::pin(tagged) as Pin<Box<dyn Stream<Item = Tagged> + Send>>);
    }
    Ok(Connection { client: Arc::new(client), notifications: merged })
}

#[cfg(not(target_arch = "wasm32"))]
mod transport {
    use jsonrpsee::ws_client::{HeaderMap, HeaderValue, PingConfig, WsClientBuilder};

    use super::{RpcClient, SessionOptions};
    use crate::{ConnectError, ServerUrl};

    /// A native WebSocket with the token as a bearer header.
    pub(super) async fn connect(
        server: &ServerUrl,
        token: &str,
        options: &SessionOptions,
    ) -> Result<RpcClient, ConnectError> {
        let url = server.websocket();
        let mut headers = HeaderMap::new();
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ConnectError::MalformedToken)?;
        headers.insert("authorization", bearer);
        WsClientBuilder::default()
            .set_headers(headers)
            .request_timeout(options.request_timeout)
            .connection_timeout(options.connect_timeout)
            // Pings notice a dead network (a laptop waking up, a dropped NAT
            // mapping) that would otherwise look like a quiet room forever.
            .enable_ws_ping(
                PingConfig::new().ping_interval(options.ping_interval).inactive_limit(options.ping_interval * 2),
            )
            .max_buffer_capacity_per_subscription(options.buffer_per_notification)
            .build(&url)
            .await
            .map_err(|error| ConnectError::from_handshake(&url, error))
    }
}

#[cfg(target_arch = "wasm32")]
mod transport {
    use jsonrpsee::wasm_client::WasmClientBuilder;

    use super::{RpcClient, SessionOptions};
    use crate::{ConnectError, RestClient, ServerUrl, runtime};

    /// The browser's WebSocket with the token in the query. The browser
    /// pings for us (and reports a dead network as a close), and it hides
    /// the status of a refused handshake, so a failure is asked about over
    /// HTTP to tell a bad token or a ban from an unreachable server.
    pub(super) async fn connect(
        server: &ServerUrl,
        token: &str,
        options: &SessionOptions,
    ) -> Result<RpcClient, ConnectError> {
        let builder = WasmClientBuilder::default()
            .request_timeout(options.request_timeout)
            .max_buffer_capacity_per_subscription(options.buffer_per_notification);
        let opening = builder.build(server.websocket_with_token(token));
        let failure = match runtime::timeout(options.connect_timeout, opening).await {
            Ok(Ok(client)) => return Ok(client),
            Ok(Err(error)) => error,
            Err(runtime::Elapsed) => jsonrpsee::core::ClientError::RequestTimeout,
        };
        // A status about the missing upgrade (400, 426) means the token
        // and the account are fine: the failure was the network's.
        let status = RestClient::new(server.clone()).websocket_refusal(token).await;
        let refusal = status.filter(|status| matches!(status, 401 | 403 | 429 | 500..));
        Err(ConnectError::from_refusal(refusal, &server.websocket(), failure))
    }
}
