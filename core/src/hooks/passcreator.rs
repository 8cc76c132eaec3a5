//! Passcreator's pass hooks in (seed `passcreator-pass-webhooks.txt`): one flat JSON object per
//! event, the event named not in the body but by the URL it is posted to (Passcreator
//! subscribes one target URL per event: `/hooks/passcreator/{secret}/{event}`).
//!
//! Read as the outbound format writes it (`crate::webhook::passcreator`): `identifier` is the
//! pass id (`passId`, deprecated, when it is missing); `uniqueIdentifier` the barcode value
//! ("shown in the barcode and used for ticket validation"; `barcodeValue` when it is empty),
//! printed under the code when `barcodeAlternativeText` is not empty; `passTemplateGuid` /
//! `passTemplate` the template; `userProvidedId` the extId; `expirationDate` the expiry
//! (`YYYY-MM-DD HH:MM:SS`, taken as UTC: the seed names no zone, and the outbound format
//! writes UTC). The holder: `buyerFirstName` + `buyerLastName` as `fullName`, `buyerEmail` as
//! `email`; every field the seed does not list (the template's personalised "dynamic" fields,
//! e.g. `secondaryFields_0_Name`) goes into passContent as given, and `genericProperties`
//! under its own name.
//!
//! No event time: `createdOn` is when the pass was made (for pass events) or, zone-less, when
//! it was saved on or removed from a phone; it dates an installation or a removal, but the
//! freshness window is not judged by it (a zone-less time is hours off in most of the world).
//! A replay is caught by the dedup key instead: SHA-256 of the event name and the body (the
//! bodies of a pass's `pass_updated` and `pass_voided` may be byte for byte the same).
//!
//! `pushnotification_unregistered` fires per phone: the pass is removed only when
//! `noOfActivePasses` is 0; otherwise it is still on another phone and nothing changes.

use super::{
    body_key, device_type_of, kind_of, pass_id, quote, scannable, Change, Content, HookError,
    HookEvent, PassData, PassRef, Provider, TemplateRef,
};
use crate::pass::Barcode;
use crate::time::Timestamp;
use serde_json::{Map, Value};

/// Passcreator's event names (the `{event}` of the URL).
pub mod name {
    pub const PASS_CREATED: &str = "pass_created";
    pub const PASS_UPDATED: &str = "pass_updated";
    pub const PASS_VOIDED: &str = "pass_voided";
    pub const FIRST_PUSH_REGISTERED: &str = "first_pushnotification_registered";
    pub const PUSH_REGISTERED: &str = "pushnotification_registered";
    pub const PUSH_UNREGISTERED: &str = "pushnotification_unregistered";
    pub const ALL: [&str; 6] = [
        PASS_CREATED,
        PASS_UPDATED,
        PASS_VOIDED,
        FIRST_PUSH_REGISTERED,
        PUSH_REGISTERED,
        PUSH_UNREGISTERED,
    ];
}

/// The fields the seed lists (and the outbound format writes); every other one is a dynamic
/// field of the pass's template.
const FIXED: [&str; 22] = [
    "identifier",
    "passId",
    "uniqueIdentifier",
    "createdOn",
    "passTemplate",
    "userProvidedId",
    "barcodeValue",
    "barcodeAlternativeText",
    "expirationDate",
    "buyerEmail",
    "buyerFirstName",
    "buyerLastName",
    "buyerStreet",
    "buyerZipCode",
    "buyerCity",
    "bulkCreationId",
    "linkToPassPage",
    "passTemplateGuid",
    "genericProperties",
    "noOfActivePasses",
    "noOfInactivePasses",
    "operatingSystem",
];

