//! JSON-RPC: dispatching frames to the generated `ChatApiServer` methods,
//! the handlers themselves, and error mapping.

pub mod dispatch;
mod errors;
mod handlers;

pub use dispatch::Dispatcher;
pub use handlers::RpcHandlers;
