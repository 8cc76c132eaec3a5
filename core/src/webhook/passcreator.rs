//! Passcreator's pass hooks (seed `passcreator-pass-webhooks.txt`): one flat JSON object per
//! pass, the same for `pass_created`, `pass_updated` and `pass_voided`, with the seed's field
//! names, then the pass's personalised ("dynamic") fields.
//!
//! The body names no event: Passcreator subscribes one URL per event. The event goes in
//! [`Rendered::event_name`] (sent as `X-Passdesk-Event`), and [`target_url`] puts it into a
//! subscription URL that asks for it with `{event}`.
//!
//! What Passdesk fills in: `identifier` and `passId` the pass id; `uniqueIdentifier` and
//! `barcodeValue` the barcode's value (`uniqueIdentifier` falls back to the pass id);
//! `barcodeAlternativeText` the value when it is printed under the code; `createdOn` and
//! `expirationDate` as `YYYY-MM-DD HH:MM:SS` in UTC (the seed names no zone); `passTemplate`
//! the template's name, `passTemplateGuid` its id; `userProvidedId` the extId. The buyer
//! fields, `bulkCreationId` and `linkToPassPage` are empty (the pass was not sold through
//! Passcreator, and a counter knows no public address for its holder page), and
//! `genericProperties` is `{}`. The content keys follow, flattened (`a.b` as `a_b`, a list's
//! items as `a_0`, `a_1`), every value as text; a content key never replaces a field above.

use super::event::Event;
use super::resource::{text_of, PassFields};
use super::{EventType, Rendered};
use crate::time::Timestamp;
use serde_json::{json, Map, Value};

pub const CONTENT_TYPE: &str = "application/json";

/// Passcreator's event names.
pub mod name {
    pub const PASS_CREATED: &str = "pass_created";
    pub const PASS_UPDATED: &str = "pass_updated";
    pub const PASS_VOIDED: &str = "pass_voided";
}

/// Passcreator's word for an event; a test event is a pass update of the sample pass, so the
/// receiver's usual parser is what the test exercises.
pub fn event_name(event_type: EventType) -> Option<&'static str> {
    match event_type {
        EventType::PassCreated => Some(name::PASS_CREATED),
        EventType::PassUpdated | EventType::WebhookTest => Some(name::PASS_UPDATED),
        EventType::PassVoided => Some(name::PASS_VOIDED),
        EventType::PassTapped | EventType::PassLoyaltyUpdated | EventType::PassConflict => None,
    }
}

pub fn render(event: &Event) -> Option<Rendered> {
    let event_name = event_name(event.event_type)?;
    let pass = PassFields::of(event.pass.as_ref()?)?;
    Some(Rendered {
        event_name: event_name.to_owned(),
        content_type: CONTENT_TYPE,
        body: serde_json::to_vec(&body(&pass)).expect("a JSON value serialises"),
    })
}

fn body(pass: &PassFields) -> Value {
    let barcode = pass.barcode_value.clone().unwrap_or_default();
    let fixed = json!({
        "identifier": pass.id,
        "passId": pass.id,
        "uniqueIdentifier": pass.barcode_value.as_deref().unwrap_or(&pass.id),
        "createdOn": pass.created_at.map(date_time).unwrap_or_default(),
        "passTemplate": pass.template_name.as_deref().unwrap_or_default(),
        "userProvidedId": pass.ext_id.as_deref().unwrap_or_default(),
        "barcodeValue": barcode,
        "barcodeAlternativeText": if pass.barcode_text_shown { barcode.as_str() } else { "" },
        "expirationDate": pass.expires_at.map(date_time).unwrap_or_default(),
        "buyerEmail": "",
        "buyerFirstName": "",
        "buyerLastName": "",
        "buyerStreet": "",
        "buyerZipCode": "",
        "buyerCity": "",
        "bulkCreationId": "",
        "linkToPassPage": "",
        "passTemplateGuid": pass.template_id.as_deref().unwrap_or_default(),
        "genericProperties": {},
    });
    let Value::Object(mut out) = fixed else {
        unreachable!("json!({{..}}) is an object")
    };
    let mut dynamic = Map::new();
    for (key, value) in &pass.content {
        flatten(key, value, &mut dynamic);
    }
    for (key, value) in dynamic {
        out.entry(key).or_insert(value);
    }
    Value::Object(out)
}

/// One content value as flat text fields: nested keys joined with `_`, as Passcreator names
/// its own (`secondaryFields_0_Name`).
fn flatten(key: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(&format!("{key}_{k}"), v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{key}_{i}"), v, out);
            }
        }
        other => {
            out.insert(key.to_owned(), Value::String(text_of(other)));
        }
    }
}

