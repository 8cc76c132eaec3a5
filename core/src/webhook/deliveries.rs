//! The delivery log: one delivery per subscription and event, each attempt recorded.
//!
//! The worker's side (due deliveries, recording an attempt's outcome, the retry schedule) is
//! written by the delivery helper; the functions below are what the API and the CLI call.

use crate::store::StoreResult;
use crate::time::Timestamp;
use rusqlite::Connection;
use serde::Serialize;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not yet answered with a 2xx; due at `nextAttemptAt` (or held while its subscription is off).
    Pending,
    /// Answered with a 2xx: never sent again.
    Delivered,
    /// Given up after the last attempt (or a 410): kept with its body for `retry`.
    Failed,
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub subscription_id: String,
    /// The event's UUIDv7 (`webhook-id`).
    pub event_id: String,
    /// PassEntry's name for the event (`passTapped`, `webhookTest`, ...).
    pub event_type: String,
    /// The format's word for it (`pass_created`, `N801`, ...).
    pub event_name: String,
    #[schema(value_type = String)]
    pub event_at: Timestamp,
    pub state: State,
    pub attempts: u32,
    #[schema(value_type = Option<String>)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Timestamp>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub n: u32,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The HTTP status; `null` when there was no answer.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Which deliveries a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subscription_id: Option<String>,
    /// Only those given up (`state = failed`).
    pub failed_only: bool,
}

/// One page of the log, newest first (`page` from 1), and how many match.
pub fn page(
    conn: &Connection,
    filter: &Filter,
    page: u32,
    per_page: u32,
) -> StoreResult<(Vec<Delivery>, u64)> {
    todo!("delivery helper: {conn:?} {filter:?} {page} {per_page}")
}

/// A delivery and its attempts, oldest first.
pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
    todo!("delivery helper: {conn:?} {id}")
}

/// Sends a delivery again: a failed (or pending) one becomes pending and due now, its attempts
/// counted afresh. A delivered one is left as it is (`Ok(Some)` with its state). `None` when
/// there is no such delivery.
pub fn retry(conn: &Connection, id: &str, now: Timestamp) -> StoreResult<Option<Delivery>> {
    todo!("delivery helper: {conn:?} {id} {now:?}")
}

/// Queues the test event for one subscription, rendered in its format, due now. `None` when
/// there is no such subscription.
pub fn enqueue_test(
    conn: &Connection,
    subscription_id: &str,
    now: Timestamp,
) -> StoreResult<Option<Delivery>> {
    todo!("delivery helper: {conn:?} {subscription_id} {now:?}")
}
