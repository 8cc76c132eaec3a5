//! The running counter: the CLI commands, and the service they start (`passdesk serve`, and
//! the desktop app through [`launch`]): the HTTP API and screens, the readers, the camera.

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod data_dir;
pub mod launch;
pub mod logging;
pub mod output;
pub mod pipeline;
pub mod qr_image;
pub mod server;
pub mod wallet;
pub mod workers;
