//! This node's sync state (`sync_state`, one row): the hub it joined, its credential, both
//! cursors, the last contact, and the offline periods (`sync_offline_periods`) that mark scans
//! and loyalty operations made without the hub.

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;

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
    Ok(conn
        .prepare_cached(
            "SELECT hub_url, coalesce(hub_id, ''), coalesce(node_name, ''), credential
             FROM sync_state WHERE one = 1 AND hub_url IS NOT NULL",
        )?
        .query_row([], |r| {
            Ok(Joined {
                hub_url: r.get(0)?,
                hub_id: r.get(1)?,
                node_name: r.get(2)?,
                credential: r.get(3)?,
            })
        })
        .optional()?)
}

/// Records a join (replacing none: joining twice is refused by the caller).
pub fn save_join(conn: &Connection, joined: &Joined, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE sync_state SET hub_url = ?1, hub_id = ?2, node_name = ?3, credential = ?4,
             joined_at = ?5, last_error = NULL
         WHERE one = 1",
    )?
    .execute(params![
        joined.hub_url,
        joined.hub_id,
        joined.node_name,
        joined.credential,
        at
    ])?;
    Ok(())
}

/// The pull cursor: the hub seq after which to ask.
pub fn pull_cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT pull_cursor FROM sync_state WHERE one = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Stores the pull cursor (in the transaction that applied the batch it covers).
pub(crate) fn set_pull_cursor(conn: &Connection, cursor: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sync_state SET pull_cursor = ?1 WHERE one = 1")?
        .execute([cursor])?;
    Ok(())
}

/// The push cursor: the outbox seq through which the hub has this node's events.
pub fn push_cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT push_cursor FROM sync_state WHERE one = 1")?
        .query_row([], |r| r.get(0))?)
}

