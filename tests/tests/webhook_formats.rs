//! Every webhook format's deliveries, checked by code we did not write: the Standard Webhooks
//! signature by the `standardwebhooks` PyPI library (installed by scripts/lib/python.sh), and
//! PassEntry's `X-Webhook-Signature` recomputed with Python's own `hmac`, as a receiver written
//! from PassEntry's document would (`tests/webhooks/verify.py`).
//!
//! The events are real: the real `passdesk serve` issues, updates, scans and voids a pass over
//! real HTTP, and its outbox rows are read from its SQLite file with `event::load`, then
//! rendered and signed as the delivery worker does (`webhook::render`, `signature::headers`).

use passdesk_core::webhook::event::{self, Event};
use passdesk_core::webhook::secret::Secret;
use passdesk_core::webhook::{render, signature, EventType, Format};
use passdesk_core::Timestamp;
use passdesk_tests::service::TestApp;
use passdesk_tests::signatures::{self, Signed, Verdict};
use serde_json::json;

/// One delivery as a receiver gets it.
struct Delivery {
    name: String,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

/// Runs the receivers' code (`passdesk_tests::signatures`) on the deliveries, the secret
/// handed to the library as `whsec_` text or (`raw`) as its bytes.
fn verify(secret: &str, raw: bool, deliveries: &[Delivery]) -> Vec<Verdict> {
    let signed: Vec<Signed<'_>> = deliveries
        .iter()
        .map(|d| Signed {
            name: &d.name,
            body: &d.body,
            headers: d
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect(),
        })
        .collect();
    signatures::verify(secret, raw, &signed)
}

/// The events the real service wrote while a pass was issued (with a balance), changed,
/// scanned, voided, and an unknown value scanned; and the test event.
fn real_events() -> Vec<Event> {
    let app = TestApp::start();
    let first_seq: i64 = app
        .node
        .store()
        .conn()
        .query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))
        .unwrap();
    let issued = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({
            "passTemplate": "tpl-bean-there",
            "extId": "CRM-<&>-1",
            "pass": {"fullName": "Zoë \"Z\" O'Brien <zoe@example.com>"},
            "initialBalance": 5,
        }),
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    let id = issued.body["data"]["id"].as_str().unwrap().to_owned();
    let barcode = issued.body["data"]["attributes"]["barcode"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"pass": {"tier": "Gold & Co"}}),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    app.scan(&barcode, "till-1");
    app.scan("NOT-A-PASS-\u{1F600}", "till-1");
    let voided = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"passAction": "void"}),
    );
    assert_eq!(voided.status, 200, "{voided:?}");

    let store = app.node.store();
    let seqs: Vec<i64> = store
        .conn()
        .prepare("SELECT seq FROM outbox WHERE seq > ?1 ORDER BY seq")
        .unwrap()
        .query_map([first_seq], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut events: Vec<Event> = seqs
        .into_iter()
        .filter_map(|seq| event::load(store.conn(), seq).expect("the event loads"))
        .collect();
    let mut kinds: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            EventType::PassCreated,
            EventType::PassUpdated,
            EventType::PassVoided,
            EventType::PassTapped,
            EventType::PassLoyaltyUpdated,
        ],
        "the service wrote each kind of event"
    );
    events.push(Event::test(
        "0195f0c2-8000-7000-8000-00000000beef".into(),
        Timestamp::now(),
    ));
    events
}

/// Every event in every format that has a word for it, signed now.
fn deliveries(events: &[Event], secret: &Secret) -> Vec<(Format, Delivery)> {
    let mut out = Vec::new();
    for e in events {
        for format in Format::ALL {
            let Some(rendered) = render(format, e) else {
                continue;
            };
            let headers = signature::headers(format, secret, &e.id, Timestamp::now(), &rendered);
            out.push((
                format,
                Delivery {
                    name: format!("{format} {} ({})", e.event_type, rendered.event_name),
                    body: rendered.body,
                    headers,
                },
            ));
        }
    }
    out
}

