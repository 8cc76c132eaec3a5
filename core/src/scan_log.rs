//! The audit log of scans: every read, accepted or not, one row, never updated.

use crate::decision::{Reason, Verdict};
use crate::reader::Direction;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanRecord {
    pub id: String,
    pub node_id: String,
    pub at: Timestamp,
    pub reader_id: String,
    pub medium: String,
    pub direction: Direction,
    pub value: String,
    pub value_len: u64,
    pub pass_id: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub detail: Option<String>,
    pub counted: bool,
    pub duplicate_of: Option<String>,
    pub via_token: bool,
}

pub(crate) fn insert(conn: &Connection, s: &ScanRecord) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO scans (id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
             verdict, reason, detail, counted, duplicate_of, via_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        s.id,
        s.node_id,
        s.at,
        s.reader_id,
        s.medium,
        s.direction.as_str(),
        s.value,
        s.value_len,
        s.pass_id,
        s.verdict.as_str(),
        s.reason.map(Reason::as_str),
        s.detail,
        s.counted,
        s.duplicate_of,
        s.via_token,
    ])?;
    Ok(())
}

const SCAN_COLUMNS: &str =
    "id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
    verdict, reason, detail, counted, duplicate_of, via_token";

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<Result<ScanRecord, StoreError>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "scan",
        detail,
    };
    let direction: String = r.get(5)?;
    let verdict: String = r.get(9)?;
    let reason: Option<String> = r.get(10)?;
    let direction = match direction.parse() {
        Ok(d) => d,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    let verdict = match verdict.parse() {
        Ok(v) => v,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    let reason = match reason.map(|r| r.parse()).transpose() {
        Ok(r) => r,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    Ok(Ok(ScanRecord {
        id: r.get(0)?,
        node_id: r.get(1)?,
        at: r.get(2)?,
        reader_id: r.get(3)?,
        medium: r.get(4)?,
        direction,
        value: r.get(6)?,
        value_len: r.get(7)?,
        pass_id: r.get(8)?,
        verdict,
        reason,
        detail: r.get(11)?,
        counted: r.get(12)?,
        duplicate_of: r.get(13)?,
        via_token: r.get(14)?,
    }))
}

fn query_opt(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Option<ScanRecord>> {
    conn.prepare_cached(sql)?
        .query_row(p, record_from_row)
        .optional()?
        .transpose()
}

/// The latest original (non-duplicate) accepted scan of a pass at a reader, in a direction,
/// between `since` and `until`: the tap a repeated tap repeats. Rejects are not repeated: a
/// pass rejected a moment ago is judged afresh (the doors may have just opened).
pub(crate) fn recent_at_reader(
    conn: &Connection,
    pass_id: &str,
    reader_id: &str,
    direction: Direction,
    since: Timestamp,
    until: Timestamp,
) -> StoreResult<Option<ScanRecord>> {
    query_opt(
        conn,
        &format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE pass_id = ?1 AND reader_id = ?2 AND direction = ?3
               AND verdict = 'accept' AND duplicate_of IS NULL AND at >= ?4 AND at <= ?5
             ORDER BY seq DESC LIMIT 1"
        ),
        params![pass_id, reader_id, direction.as_str(), since, until],
    )
}

/// The first counted entry of a pass (for "already used 19:42 at Gate B").
pub(crate) fn first_counted_entry(
    conn: &Connection,
    pass_id: &str,
) -> StoreResult<Option<ScanRecord>> {
    query_opt(
        conn,
        &format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE pass_id = ?1 AND counted = 1 AND direction = 'entry'
             ORDER BY seq LIMIT 1"
        ),
        [pass_id],
    )
}

/// The latest counted admission of a pass, entry or exit.
pub(crate) fn last_counted(conn: &Connection, pass_id: &str) -> StoreResult<Option<ScanRecord>> {
    query_opt(
        conn,
        &format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE pass_id = ?1 AND counted = 1 ORDER BY seq DESC LIMIT 1"
        ),
        [pass_id],
    )
}

pub(crate) fn counted_entries(conn: &Connection, pass_id: &str) -> StoreResult<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM scans WHERE pass_id = ?1 AND counted = 1 AND direction = 'entry'",
        )?
        .query_row([pass_id], |r| r.get(0))?)
}

pub fn get(conn: &Connection, scan_id: &str) -> StoreResult<Option<ScanRecord>> {
    query_opt(
        conn,
        &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
        [scan_id],
    )
}

#[derive(Debug, Clone, Default)]
pub struct ScanFilter {
    pub pass_id: Option<String>,
    pub reader_id: Option<String>,
    pub verdict: Option<Verdict>,
    pub since: Option<Timestamp>,
    pub limit: u32,
}

/// Newest first.
pub fn list(conn: &Connection, f: &ScanFilter) -> StoreResult<Vec<ScanRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SCAN_COLUMNS} FROM scans
         WHERE (?1 IS NULL OR pass_id = ?1) AND (?2 IS NULL OR reader_id = ?2)
           AND (?3 IS NULL OR verdict = ?3) AND (?4 IS NULL OR at >= ?4)
         ORDER BY seq DESC LIMIT ?5"
    ))?;
    let rows = stmt.query_map(
        params![
            f.pass_id,
            f.reader_id,
            f.verdict.map(Verdict::as_str),
            f.since,
            f.limit
        ],
        record_from_row,
    )?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// Scans matching the filter (its `limit` aside), a repeat inside the duplicate window not
/// counted again: what a gate's "admitted / refused today" shows, however busy the day was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub accepted: u64,
    pub rejected: u64,
}

pub fn totals(conn: &Connection, f: &ScanFilter) -> StoreResult<Totals> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(verdict = 'accept'), 0), coalesce(sum(verdict = 'reject'), 0) FROM scans
         WHERE (?1 IS NULL OR pass_id = ?1) AND (?2 IS NULL OR reader_id = ?2)
           AND (?3 IS NULL OR verdict = ?3) AND (?4 IS NULL OR at >= ?4)
           AND duplicate_of IS NULL",
    )?;
    Ok(stmt.query_row(
        params![
            f.pass_id,
            f.reader_id,
            f.verdict.map(Verdict::as_str),
            f.since,
        ],
        |r| {
            Ok(Totals {
                accepted: r.get(0)?,
                rejected: r.get(1)?,
            })
        },
    )?)
}

pub fn count(conn: &Connection) -> StoreResult<u64> {
    Ok(conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?)
}
