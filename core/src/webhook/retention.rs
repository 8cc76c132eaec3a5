//! Retention: the outbox and the delivery log pruned after a period, keeping what a loyalty
//! replay needs.
//!
//! - Outbox events already fanned out (at or before the fan-out's cursor), pushed to the hub
//!   while this node is joined to one (at or before the push cursor), made into PassEntry
//!   requests while attached to an account (at or before the upstream cursor), and older than the
//!   period are deleted, but never the newest one (seqs must only grow). A `passLoyaltyUpdated` event may be the answer of a loyalty operation
//!   id (`loyalty_operations.outbox_seq`): its payload is copied into the operation's `result`
//!   first (found by the payload's `opId`, the operation's key), so a replay answers the same.
//! - Deliveries done (delivered or failed) longer ago than the period are deleted with their
//!   attempts; so are pending deliveries of a turned-off subscription made longer ago (held
//!   that long, they are dropped, and counted).
//!
//! Each call does one bounded batch in the caller's transaction, walking the outbox by seq and
//! the log by its `created_at` index: never a table scan.

use crate::outbox::topic;
use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::{params, Connection};

/// What one batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Outbox events deleted.
    pub events: u64,
    /// Loyalty operations whose answer was copied out of a deleted event.
    pub loyalty_answers_kept: u64,
    /// Delivered or failed deliveries deleted (with their attempts).
    pub deliveries: u64,
    /// Pending deliveries of turned-off subscriptions dropped.
    pub held_dropped: u64,
    /// Provider events forgotten (`crate::hooks::retention`, pruned in the same pass).
    pub hook_events: u64,
    /// The batch was full: more may be left.
    pub more: bool,
}

impl Pruned {
    pub fn add(&mut self, other: Pruned) {
        self.events += other.events;
        self.loyalty_answers_kept += other.loyalty_answers_kept;
        self.deliveries += other.deliveries;
        self.held_dropped += other.held_dropped;
        self.hook_events += other.hook_events;
        self.more = other.more;
    }
}

/// Prunes at most `limit` outbox events and `limit` deliveries made before `cutoff`, in the
/// caller's transaction.
pub fn prune(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<Pruned> {
    let (events, loyalty_answers_kept, events_full) = prune_outbox(conn, cutoff, limit)?;
    let (deliveries, done_full) = prune_done(conn, cutoff, limit)?;
    let (held_dropped, held_full) = prune_held(conn, cutoff, limit)?;
    Ok(Pruned {
        events,
        loyalty_answers_kept,
        deliveries,
        held_dropped,
        hook_events: 0,
        more: events_full || done_full || held_full,
    })
}

/// Only the operation id of a loyalty event's payload (an operation's result has one; an
/// expiry entry has none and answers no operation).
#[derive(serde::Deserialize)]
struct OpRef {
    #[serde(rename = "opId")]
    op_id: Option<String>,
}

fn prune_outbox(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<(u64, u64, bool)> {
    // The newest event is always kept: SQLite gives a new row the largest seq + 1, so an
    // emptied outbox would hand out seqs the fan-out's cursor has already passed.
    let newest: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM outbox")?
        .query_row([], |r| r.get(0))?;
    let mut fanned_out = super::fanout::cursor(conn)?.min(newest - 1);
    // While joined to a hub, an event the hub does not have yet is this node's only record of
    // what to send: kept until it is pushed, however old.
    if let Some(pushed) = crate::sync::state::push_cursor_if_joined(conn)? {
        fanned_out = fanned_out.min(pushed);
    }
    // Likewise while attached to PassEntry: an event not yet made into its request is kept.
    if let Some(queued) = crate::upstream::state::push_cursor_if_attached(conn)? {
        fanned_out = fanned_out.min(queued);
    }
    let rows: Vec<(i64, String, String, Timestamp)> = conn
        .prepare_cached(
            "SELECT seq, topic, payload, created_at FROM outbox WHERE seq <= ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![fanned_out, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let read = rows.len();
    let mut last = None;
    let mut kept = 0u64;
    let mut young = false;
    for (seq, topic, payload, created_at) in rows {
        // Seqs and times mostly rise together; the first young event ends the batch, so what
        // is deleted is everything up to `last`, oldest first, all of it old.
        if created_at >= cutoff {
            young = true;
            break;
        }
        if topic == topic::PASS_LOYALTY_UPDATED {
            if let Ok(OpRef { op_id: Some(op_id) }) = serde_json::from_str::<OpRef>(&payload) {
                kept += conn
                    .prepare_cached(
                        "UPDATE loyalty_operations SET result = ?3, outbox_seq = NULL
                         WHERE op_id = ?1 AND outbox_seq = ?2",
                    )?
                    .execute(params![op_id, seq, payload])? as u64;
            }
        }
        last = Some(seq);
    }
    let Some(last) = last else {
        return Ok((0, 0, false));
    };
    let deleted = conn
        .prepare_cached("DELETE FROM outbox WHERE seq <= ?1")?
        .execute([last])? as u64;
    Ok((deleted, kept, !young && read == limit as usize))
}

fn prune_done(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<(u64, bool)> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM webhook_deliveries WHERE id IN (
                 SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_created
                 WHERE created_at < ?1 AND state IN ('delivered', 'failed') AND done_at < ?1
                 ORDER BY created_at LIMIT ?2)",
        )?
        .execute(params![cutoff, limit])? as u64;
    Ok((deleted, deleted == u64::from(limit)))
}

fn prune_held(conn: &Connection, cutoff: Timestamp, limit: u32) -> StoreResult<(u64, bool)> {
    let held: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT d.id, d.subscription_id
             FROM webhook_deliveries d INDEXED BY webhook_deliveries_created
             JOIN webhook_subscriptions s ON s.id = d.subscription_id
             WHERE d.created_at < ?1 AND d.state = 'pending' AND s.enabled = 0
             ORDER BY d.created_at LIMIT ?2",
        )?
        .query_map(params![cutoff, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, subscription_id) in &held {
        conn.prepare_cached("DELETE FROM webhook_deliveries WHERE id = ?1")?
            .execute([id])?;
        conn.prepare_cached(
            "UPDATE webhook_subscriptions SET backlog = max(backlog - 1, 0) WHERE id = ?1",
        )?
        .execute([subscription_id])?;
    }
    Ok((held.len() as u64, held.len() == limit as usize))
}
