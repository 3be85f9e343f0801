//! WebSocket connections: the authenticated upgrades of `/ws` (JSON-RPC)
//! and `/ws/text` (plain lines), and the per-connection lifecycle they
//! share.

mod rpc_reader;
pub mod session;
mod text_reader;
pub mod upgrade;
mod writer;

/// tungstenite's read buffer per connection, allocated for the connection's
/// whole life. The default (128 KiB) costs ~140 KB per idle connection.
/// Chat frames are small; a larger frame is simply read in several chunks.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How much tungstenite gathers before writing to the socket. It grows only
/// as a connection sends, and 8 KiB still holds dozens of chat frames per
/// write.
pub const WRITE_BUFFER_BYTES: usize = 8 * 1024;
