//! Every request the stand-in received, in order, with what it answered: how a test proves a
//! request was sent once, or never again.

use crate::faults::RequestKind;
use serde_json::Value;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Recorded {
    /// 0 for the first request the stand-in received, then 1, 2, …
    pub n: u64,
    pub method: String,
    /// The path and query, as requested.
    pub target: String,
    pub kind: RequestKind,
    /// The pass it was about: from the path, the body's `scan.passId` or the `passId` filter.
    pub pass_id: Option<String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
    /// The status answered; `None` while in flight, or when no answer was sent (an outage
    /// that refuses connections, a crash window).
    pub status: Option<u16>,
    /// When the stand-in had read the whole request.
    pub received_at: Instant,
    /// When its answer was ready (`None` when none was sent).
    pub answered_at: Option<Instant>,
}
