//! One file per route of `/sync/v1/…`; [`crate::server::documented`] lists them.

pub mod changes;
pub mod enroll;
pub mod health;
pub mod openapi;
pub mod push;
