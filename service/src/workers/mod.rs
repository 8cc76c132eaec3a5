//! The loops that talk to the network. Each is one tokio task (and the tasks it spawns), reads
//! the outbox or its own queue, never sits on the scan path, stops cleanly on shutdown and
//! states its backlog on `/status`.

pub mod apns;
mod outline;
pub mod sync;
mod transport;
pub mod upstream;
pub mod webhooks;
