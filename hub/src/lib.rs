//! The hub for several counters: node enrollment, the change log every counter pushes to and
//! pulls from (`/sync/v1/…`, documents in `passdesk_core::sync::wire`), and the conflicts found
//! when changes meet. Stored in PostgreSQL (a chain: several hub processes over one database)
//! or an SQLite file (one site); the same code and the same tests over both.
//!
//! The hub's sequence is the only cursor: it numbers changes in commit order, so a reader that
//! has seen seq N has seen every change below it.

pub mod database_url;
pub mod enroll;
pub mod import;
pub mod judge;
pub mod pull;
pub mod push;
pub mod rate_limit;
pub mod routes;
pub mod secret;
pub mod server;
pub mod storage;
mod tail;

pub use database_url::{DatabaseUrl, Engine};
pub use storage::{NodeInfo, StorageError};

use passdesk_core::sync::wire::ConflictRecord;
use passdesk_core::Timestamp;
use std::sync::Arc;
use storage::{NodeRef, Storage};

/// How long an enrollment token lasts.
pub const TOKEN_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest node name a token may give.
pub const MAX_NAME_CHARS: usize = 100;

/// The default `--listen` of `passdesk hub serve`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7480";

/// What a hub operation can fail with (besides a refusal, which each operation names).
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the node name must be 1 to {MAX_NAME_CHARS} printable characters")]
    BadName,
}

/// One hub process: its storage and the watch on the log's tail that wakes waiting pulls.
pub struct Hub {
    storage: Storage,
    tail: tail::Tail,
}

impl Hub {
    /// Opens (and at the first open, creates) the hub's database. Call inside a tokio runtime:
    /// the tail's watcher runs on it.
    pub async fn open(url: &DatabaseUrl) -> Result<Arc<Self>, HubError> {
        let storage = Storage::open(url).await?;
        let last = storage.tail().await?;
        let hub = Arc::new(Self {
            storage,
            tail: tail::Tail::new(last),
        });
        tail::spawn_watcher(Arc::downgrade(&hub));
        Ok(hub)
    }

    pub fn hub_id(&self) -> &str {
        self.storage.hub_id()
    }

    pub fn engine(&self) -> Engine {
        self.storage.engine()
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A one-time enrollment token for a counter to be called `name`, valid 24 hours. Shown
    /// once: the hub keeps its hash.
    pub async fn enroll_token(&self, name: &str, now: Timestamp) -> Result<String, HubError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(HubError::BadName);
        }
        let token = secret::generate(secret::TOKEN_PREFIX);
        let hash = secret::hash(&token).ok_or(HubError::BadName)?;
        self.storage
            .create_token(hash, name.to_owned(), now, now.plus_ms(TOKEN_LIFETIME_MS))
            .await?;
        Ok(token)
    }

    /// The node whose credential this is (its last contact now), or `None`.
    pub async fn authenticate(
        &self,
        credential: &str,
        now: Timestamp,
    ) -> Result<Option<NodeRef>, HubError> {
        let Some(hash) = secret::hash(credential) else {
            return Ok(None);
        };
        Ok(self.storage.touch_node(hash, now).await?)
    }

    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, HubError> {
        Ok(self.storage.nodes().await?)
    }

    /// Every conflict, in the order the hub found them.
    pub async fn conflicts(&self) -> Result<Vec<ConflictRecord>, HubError> {
        Ok(self.storage.conflicts().await?)
    }

    /// Waiting pulls answer at once (an empty page) and later ones do not wait: the process
    /// is shutting down.
    pub fn stop_waiting(&self) {
        self.tail.close();
    }

    /// Tells waiting pulls of this process that the log grew to `seq`.
    pub(crate) fn appended(&self, seq: i64) {
        self.tail.advance(seq);
    }
}
