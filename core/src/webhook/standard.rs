//! The Standard Webhooks envelope (`{"type", "timestamp", "data"}`), carrying every event under
//! PassEntry's name for it.
//!
//! `data` always has `pass` (the PassEntry pass resource, `null` when no pass is known, e.g. a
//! tap of an unknown value), and the event's facts beside it:
//! - `passTapped`: `passTap` (`id`, `tappedAt`, `successful`, `verdict`, `reason`, `medium`,
//!   `direction`, `matchedBy`, `duplicateOf`) and `reader` (`id`, `name`);
//! - `passLoyaltyUpdated`: `loyalty` (`balance`, `stamps`, `change`, `opId`, `entries`, `reward`);
//! - `passConflict`: `conflict`, the payload as written;
//! - `webhookTest`: `test: true`.

use super::event::Event;
use super::{facts, EventType, Rendered};
use serde_json::{json, Map, Value};

pub const CONTENT_TYPE: &str = "application/json";

pub fn render(event: &Event) -> Option<Rendered> {
    let mut data = Map::new();
    data.insert("pass".into(), event.pass.clone().unwrap_or(Value::Null));
    match event.event_type {
        EventType::PassTapped => {
            let mut tap = Map::new();
            tap.insert("id".into(), Value::String(facts::pass_tap_id(event)));
            tap.extend(facts::pass_tap(event));
            data.insert("passTap".into(), Value::Object(tap));
            let reader = event
                .reader
                .as_ref()
                .map(|(id, name)| json!({ "id": id, "name": name }));
            data.insert("reader".into(), reader.unwrap_or(Value::Null));
        }
        EventType::PassLoyaltyUpdated => {
            data.insert("loyalty".into(), facts::loyalty(event));
        }
        EventType::PassConflict => {
            data.insert("conflict".into(), event.payload.clone());
        }
        EventType::WebhookTest => {
            data.insert("test".into(), Value::Bool(true));
        }
        EventType::PassCreated | EventType::PassUpdated | EventType::PassVoided => {}
    }
    let body = json!({
        "type": event.event_type.as_str(),
        "timestamp": event.at.to_rfc3339(),
        "data": data,
    });
    Some(Rendered {
        event_name: event.event_type.as_str().to_owned(),
        content_type: CONTENT_TYPE,
        body: serde_json::to_vec(&body).expect("a JSON value serialises"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::testkit::{self, json_body};

    #[test]
    fn every_event_is_an_envelope_under_its_passentry_name() {
        let pass = testkit::pass();
        for e in testkit::every_event(&pass) {
            let r = render(&e).unwrap();
            assert_eq!(r.event_name, e.event_type.as_str());
            let body = json_body(&r);
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys.len(), 3, "{body}");
            assert_eq!(body["type"], e.event_type.as_str());
            assert_eq!(body["timestamp"], e.at.to_rfc3339());
            assert_eq!(body["data"]["pass"], e.pass.clone().unwrap());
        }
    }

    #[test]
    fn a_tap_carries_its_facts_and_its_reader() {
        let pass = testkit::pass();
        let body = json_body(&render(&testkit::tap(&pass)).unwrap());
        let tap = &body["data"]["passTap"];
        assert_eq!(tap["id"], "0195f0c2-9000-7000-8000-000000005ca1");
        assert_eq!(tap["successful"], true);
        assert_eq!(tap["direction"], "in");
        assert_eq!(
            body["data"]["reader"],
            json!({"id": "CC202952", "name": "West Gate"})
        );
        let mut unknown = testkit::tap(&pass);
        unknown.pass = None;
        assert_eq!(
            json_body(&render(&unknown).unwrap())["data"]["pass"],
            Value::Null
        );
    }
}
