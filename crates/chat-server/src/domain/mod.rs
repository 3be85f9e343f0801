//! Pure rules: no sockets, JSON or SQL. Each is a plain function tested as
//! a table beside it.

pub mod avatar;
pub mod ban;
pub mod mentions;
pub mod permissions;
pub mod room_expiry;
