//! What this node sends up: its outbox events after the push cursor turned into changes
//! (`passTapped` → a scan, `passLoyaltyUpdated` → a ledger operation, `passCreated` /
//! `passUpdated` / `passVoided` / `passImported` → the pass as it is now; `passConflict` is not
//! sent), and a whole store as changes (the hub's import).

use super::wire::Change;
use crate::store::StoreResult;
use rusqlite::Connection;

/// Changes waiting to go up: the next outbox events after the push cursor, at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub changes: Vec<Change>,
    /// The outbox seq of the last event these cover (events that make no change, such as
    /// `passConflict`, are covered too): what `state::mark_pushed` stores once the hub
    /// answered.
    pub through_seq: i64,
}

/// The next batch to push; `None` when nothing is waiting. Each change's id is its outbox
/// event's id, so a batch read twice is the same batch.
pub fn pending(conn: &Connection, node_id: &str, limit: usize) -> StoreResult<Option<Pending>> {
    let _ = (conn, node_id, limit);
    todo!("export::pending")
}

/// How many outbox events wait to go up (the push cursor's distance to the newest event).
pub fn pending_count(conn: &Connection) -> StoreResult<u64> {
    let _ = conn;
    todo!("export::pending_count")
}

/// Every template, event, policy, program and pass of the store as changes (fresh UUIDv7 ids,
/// `node_id` as given): what `passdesk hub import` loads into the hub.
pub fn snapshot(conn: &Connection, node_id: &str) -> StoreResult<Vec<Change>> {
    let _ = (conn, node_id);
    todo!("export::snapshot")
}
