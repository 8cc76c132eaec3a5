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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::testkit::{self, assert_same_shape, json_body};

    #[test]
    fn a_tap_is_the_seeds_pass_tapped_body() {
        let pass = testkit::pass();
        let ours = json_body(&render(&testkit::tap(&pass)).unwrap());
        let seed = testkit::passentry_example("Webhook triggered when an NFC pass is tapped");
        assert_same_shape(&seed, &ours, "");
        let data = &ours["data"];
        assert_eq!(data["id"], "0195f0c2-8000-7000-8000-0000000e0001");
        assert_eq!(data["type"], "webhook");
        assert_eq!(data["attributes"]["webhookType"], "passTapped");
        assert_eq!(data["attributes"]["timeStamp"], "2027-01-15T08:01:00Z");
        let seed_stamp = seed["data"]["attributes"]["timeStamp"].as_str().unwrap();
        let ours_stamp = data["attributes"]["timeStamp"].as_str().unwrap();
        assert_eq!(
            ours_stamp.len(),
            seed_stamp.len(),
            "the seed's RFC 3339 form"
        );
        let rel = &data["relationships"];
        assert_eq!(
            rel["passTap"]["data"]["id"],
            "0195f0c2-9000-7000-8000-000000005ca1"
        );
        assert_eq!(rel["pass"]["data"]["id"], pass.id.as_str());
        assert_eq!(rel["reader"]["data"]["id"], "CC202952");
        let included = ours["included"].as_array().unwrap();
        let types: Vec<&str> = included
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["passTap", "pass", "reader"], "the seed's order");
        // Each relationship names a resource that is included.
        for (name, r) in rel.as_object().unwrap() {
            let id = &r["data"]["id"];
            assert!(
                included.iter().any(|i| &i["id"] == id),
                "{name} is not included"
            );
        }
        let tap = &included[0]["attributes"];
        assert_eq!(tap["tappedAt"], "2027-01-15T08:01:00Z");
        assert_eq!(tap["successful"], true);
        assert_eq!(tap["verdict"], "accept");
        assert_eq!(tap["medium"], "nfcVas");
        let p = &included[1]["attributes"];
        assert_eq!(p["passTemplateName"], "Gold Card");
        assert_eq!(p["extId"], "CRM-4411");
        assert_eq!(p["passContent"]["fullName"], "Zoë O'Brien");
        assert_eq!(p["barcode"]["value"], "PD-QR-0042");
        assert_eq!(included[2]["attributes"]["name"], "West Gate");
        assert!(ours.get("meta").is_none());
    }

    #[test]
    fn a_pass_event_is_the_seeds_pass_installed_body_under_its_own_name() {
        let pass = testkit::pass();
        let seed = testkit::passentry_example("Webhook triggered when a pass is added");
        for t in [
            EventType::PassCreated,
            EventType::PassUpdated,
            EventType::PassVoided,
        ] {
            let e = testkit::event(t, Some(&pass), testkit::resource(&pass));
            let ours = json_body(&render(&e).unwrap());
            assert_same_shape(&seed, &ours, "");
            assert_eq!(ours["data"]["attributes"]["webhookType"], t.as_str());
            let rel = ours["data"]["relationships"].as_object().unwrap();
            assert_eq!(rel.keys().collect::<Vec<_>>(), ["pass"]);
            assert_eq!(ours["included"].as_array().unwrap().len(), 1);
        }
    }

    #[test]
    fn a_tap_of_an_unknown_value_relates_to_no_pass() {
        let mut e = testkit::tap(&testkit::pass());
        e.pass = None;
        e.payload["passId"] = Value::Null;
        e.payload["successful"] = Value::Bool(false);
        let ours = json_body(&render(&e).unwrap());
        assert_eq!(ours["data"]["relationships"]["pass"], json!({"data": null}));
        let types: Vec<&str> = ours["included"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["passTap", "reader"]);
        assert_eq!(ours["included"][0]["attributes"]["successful"], false);
    }

    #[test]
    fn loyalty_conflict_and_test_facts_go_in_meta() {
        let pass = testkit::pass();
        let events = testkit::every_event(&pass);
        let by = |t: EventType| events.iter().find(|e| e.event_type == t).unwrap();
        let loyalty = json_body(&render(by(EventType::PassLoyaltyUpdated)).unwrap());
        assert_eq!(loyalty["meta"]["loyalty"]["balance"], 22);
        assert_eq!(loyalty["meta"]["loyalty"]["change"]["points"], 5);
        assert_eq!(loyalty["included"][0]["id"], pass.id.as_str());
        let conflict = json_body(&render(by(EventType::PassConflict)).unwrap());
        assert_eq!(conflict["meta"]["conflict"]["kind"], "admittedTwice");
        let test = json_body(&render(by(EventType::WebhookTest)).unwrap());
        assert_eq!(test["meta"]["test"], true);
        assert_eq!(test["data"]["attributes"]["webhookType"], "webhookTest");
        assert_eq!(test["included"][0]["attributes"]["extId"], "webhook-test");
    }
}
