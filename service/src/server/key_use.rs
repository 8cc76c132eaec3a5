//! `api_keys.last_used_at`, written at most once a minute per key and never on a request's
//! path.
//!
//! A request only looks at a map in memory (and the `last_used_at` its key was read with): when
//! its key's last recorded use is a minute old or more, the use is queued. One task writes the
//! queued uses, all in one small transaction, when the service's writer is idle, on the
//! store's `aside` connection ([`Db::write_aside_when_idle`]): no fsync of its own (a power cut
//! may lose a last-use time, never a scan), so a scan arriving meanwhile waits at most for one
//! tiny UPDATE, and none is queued behind it.

use super::db::{Db, DbError};
use passdesk_core::{api_keys, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// A key's use is recorded at most this often.
pub const EVERY: Duration = Duration::from_secs(60);

/// How long to wait before trying again when the writer was busy.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Uses queued at once, at most; past it a use is not recorded, and the key's next request
/// queues it again.
const QUEUE: usize = 1024;

pub struct KeyUse {
    /// Each key's last use recorded (or queued) by this process.
    recorded: Mutex<HashMap<String, Timestamp>>,
    queue: mpsc::Sender<(String, Timestamp)>,
}

impl KeyUse {
    /// Starts the writing task (so: inside the tokio runtime).
    pub fn spawn(db: Arc<Db>) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_uses(db, rx));
        Self {
            recorded: Mutex::new(HashMap::new()),
            queue,
        }
    }

    /// Notes that `key_id` was used at `at`; `stored` is the last use the store had for it.
    pub fn touch(&self, key_id: &str, stored: Option<Timestamp>, at: Timestamp) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        let last = recorded.get(key_id).copied().max(stored);
        if last.is_some_and(|t| at.unix_ms().saturating_sub(t.unix_ms()) < EVERY.as_millis() as i64)
        {
            return;
        }
        if self.queue.try_send((key_id.to_owned(), at)).is_ok() {
            recorded.insert(key_id.to_owned(), at);
        }
    }
}

/// Writes queued uses until every sender is gone or the store is closed.
async fn write_uses(db: Arc<Db>, mut rx: mpsc::Receiver<(String, Timestamp)>) {
    let mut pending: HashMap<String, Timestamp> = HashMap::new();
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some((id, at)) => {
                    pending.insert(id, at);
                }
                None => return,
            }
        }
        while let Ok((id, at)) = rx.try_recv() {
            let t = pending.entry(id).or_insert(at);
            *t = (*t).max(at);
        }
        let batch: Vec<(String, Timestamp)> =
            pending.iter().map(|(k, t)| (k.clone(), *t)).collect();
        let written = db
            .write_aside_when_idle(move |s| s.write(|tx| api_keys::record_use(tx, &batch)))
            .await;
        match written {
            Ok(Some(Ok(()))) => {
                pending.clear();
                continue;
            }
            // Another process holds the write lock (busy), or the write failed: later.
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, keys = pending.len(), "cannot record API keys' last use yet; will retry");
            }
            // The writer is at work: let it be.
            Ok(None) => {}
            Err(DbError::Closed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "recording API keys' last use failed; will retry");
            }
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}
