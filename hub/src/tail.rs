//! The log's tail as this process knows it, for pulls that wait: a push in this process
//! advances it at once; a watcher re-reads the database every [`RECHECK`] while someone waits,
//! for pushes made by another hub process on the same database.

use crate::Hub;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::watch;

/// How often the watcher looks for other processes' pushes while a pull waits.
pub const RECHECK: Duration = Duration::from_millis(200);

pub struct Tail {
    last: watch::Sender<i64>,
    /// Set when the process shuts down: waiting pulls answer at once.
    closing: watch::Sender<bool>,
}

impl Tail {
    pub fn new(last: i64) -> Self {
        Self {
            last: watch::Sender::new(last),
            closing: watch::Sender::new(false),
        }
    }

    /// Waiting pulls answer now, and later ones do not wait.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// The log holds `seq` now (a lower number than known changes nothing).
    pub fn advance(&self, seq: i64) {
        self.last.send_if_modified(|known| {
            let grew = seq > *known;
            if grew {
                *known = seq;
            }
            grew
        });
    }

    /// Resolves once the log holds a seq above `after` (subscribe before reading the log, so
    /// that a push between the read and the wait is not missed).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.last.subscribe()
    }

    fn has_waiters(&self) -> bool {
        self.last.receiver_count() > 0
    }
}

/// Re-reads the tail while pulls wait; ends with the hub.
pub fn spawn_watcher(hub: Weak<Hub>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RECHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(hub) = hub.upgrade() else { return };
            if !hub.tail.has_waiters() {
                continue;
            }
            match hub.storage().tail().await {
                Ok(seq) => hub.tail.advance(seq),
                Err(e) => tracing::warn!(error = %e, "cannot read the log's tail"),
            }
        }
    });
}