#[test]
fn every_delivery_verifies_with_the_standard_webhooks_library_and_passentrys_hmac() {
    let events = real_events();
    let secret = Secret::generate();
    let signed = deliveries(&events, &secret);
    // Every format sent something: Skycore XML the creation and the test at least.
    for format in Format::ALL {
        assert!(
            signed.iter().any(|(f, _)| *f == format),
            "{format} sent nothing"
        );
    }
    let (formats, deliveries): (Vec<Format>, Vec<Delivery>) = signed.into_iter().unzip();
    let verdicts = verify(secret.expose(), false, &deliveries);
    for ((format, d), v) in formats.iter().zip(&deliveries).zip(&verdicts) {
        assert_eq!(v.standard, "ok", "{}", d.name);
        let expected = (*format == Format::PassEntry).then_some(true);
        assert_eq!(v.passentry, expected, "{}", d.name);
    }
}

#[test]
fn a_tampered_body_a_wrong_secret_or_an_old_timestamp_fails_there_too() {
    let events = real_events();
    let secret = Secret::generate();
    let (_, genuine): (Vec<Format>, Vec<Delivery>) = deliveries(&events, &secret)
        .into_iter()
        .filter(|(f, _)| matches!(f, Format::PassEntry | Format::SkycoreXml))
        .unzip();

    // One byte changed (the last: `}` or `>`), signatures kept.
    let tampered: Vec<Delivery> = genuine
        .iter()
        .map(|d| {
            let mut body = d.body.clone();
            *body.last_mut().unwrap() ^= 0x01;
            Delivery {
                name: format!("tampered {}", d.name),
                body,
                headers: d.headers.clone(),
            }
        })
        .collect();
    for (d, v) in tampered
        .iter()
        .zip(verify(secret.expose(), false, &tampered))
    {
        assert!(
            v.standard.contains("No matching signature"),
            "{}: {v:?}",
            d.name
        );
        assert_ne!(v.passentry, Some(true), "{}", d.name);
    }

    // The receiver holds another secret (say, the one before a rotation).
    let other = Secret::generate();
    for (d, v) in genuine.iter().zip(verify(other.expose(), false, &genuine)) {
        assert!(
            v.standard.contains("No matching signature"),
            "{}: {v:?}",
            d.name
        );
        assert_ne!(v.passentry, Some(true), "{}", d.name);
    }

    // Signed ten minutes ago: past the library's five-minute replay window. (This also shows
    // the timestamp is in seconds, as the specification says.)
    let e = &events[0];
    let rendered = render(Format::Standard, e).unwrap();
    let old = Timestamp::from_unix_ms(Timestamp::now().unix_ms() - 10 * 60 * 1000);
    let stale = Delivery {
        name: "stale".into(),
        headers: signature::headers(Format::Standard, &secret, &e.id, old, &rendered),
        body: rendered.body,
    };
    let v = verify(secret.expose(), false, std::slice::from_ref(&stale));
    assert!(v[0].standard.contains("too old"), "{v:?}");
}

/// A secret a person chose (`--secret`, not `whsec_`): its bytes are the key for both
/// signatures, and a receiver hands the library those bytes.
#[test]
fn a_plain_text_secret_signs_with_its_own_bytes() {
    let secret = Secret::parse("a-passentry-dashboard-secret-123").unwrap();
    let e = Event::test(
        "0195f0c2-8000-7000-8000-0000000000aa".into(),
        Timestamp::now(),
    );
    let rendered = render(Format::PassEntry, &e).unwrap();
    let d = Delivery {
        name: "plain".into(),
        headers: signature::headers(
            Format::PassEntry,
            &secret,
            &e.id,
            Timestamp::now(),
            &rendered,
        ),
        body: rendered.body,
    };
    let v = verify(secret.expose(), true, std::slice::from_ref(&d));
    assert_eq!(v[0].standard, "ok");
    assert_eq!(v[0].passentry, Some(true));
}
