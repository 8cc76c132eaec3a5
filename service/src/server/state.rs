//! What every handler shares.

use super::db::Db;
use crate::config::Config;
use crate::pipeline::Devices;
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
    /// Every decision and device change, as named JSON events, for the server-sent stream.
    pub events: broadcast::Sender<StreamEvent>,
    /// Readers and other devices, for `/status`.
    pub devices: Arc<Devices>,
    /// Where scans wait for their (group) commit.
    pub scans: tokio::sync::mpsc::Sender<super::scan_queue::PendingScan>,
    /// The camera's preview slot while a camera runs (set and cleared by the pipeline).
    pub camera_preview: std::sync::RwLock<Option<Arc<passdesk_hardware::camera::PreviewSlot>>>,
    /// Turns true when the service is shutting down: long-lived streams end then.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Per-address limits on what answers without a key.
    pub limits: super::rate_limit::RateLimits,
    /// When each API key was last used, written at most once a minute, off the request path.
    pub key_use: super::key_use::KeyUse,
    /// Wakes the webhook worker (`workers::webhooks`): `notify_one()` after writing something
    /// it sends (a test event, a retry, a subscription turned on). Without it the worker
    /// still finds the work within a second.
    pub webhooks: Arc<tokio::sync::Notify>,
    /// Wakes the sync worker (`workers::sync`): `push()` after writing something that goes up
    /// without a decision (loyalty, issuance), `now()` for a round now. Without a word it still
    /// finds the work within a second.
    pub sync: Arc<crate::workers::sync::SyncSignals>,
    /// Wakes the upstream worker (`workers::upstream`): `push()` after writing something that
    /// may go to PassEntry without a decision (loyalty, issuance), `pull()` for a pull now.
    pub upstream: Arc<crate::workers::upstream::UpstreamSignals>,
    /// Apple Wallet and Google Wallet as loaded at start (`[wallet]`): ready, not configured,
    /// or broken and why.
    pub wallets: Arc<crate::wallet::Wallets>,
    /// The APNs worker's health (`workers::apns`), for `/status`.
    pub apns: Arc<crate::workers::apns::ApnsSignals>,
}

/// One server-sent event: `decision`, `tapFailed`, `device` or `sync`, and its JSON.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub name: &'static str,
    pub data: Arc<str>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
