//! WebSocket connections: the authenticated upgrades of `/ws` (JSON-RPC)
//! and `/ws/text` (plain lines), and the per-connection lifecycle they
//! share.

mod rpc_reader;
pub(crate) mod session;
mod text_reader;
pub(crate) mod upgrade;
mod writer;

/// tungstenite's read buffer per connection, allocated for the connection's
/// whole life. The default (128 KiB) costs ~140 KB per idle connection;
/// 4 KiB cost 2 KiB more per idle connection than this (9.5 vs 7.2 KiB
/// each at 10,000). Chat requests are a few hundred bytes; a larger frame
/// grows the buffer to its length once its header is read. The price is
/// more reads for a client that pipelines many calls at once (durable sends
/// at full speed measured ~8 % lower).
pub(crate) const READ_BUFFER_BYTES: usize = 2 * 1024;

/// How much tungstenite gathers before writing to the socket. It grows only
/// as a connection sends, and 8 KiB still holds dozens of chat frames per
/// write.
pub(crate) const WRITE_BUFFER_BYTES: usize = 8 * 1024;
