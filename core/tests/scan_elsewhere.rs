//! Scans validated elsewhere (`scan_log::record_elsewhere`, PassEntry's scan log) on a real
//! SQLite store: counted in the entry rules like one of ours, recorded once however often they
//! are logged, recorded even for a pass the counter does not hold yet.

mod common;

use common::{add_template, qr_pass, scan_input, TestStore, MIN, T0};
use passdesk_core::pass::PassType;
use passdesk_core::pass_store;
use passdesk_core::scan::Medium;
use passdesk_core::scan_log::{self, ElsewhereScan, ELSEWHERE_MEDIUM};
use passdesk_core::{checkin, Reason, Store, Timestamp, Verdict};

fn store_with_ticket() -> (TestStore, String) {
    let t = TestStore::new();
    let c = t.store.conn();
    add_template(c, "tickets", "Tickets", PassType::EVENT_TICKET);
    let at = Timestamp::from_unix_ms(T0);
    let pass = qr_pass("pe-1", "tickets", PassType::EVENT_TICKET, "QR-1".into(), at);
    pass_store::upsert_pass(c, &pass).unwrap();
    (t, "pe-1".to_owned())
}

fn logged<'a>(pass: Option<&'a str>, verdict: Verdict, at_ms: i64) -> ElsewhereScan<'a> {
    ElsewhereScan {
        reader_id: "pe-gate",
        pass_ref: pass,
        value: Some("QR-1"),
        verdict,
        reason: None,
        detail: Some("Valid"),
        at: Timestamp::from_unix_ms(at_ms),
        kind: "scan",
        balance_change: None,
        logged_at: Timestamp::from_unix_ms(T0 + 10 * MIN),
    }
}

fn record(store: &mut Store, node: &str, s: &ElsewhereScan<'_>) -> scan_log::Logged {
    store
        .write(|tx| scan_log::record_elsewhere(tx, node, s))
        .unwrap()
}

#[test]
fn a_ticket_admitted_elsewhere_is_already_used_here_and_a_retry_records_nothing() {
    let (mut t, pass) = store_with_ticket();
    let node = t.node.node_id.clone();
    let first = record(
        &mut t.store,
        &node,
        &logged(Some(&pass), Verdict::Accept, T0 + MIN),
    );
    assert!(!first.replayed && first.known_pass);
    let r = &first.record;
    assert_eq!(
        (
            r.medium.as_str(),
            r.validated_elsewhere,
            r.counted,
            r.pass_id.as_deref()
        ),
        (ELSEWHERE_MEDIUM, true, true, Some("pe-1"))
    );
    // Read back, it is still marked (the medium is the mark).
    let again = scan_log::get(t.store.conn(), &r.id).unwrap().unwrap();
    assert_eq!(&again, r);
    // PassEntry retries a log it had no answer to: the same row, nothing new.
    let retry = record(
        &mut t.store,
        &node,
        &logged(Some(&pass), Verdict::Accept, T0 + MIN),
    );
    assert!(retry.replayed);
    assert_eq!(retry.record.id, r.id);
    assert_eq!(scan_log::count(t.store.conn()).unwrap(), 1);
    let events: i64 = t
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM outbox WHERE topic = 'passTapped'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 1);

    // Scanned here afterwards: already used, at the reader that logged it.
    let d = checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-1", Medium::Qr, "gate-a", T0 + 20 * MIN),
    )
    .unwrap();
    assert_eq!(d.reason, Some(Reason::AlreadyUsed), "{d:?}");
    assert_eq!(d.previous_use.as_ref().unwrap().scan_id, r.id);
    assert!(d.message.ends_with(" at pe-gate"), "{}", d.message);
}

#[test]
fn a_refusal_elsewhere_counts_nothing_and_an_unknown_pass_is_kept_under_its_id() {
    let (mut t, pass) = store_with_ticket();
    let node = t.node.node_id.clone();
    let mut failed = logged(Some(&pass), Verdict::Reject, T0 + MIN);
    failed.reason = Some(Reason::WrongEvent);
    let f = record(&mut t.store, &node, &failed);
    assert_eq!(
        (f.record.counted, f.record.reason),
        (false, Some(Reason::WrongEvent))
    );
    let d = checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-1", Medium::Qr, "gate-a", T0 + 20 * MIN),
    )
    .unwrap();
    assert_eq!(d.verdict, Verdict::Accept, "{d:?}");

    let mut unknown = logged(Some("pe-not-here"), Verdict::Accept, T0 + 2 * MIN);
    unknown.value = None;
    let u = record(&mut t.store, &node, &unknown);
    assert!(!u.known_pass);
    assert_eq!(
        (u.record.pass_id.as_deref(), u.record.value.as_str()),
        (Some("pe-not-here"), "pe-not-here")
    );
    // A pass named only by what was read there is found by it.
    let mut by_value = logged(None, Verdict::Accept, T0 + 3 * MIN);
    by_value.value = Some("QR-1");
    let v = record(&mut t.store, &node, &by_value);
    assert!(v.known_pass);
    assert_eq!(v.record.pass_id.as_deref(), Some("pe-1"));
}
