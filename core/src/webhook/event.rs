//! An event as the formats see it: an outbox row and what it is about (the pass as it is when
//! the event is rendered, the reader of a tap), read once from the store.

use super::EventType;
use crate::time::Timestamp;
use serde_json::Value;

/// One event to render. Built by [`load`] from an outbox row, or [`Event::test`].
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The outbox event's UUIDv7: PassEntry's `data.id` and Standard Webhooks' `webhook-id`,
    /// the same on every attempt.
    pub id: String,
    pub event_type: EventType,
    /// When it happened (the outbox row's `created_at`).
    pub at: Timestamp,
    /// The outbox payload as written in the change's transaction.
    pub payload: Value,
    /// The pass it is about as a PassEntry resource (`passentry::pass_resource`), when the
    /// store knows it.
    pub pass: Option<Value>,
    /// The reader of a tap: `(id, name)`.
    pub reader: Option<(String, String)>,
}

impl Event {
    /// The test event of `POST /webhook-subscriptions/{id}/test`: a sample pass, marked as a
    /// test, rendered like any other event.
    pub fn test(id: String, at: Timestamp) -> Event {
        todo!("formats helper: {id} {at:?}")
    }
}

/// The event of outbox row `seq`, or `None` when the row is gone or its topic is not one a
/// webhook carries.
pub fn load(conn: &rusqlite::Connection, seq: i64) -> crate::store::StoreResult<Option<Event>> {
    todo!("formats helper: {conn:?} {seq}")
}
