//! The running counter: CLI commands now; the HTTP service, readers and workers later.

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod launch;
pub mod logging;
pub mod output;
pub mod pipeline;
pub mod qr_image;
pub mod server;