/// `2015-04-03 21:30:50`, UTC.
fn date_time(t: Timestamp) -> String {
    t.to_datetime()
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The URL a delivery goes to: the subscription's, with `{event}` replaced by the format's word
/// for the event (one Passcreator-style URL per event). Parsing a URL percent-encodes the
/// braces in its path, so `%7Bevent%7D` (any case) is replaced too.
pub fn target_url(url: &str, event_name: &str) -> String {
    const PLACEHOLDERS: [&str; 2] = ["{event}", "%7bevent%7d"];
    // ASCII lowercasing keeps every byte where it was, so positions carry over.
    let folded = url.to_ascii_lowercase();
    let mut out = String::with_capacity(url.len());
    let mut i = 0;
    while i < url.len() {
        match PLACEHOLDERS.iter().find(|p| folded[i..].starts_with(*p)) {
            Some(p) => {
                out.push_str(event_name);
                i += p.len();
            }
            None => {
                let c = url[i..].chars().next().expect("i is below the length");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::testkit::{self, json_body};

    /// The seed's example and ours have the same keys (its one dynamic field,
    /// `secondaryFields_0_Name`, is what the test pass's nested content flattens to), every
    /// value text but `genericProperties`, dates in the seed's form.
    #[test]
    fn a_pass_event_is_the_seeds_flat_body() {
        let seed = testkit::passcreator_example();
        let pass = testkit::pass();
        let e = testkit::event(
            EventType::PassCreated,
            Some(&pass),
            testkit::resource(&pass),
        );
        let r = render(&e).unwrap();
        assert_eq!(r.event_name, "pass_created");
        let ours = json_body(&r);
        let ours = ours.as_object().unwrap();
        for key in seed.keys() {
            assert!(ours.contains_key(key), "{key} is in the seed, not in ours");
        }
        let extra: Vec<&String> = ours.keys().filter(|k| !seed.contains_key(*k)).collect();
        // The test pass's other content keys, flattened as dynamic fields.
        assert_eq!(extra, ["email", "fullName", "points"]);
        for (key, value) in ours {
            match key.as_str() {
                "genericProperties" => assert!(value.is_object()),
                _ => assert!(value.is_string(), "{key} is {value}, not text"),
            }
        }
        let date_shape = |v: &Value| {
            let t = v.as_str().unwrap();
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok()
        };
        assert!(date_shape(&seed["createdOn"]) && date_shape(&seed["expirationDate"]));
        assert_eq!(ours["createdOn"], "2027-01-15 08:00:00");
        assert_eq!(ours["expirationDate"], "2028-01-15 08:00:00");
        assert_eq!(ours["identifier"], pass.id.as_str());
        assert_eq!(ours["passId"], pass.id.as_str());
        assert_eq!(ours["uniqueIdentifier"], "PD-QR-0042");
        assert_eq!(ours["barcodeValue"], "PD-QR-0042");
        assert_eq!(ours["barcodeAlternativeText"], "PD-QR-0042");
        assert_eq!(ours["passTemplate"], "Gold Card");
        assert_eq!(ours["passTemplateGuid"], "tpl-gold");
        assert_eq!(ours["userProvidedId"], "CRM-4411");
        assert_eq!(ours["buyerEmail"], "");
        assert_eq!(ours["linkToPassPage"], "");
        assert_eq!(ours["secondaryFields_0_Name"], "Gold");
        assert_eq!(ours["fullName"], "Zoë O'Brien");
        assert_eq!(ours["points"], "17");
    }

    #[test]
    fn only_pass_events_and_the_test_have_a_word() {
        let pass = testkit::pass();
        let names: Vec<(EventType, Option<String>)> = testkit::every_event(&pass)
            .iter()
            .map(|e| (e.event_type, render(e).map(|r| r.event_name)))
            .collect();
        let word = |t: EventType| names.iter().find(|(n, _)| *n == t).unwrap().1.clone();
        assert_eq!(
            word(EventType::PassCreated).as_deref(),
            Some("pass_created")
        );
        assert_eq!(
            word(EventType::PassUpdated).as_deref(),
            Some("pass_updated")
        );
        assert_eq!(word(EventType::PassVoided).as_deref(), Some("pass_voided"));
        assert_eq!(
            word(EventType::WebhookTest).as_deref(),
            Some("pass_updated")
        );
        assert_eq!(word(EventType::PassTapped), None);
        assert_eq!(word(EventType::PassLoyaltyUpdated), None);
        assert_eq!(word(EventType::PassConflict), None);
    }

    #[test]
    fn a_pass_event_without_its_pass_is_not_sent() {
        let e = testkit::event(EventType::PassUpdated, None, Value::Null);
        assert_eq!(render(&e), None);
    }

    #[test]
    fn target_url_puts_the_event_where_the_url_asks() {
        let named = target_url("https://crm.example/hooks/{event}?k={event}", "pass_voided");
        assert_eq!(named, "https://crm.example/hooks/pass_voided?k=pass_voided");
        // What `WebhookUrl::parse` stores for `https://crm.example/hooks/{event}`.
        let stored =
            crate::webhook::subscriptions::WebhookUrl::parse("https://crm.example/hooks/{event}")
                .unwrap();
        assert_eq!(
            target_url(stored.as_str(), "pass_created"),
            "https://crm.example/hooks/pass_created"
        );
        assert_eq!(
            target_url("https://x.example/%7bEVENT%7D/ü", "pass_updated"),
            "https://x.example/pass_updated/ü"
        );
        assert_eq!(
            target_url("https://x.example/all", "pass_updated"),
            "https://x.example/all"
        );
    }

    #[test]
    fn nested_content_is_flattened_and_never_replaces_a_field() {
        let pass = PassFields {
            id: "p1".into(),
            content: serde_json::from_value(json!({
                "identifier": "hijack",
                "secondaryFields": [{"Name": "John Doe"}],
                "points": 17,
                "vip": true,
                "note": null,
                "empty": {},
            }))
            .unwrap(),
            ..PassFields::default()
        };
        let b = body(&pass);
        assert_eq!(b["identifier"], "p1");
        assert_eq!(b["secondaryFields_0_Name"], "John Doe");
        assert_eq!(b["points"], "17");
        assert_eq!(b["vip"], "true");
        assert_eq!(b["note"], "");
        assert_eq!(b["empty"], "{}");
        assert_eq!(b["uniqueIdentifier"], "p1");
        assert_eq!(b["createdOn"], "");
    }
}
