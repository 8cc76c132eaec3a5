//! Conflicts the hub reported, as this node keeps them: listed on the manager's screen and
//! shown at the gate on the next scan of the pass ("Admitted at Gate A at 19:42 UTC while
//! offline").

use super::wire::{ConflictKind, ConflictRecord};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

/// The newest first, at most `limit`.
pub fn list(conn: &Connection, limit: u32) -> StoreResult<Vec<ConflictRecord>> {
    bodies(
        conn,
        "SELECT body FROM sync_conflicts ORDER BY detected_at DESC, id DESC LIMIT ?1",
        params![limit],
    )
}

pub fn count(conn: &Connection) -> StoreResult<u64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM sync_conflicts")?
        .query_row([], |r| r.get(0))?)
}

/// The conflicts of one pass, newest first (the gate's message).
pub fn of_pass(conn: &Connection, pass_id: &str) -> StoreResult<Vec<ConflictRecord>> {
    bodies(
        conn,
        "SELECT body FROM sync_conflicts WHERE pass_id = ?1 ORDER BY detected_at DESC, id DESC",
        params![pass_id],
    )
}

const NEWEST_OF_PASS: &str =
    "SELECT body FROM sync_conflicts WHERE pass_id = ?1 ORDER BY detected_at DESC LIMIT 1";

/// The newest conflict of a pass, as the gate shows it: one probe of `(pass_id, detected_at)`,
/// made on every scan of a known pass (an empty table answers at once).
pub fn newest_of_pass(
    conn: &Connection,
    pass_id: &str,
) -> StoreResult<Option<(String, ConflictKind, String)>> {
    let body: Option<String> = conn
        .prepare_cached(NEWEST_OF_PASS)?
        .query_row([pass_id], |r| r.get(0))
        .optional()?;
    body.map(|b| parse(&b).map(|c| (c.id, c.kind, c.message)))
        .transpose()
}

/// Keeps a conflict the hub reported; `true` when it was new here.
pub(crate) fn insert(
    conn: &Connection,
    c: &ConflictRecord,
    received_at: Timestamp,
) -> StoreResult<bool> {
    let body = serde_json::to_string(c).expect("a conflict serialises");
    let kind = serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let n = conn
        .prepare_cached(
            "INSERT INTO sync_conflicts (id, pass_id, kind, body, detected_at, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![
            c.id,
            c.pass_id,
            kind,
            body,
            c.detected_at,
            received_at
        ])?;
    Ok(n == 1)
}

fn parse(body: &str) -> StoreResult<ConflictRecord> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        what: "sync conflict",
        detail: e.to_string(),
    })
}

fn bodies(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Vec<ConflictRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for body in rows {
        out.push(parse(&body?)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    /// The gate's probe runs on every scan of a known pass: it must search the pass's index
    /// and sort nothing.
    #[test]
    fn the_gates_probe_searches_the_pass_index() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::NEWEST_OF_PASS))
            .unwrap()
            .query_map(["p"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|s| s.starts_with("SEARCH sync_conflicts USING INDEX sync_conflicts_pass")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|s| s.contains("TEMP B-TREE")), "{plan:?}");
    }
}
