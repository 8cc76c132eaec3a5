//! What an event says beyond its pass, in the words PassEntry and the Standard envelope share:
//! a tap's facts and a loyalty change's.

use super::event::Event;
use serde_json::{json, Map, Value};

/// A tap's `passTap` attributes: PassEntry's `tappedAt` and `successful`, then the counter's
/// decision (verdict, reason, medium, direction, how the pass was found, what it repeated).
pub fn pass_tap(event: &Event) -> Map<String, Value> {
    let mut out = Map::new();
    let tapped_at = event
        .payload_str("tappedAt")
        .map(str::to_owned)
        .unwrap_or_else(|| event.at.to_rfc3339());
    out.insert("tappedAt".into(), Value::String(tapped_at));
    out.insert(
        "successful".into(),
        Value::Bool(event.payload.get("successful").and_then(Value::as_bool) == Some(true)),
    );
    for key in [
        "verdict",
        "reason",
        "medium",
        "direction",
        "matchedBy",
        "duplicateOf",
    ] {
        if let Some(v) = event.payload.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out
}

/// The id of a tap: the scan's, else the event's.
pub fn pass_tap_id(event: &Event) -> String {
    event.payload_str("scanId").unwrap_or(&event.id).to_owned()
}

/// A loyalty change: the balance after it (`balance` as PassEntry's `meta.loyalty` names it,
/// and `stamps`) where the payload has it (an operation's result does; a points expiry's ledger
/// entry does not), and what changed (the sum of its ledger entries).
pub fn loyalty(event: &Event) -> Value {
    let p = &event.payload;
    let entries: Vec<&Value> = match p.get("entries").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        // A single ledger entry (an expiry) is its own payload.
        None if p.get("kind").is_some() => vec![p],
        None => Vec::new(),
    };
    let sum = |key: &str| -> i64 {
        entries
            .iter()
            .filter_map(|e| e.get(key).and_then(Value::as_i64))
            .sum()
    };
    let account = p.get("account");
    let of_account = |key: &str| account.and_then(|a| a.get(key)).cloned();
    json!({
        "opId": p.get("opId"),
        "balance": of_account("points"),
        "stamps": of_account("stamps"),
        "change": { "points": sum("points"), "stamps": sum("stamps") },
        "entries": entries,
        "reward": p.get("reward"),
    })
}
