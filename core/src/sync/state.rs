//! This node's sync state (`sync_state`, one row): the hub it joined, its credential, both
//! cursors, the last contact, and the offline periods (`sync_offline_periods`) that mark scans
//! and loyalty operations made without the hub.

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::Connection;
use serde::Serialize;

/// The hub this node joined.
#[derive(Clone, PartialEq, Eq)]
pub struct Joined {
    pub hub_url: String,
    pub hub_id: String,
    pub node_name: String,
    /// Secret: never logged, never printed (`Debug` hides it).
    pub credential: String,
}

impl std::fmt::Debug for Joined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joined")
            .field("hub_url", &self.hub_url)
            .field("hub_id", &self.hub_id)
            .field("node_name", &self.node_name)
            .finish_non_exhaustive()
    }
}

/// What `passdesk sync status` prints and `/status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    pub joined: bool,
    pub hub_url: Option<String>,
    pub node_name: Option<String>,
    /// The last round reached the hub and no failure since.
    pub online: bool,
    /// Since when the hub has not answered (`None` while online).
    pub offline_since: Option<Timestamp>,
    pub last_pull_at: Option<Timestamp>,
    pub last_push_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Outbox events waiting to go up.
    pub pending: u64,
    /// Conflicts known here.
    pub conflicts: u64,
    /// Changes the hub refused, recorded here.
    pub rejected: u64,
    pub pull_cursor: i64,
}

/// The joined hub, if any.
pub fn joined(conn: &Connection) -> StoreResult<Option<Joined>> {
    let _ = conn;
    todo!("state::joined")
}

/// Records a join (replacing none: joining twice is refused by the caller).
pub fn save_join(conn: &Connection, joined: &Joined, at: Timestamp) -> StoreResult<()> {
    let _ = (conn, joined, at);
    todo!("state::save_join")
}

/// The pull cursor: the hub seq after which to ask.
pub fn pull_cursor(conn: &Connection) -> StoreResult<i64> {
    let _ = conn;
    todo!("state::pull_cursor")
}

/// After the hub accepted a push: moves the push cursor to `through_seq`, marks the pushed
/// loyalty entries synced (`synced_at`), records the hub's refusals.
pub fn mark_pushed(
    conn: &Connection,
    through_seq: i64,
    rejected: &[super::wire::Rejected],
    at: Timestamp,
) -> StoreResult<()> {
    let _ = (conn, through_seq, rejected, at);
    todo!("state::mark_pushed")
}

/// The hub answered: online from now (closes an open offline period), `last_pull_at` /
/// `last_push_at` as given.
pub fn record_contact(
    conn: &Connection,
    pulled: bool,
    pushed: bool,
    at: Timestamp,
) -> StoreResult<()> {
    let _ = (conn, pulled, pushed, at);
    todo!("state::record_contact")
}

/// The hub did not answer: offline since `at` unless already offline; the error kept.
pub fn record_failure(conn: &Connection, error: &str, at: Timestamp) -> StoreResult<()> {
    let _ = (conn, error, at);
    todo!("state::record_failure")
}

/// Whether `at` fell in an offline period (or before the first contact after joining).
pub fn was_offline(conn: &Connection, at: Timestamp) -> StoreResult<bool> {
    let _ = (conn, at);
    todo!("state::was_offline")
}

pub fn status(conn: &Connection) -> StoreResult<SyncStatus> {
    let _ = conn;
    todo!("state::status")
}
