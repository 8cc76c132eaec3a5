//! `upstream_state` (one row): which PassEntry account this store is attached to, the push
//! cursor over the outbox, the last pull, the last error; and the status document
//! (`passdesk upstream status`, `GET /api/v1/upstream`, `/status`).

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Attaches the store to the account at `base_url` (the worker and the commands do, from
/// `[upstream.passentry]`). The first attachment starts the push cursor at the outbox's end:
/// what happened before PassEntry was configured is not sent. Attaching to another account
/// starts afresh (cursor at the end, no pull in progress); the same account changes nothing.
pub fn attach(conn: &Connection, base_url: &str, at: Timestamp) -> StoreResult<()> {
    let current: Option<String> = conn
        .prepare_cached("SELECT base_url FROM upstream_state WHERE one = 1")?
        .query_row([], |r| r.get(0))?;
    if current.as_deref() == Some(base_url) {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE upstream_state SET base_url = ?1, attached_at = ?2,
             push_cursor = (SELECT coalesce(max(seq), 0) FROM outbox),
             pull_stage = NULL, pull_page = 1
         WHERE one = 1",
    )?
    .execute(params![base_url, at])?;
    Ok(())
}

/// Detaches (no `[upstream.passentry]` any more): retention no longer waits for the cursor.
/// The requests already made stay, and show.
pub fn detach(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached("UPDATE upstream_state SET base_url = NULL WHERE one = 1")?
        .execute([])?;
    Ok(())
}

/// The push cursor: the outbox seq through which events have become requests.
pub fn push_cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT push_cursor FROM upstream_state WHERE one = 1")?
        .query_row([], |r| r.get(0))?)
}

/// The push cursor while attached: retention keeps the outbox events after it.
pub(crate) fn push_cursor_if_attached(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT push_cursor FROM upstream_state WHERE one = 1 AND base_url IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set_push_cursor(conn: &Connection, seq: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE upstream_state SET push_cursor = ?1 WHERE one = 1")?
        .execute([seq])?;
    Ok(())
}

/// PassEntry did not answer, or refused a pull (kept until the next success of any kind).
pub fn record_error(conn: &Connection, error: &str, at: Timestamp) -> StoreResult<()> {
    let error: String = error.chars().take(500).collect();
    conn.prepare_cached(
        "UPDATE upstream_state SET last_error = ?1, last_error_at = ?2 WHERE one = 1",
    )?
    .execute(params![error, at])?;
    Ok(())
}

/// PassEntry answered: the last error is history.
pub fn clear_error(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE upstream_state SET last_error = NULL, last_error_at = NULL
         WHERE one = 1 AND last_error IS NOT NULL",
    )?
    .execute([])?;
    Ok(())
}

/// A pull that has started and not finished: its cycle and the page it reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullProgress {
    pub cycle: i64,
    /// `templates`, `events`, `passes` or `sweep` (confirming passes a cycle did not see).
    pub stage: String,
    /// The next page of the stage to ask for.
    pub page: i64,
}

/// What `passdesk upstream status` prints (camelCase, times RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamStatus {
    /// `[upstream.passentry]` is in passdesk.toml (set by the caller, who read it).
    pub configured: bool,
    /// The account this store is attached to (its API host), if any.
    pub base_url: Option<String>,
    /// The end of the last complete pull.
    pub last_pull_at: Option<Timestamp>,
    /// Passes the last complete pull saw.
    pub last_pull_passes: Option<u64>,
    /// Passes from PassEntry in the cache (voided ones included).
    pub passes: u64,
    pub pull_in_progress: Option<PullProgress>,
    /// Requests waiting to go (pending and sending).
    pub queue_length: u64,
    /// Requests PassEntry refused (4xx): shown, never retried.
    pub refused: u64,
    /// Loyalty requests whose fate a read-back could not tell: shown, never resent.
    pub uncertain: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// The last request PassEntry answered.
    pub last_push_at: Option<Timestamp>,
}

pub fn status(conn: &Connection, configured: bool) -> StoreResult<UpstreamStatus> {
    let (
        base_url,
        last_pull_at,
        last_pull_passes,
        cycle,
        stage,
        page,
        last_error,
        last_error_at,
        last_push_at,
    ) = conn
        .prepare_cached(
            "SELECT base_url, last_pull_at, last_pull_passes, cycle, pull_stage, pull_page,
                 last_error, last_error_at, last_push_at
             FROM upstream_state WHERE one = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<Timestamp>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<Timestamp>>(7)?,
                r.get::<_, Option<Timestamp>>(8)?,
            ))
        })?;
    let count = |sql: &str| -> StoreResult<u64> {
        Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    };
    Ok(UpstreamStatus {
        configured,
        base_url,
        last_pull_at,
        last_pull_passes: last_pull_passes.map(|n| n.max(0) as u64),
        passes: count("SELECT count(*) FROM upstream_passes")?,
        pull_in_progress: stage.map(|stage| PullProgress { cycle, stage, page }),
        queue_length: count(
            "SELECT count(*) FROM upstream_requests INDEXED BY upstream_requests_open
             WHERE state IN ('pending', 'sending')",
        )?,
        refused: count(
            "SELECT count(*) FROM upstream_requests INDEXED BY upstream_requests_attention
             WHERE state IN ('refused', 'uncertain') AND handled_at IS NULL
                 AND state = 'refused'",
        )?,
        uncertain: count(
            "SELECT count(*) FROM upstream_requests INDEXED BY upstream_requests_attention
             WHERE state IN ('refused', 'uncertain') AND handled_at IS NULL
                 AND state = 'uncertain'",
        )?,
        last_error,
        last_error_at,
        last_push_at,
    })
}
