//! The accept loop and each plain-HTTP connection's lifecycle.
//!
//! A connection is accepted → given a slot for its IP address (held until
//! the socket closes, see [`per_ip`](super::per_ip)) and a pending permit
//! (held while it speaks plain HTTP) → served by hyper with a header-read
//! timeout and an idle timeout → either closed, or upgraded to a WebSocket,
//! which hands the socket (and its IP slot) to the WebSocket task and gives
//! the pending permit back. A connection over either limit is closed as soon
//! as it is accepted, before anything is read from it.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::{Request, body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_service::Service;

use super::{
    accept::AcceptBackoff,
    fd_budget,
    per_ip::{IpSlot, PerIp},
};
use crate::config::ServerConfig;

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting, lets requests in progress finish, and returns once every
/// plain-HTTP connection has closed. Upgraded WebSockets are not waited
/// for here: their own tasks close them.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let per_ip = PerIp::new(config.connections_per_ip);
    let open_files = fd_budget::raise_open_file_limit();
    let max_pending = fd_budget::pending_cap(config.max_pending_connections, open_files);
    if max_pending < config.max_pending_connections {
        tracing::warn!(
            configured = config.max_pending_connections,
            used = max_pending,
            open_files = ?open_files,
            "server.max_pending_connections lowered to fit the open-file limit"
        );
    }
    let pending = Arc::new(Semaphore::new(max_pending));
    let idle_timeout = Duration::from_secs(config.idle_timeout_secs);
    let mut http = http1::Builder::new();
    // hyper restarts this timer for every request head, so it also closes a
    // keep-alive connection that sends no next request in time.
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(config.header_read_timeout_secs));

    let connections = TaskTracker::new();
    let stopping = CancellationToken::new();
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, addr) = match accepted {
            Ok(accepted) => {
                backoff.accepted();
                accepted
            }
            Err(e) => {
                let pause = backoff.failed(&e);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        let Some(slot) = per_ip.acquire(addr.ip()) else {
            tracing::debug!(ip = %addr.ip(), "closed a connection: too many from this address");
            metrics::counter!(crate::metrics::CLOSED_AT_ACCEPT, "reason" => "per_ip").increment(1);
            continue;
        };
        let Ok(permit) = Arc::clone(&pending).try_acquire_owned() else {
            tracing::debug!(ip = %addr.ip(), "closed a connection: too many pending HTTP connections");
            metrics::counter!(crate::metrics::CLOSED_AT_ACCEPT, "reason" => "pending").increment(1);
            continue;
        };
        // Without TCP_NODELAY small replies wait ~40 ms for delayed ACKs.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let connection =
            Connection { http: http.clone(), router: router.clone(), addr, idle_timeout, stopping: stopping.clone() };
        connections.spawn(connection.run(tcp, slot, permit));
    }
    stopping.cancel();
    connections.close();
    connections.wait().await;
}

/// What one plain-HTTP connection needs.
struct Connection {
    http: http1::Builder,
    router: Router,
    addr: SocketAddr,
    idle_timeout: Duration,
    stopping: CancellationToken,
}

impl Connection {
    async fn run(self, tcp: TcpStream, slot: IpSlot, _pending: OwnedSemaphorePermit) {
        let activity = Activity::new();
        let io = TokioIo::new(Tracked { tcp, activity: Arc::clone(&activity), _slot: slot });
        let addr = self.addr;
        let router = self.router;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(addr));
            router.clone().call(request)
        });
        let conn = self.http.serve_connection(io, service).with_upgrades();
        tokio::pin!(conn);
        let mut asked_to_stop = false;
        loop {
            let idle_until = activity.last() + self.idle_timeout;
            tokio::select! {
                // Ends when the connection closes or has been upgraded.
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "http connection ended with an error");
                    }
                    break;
                }
                () = self.stopping.cancelled(), if !asked_to_stop => {
                    asked_to_stop = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = tokio::time::sleep_until(idle_until) => {
                    if activity.last() + self.idle_timeout <= Instant::now() {
                        tracing::debug!(ip = %addr.ip(), "closed an idle http connection");
                        break;
                    }
                }
            }
        }
    }
}

/// When the socket last moved a byte, as milliseconds since `start`.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self { start: Instant::now(), last_ms: AtomicU64::new(0) })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// The socket, noting activity and carrying the IP slot, so the slot is
/// given back when the socket is dropped: by hyper, or by the WebSocket
/// that took it over.
#[derive(Debug)]
struct Tracked {
    tcp: TcpStream,
    activity: Arc<Activity>,
    _slot: IpSlot,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
