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
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
