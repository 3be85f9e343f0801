//! Pure rules: no sockets, JSON or SQL. Each is a plain function tested as
//! a table beside it.

pub(crate) mod avatar;
pub(crate) mod ban;
pub(crate) mod mentions;
pub(crate) mod permissions;
pub(crate) mod room_expiry;
