//! A batch pulled from the hub, applied in one transaction with the pull cursor: each change
//! once (by id), other nodes' scans and loyalty operations into the log and the ledger (so
//! entry counts and balances agree everywhere), passes and the catalogue upserted (a voided
//! pass stays voided), node keys trusted, revocations kept, conflicts recorded and the flagged
//! scan marked. Applying writes no outbox event but one: `passConflict`, once, by the node whose
//! scan or operation the conflict flags.

use super::wire::Sequenced;
use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::Connection;

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub applied: u64,
    /// Already applied (a replay of a batch whose cursor was not stored).
    pub skipped: u64,
    pub conflicts: u64,
}

/// Applies `changes` (in order) and stores `cursor` as the pull cursor, all in the caller's
/// transaction (the caller opens it with `BEGIN IMMEDIATE`). `this_node` is this counter's node
/// id. A change that cannot be applied (a pass whose template is unknown and not carried, a
/// body that does not parse) is recorded in `sync_rejections` and skipped: it never stops the
/// batch.
pub fn apply_batch(
    conn: &Connection,
    this_node: &str,
    changes: &[Sequenced],
    cursor: i64,
    now: Timestamp,
) -> StoreResult<Applied> {
    let _ = (conn, this_node, changes, cursor, now);
    todo!("apply::apply_batch")
}
