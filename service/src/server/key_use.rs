//! `api_keys.last_used_at`, written at most once a minute per key and never on a request's
//! path.
//!
//! A request only looks at a map in memory (and the `last_used_at` its key was read with): when
//! its key's last recorded use is a minute old or more, the use is queued. One task writes the
//! queued uses, all in one small transaction, when the service's writer is idle, on its own
//! connection with `synchronous = NORMAL`: the commit costs no fsync (the next scan's commit
//! syncs the WAL it lies in; a power cut may lose a last-use time, never a scan), so a scan
//! arriving meanwhile waits at most for one tiny UPDATE, and none is queued behind it.

use super::db::Db;
use passdesk_core::{api_keys, OpenMode, Store, StoreError, Timestamp};
use std::collections::HashMap;
use std::path::PathBuf;
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

/// Writes queued uses until every sender is gone.
async fn write_uses(db: Arc<Db>, mut rx: mpsc::Receiver<(String, Timestamp)>) {
    let mut pending: HashMap<String, Timestamp> = HashMap::new();
    let mut conn: Option<Store> = None;
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
        let path = db.path().to_owned();
        let store = conn.take();
        let outcome = db
            .when_writer_idle(move || {
                let mut store = match store {
                    Some(s) => s,
                    None => match open(path) {
                        Ok(s) => s,
                        Err(e) => return (None, Err(e)),
                    },
                };
                let written = store.write(|tx| api_keys::record_use(tx, &batch));
                (Some(store), written)
            })
            .await;
        match outcome {
            Ok(Some((store, Ok(())))) => {
                conn = store;
                pending.clear();
                continue;
            }
            Ok(Some((store, Err(e)))) => {
                conn = store;
                tracing::warn!(error = %e, keys = pending.len(), "cannot record API keys' last use yet; will retry");
            }
            // The writer is at work: let it be.
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "recording API keys' last use failed; will retry"),
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// The connection last-use times are written on: no fsync at commit, no checkpoint at commit,
/// and no waiting for another process's write lock (that is a retry later).
fn open(path: PathBuf) -> Result<Store, StoreError> {
    let store = Store::open(&path, OpenMode::MustExist)?;
    store.disable_autocheckpoint()?;
    store.set_cache_kib(64)?;
    store.conn().execute_batch("PRAGMA synchronous = NORMAL;")?;
    store.conn().busy_timeout(Duration::ZERO)?;
    Ok(store)
}
