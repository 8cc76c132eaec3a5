//! PassEntry's webhooks in (seed `passentry-api.txt`: passInstalled, passRemoved, passTapped;
//! passCreated has the same shape with its pass in `included`): a JSON:API document whose
//! `data` is the webhook (`id`, `timeStamp`, `webhookType`), related to its pass (and a tap's
//! `passTap` and `reader`), which `included` holds.
//!
//! Signed: `X-Webhook-Signature` is the hex HMAC-SHA256 of the raw body keyed by the
//! endpoint's secret ([`verify_signature`]), checked before the body is parsed.
//!
//! The pass is the one `data.relationships.pass` names. The seed's examples name one pass
//! there (`313c…`) and include another (`e89b…`): an included pass is used only when its id
//! is the related one, so the example's installation is of `313c…`, at `timeStamp`. A pass
//! included with the related id gives its `addedAt` / `removedAt` / `deactivatedAt` as the
//! time of an installation, a removal or a void, and is the whole pass of a creation or an
//! update. Passdesk's own outbound names (`passUpdated`, `passVoided`) are read too, so one
//! counter can hear another; `webhookTest`, `passLoyaltyUpdated` and `passConflict` are
//! acknowledged and change nothing (balances come with the upstream pull), as is a tap related
//! to no pass.

use super::{
    from_json, from_value, pass_id, scannable, Change, Content, EventRef, HookError, HookEvent,
    PassData, PassRef, Provider, Tap, TemplateRef,
};
use crate::pass::{Barcode, PassStatus, PassType};
use crate::time::Timestamp;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

/// The signature's header.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// PassEntry's event names.
pub mod name {
    pub const PASS_INSTALLED: &str = "passInstalled";
    pub const PASS_REMOVED: &str = "passRemoved";
    pub const PASS_TAPPED: &str = "passTapped";
    pub const PASS_CREATED: &str = "passCreated";
    pub const PASS_UPDATED: &str = "passUpdated";
    pub const PASS_VOIDED: &str = "passVoided";
    pub const WEBHOOK_TEST: &str = "webhookTest";
    pub const PASS_LOYALTY_UPDATED: &str = "passLoyaltyUpdated";
    pub const PASS_CONFLICT: &str = "passConflict";
}

/// Checks `X-Webhook-Signature` (`header`, as sent; `None` when absent): the hex HMAC-SHA256
/// of `raw_body` keyed by `secret`, compared in constant time (`Mac::verify_slice`). Hex in
/// either case; surrounding whitespace ignored.
pub fn verify_signature(
    secret: &[u8],
    raw_body: &[u8],
    header: Option<&[u8]>,
) -> Result<(), HookError> {
    let header = header.ok_or(HookError::MissingSignature)?;
    let text = std::str::from_utf8(header).map_err(|_| HookError::BadSignature)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(HookError::MissingSignature);
    }
    let expected = hex::decode(text).map_err(|_| HookError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(raw_body);
    mac.verify_slice(&expected)
        .map_err(|_| HookError::BadSignature)
}

#[derive(Deserialize)]
struct Document {
    data: Webhook,
    #[serde(default)]
    included: Vec<Value>,
}

