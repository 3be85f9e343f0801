//! WebSocket connections: the authenticated upgrades of `/ws` (JSON-RPC)
//! and `/ws/text` (plain lines), and the per-connection lifecycle they
//! share.

mod rpc_reader;
pub mod session;
mod text_reader;
pub mod upgrade;
mod writer;

/// tungstenite's read and write buffers per connection. The defaults
/// (128 KiB) cost ~140 KB per idle connection; 8 KiB keeps that near 13 KB
/// and still holds dozens of chat frames per write.
pub const SOCKET_BUFFER_BYTES: usize = 8 * 1024;
