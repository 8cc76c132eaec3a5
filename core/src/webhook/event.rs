//! An event as the formats see it: an outbox row and what it is about (the pass, the reader of
//! a tap), read once from the store.

use super::EventType;
use crate::pass::{Barcode, Pass, PassType};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use crate::{catalog, pass_store, passentry};
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Map, Value};

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

/// The sample pass of a test event: fixed values a receiver can recognise as a test.
pub mod sample {
    pub const PASS_ID: &str = "00000000-0000-0000-0000-000000000000";
    pub const EXT_ID: &str = "webhook-test";
    pub const TEMPLATE_ID: &str = "webhook-test-template";
    pub const TEMPLATE_NAME: &str = "Webhook test";
    pub const BARCODE: &str = "WEBHOOK-TEST";
    pub const HOLDER: &str = "Test Holder";
}

impl Event {
    /// The test event of `POST /webhook-subscriptions/{id}/test`: a sample pass, marked as a
    /// test, rendered like any other event.
    pub fn test(id: String, at: Timestamp) -> Event {
        let mut content = Map::new();
        content.insert("fullName".into(), json!(sample::HOLDER));
        content.insert("points".into(), json!("0"));
        let pass = Pass {
            ext_id: Some(sample::EXT_ID.into()),
            barcode: Some(Barcode {
                kind: "qrCode".into(),
                value: sample::BARCODE.into(),
                display_text: true,
            }),
            pass_content: content,
            ..Pass::new(
                sample::PASS_ID,
                sample::TEMPLATE_ID,
                PassType::new(PassType::GENERIC),
                at,
            )
        };
        Event {
            id,
            event_type: EventType::WebhookTest,
            at,
            payload: json!({
                "test": true,
                "message": "A test event from Passdesk: the pass is a sample, not a real one.",
            }),
            pass: Some(passentry::pass_resource(
                &pass,
                Some(sample::TEMPLATE_NAME),
                None,
            )),
            reader: None,
        }
    }

    /// A text field of the payload.
    pub fn payload_str(&self, key: &str) -> Option<&str> {
        self.payload.get(key).and_then(Value::as_str)
    }
}

/// The event of outbox row `seq`, or `None` when the row is gone or its topic is not one a
/// webhook carries.
pub fn load(conn: &Connection, seq: i64) -> StoreResult<Option<Event>> {
    let row = conn
        .prepare_cached(
            "SELECT id, topic, subject_id, payload, created_at FROM outbox WHERE seq = ?1",
        )?
        .query_row([seq], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Timestamp>(4)?,
            ))
        })
        .optional()?;
    let Some((id, topic, subject_id, payload, at)) = row else {
        return Ok(None);
    };
    let Some(event_type) = EventType::from_topic(&topic) else {
        return Ok(None);
    };
    let payload: Value = serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt {
        what: "outbox event",
        detail: format!("event {id} (seq {seq}): the payload is not JSON: {e}"),
    })?;
    let pass = match snapshot(event_type, &payload) {
        Some(resource) => Some(named(conn, resource)?),
        None => match subject_pass_id(event_type, &payload, &subject_id) {
            Some(pass_id) => current(conn, pass_id)?,
            None => None,
        },
    };
    let reader = (event_type == EventType::PassTapped)
        .then(|| {
            let id = payload.get("readerId")?.as_str()?;
            let name = payload.get("readerName").and_then(Value::as_str);
            Some((id.to_owned(), name.unwrap_or_default().to_owned()))
        })
        .flatten();
    Ok(Some(Event {
        id,
        event_type,
        at,
        payload,
        pass,
        reader,
    }))
}

/// A pass event's payload is the pass resource as the change left it: that, not the pass as it
/// is later (an update followed by a void must not read as two voids).
fn snapshot(event_type: EventType, payload: &Value) -> Option<Value> {
    let is_pass_event = matches!(
        event_type,
        EventType::PassCreated | EventType::PassUpdated | EventType::PassVoided
    );
    let is_resource = payload.get("type").and_then(Value::as_str) == Some("pass")
        && payload.get("id").is_some_and(Value::is_string)
        && payload.get("attributes").is_some_and(Value::is_object);
    (is_pass_event && is_resource).then(|| payload.clone())
}

/// The pass an event is about: a tap's or a loyalty change's `passId` (a tap of an unknown
/// value has none), else the outbox row's subject (a pass event's subject is its pass).
fn subject_pass_id<'a>(
    event_type: EventType,
    payload: &'a Value,
    subject_id: &'a str,
) -> Option<&'a str> {
    let named = payload.get("passId").and_then(Value::as_str);
    match event_type {
        // A tap's subject is the scan, not the pass.
        EventType::PassTapped => named,
        _ => named.or(Some(subject_id)),
    }
}

/// The pass as the store holds it now, with its template's and event's names.
fn current(conn: &Connection, pass_id: &str) -> StoreResult<Option<Value>> {
    let Some(pass) = pass_store::get_pass(conn, pass_id)? else {
        return Ok(None);
    };
    let template = catalog::get_template(conn, &pass.template_id)?;
    let event = match &pass.event_id {
        Some(id) => catalog::get_event(conn, id)?,
        None => None,
    };
    Ok(Some(passentry::pass_resource(
        &pass,
        template.as_ref().map(|t| t.name.as_str()),
        event.as_ref().map(|e| e.name.as_str()),
    )))
}

/// A snapshot with the names its writer left out (an update writes no template name) filled in
/// from the catalog.
fn named(conn: &Connection, mut resource: Value) -> StoreResult<Value> {
    let Some(attributes) = resource
        .get_mut("attributes")
        .and_then(Value::as_object_mut)
    else {
        return Ok(resource);
    };
    let missing = |a: &Map<String, Value>, k: &str| a.get(k).is_none_or(Value::is_null);
    if missing(attributes, "passTemplateName") {
        if let Some(id) = attributes.get("passTemplateUuid").and_then(Value::as_str) {
            if let Some(t) = catalog::get_template(conn, id)? {
                attributes.insert("passTemplateName".into(), Value::String(t.name));
            }
        }
    }
    if missing(attributes, "eventName") {
        if let Some(id) = attributes.get("eventUuid").and_then(Value::as_str) {
            if let Some(e) = catalog::get_event(conn, id)? {
                attributes.insert("eventName".into(), Value::String(e.name));
            }
        }
    }
    Ok(resource)
}
