//! What every handler shares.

use super::db::Db;
use crate::config::Config;
use passdesk_core::keys::NodeIdentity;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub db: Arc<Db>,
    pub node: NodeIdentity,
    pub config: Config,
    pub started: Instant,
    /// Every decision, as JSON, for the server-sent event stream.
    pub decisions: broadcast::Sender<Arc<str>>,
    /// Set when the service begins to shut down: endless responses (the event stream) end, so
    /// a graceful shutdown is not held open by a screen that is still listening.
    pub closing: tokio::sync::watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
