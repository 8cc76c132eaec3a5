//! PassEntry's webhook (seed `passentry-api.txt`, the passInstalled / passTapped bodies): a
//! JSON:API document whose `data` is the webhook (`timeStamp`, `webhookType`), related to what
//! it is about, and whose `included` holds those resources.
//!
//! - Pass events (`passCreated`, `passUpdated`, `passVoided`): relationship `pass`, the pass
//!   included.
//! - `passTapped`: relationships `passTap`, `pass` and `reader`; included the `passTap`
//!   (`tappedAt`, `successful`, and the counter's decision: `verdict`, `reason`, `medium`,
//!   `direction`, `matchedBy`, `duplicateOf`), the pass and the reader (`name`). A tap of a
//!   value no pass has relates to no pass (`"data": null`, as JSON:API says).
//! - `passLoyaltyUpdated`: the pass, and the change in top-level `meta.loyalty` (where
//!   PassEntry's own pass document puts `balance`): `balance`, `stamps`, `change`, `opId`,
//!   `entries`, `reward`.
//! - `passConflict`: the pass if known, and the payload as written in `meta.conflict`.
//! - `webhookTest`: the sample pass, and `meta.test: true`.

use super::event::Event;
use super::{facts, EventType, Rendered};
use serde_json::{json, Map, Value};

pub const CONTENT_TYPE: &str = "application/json";

pub fn render(event: &Event) -> Option<Rendered> {
    let mut relationships = Map::new();
    let mut included = Vec::new();
    let mut meta = Map::new();
    if event.event_type == EventType::PassTapped {
        let tap_id = facts::pass_tap_id(event);
        relationships.insert("passTap".into(), link(Some(&tap_id), "passTap"));
        included.push(json!({
            "id": tap_id,
            "type": "passTap",
            "attributes": facts::pass_tap(event),
        }));
    }
    let pass_id = event
        .pass
        .as_ref()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str);
    relationships.insert("pass".into(), link(pass_id, "pass"));
    if let Some(pass) = &event.pass {
        included.push(pass.clone());
    }
    if let Some((id, name)) = &event.reader {
        relationships.insert("reader".into(), link(Some(id), "reader"));
        included.push(json!({ "id": id, "type": "reader", "attributes": { "name": name } }));
    }
    match event.event_type {
        EventType::PassLoyaltyUpdated => {
            meta.insert("loyalty".into(), facts::loyalty(event));
        }
        EventType::PassConflict => {
            meta.insert("conflict".into(), event.payload.clone());
        }
        EventType::WebhookTest => {
            meta.insert("test".into(), Value::Bool(true));
        }
        _ => {}
    }
    let mut doc = json!({
        "data": {
            "id": event.id,
            "type": "webhook",
            "attributes": {
                "timeStamp": event.at.to_rfc3339(),
                "webhookType": event.event_type.as_str(),
            },
            "relationships": relationships,
        },
        "included": included,
    });
    if !meta.is_empty() {
        doc["meta"] = Value::Object(meta);
    }
    Some(Rendered {
        event_name: event.event_type.as_str().to_owned(),
        content_type: CONTENT_TYPE,
        body: serde_json::to_vec(&doc).expect("a JSON value serialises"),
    })
}

/// A to-one relationship (`{"data": {"id", "type"}}`, or `{"data": null}` when empty).
fn link(id: Option<&str>, kind: &str) -> Value {
    match id {
        Some(id) => json!({ "data": { "id": id, "type": kind } }),
        None => json!({ "data": null }),
    }
}