#[derive(Deserialize)]
struct Webhook {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    attributes: WebhookAttributes,
    #[serde(default)]
    relationships: Relationships,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAttributes {
    time_stamp: Timestamp,
    webhook_type: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Relationships {
    pass: Option<Related>,
    pass_tap: Option<Related>,
    reader: Option<Related>,
}

/// `{"data": {"id", "type"}}`, or `{"data": null}` (related to nothing).
#[derive(Deserialize)]
struct Related {
    data: Option<Identifier>,
}

#[derive(Deserialize)]
struct Identifier {
    id: String,
}

/// An included resource, for finding the related ones.
#[derive(Deserialize)]
struct Resource {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    attributes: Value,
}

/// A pass resource's attributes, as PassEntry's pass documents spell them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PassAttributes {
    pass_type: Option<String>,
    device_type: Option<String>,
    created_at: Option<Timestamp>,
    status: Option<PassStatus>,
    ext_id: Option<String>,
    group_tag: Option<String>,
    added_at: Option<Timestamp>,
    removed_at: Option<Timestamp>,
    deactivated_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    pass_template_uuid: Option<String>,
    pass_template_name: Option<String>,
    event_uuid: Option<String>,
    event_name: Option<String>,
    nfc: Option<String>,
    barcode: Option<Barcode>,
    pass_content: Option<Map<String, Value>>,
    latest_message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TapAttributes {
    tapped_at: Option<Timestamp>,
    successful: Option<bool>,
}

#[derive(Deserialize, Default)]
struct ReaderAttributes {
    name: Option<String>,
}

/// Parses a webhook body (its signature checked first, by [`verify_signature`]).
pub fn parse(raw: &[u8]) -> Result<HookEvent, HookError> {
    let doc: Document = from_json(raw)?;
    let hook = doc.data;
    if hook.kind != "webhook" {
        return Err(HookError::field(
            "/data/type",
            format!("expected \"webhook\", got {}", super::quote(&hook.kind)),
        ));
    }
    let dedup_key = pass_id("/data/id", &hook.id)?;
    let at = hook.attributes.time_stamp;
    let event_name = hook.attributes.webhook_type;
    let related = |r: &Option<Related>| {
        r.as_ref()
            .and_then(|r| r.data.as_ref())
            .map(|d| d.id.clone())
    };
    let pass_ref = related(&hook.relationships.pass)
        .map(|id| pass_id("/data/relationships/pass/data/id", &id))
        .transpose()?;
    let pass = match &pass_ref {
        Some(id) => included(&doc.included, "pass", id)?
            .map(|(i, attributes)| pass_data(i, id, attributes))
            .transpose()?,
        None => None,
    };
    let needs_pass = || {
        pass_ref.clone().ok_or_else(|| {
            HookError::field(
                "/data/relationships/pass",
                format!("a {event_name} webhook must relate to its pass"),
            )
        })
    };
    let needs_included = |pass: Option<PassData>, id: &str| {
        pass.map(Box::new).ok_or_else(|| {
            HookError::field(
                "/included",
                format!("no pass resource with the related id {}", super::quote(id)),
            )
        })
    };
    let change = match event_name.as_str() {
        name::PASS_INSTALLED => {
            needs_pass()?;
            Change::Installed {
                at: Some(pass.as_ref().and_then(|p| p.added_at).unwrap_or(at)),
                device_type: pass.and_then(|p| p.device_type),
            }
        }
        name::PASS_REMOVED => {
            needs_pass()?;
            Change::Removed {
                at: Some(pass.and_then(|p| p.removed_at).unwrap_or(at)),
            }
        }
        name::PASS_VOIDED => {
            needs_pass()?;
            Change::Voided {
                at: Some(pass.and_then(|p| p.deactivated_at).unwrap_or(at)),
            }
        }
        name::PASS_CREATED => Change::Created(needs_included(pass, &needs_pass()?)?),
        name::PASS_UPDATED => Change::Updated(needs_included(pass, &needs_pass()?)?),
        // A tap of a value no pass has relates to no pass (Passdesk's own webhooks send
        // that): nothing to record against a pass, acknowledged.
        name::PASS_TAPPED if pass_ref.is_none() => Change::Noted {
            why: "a tap of a value no pass has".into(),
        },
        name::PASS_TAPPED => Change::Tapped(tap(&doc.included, &hook.relationships, &related)?),
        name::WEBHOOK_TEST | name::PASS_LOYALTY_UPDATED | name::PASS_CONFLICT => Change::Noted {
            why: format!("{event_name}: nothing in the cache to change"),
        },
        other => return Err(HookError::UnknownEvent(other.chars().take(60).collect())),
    };
    let pass = match change {
        Change::Noted { .. } => None,
        _ => pass_ref.map(PassRef),
    };
    Ok(HookEvent {
        provider: Provider::PassEntry,
        dedup_key,
        event_name,
        at: Some(at),
        pass,
        change,
    })
}

/// The included resource of `kind` with `id`: its index and attributes.
fn included(items: &[Value], kind: &str, id: &str) -> Result<Option<(usize, Value)>, HookError> {
    for (i, item) in items.iter().enumerate() {
        let r: Resource = from_value(item.clone()).map_err(|e| at_index(e, i))?;
        if r.kind == kind && r.id == id {
            return Ok(Some((i, r.attributes)));
        }
    }
    Ok(None)
}

/// An error inside `included[i]`, its pointer made whole.
fn at_index(e: HookError, i: usize) -> HookError {
    match e {
        HookError::Field { pointer, problem } => HookError::Field {
            pointer: format!("/included/{i}{pointer}"),
            problem,
        },
        other => other,
    }
}

fn pass_data(i: usize, id: &str, attributes: Value) -> Result<PassData, HookError> {
    let base = format!("/included/{i}/attributes");
    let a: PassAttributes = from_value(attributes).map_err(|e| match e {
        HookError::Field { pointer, problem } => HookError::Field {
            pointer: format!("{base}{pointer}"),
            problem,
        },
        other => other,
    })?;
    let barcode = a
        .barcode
        .map(|b| -> Result<Barcode, HookError> {
            scannable(&format!("{base}/barcode/value"), &b.value)?;
            Ok(b)
        })
        .transpose()?;
    let nfc = a
        .nfc
        .map(|n| scannable(&format!("{base}/nfc"), &n))
        .transpose()?;
    let template = a
        .pass_template_uuid
        .map(|t| pass_id(&format!("{base}/passTemplateUuid"), &t))
        .transpose()?
        .map(|id| TemplateRef {
            id,
            name: a.pass_template_name,
        });
    let event = a
        .event_uuid
        .map(|e| pass_id(&format!("{base}/eventUuid"), &e))
        .transpose()?
        .map(|id| EventRef {
            id,
            name: a.event_name,
        });
    if let (Some(from), Some(until)) = (a.valid_from, a.valid_until) {
        if from > until {
            return Err(HookError::field(
                format!("{base}/validFrom"),
                "after validUntil",
            ));
        }
    }
    Ok(PassData {
        id: id.to_owned(),
        ext_id: a.ext_id.filter(|e| !e.is_empty()),
        template,
        event,
        pass_type: a.pass_type.map(PassType::new),
        status: a.status,
        device_type: a.device_type,
        barcode,
        nfc,
        group_tag: a.group_tag,
        content: Content::Replace(a.pass_content.unwrap_or_default()),
        latest_message: a.latest_message,
        created_at: a.created_at,
        added_at: a.added_at,
        removed_at: a.removed_at,
        deactivated_at: a.deactivated_at,
        expires_at: a.expires_at,
        valid_from: a.valid_from,
        valid_until: a.valid_until,
    })
}

/// A tap's facts: the related `passTap` and `reader`, from `included` where they are.
fn tap(
    items: &[Value],
    rel: &Relationships,
    related: &dyn Fn(&Option<Related>) -> Option<String>,
) -> Result<Tap, HookError> {
    let mut tap = Tap {
        tap_id: related(&rel.pass_tap),
        reader_id: related(&rel.reader),
        ..Tap::default()
    };
    if let Some(id) = &tap.tap_id {
        if let Some((i, attributes)) = included(items, "passTap", id)? {
            let a: TapAttributes = from_value(attributes).map_err(|e| at_index(e, i))?;
            tap.tapped_at = a.tapped_at;
            tap.successful = a.successful;
        }
    }
    if let Some(id) = &tap.reader_id {
        if let Some((i, attributes)) = included(items, "reader", id)? {
            let a: ReaderAttributes = from_value(attributes).map_err(|e| at_index(e, i))?;
            tap.reader_name = a.name;
        }
    }
    Ok(tap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit as seeds;

    const SECRET: &[u8] = b"whsec_passentry_test";

    fn sign(body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    fn installed() -> String {
        seeds::passentry("Webhook triggered when a pass is added to the wallet by user")
    }

    fn removed() -> String {
        seeds::passentry("Webhook triggered when a pass is removed from the wallet by user")
    }

    fn tapped() -> String {
        seeds::passentry("Webhook triggered when an NFC pass is tapped on a reader")
    }

    /// The seed's body with the included pass's id made the related one, and its `webhookType`.
    fn consistent(body: &str, webhook_type: &str) -> String {
        let mut v: Value = serde_json::from_str(body).unwrap();
        v["data"]["attributes"]["webhookType"] = webhook_type.into();
        for item in v["included"].as_array_mut().unwrap() {
            if item["type"] == "pass" {
                item["id"] = "313c3c3b950d30d7ecec486ddf9adf33b887ae29".into();
            }
        }
        serde_json::to_string(&v).unwrap()
    }

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn the_seeds_installation_as_written() {
        let e = parse(installed().as_bytes()).unwrap();
        assert_eq!(e.provider, Provider::PassEntry);
        assert_eq!(e.dedup_key, "018d8e07-beaa-7634-80a8-647cd33d6bb3");
        assert_eq!(e.event_name, "passInstalled");
        assert_eq!(e.at, Some(t("2022-01-01T00:00:00Z")));
        assert_eq!(
            e.pass.as_ref().map(PassRef::as_str),
            Some("313c3c3b950d30d7ecec486ddf9adf33b887ae29")
        );
        // The included pass is another one (e89b…): not used.
        assert_eq!(
            e.change,
            Change::Installed {
                at: Some(t("2022-01-01T00:00:00Z")),
                device_type: None
            }
        );
    }

    #[test]
    fn an_included_pass_with_the_related_id_gives_the_times() {
        let e = parse(consistent(&installed(), "passInstalled").as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Installed {
                at: Some(t("2022-02-01T00:00:00Z")),
                device_type: Some("android".into())
            }
        );
        let e = parse(consistent(&removed(), "passRemoved").as_bytes()).unwrap();
        assert_eq!(
            e.change,
            Change::Removed {
                at: Some(t("2023-02-01T00:00:00Z"))
            }
        );
    }

    #[test]
    fn the_seeds_tap() {
        let e = parse(tapped().as_bytes()).unwrap();
        assert_eq!(e.event_name, "passTapped");
        let Change::Tapped(tap) = e.change else {
            panic!("{:?}", e.change)
        };
        assert_eq!(
            tap.tap_id.as_deref(),
            Some("857e764e-ec8d-4348-abfb-25f379983eaf")
        );
        assert_eq!(tap.reader_id.as_deref(), Some("CC202952"));
        assert_eq!(tap.reader_name.as_deref(), Some("West Gate"));
        assert_eq!(tap.tapped_at, Some(t("2022-01-01T00:00:00Z")));
        assert_eq!(tap.successful, Some(true));
    }

    #[test]
    fn a_creation_carries_the_whole_pass() {
        let e = parse(consistent(&installed(), "passCreated").as_bytes()).unwrap();
        let Change::Created(p) = e.change else {
            panic!("{:?}", e.change)
        };
        assert_eq!(p.id, "313c3c3b950d30d7ecec486ddf9adf33b887ae29");
        assert_eq!(p.ext_id.as_deref(), Some("0811d028ddf0da42c28f"));
        assert_eq!(
            p.template,
            Some(TemplateRef {
                id: "c1f632d3e693a75c376b440b".into(),
                name: Some("Pass Template 1 3079".into())
            })
        );
        assert_eq!(p.pass_type, Some(PassType::new("generic")));
        assert_eq!(p.status, Some(PassStatus::Active));
        assert_eq!(
            p.barcode.as_ref().map(|b| b.value.as_str()),
            Some("123abcd")
        );
        assert_eq!(
            p.nfc.as_deref(),
            Some("e89b1330fc391ec89656f3c664318cff8805471e")
        );
        let Content::Replace(content) = &p.content else {
            panic!("{:?}", p.content)
        };
        assert_eq!(content["fullName"], "Jane Smith");
        // The seed's creation without its pass included cannot create anything.
        let err = parse(with_type(&installed(), "passCreated").as_bytes()).unwrap_err();
        assert_eq!(err.pointer(), Some("/included"), "{err}");
    }

    fn with_type(body: &str, webhook_type: &str) -> String {
        let mut v: Value = serde_json::from_str(body).unwrap();
        v["data"]["attributes"]["webhookType"] = webhook_type.into();
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn passdesks_own_names_and_the_acknowledged_ones() {
        let e = parse(consistent(&installed(), "passVoided").as_bytes()).unwrap();
        assert!(matches!(e.change, Change::Voided { .. }));
        let e = parse(consistent(&installed(), "passUpdated").as_bytes()).unwrap();
        assert!(matches!(e.change, Change::Updated(_)));
        for noted in ["webhookTest", "passLoyaltyUpdated", "passConflict"] {
            let e = parse(with_type(&installed(), noted).as_bytes()).unwrap();
            assert!(matches!(e.change, Change::Noted { .. }), "{noted}");
            assert_eq!(e.pass, None);
        }
        // A tap related to no pass.
        let mut v: Value = serde_json::from_str(&tapped()).unwrap();
        v["data"]["relationships"]["pass"]["data"] = Value::Null;
        let e = parse(v.to_string().as_bytes()).unwrap();
        assert!(matches!(e.change, Change::Noted { .. }), "{:?}", e.change);
        assert_eq!(e.pass, None);
    }

    #[test]
    fn signatures() {
        let body = installed();
        let good = sign(body.as_bytes());
        assert_eq!(
            verify_signature(SECRET, body.as_bytes(), Some(good.as_bytes())),
            Ok(())
        );
        let upper = good.to_uppercase();
        assert_eq!(
            verify_signature(SECRET, body.as_bytes(), Some(upper.as_bytes())),
            Ok(())
        );
        assert_eq!(
            verify_signature(SECRET, body.as_bytes(), None),
            Err(HookError::MissingSignature)
        );
        assert_eq!(
            verify_signature(SECRET, body.as_bytes(), Some(b"  ")),
            Err(HookError::MissingSignature)
        );
        for bad in [
            &b"zz"[..],
            b"00",
            &good.as_bytes()[..62],
            b"\xff\xfe",
            sign(b"another body").as_bytes(),
        ] {
            assert_eq!(
                verify_signature(SECRET, body.as_bytes(), Some(bad)),
                Err(HookError::BadSignature),
                "{bad:?}"
            );
        }
        assert_eq!(
            verify_signature(b"another secret", body.as_bytes(), Some(good.as_bytes())),
            Err(HookError::BadSignature)
        );
        // One byte of the body changed.
        let mut tampered = body.into_bytes();
        tampered[10] ^= 1;
        assert_eq!(
            verify_signature(SECRET, &tampered, Some(good.as_bytes())),
            Err(HookError::BadSignature)
        );
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "not_json"),
            ("{\"data\":".into(), "not_json"),
            ("[]".into(), "invalid_field"),
            ("{}".into(), "invalid_field"),
            (
                installed().replace("\"passInstalled\"", "\"passExploded\""),
                "unknown_event",
            ),
        ];
        for (body, code) in cases {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), code, "{body:.60}: {err}");
        }
        let pointed = |body: String, pointer: &str| {
            let err = parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.pointer(), Some(pointer), "{err}");
        };
        pointed(
            installed().replace(
                "\"2022-01-01T00:00:00Z\",\n\"webhookType\"",
                "\"yesterday\",\n\"webhookType\"",
            ),
            "/data/attributes/timeStamp",
        );
        pointed(
            installed().replace("\"type\": \"webhook\"", "\"type\": \"pass\""),
            "/data/type",
        );
        pointed(
            installed().replace("\"018d8e07-beaa-7634-80a8-647cd33d6bb3\"", "17"),
            "/data/id",
        );
        pointed(
            installed().replace("\"018d8e07-beaa-7634-80a8-647cd33d6bb3\"", "\"\""),
            "/data/id",
        );
        let mut v: Value = serde_json::from_str(&installed()).unwrap();
        v["data"]["relationships"]["pass"]["data"] = Value::Null;
        pointed(v.to_string(), "/data/relationships/pass");
        let broken = consistent(&installed(), "passCreated").replace("\"active\"", "\"alive\"");
        pointed(broken, "/included/0/attributes/status");
        let broken = consistent(&installed(), "passCreated").replace("\"123abcd\"", "\"\"");
        pointed(broken, "/included/0/attributes/barcode/value");
        let mut v: Value = serde_json::from_str(&installed()).unwrap();
        v["included"] = serde_json::json!([{"type": "pass"}]);
        // A missing field is named in the problem; the pointer is its object.
        pointed(v.to_string(), "/included/0");
    }
}
