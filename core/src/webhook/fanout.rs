//! The fan-out: the outbox's new events become deliveries, one per subscription that wants
//! each, rendered in its format, written in one transaction with the cursor that says how far
//! the fan-out got.
//!
//! Two steps, so that rendering never holds the write lock: [`prepare`] reads and renders a
//! batch on any connection (a reader), [`commit`] writes it in the writer's transaction if the
//! cursor has not moved meanwhile. A subscription made between the two starts after the
//! outbox's end, so it wants none of the batch; one deleted between them gets nothing.
//! `INSERT OR IGNORE` on (subscription, event) makes a batch committed twice harmless.
//!
//! Disabled subscriptions get their deliveries too: they are held (never due while it is off)
//! and replayed when it is turned on again.

use super::deliveries::{self, NewDelivery};
use super::subscriptions::EventFilter;
use super::{event, render, EventType, Format, Rendered};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// At most this many outbox events per batch.
pub const MAX_EVENTS: u32 = 256;

/// How big one batch may grow: a batch is one write transaction, which a scan may queue
/// behind, so it is cut by deliveries and bytes as well as events (at an event's end: an
/// event's deliveries are never split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub events: u32,
    pub deliveries: usize,
    pub bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            events: MAX_EVENTS,
            deliveries: 64,
            bytes: 256 * 1024,
        }
    }
}

/// Events read and rendered, waiting to be committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The cursor it was read after.
    pub after_seq: i64,
    /// The last event it covers: the cursor once committed.
    pub up_to_seq: i64,
    /// Outbox events it covers (those no subscription wants included).
    pub events: u32,
    pub deliveries: Vec<NewDelivery>,
}

/// What [`commit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// The cursor moved to the batch's end; this many deliveries were new.
    Done { deliveries: usize },
    /// The cursor was not where the batch was read: nothing written (prepare again).
    Stale,
}

/// How far the fan-out has read the outbox.
pub fn cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT after_seq FROM webhook_cursor WHERE one = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Outbox events not fanned out yet, without counting rows: the outbox's last seq less the
/// cursor (seqs are handed out one after another).
pub fn waiting(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT max(seq) FROM outbox), 0) - after_seq
             FROM webhook_cursor WHERE one = 1",
        )?
        .query_row([], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// A subscription as the fan-out sees it.
struct Target {
    id: String,
    format: Format,
    filter: EventFilter,
    after_seq: i64,
}

fn targets(conn: &Connection) -> StoreResult<Vec<Target>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "webhook subscription",
        detail,
    };
    let mut stmt =
        conn.prepare_cached("SELECT id, format, events, after_seq FROM webhook_subscriptions")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, format, events, after_seq) = row?;
        let format = format.parse::<Format>().map_err(corrupt)?;
        let names: Vec<String> =
            serde_json::from_str(&events).map_err(|e| corrupt(e.to_string()))?;
        let filter = EventFilter::parse(&names).map_err(corrupt)?;
        out.push(Target {
            id,
            format,
            filter,
            after_seq,
        });
    }
    Ok(out)
}

/// Reads the events after the cursor (at most `limits.events`, fewer when their deliveries
/// reach `limits.deliveries` or `limits.bytes`) and renders each for every subscription that
/// wants it. Writes nothing. `None`: no new event.
pub fn prepare(conn: &Connection, limits: Limits) -> StoreResult<Option<Batch>> {
    let after_seq = cursor(conn)?;
    let targets = targets(conn)?;
    let rows: Vec<(i64, String)> = conn
        .prepare_cached("SELECT seq, topic FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?
        .query_map(
            params![after_seq, limits.events.clamp(1, MAX_EVENTS)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut batch = Batch {
        after_seq,
        up_to_seq: after_seq,
        events: 0,
        deliveries: Vec::new(),
    };
    let mut bytes = 0usize;
    for (seq, topic) in rows {
        if batch.events > 0
            && (batch.deliveries.len() >= limits.deliveries || bytes >= limits.bytes)
        {
            break;
        }
        batch.up_to_seq = seq;
        batch.events += 1;
        let Some(event_type) = EventType::from_topic(&topic) else {
            continue;
        };
        let wanting: Vec<&Target> = targets
            .iter()
            .filter(|t| t.after_seq < seq && t.filter.wants(event_type))
            .collect();
        if wanting.is_empty() {
            continue;
        }
        // An event that cannot be read (a payload that is not JSON, a pass row that does not
        // parse) is logged and passed over: stopping here would hold every later event back
        // for good. A failing SQLite is not passed over: the batch is tried again.
        let event = match event::load(conn, seq) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::error!(seq, error = %e, "an outbox event cannot be read: it is not sent");
                continue;
            }
            Err(e) => return Err(e),
        };
        // One rendering per format, whatever the number of subscriptions in it.
        let mut rendered: HashMap<Format, Option<Rendered>> = HashMap::new();
        for target in wanting {
            let Some(r) = rendered
                .entry(target.format)
                .or_insert_with(|| render(target.format, &event))
            else {
                continue;
            };
            bytes += r.body.len();
            batch.deliveries.push(NewDelivery {
                subscription_id: target.id.clone(),
                event_id: event.id.clone(),
                event_type: event.event_type,
                event_at: event.at,
                rendered: r.clone(),
            });
        }
    }
    Ok((batch.events > 0).then_some(batch))
}

/// Writes a prepared batch in the caller's transaction: its deliveries (pending, due now,
/// each counted in its subscription's backlog) and the cursor at its end. Nothing when the
/// cursor has moved since the batch was read.
pub fn commit(conn: &Connection, batch: &Batch, now: Timestamp) -> StoreResult<Committed> {
    let moved = conn
        .prepare_cached(
            "UPDATE webhook_cursor SET after_seq = ?2 WHERE one = 1 AND after_seq = ?1",
        )?
        .execute(params![batch.after_seq, batch.up_to_seq])?;
    if moved == 0 {
        return Ok(Committed::Stale);
    }
    let mut made = 0;
    for d in &batch.deliveries {
        made += usize::from(deliveries::insert(conn, d, now)?.is_some());
    }
    Ok(Committed::Done { deliveries: made })
}

/// [`prepare`] and [`commit`] on one connection, in the caller's transaction (tests, tools).
pub fn run(conn: &Connection, limits: Limits, now: Timestamp) -> StoreResult<Option<Batch>> {
    let Some(batch) = prepare(conn, limits)? else {
        return Ok(None);
    };
    commit(conn, &batch, now)?;
    Ok(Some(batch))
}
