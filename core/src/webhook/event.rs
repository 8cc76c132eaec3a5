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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_day::TimeZone;
    use crate::loyalty::{self, Operation};
    use crate::outbox::{self, topic};
    use crate::pass::{PassStatus, Template};
    use crate::scan::{Medium, ReaderId, ScanInput};
    use crate::webhook::testkit;
    use crate::{checkin, OpenMode, Store};

    /// A store on a real SQLite file with the test pass and its template.
    fn till() -> (Store, Pass, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(&dir.path().join("store.sqlite"), OpenMode::CreateIfMissing).unwrap();
        let template = Template {
            id: "tpl-gold".into(),
            name: "Gold Card".into(),
            pass_type: PassType::new(PassType::STORE_CARD),
        };
        catalog::upsert_template(store.conn(), &template, testkit::at(0)).unwrap();
        let pass = testkit::pass();
        pass_store::upsert_pass(store.conn(), &pass).unwrap();
        (store, pass, dir)
    }

    fn last_seq(store: &Store) -> i64 {
        store
            .conn()
            .query_row("SELECT max(seq) FROM outbox", [], |r| r.get(0))
            .unwrap()
    }

    fn scan(store: &mut Store, value: &str) -> Event {
        let input = ScanInput {
            value: value.as_bytes().to_vec(),
            reader_id: ReaderId::parse("gate-b").unwrap(),
            medium: Medium::Qr,
            direction: None,
            at: testkit::at(60_000),
        };
        let decision = checkin(store, "node-1", &input).unwrap();
        let e = load(store.conn(), last_seq(store)).unwrap().unwrap();
        assert_eq!(e.payload_str("scanId"), Some(decision.scan_id.as_str()));
        e
    }

    #[test]
    fn a_pass_event_carries_the_pass_as_the_change_left_it() {
        let (store, pass, _dir) = till();
        // As `PATCH /passes/{id}` writes it: the resource without its template's name.
        let appended = outbox::append(
            store.conn(),
            topic::PASS_UPDATED,
            &pass.id,
            &passentry::pass_resource(&pass, None, None),
            testkit::at(5_000),
        )
        .unwrap();
        // Voided after the update, before the update's event is rendered.
        pass_store::set_status(
            store.conn(),
            &pass.id,
            PassStatus::Voided,
            testkit::at(6_000),
        )
        .unwrap();
        let e = load(store.conn(), appended.seq).unwrap().unwrap();
        assert_eq!(e.id, appended.id);
        assert_eq!(e.event_type, EventType::PassUpdated);
        assert_eq!(e.at, testkit::at(5_000));
        assert_eq!(e.reader, None);
        let attributes = &e.pass.as_ref().unwrap()["attributes"];
        assert_eq!(attributes["status"], "active");
        assert_eq!(attributes["passTemplateName"], "Gold Card");
        assert_eq!(attributes["extId"], "CRM-4411");
    }

    #[test]
    fn a_tap_carries_the_stored_pass_and_its_reader() {
        let (mut store, pass, _dir) = till();
        let e = scan(&mut store, "PD-QR-0042");
        assert_eq!(e.event_type, EventType::PassTapped);
        assert_eq!(e.reader, Some(("gate-b".into(), "gate-b".into())));
        let resource = e.pass.as_ref().unwrap();
        assert_eq!(resource["id"], pass.id.as_str());
        assert_eq!(resource["attributes"]["passTemplateName"], "Gold Card");
        assert_eq!(e.payload["successful"], true);
    }

    #[test]
    fn a_tap_of_an_unknown_value_has_no_pass() {
        let (mut store, _pass, _dir) = till();
        let e = scan(&mut store, "NOT-A-PASS");
        assert_eq!(e.event_type, EventType::PassTapped);
        assert_eq!(e.pass, None);
        assert_eq!(e.payload["successful"], false);
        assert!(e.reader.is_some());
    }

    #[test]
    fn a_loyalty_change_carries_the_pass_and_its_result() {
        let (mut store, pass, _dir) = till();
        let op = Operation::Earn {
            pass: pass.id.clone(),
            amount_minor: None,
            points: Some(5),
        };
        let op_id = uuid::Uuid::now_v7().to_string();
        loyalty::apply(
            &mut store,
            "node-1",
            &op_id,
            &op,
            testkit::at(7_000),
            TimeZone::UTC,
        )
        .unwrap();
        let e = load(store.conn(), last_seq(&store)).unwrap().unwrap();
        assert_eq!(e.event_type, EventType::PassLoyaltyUpdated);
        assert_eq!(e.pass.as_ref().unwrap()["id"], pass.id.as_str());
        let facts = crate::webhook::facts::loyalty(&e);
        assert_eq!(facts["balance"], 5);
        assert_eq!(facts["change"]["points"], 5);
        assert_eq!(facts["opId"], op_id.as_str());
    }

    #[test]
    fn imports_and_missing_rows_are_not_events() {
        let (store, pass, _dir) = till();
        let imported = outbox::append(
            store.conn(),
            topic::PASS_IMPORTED,
            &pass.id,
            &json!({}),
            testkit::at(0),
        )
        .unwrap();
        assert_eq!(load(store.conn(), imported.seq).unwrap(), None);
        assert_eq!(load(store.conn(), imported.seq + 1).unwrap(), None);
    }

    #[test]
    fn a_payload_that_is_not_json_is_a_clear_error() {
        let (store, pass, _dir) = till();
        store
            .conn()
            .execute(
                "INSERT INTO outbox (id, topic, subject_id, payload, created_at) VALUES ('e1', 'passCreated', ?1, '{not json', 0)",
                [&pass.id],
            )
            .unwrap();
        let err = load(store.conn(), last_seq(&store)).unwrap_err();
        assert!(err.to_string().contains("e1"), "{err}");
    }

    #[test]
    fn the_test_event_is_a_sample_pass_marked_as_a_test() {
        let e = Event::test("evt".into(), testkit::at(0));
        assert_eq!(e.event_type, EventType::WebhookTest);
        assert_eq!(e.payload["test"], true);
        let attributes = &e.pass.as_ref().unwrap()["attributes"];
        assert_eq!(attributes["extId"], sample::EXT_ID);
        assert_eq!(attributes["passTemplateName"], sample::TEMPLATE_NAME);
        assert_eq!(attributes["passContent"]["fullName"], sample::HOLDER);
    }
}
