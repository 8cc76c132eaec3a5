//! What the formats' unit tests share: the seeds' examples as JSON (read by
//! [`crate::testkit`], their small slips repaired as a receiver would tolerate them), and a
//! realistic pass and its events.

use super::event::Event;
use super::EventType;
use crate::pass::{Barcode, Pass, PassStatus, PassType};
use crate::passentry::pass_resource;
use crate::testkit as seeds;
use crate::time::Timestamp;
use serde_json::{json, Map, Value};

/// A PassEntry webhook body of `passentry-api.txt`, found after `marker` (the text that
/// introduces it), undoing the page's list markers (`{- "data"`, `}, - "included"`).
pub fn passentry_example(marker: &str) -> Value {
    serde_json::from_str(&seeds::passentry(marker))
        .expect("the example is JSON once its markers are gone")
}

/// The Passcreator pass hook example body (the first, pass_created's; all three are alike).
pub fn passcreator_example() -> Map<String, Value> {
    serde_json::from_str(&seeds::passcreator(0)).expect("the example is JSON")
}

/// A Skycore wallet postback example, found after its title (`1. Response: …`), its missing
/// comma put back.
pub fn skycore_json_example(title: &str) -> Map<String, Value> {
    serde_json::from_str(&seeds::skycore_json(title)).expect("the example is JSON once repaired")
}

/// 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000_000;

pub fn at(ms_after_t0: i64) -> Timestamp {
    Timestamp::from_unix_ms(T0 + ms_after_t0)
}

/// A loyalty card as a shop would issue it: extId from the shop's CRM, a printed QR code, a
/// holder with an email, points and a nested field.
pub fn pass() -> Pass {
    let content = json!({
        "fullName": "Zoë O'Brien",
        "email": "zoe@example.com",
        "points": 17,
        "secondaryFields": [{"Name": "Gold"}],
    });
    Pass {
        ext_id: Some("CRM-4411".into()),
        status: PassStatus::Active,
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: "PD-QR-0042".into(),
            display_text: true,
        }),
        nfc: Some("nfc-0042".into()),
        pass_content: serde_json::from_value(content).expect("an object"),
        expires_at: Some(at(365 * 86_400_000)),
        ..Pass::new(
            "0195f0c2-7c1a-7000-8000-00000000a042",
            "tpl-gold",
            PassType::new(PassType::STORE_CARD),
            at(0),
        )
    }
}

pub fn resource(p: &Pass) -> Value {
    pass_resource(p, Some("Gold Card"), None)
}

pub fn event(event_type: EventType, pass: Option<&Pass>, payload: Value) -> Event {
    Event {
        id: "0195f0c2-8000-7000-8000-0000000e0001".into(),
        event_type,
        at: at(60_000),
        payload,
        pass: pass.map(resource),
        reader: None,
    }
}

/// A tap accepted at the West Gate, as `checkin` writes its payload.
pub fn tap(pass: &Pass) -> Event {
    let payload = json!({
        "scanId": "0195f0c2-9000-7000-8000-000000005ca1",
        "nodeId": "node-1",
        "passId": pass.id,
        "readerId": "CC202952",
        "readerName": "West Gate",
        "tappedAt": at(60_000).to_rfc3339(),
        "successful": true,
        "verdict": "accept",
        "reason": null,
        "medium": "nfcVas",
        "direction": "in",
        "duplicateOf": null,
        "matchedBy": "nfc",
    });
    Event {
        reader: Some(("CC202952".into(), "West Gate".into())),
        ..event(EventType::PassTapped, Some(pass), payload)
    }
}

/// Every event type once, about `pass`.
pub fn every_event(pass: &Pass) -> Vec<Event> {
    let mut out = vec![tap(pass)];
    for t in [
        EventType::PassCreated,
        EventType::PassUpdated,
        EventType::PassVoided,
    ] {
        out.push(event(t, Some(pass), resource(pass)));
    }
    out.push(event(
        EventType::PassLoyaltyUpdated,
        Some(pass),
        json!({"opId": "op-1", "passId": pass.id, "entries": [{"points": 5, "stamps": 0}], "account": {"points": 22, "stamps": 0}}),
    ));
    out.push(event(
        EventType::PassConflict,
        Some(pass),
        json!({"passId": pass.id, "kind": "admittedTwice"}),
    ));
    out.push(Event::test("test-event".into(), at(0)));
    out
}

/// An XML element read back by quick-xml's reader: what a receiver's parser sees.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text, entities resolved (whitespace between children dropped).
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Parses a whole document strictly (a malformed one fails the test) into its root element.
pub fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::Event as Xml;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let open = |e: &quick_xml::events::BytesStart<'_>| Element {
        name: String::from_utf8(e.name().as_ref().to_vec()).expect("a UTF-8 name"),
        attributes: e
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).expect("a UTF-8 name"),
                    a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .expect("a well-formed value")
                        .into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Xml::Start(e) => stack.push(open(&e)),
            Xml::Empty(e) => {
                let el = open(&e);
                stack.last_mut().expect("inside the root").children.push(el);
            }
            Xml::End(_) => {
                let mut done = stack.pop().expect("an open element");
                if !done.children.is_empty() {
                    done.text = done.text.trim().to_owned();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return done,
                }
            }
            Xml::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content().expect("UTF-8 text"));
                }
            }
            Xml::GeneralRef(r) => {
                let el = stack.last_mut().expect("inside the root");
                match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => el.text.push(c),
                    None => {
                        let name = r.decode().expect("a UTF-8 name");
                        let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("an undefined entity &{name};"));
                        el.text.push_str(resolved);
                    }
                }
            }
            Xml::Eof => panic!("the document ended inside an element"),
            Xml::CData(_) | Xml::Comment(_) | Xml::Decl(_) | Xml::PI(_) | Xml::DocType(_) => {}
        }
    }
}

/// Every key path of `seed` is in `ours` with a value of the same kind; arrays are compared
/// item by item as far as the seed's go. A null on either side stands for any kind: the seeds'
/// own examples show the same attribute as a value in one place and null in another (a pass's
/// `removedAt`, `deviceType`, `barcode`).
pub fn assert_same_shape(seed: &Value, ours: &Value, path: &str) {
    match (seed, ours) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(s), Value::Object(o)) => {
            for (k, v) in s {
                let theirs = o
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is in the seed, not in ours: {ours}"));
                assert_same_shape(v, theirs, &format!("{path}.{k}"));
            }
        }
        (Value::Array(s), Value::Array(o)) => {
            assert!(
                o.len() >= s.len(),
                "{path}: {} items, the seed has {}",
                o.len(),
                s.len()
            );
            for (i, (a, b)) in s.iter().zip(o).enumerate() {
                assert_same_shape(a, b, &format!("{path}[{i}]"));
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => {}
        (s, o) => panic!("{path}: the seed has {s}, ours {o}"),
    }
}

/// The body as JSON.
pub fn json_body(r: &super::Rendered) -> Value {
    assert_eq!(r.content_type, "application/json");
    serde_json::from_slice(&r.body).expect("the body is JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's installation example misses a comma before `"reference-data"`; a receiver
    /// built for the real provider reads it, and so does this.
    #[test]
    fn the_seeds_slips_are_tolerated() {
        let installed = skycore_json_example("3. Response: Pass Installation for Apple Wallet");
        assert_eq!(installed["status-code"], "N804");
        assert_eq!(installed["reference-data"]["transaction-id"], "96");
        let bundle = parse_xml(&seeds::skycore_xml("skycore-pass-postback-bundle.txt"));
        assert_eq!(bundle.attributes.len(), 2);
    }
}
