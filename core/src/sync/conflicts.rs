//! Conflicts the hub reported, as this node keeps them: listed on the manager's screen and
//! shown at the gate on the next scan of the pass ("Admitted at Gate A at 19:42 UTC while
//! offline").

use super::wire::ConflictRecord;
use crate::store::StoreResult;
use rusqlite::Connection;

/// The newest first, at most `limit`.
pub fn list(conn: &Connection, limit: u32) -> StoreResult<Vec<ConflictRecord>> {
    let _ = (conn, limit);
    todo!("conflicts::list")
}

pub fn count(conn: &Connection) -> StoreResult<u64> {
    let _ = conn;
    todo!("conflicts::count")
}

/// The conflicts of one pass, newest first (the gate's message).
pub fn of_pass(conn: &Connection, pass_id: &str) -> StoreResult<Vec<ConflictRecord>> {
    let _ = (conn, pass_id);
    todo!("conflicts::of_pass")
}
