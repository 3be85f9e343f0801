//! JSON-RPC: dispatching frames to the generated `ChatApiServer` methods,
//! the handlers themselves, and error mapping.

pub(crate) mod dispatch;
mod errors;
mod handlers;

pub(crate) use dispatch::Dispatcher;
pub(crate) use handlers::RpcHandlers;