/// The push cursor while joined: the outbox events after it must be kept (retention).
pub(crate) fn push_cursor_if_joined(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT push_cursor FROM sync_state WHERE one = 1 AND hub_url IS NOT NULL")?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// Only the operation id of a `passLoyaltyUpdated` payload.
#[derive(serde::Deserialize)]
struct OpRef {
    #[serde(rename = "opId")]
    op_id: Option<String>,
}

/// After the hub accepted a push: moves the push cursor to `through_seq`, marks the pushed
/// loyalty entries synced (`synced_at`), records the hub's refusals.
pub fn mark_pushed(
    conn: &Connection,
    through_seq: i64,
    rejected: &[super::wire::Rejected],
    at: Timestamp,
) -> StoreResult<()> {
    let from = push_cursor(conn)?;
    let refused: HashMap<&str, &str> = rejected
        .iter()
        .map(|r| (r.id.as_str(), r.reason.as_str()))
        .collect();
    // The events this push covered, by seq (the outbox's key): their ids name the refusals, and
    // the loyalty ones name the operations whose entries the hub now has.
    let covered: Vec<(i64, String, String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT seq, id, topic, subject_id,
                    CASE WHEN topic = 'passLoyaltyUpdated' THEN payload END
             FROM outbox WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )?
        .query_map(params![from, through_seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (seq, id, topic, subject_id, payload) in covered {
        if let Some(reason) = refused.get(id.as_str()) {
            conn.prepare_cached(
                "INSERT INTO sync_rejections (change_id, outbox_seq, kind, reason, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(change_id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            )?
            .execute(params![id, seq, topic, reason, at])?;
            continue;
        }
        let op_id = payload
            .and_then(|p| serde_json::from_str::<OpRef>(&p).ok())
            .and_then(|r| r.op_id);
        if let Some(op_id) = op_id {
            // Through the ledger's (pass_id, seq) index: an operation's entries are its pass's.
            conn.prepare_cached(
                "UPDATE loyalty_ledger SET synced_at = ?3
                 WHERE pass_id = ?1 AND op_id = ?2 AND synced_at IS NULL",
            )?
            .execute(params![subject_id, op_id, at])?;
        }
    }
    conn.prepare_cached(
        "UPDATE sync_state SET push_cursor = max(push_cursor, ?1), last_push_at = ?2 WHERE one = 1",
    )?
    .execute(params![through_seq, at])?;
    Ok(())
}

/// The hub answered: online from now (closes an open offline period), `last_pull_at` /
/// `last_push_at` as given.
pub fn record_contact(
    conn: &Connection,
    pulled: bool,
    pushed: bool,
    at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE sync_state SET last_contact_at = ?1, first_contact_at = coalesce(first_contact_at, ?1),
             last_pull_at = CASE WHEN ?2 THEN ?1 ELSE last_pull_at END,
             last_push_at = CASE WHEN ?3 THEN ?1 ELSE last_push_at END,
             offline_since = NULL, last_error = NULL
         WHERE one = 1",
    )?
    .execute(params![at, pulled, pushed])?;
    // A clock set back must not end a period before it began.
    conn.prepare_cached(
        "UPDATE sync_offline_periods SET ended_at = max(started_at, ?1) WHERE ended_at IS NULL",
    )?
    .execute([at])?;
    Ok(())
}

/// The hub did not answer: offline since `at` unless already offline; the error kept.
pub fn record_failure(conn: &Connection, error: &str, at: Timestamp) -> StoreResult<()> {
    let already: Option<Timestamp> = conn
        .prepare_cached("SELECT offline_since FROM sync_state WHERE one = 1")?
        .query_row([], |r| r.get(0))?;
    conn.prepare_cached(
        "UPDATE sync_state SET last_error = ?1, offline_since = coalesce(offline_since, ?2)
         WHERE one = 1",
    )?
    .execute(params![error, at])?;
    if already.is_none() {
        let open: bool = conn
            .prepare_cached("SELECT 1 FROM sync_offline_periods WHERE ended_at IS NULL")?
            .exists([])?;
        if !open {
            conn.prepare_cached(
                "INSERT INTO sync_offline_periods (started_at, ended_at) VALUES (?1, NULL)
                 ON CONFLICT(started_at) DO UPDATE SET ended_at = NULL",
            )?
            .execute([at])?;
        }
    }
    Ok(())
}

/// Whether `at` fell in an offline period (or before the first contact after joining).
pub fn was_offline(conn: &Connection, at: Timestamp) -> StoreResult<bool> {
    let contact: Option<Option<Timestamp>> = conn
        .prepare_cached(
            "SELECT first_contact_at FROM sync_state WHERE one = 1 AND hub_url IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))
        .optional()?;
    match contact {
        // Not joined: nothing goes up, nothing was made "offline".
        None => return Ok(false),
        Some(None) => return Ok(true),
        Some(Some(first)) if at < first => return Ok(true),
        Some(Some(_)) => {}
    }
    // Periods never overlap: the last one that began at or before `at` is the only candidate.
    let period: Option<Option<Timestamp>> = conn
        .prepare_cached(
            "SELECT ended_at FROM sync_offline_periods WHERE started_at <= ?1
             ORDER BY started_at DESC LIMIT 1",
        )?
        .query_row([at], |r| r.get(0))
        .optional()?;
    Ok(match period {
        None => false,
        Some(None) => true,
        Some(Some(ended)) => at < ended,
    })
}

/// A change that was refused: one of ours by the hub, or one of the hub's that could not be
/// applied here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub change_id: String,
    /// Ours: the outbox event the hub refused.
    pub outbox_seq: Option<i64>,
    /// The hub's: its place in the hub's log.
    pub hub_seq: Option<i64>,
    /// The outbox topic (ours) or the change's kind (the hub's).
    pub kind: Option<String>,
    pub reason: String,
    pub at: Timestamp,
}

/// The refusals, newest first, at most `limit`.
pub fn rejections(conn: &Connection, limit: u32) -> StoreResult<Vec<Rejection>> {
    let mut stmt = conn.prepare_cached(
        "SELECT change_id, outbox_seq, hub_seq, kind, reason, at FROM sync_rejections
         ORDER BY at DESC, change_id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Rejection {
            change_id: r.get(0)?,
            outbox_seq: r.get(1)?,
            hub_seq: r.get(2)?,
            kind: r.get(3)?,
            reason: r.get(4)?,
            at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn status(conn: &Connection) -> StoreResult<SyncStatus> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<Timestamp>,
        Option<Timestamp>,
        Option<Timestamp>,
        Option<Timestamp>,
        Option<String>,
        i64,
    );
    let (
        hub_url,
        node_name,
        last_contact,
        offline_since,
        last_pull_at,
        last_push_at,
        last_error,
        pull_cursor,
    ): Row = conn
        .prepare_cached(
            "SELECT hub_url, node_name, last_contact_at, offline_since, last_pull_at, last_push_at,
                    last_error, pull_cursor
             FROM sync_state WHERE one = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?;
    let joined = hub_url.is_some();
    let rejected: u64 = conn
        .prepare_cached("SELECT count(*) FROM sync_rejections")?
        .query_row([], |r| r.get(0))?;
    Ok(SyncStatus {
        joined,
        hub_url,
        node_name,
        online: joined && last_contact.is_some() && offline_since.is_none(),
        offline_since,
        last_pull_at,
        last_push_at,
        last_error,
        // Not joined, nothing waits to go up (and the outbox need not be counted).
        pending: if joined {
            super::export::pending_count(conn)?
        } else {
            0
        },
        conflicts: super::conflicts::count(conn)?,
        rejected,
        pull_cursor,
    })
}
