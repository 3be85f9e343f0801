//! REST routes and HTTP-level rules.

pub mod auth;
pub mod error;
pub mod health;
pub mod metrics;
pub mod origin;
pub mod web;
