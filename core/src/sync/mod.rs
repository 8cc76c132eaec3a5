//! Sync with a hub: what this node exports since its push cursor, how a batch pulled from the
//! hub is applied (idempotent by change id, in one transaction with the pull cursor), the
//! conflicts the hub reported, and this node's sync state. The same functions serve the hub's
//! import (a snapshot of a store as changes).
//!
//! Nothing here does network I/O: the service's sync worker carries the documents in `wire`.

pub mod apply;
pub mod conflicts;
pub mod export;
pub mod state;
pub mod wire;

use crate::store::StoreResult;
use rusqlite::{Connection, OptionalExtension};

/// Another node's reader as its scans named it, with the node's name when the hub has told us
/// (`Gate 1 (Gate A)`); `None` for a reader no pulled scan named.
pub fn remote_reader_name(
    conn: &Connection,
    node_id: &str,
    reader_id: &str,
) -> StoreResult<Option<String>> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT name, node_name FROM sync_readers WHERE node_id = ?1 AND reader_id = ?2",
        )?
        .query_row([node_id, reader_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(name, node)| match node {
        Some(node) => format!("{name} ({node})"),
        None => name,
    }))
}
