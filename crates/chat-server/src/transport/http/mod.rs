//! REST routes and HTTP-level rules.

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod health;
pub(crate) mod metrics;
pub(crate) mod origin;
pub(crate) mod web;