/// The seed's date form, `2015-04-03 21:30:50`.
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// Parses the body posted for `event` (the URL's word).
pub fn parse(event: &str, raw: &[u8]) -> Result<HookEvent, HookError> {
    if !name::ALL.contains(&event) {
        return Err(HookError::UnknownEvent(event.chars().take(60).collect()));
    }
    let value: Value =
        serde_json::from_slice(raw).map_err(|e| HookError::NotJson(e.to_string()))?;
    let Value::Object(body) = value else {
        return Err(HookError::field(
            "",
            format!("expected a JSON object, got {}", kind_of(&value)),
        ));
    };
    let fields = Fields(&body);
    let id = match fields.text("identifier")? {
        Some(id) if !id.is_empty() => pass_id("/identifier", &id)?,
        _ => match fields.text("passId")? {
            Some(id) if !id.is_empty() => pass_id("/passId", &id)?,
            _ => return Err(HookError::field("/identifier", "missing")),
        },
    };
    let created_on = fields.date_time("createdOn")?;
    let change = match event {
        name::PASS_CREATED => Change::Created(Box::new(pass_data(&fields, &id, true)?)),
        name::PASS_UPDATED => Change::Updated(Box::new(pass_data(&fields, &id, false)?)),
        name::PASS_VOIDED => Change::Voided { at: None },
        name::FIRST_PUSH_REGISTERED | name::PUSH_REGISTERED => Change::Installed {
            at: created_on,
            device_type: fields
                .text("operatingSystem")?
                .as_deref()
                .and_then(device_type_of),
        },
        _ => {
            let active = fields
                .count("noOfActivePasses")?
                .ok_or_else(|| HookError::field("/noOfActivePasses", "missing"))?;
            if active == 0 {
                Change::Removed { at: created_on }
            } else {
                Change::Noted {
                    why: format!("removed from one phone; still active on {active}"),
                }
            }
        }
    };
    Ok(HookEvent {
        provider: Provider::Passcreator,
        dedup_key: body_key(event, raw),
        event_name: event.to_owned(),
        at: None,
        pass: Some(PassRef(id)),
        change,
    })
}

