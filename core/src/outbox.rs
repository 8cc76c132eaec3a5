//! The outbox: domain events written in the same transaction as the change they describe, for
//! the webhook and sync workers to deliver later.

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::{params, Connection};
use serde::Serialize;

/// Event names as the providers spell them (PassEntry's `webhookType`).
pub mod topic {
    pub const PASS_TAPPED: &str = "passTapped";
    pub const PASS_IMPORTED: &str = "passImported";
    pub const PASS_LOYALTY_UPDATED: &str = "passLoyaltyUpdated";
    pub const PASS_CREATED: &str = "passCreated";
    pub const PASS_UPDATED: &str = "passUpdated";
    pub const PASS_VOIDED: &str = "passVoided";
    /// A conflict the hub found that flags this node's scan or operation (sync).
    pub const PASS_CONFLICT: &str = "passConflict";
}

/// An event written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Its place in the outbox: workers deliver in seq order.
    pub seq: i64,
    /// Its UUIDv7, sent as the webhook id.
    pub id: String,
}

/// Writes one event. Rows are never deleted while something refers to them: a loyalty
/// operation's result is its event's payload (`loyalty_operations.outbox_seq`).
pub fn append(
    conn: &Connection,
    topic: &str,
    subject_id: &str,
    payload: &impl Serialize,
    at: Timestamp,
) -> StoreResult<Appended> {
    let id = uuid::Uuid::now_v7().to_string();
    let payload = serde_json::to_string(payload).expect("outbox payloads serialise");
    conn.prepare_cached(
        "INSERT INTO outbox (id, topic, subject_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, topic, subject_id, payload, at])?;
    Ok(Appended {
        seq: conn.last_insert_rowid(),
        id,
    })
}

pub fn count(conn: &Connection) -> StoreResult<u64> {
    Ok(conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
}
