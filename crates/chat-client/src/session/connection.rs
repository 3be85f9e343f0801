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
    transport::confirm(&client, server, token, options).await?;
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

    /// Nothing to confirm: `build` returns after the handshake.
    pub(super) async fn confirm(
        _client: &RpcClient,
        _server: &ServerUrl,
        _token: &str,
        _options: &SessionOptions,
    ) -> Result<(), ConnectError> {
        Ok(())
    }
}

#[cfg(target_arch = "wasm32")]
mod transport {
    use chat_api::rpc::ChatApiClient;
    use jsonrpsee::{core::ClientError, wasm_client::WasmClientBuilder};

    use super::{RpcClient, SessionOptions};
    use crate::{ConnectError, RestClient, ServerUrl, runtime};

    /// The browser's WebSocket with the token in the query. The browser
    /// pings for us and reports a dead network as a close.
    pub(super) async fn connect(
        server: &ServerUrl,
        token: &str,
        options: &SessionOptions,
    ) -> Result<RpcClient, ConnectError> {
        let builder = WasmClientBuilder::default()
            .request_timeout(options.request_timeout)
            .max_buffer_capacity_per_subscription(options.buffer_per_notification);
        let opening = builder.build(server.websocket_with_token(token));
        match runtime::timeout(options.connect_timeout, opening).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(error)) => Err(refusal(server, token, error).await),
            Err(runtime::Elapsed) => Err(refusal(server, token, ClientError::RequestTimeout).await),
        }
    }

    /// The browser opens a WebSocket in the background, so `build` returns
    /// before the server has accepted anything. One small call proves that
    /// it did; any answer, even an error, means the socket is open.
    pub(super) async fn confirm(
        client: &RpcClient,
        server: &ServerUrl,
        token: &str,
        options: &SessionOptions,
    ) -> Result<(), ConnectError> {
        let failure = match runtime::timeout(options.connect_timeout, client.list_rooms(None, Some(1))).await {
            Ok(Ok(_) | Err(ClientError::Call(_))) => return Ok(()),
            Ok(Err(error)) => error,
            Err(runtime::Elapsed) => ClientError::RequestTimeout,
        };
        Err(refusal(server, token, failure).await)
    }

    /// Why the socket did not open. The browser hides the status of a
    /// refused handshake, so it is asked over HTTP: that tells a bad token
    /// or a ban from an unreachable server. A status about the missing
    /// upgrade (400, 426) means the token and the account are fine and
    /// the failure was the network's.
    async fn refusal(server: &ServerUrl, token: &str, failure: ClientError) -> ConnectError {
        let status = RestClient::new(server.clone()).websocket_refusal(token).await;
        let refused = status.filter(|status| matches!(status, 401 | 403 | 429 | 500..));
        ConnectError::from_refusal(refused, &server.websocket(), failure)
    }
}