fn pass_data(f: &Fields<'_>, id: &str, created: bool) -> Result<PassData, HookError> {
    let template_id = match f.text("passTemplateGuid")? {
        Some(t) if !t.is_empty() => Some(pass_id("/passTemplateGuid", &t)?),
        // A new pass needs its template; an update without one keeps the pass's.
        _ if created => return Err(HookError::field("/passTemplateGuid", "missing")),
        _ => None,
    };
    let template = template_id.map(|id| -> Result<TemplateRef, HookError> {
        Ok(TemplateRef {
            id,
            name: f.text("passTemplate")?.filter(|n| !n.is_empty()),
        })
    });
    let barcode_value = match f.text("uniqueIdentifier")?.filter(|v| !v.is_empty()) {
        Some(v) => Some(scannable("/uniqueIdentifier", &v)?),
        None => match f.text("barcodeValue")?.filter(|v| !v.is_empty()) {
            Some(v) => Some(scannable("/barcodeValue", &v)?),
            None => None,
        },
    };
    let shown = f
        .text("barcodeAlternativeText")?
        .is_some_and(|t| !t.is_empty());
    let mut content = Map::new();
    let first = f.text("buyerFirstName")?.unwrap_or_default();
    let last = f.text("buyerLastName")?.unwrap_or_default();
    let full = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned();
    if !full.is_empty() {
        content.insert("fullName".into(), Value::String(full));
    }
    if let Some(email) = f.text("buyerEmail")?.filter(|e| !e.trim().is_empty()) {
        content.insert("email".into(), Value::String(email));
    }
    match f.0.get("genericProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) if p.is_empty() => {}
        // The seed says object and calls it an array: PHP's empty array is `[]`.
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(v @ Value::Object(_)) => {
            content.insert("genericProperties".into(), v.clone());
        }
        Some(other) => {
            return Err(HookError::field(
                "/genericProperties",
                format!("expected an object, got {}", kind_of(other)),
            ))
        }
    }
    for (key, value) in f.0 {
        if !FIXED.contains(&key.as_str()) {
            // A dynamic field never replaces the holder found above.
            content.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Ok(PassData {
        id: id.to_owned(),
        ext_id: f.text("userProvidedId")?.filter(|e| !e.is_empty()),
        template: template.transpose()?,
        barcode: barcode_value.map(|value| Barcode {
            kind: "qrCode".into(),
            value,
            display_text: shown,
        }),
        content: Content::Merge(content),
        created_at: if created {
            f.date_time("createdOn")?
        } else {
            None
        },
        expires_at: f.date_time("expirationDate")?,
        ..PassData::default()
    })
}

/// Typed access to the flat body, errors naming the field.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    /// A text field: absent or null is `None`; numbers are taken as their text (PHP sends
    /// an id as a number when it looks like one).
    fn text(&self, key: &str) -> Result<Option<String>, HookError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(HookError::field(
                format!("/{key}"),
                format!("expected a string, got {}", kind_of(other)),
            )),
        }
    }

    /// A count (`noOfActivePasses`): a non-negative integer, or its text.
    fn count(&self, key: &str) -> Result<Option<u64>, HookError> {
        let bad = |v: &Value| {
            HookError::field(
                format!("/{key}"),
                format!("expected a count, got {}", kind_of(v)),
            )
        };
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v @ Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| bad(v)),
            Some(v @ Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad(v)),
            Some(other) => Err(bad(other)),
        }
    }

    /// `2015-04-03 21:30:50` as UTC; empty is `None`.
    fn date_time(&self, key: &str) -> Result<Option<Timestamp>, HookError> {
        let Some(text) = self.text(key)?.filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let t = chrono::NaiveDateTime::parse_from_str(text.trim(), DATE_TIME).map_err(|_| {
            HookError::field(
                format!("/{key}"),
                format!(
                    "expected a date like 2015-04-03 21:30:50, got {}",
                    quote(&text)
                ),
            )
        })?;
        Ok(Some(Timestamp::from_unix_ms(
            t.and_utc().timestamp_millis(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::PassType;
    use crate::testkit as seeds;

    const ID: &str = "12fd53c5-863e-4056-9dbf-2525fa175523";

    fn utc(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn the_seeds_creation() {
        let body = seeds::passcreator(0);
        let e = parse("pass_created", body.as_bytes()).unwrap();
        assert_eq!(e.provider, Provider::Passcreator);
        assert_eq!(e.event_name, "pass_created");
        assert_eq!(e.at, None);
        assert_eq!(e.pass, Some(PassRef(ID.into())));
        assert_eq!(e.dedup_key, body_key("pass_created", body.as_bytes()));
        let Change::Created(p) = e.change else {
            panic!("{:?}", e.change)
        };
        assert_eq!(p.id, ID);
        assert_eq!(p.ext_id, None);
        assert_eq!(
            p.template,
            Some(TemplateRef {
                id: "02fd53c5-863e-4056-9dbf-2525fa171123".into(),
                name: Some("test".into())
            })
        );
        let b = p.barcode.unwrap();
        assert_eq!(b.value, "122501adfa977d7.55989831");
        assert!(b.display_text);
        assert_eq!(p.created_at, Some(utc("2015-04-03T21:30:50Z")));
        assert_eq!(p.expires_at, Some(utc("2015-04-17T22:00:00Z")));
        assert_eq!(p.pass_type, None::<PassType>);
        let Content::Merge(c) = p.content else {
            panic!()
        };
        assert_eq!(c["fullName"], "John Doe");
        assert_eq!(c["email"], "buyer@example.com");
        assert_eq!(c["secondaryFields_0_Name"], "John Doe");
        assert_eq!(c["genericProperties"]["my-id"], "12345678");
        assert!(!c.contains_key("buyerStreet"));
        assert!(!c.contains_key("identifier"));
    }

    #[test]
    fn every_event_of_the_seed() {
        let e = parse("pass_updated", seeds::passcreator(1).as_bytes()).unwrap();
        let Change::Updated(p) = e.change else {
            panic!()
        };
        assert_eq!(p.created_at, None);
        let e = parse("pass_voided", seeds::passcreator(2).as_bytes()).unwrap();
        assert_eq!(e.change, Change::Voided { at: None });
        // Example 3 has `bulkCreationId` twice: accepted, as the provider's JSON would be.
        for (n, event) in [
            (3, "first_pushnotification_registered"),
            (4, "pushnotification_registered"),
        ] {
            let e = parse(event, seeds::passcreator(n).as_bytes()).unwrap();
            assert_eq!(
                e.change,
                Change::Installed {
                    at: Some(utc("2015-04-03T21:30:50Z")),
                    device_type: Some("apple".into())
                },
                "{event}"
            );
        }
        // Still on one phone: nothing to change.
        let body = seeds::passcreator(5);
        let e = parse("pushnotification_unregistered", body.as_bytes()).unwrap();
        assert!(matches!(e.change, Change::Noted { .. }), "{:?}", e.change);
        let gone = body.replace("\"noOfActivePasses\": 1", "\"noOfActivePasses\": 0");
        let e = parse("pushnotification_unregistered", gone.as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Removed {
                at: Some(utc("2015-04-03T21:30:50Z"))
            }
        );
    }

    #[test]
    fn the_same_body_for_two_events_is_two_events() {
        let body = seeds::passcreator(1);
        let updated = parse("pass_updated", body.as_bytes()).unwrap();
        let voided = parse("pass_voided", body.as_bytes()).unwrap();
        assert_ne!(updated.dedup_key, voided.dedup_key);
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        let body = seeds::passcreator(0);
        let err = parse("pass_exploded", body.as_bytes()).unwrap_err();
        assert_eq!(err, HookError::UnknownEvent("pass_exploded".into()));
        assert_eq!(parse("pass_created", b"").unwrap_err().code(), "not_json");
        assert_eq!(
            parse("pass_created", b"<xml/>").unwrap_err().code(),
            "not_json"
        );
        assert_eq!(
            parse("pass_created", b"[1]").unwrap_err().pointer(),
            Some("")
        );
        let pointed = |event: &str, body: String, pointer: &str| {
            let err = parse(event, body.as_bytes()).unwrap_err();
            assert_eq!(err.pointer(), Some(pointer), "{err}");
        };
        let mut v: Map<String, Value> = serde_json::from_str(&body).unwrap();
        v.remove("identifier");
        v.remove("passId");
        pointed(
            "pass_voided",
            serde_json::to_string(&v).unwrap(),
            "/identifier",
        );
        pointed(
            "pass_created",
            body.replace(&format!("\"identifier\": \"{ID}\""), "\"identifier\": true"),
            "/identifier",
        );
        pointed(
            "pass_created",
            body.replace("\"2015-04-03 21:30:50\"", "\"03/04/2015\""),
            "/createdOn",
        );
        pointed(
            "pass_created",
            body.replace("\"02fd53c5-863e-4056-9dbf-2525fa171123\"", "\"\""),
            "/passTemplateGuid",
        );
        pointed(
            "pass_created",
            body.replace("\"122501adfa977d7.55989831\"", "\"a\\u0007b\""),
            "/uniqueIdentifier",
        );
        pointed(
            "pass_created",
            body.replace(
                "\"genericProperties\": {",
                "\"genericProperties\": \"x\", \"g\": {",
            ),
            "/genericProperties",
        );
        let unregistered = seeds::passcreator(5);
        pointed(
            "pushnotification_unregistered",
            unregistered.replace("\"noOfActivePasses\": 1", "\"noOfActivePasses\": -1"),
            "/noOfActivePasses",
        );
        pointed(
            "pushnotification_unregistered",
            unregistered.replace("\"noOfActivePasses\": 1,", ""),
            "/noOfActivePasses",
        );
    }

    #[test]
    fn the_deprecated_pass_id_stands_in_for_a_missing_identifier() {
        let body = seeds::passcreator(2).replace(&format!("\"identifier\": \"{ID}\","), "");
        let e = parse("pass_voided", body.as_bytes()).unwrap();
        assert_eq!(e.pass, Some(PassRef(ID.into())));
    }
}
