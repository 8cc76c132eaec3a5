//! PassEntry as upstream, on real SQLite files: pages applied with their progress and resumed
//! after a reopen, the sweep's candidates and voids, the push queue made from the outbox with
//! its cursor, its states and order, the read-back decisions, and retention waiting for the
//! cursor.

mod common;

use common::{scan_input, TestStore, DAY, MIN, T0};
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{self, Operation};
use passdesk_core::outbox::{self, topic};
use passdesk_core::pass::PassStatus;
use passdesk_core::scan::Medium;
use passdesk_core::upstream::page::{self, Kind, Page};
use passdesk_core::upstream::pull::{self, Position, Stage};
use passdesk_core::upstream::queue::{self, ReadBack, RequestKind, RequestState};
use passdesk_core::upstream::state;
use passdesk_core::webhook::retention;
use passdesk_core::{checkin, pass_store, scan_log, OpenMode, Store, Timestamp, Verdict};
use serde_json::{json, Value};

const URL: &str = "https://api.passentry.com";

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

/// A PassEntry pass resource as the seed shows one: a QR code `QR-{id}`, a store card of
/// template `tpl-coffee`.
fn resource(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "type": "pass",
        "attributes": {
            "passType": "storeCard",
            "createdAt": "2022-01-08T00:00:00Z",
            "status": "active",
            "extId": format!("ext-{id}"),
            "passTemplateUuid": "tpl-coffee",
            "passTemplateName": "PassEntry Coffee",
            "nfc": null,
            "barcode": {"type": "qrCode", "value": format!("QR-{id}"), "displayText": true},
            "passContent": {"fullName": name}
        }
    })
}

/// Page `n` of `ids` at `per` a page, as PassEntry serves it.
fn page_of(ids: &[&str], n: u64, per: u64) -> Page {
    let start = ((n - 1) * per) as usize;
    let data: Vec<Value> = ids
        .iter()
        .skip(start)
        .take(per as usize)
        .map(|id| resource(id, &format!("Holder {id}")))
        .collect();
    let total = ids.len() as u64;
    let body = json!({
        "data": data,
        "meta": {"totalCount": total, "resultsPerPage": per, "currentPage": n, "totalPages": total.div_ceil(per)},
        "links": {"first": null, "prev": null, "next": null, "last": null}
    });
    page::parse(body.to_string().as_bytes(), Kind::Pass, n, at(T0)).unwrap()
}

fn empty_page(kind: Kind) -> Page {
    let body = r#"{"data":[],"meta":{"totalCount":0,"resultsPerPage":100,"currentPage":1,"totalPages":0}}"#;
    page::parse(body.as_bytes(), kind, 1, at(T0)).unwrap()
}

fn attached() -> TestStore {
    let mut t = TestStore::new();
    t.store.write(|tx| state::attach(tx, URL, at(T0))).unwrap();
    t
}

/// Runs the template and event stages (empty lists) of the pull in progress or a new one.
fn through_catalog(store: &mut Store, now: i64) -> Position {
    let mut p = store.write(|tx| pull::begin(tx, at(now))).unwrap();
    while p.stage != Stage::Passes {
        let kind = p.stage.kind().unwrap();
        p = store
            .write(|tx| pull::apply_page(tx, p, &empty_page(kind), at(now)))
            .unwrap()
            .1;
    }
    p
}

/// A whole cycle over `ids` at `per` a page: every page, the sweep answered by `upstream`
/// (the ids PassEntry still has), then the end.
fn cycle(
    store: &mut Store,
    ids: &[&str],
    per: u64,
    upstream: &[&str],
    now: i64,
) -> pull::PullSummary {
    let mut p = through_catalog(store, now);
    while p.stage == Stage::Passes {
        let page = page_of(ids, p.page, per);
        p = store
            .write(|tx| pull::apply_page(tx, p, &page, at(now)))
            .unwrap()
            .1;
    }
    assert_eq!(p.stage, Stage::Sweep);
    loop {
        let candidates = pull::sweep_candidates(store.conn(), p.cycle, 10).unwrap();
        if candidates.is_empty() {
            break;
        }
        for id in candidates {
            store
                .write(|tx| -> passdesk_core::store::StoreResult<()> {
                    if upstream.contains(&id.as_str()) {
                        let body = json!({"data": resource(&id, "Still Here")}).to_string();
                        let item = page::pass_answer(body.as_bytes(), at(now)).unwrap();
                        pull::confirm_kept(tx, p.cycle, &id, &item, at(now))
                    } else {
                        pull::confirm_gone(tx, &id, at(now)).map(|_| ())
                    }
                })
                .unwrap();
        }
    }
    store
        .write(|tx| pull::finish(tx, p.cycle, at(now)))
        .unwrap()
}

#[test]
fn a_page_is_applied_with_its_progress_and_a_reopened_store_resumes_at_the_next_page() {
    let mut t = attached();
    let ids = ["p1", "p2", "p3", "p4", "p5"];
    let p = through_catalog(&mut t.store, T0);
    assert_eq!((p.cycle, p.stage, p.page), (1, Stage::Passes, 1));
    let (done, next) = t
        .store
        .write(|tx| pull::apply_page(tx, p, &page_of(&ids, 1, 2), at(T0)))
        .unwrap();
    assert_eq!((done.passes, done.written, done.skipped), (2, 2, 0));
    assert_eq!(next, Position { page: 2, ..p });
    // The pass is in the cache under PassEntry's id, found by its QR code; its template was
    // made from the name the pass carries.
    let found = pass_store::find(t.store.conn(), "QR-p2").unwrap().unwrap();
    assert_eq!(found.pass.id, "p2");
    let template = passdesk_core::catalog::get_template(t.store.conn(), "tpl-coffee")
        .unwrap()
        .unwrap();
    assert_eq!(template.name, "PassEntry Coffee");

    // A crash here: the store reopened finds the pull where the page left it.
    let path = t.path.clone();
    drop(t.store);
    let mut store = Store::open(&path, OpenMode::MustExist).unwrap();
    let resumed = store.write(|tx| pull::begin(tx, at(T0 + MIN))).unwrap();
    assert_eq!(resumed, Position { page: 2, ..p }, "resumed, not restarted");
    let status = state::status(store.conn(), true).unwrap();
    let progress = status.pull_in_progress.unwrap();
    assert_eq!(
        (progress.cycle, progress.stage.as_str(), progress.page),
        (1, "passes", 2)
    );

    // A page for a position the pull has left is not applied.
    let stale = store.write(|tx| pull::apply_page(tx, p, &page_of(&ids, 1, 2), at(T0)));
    assert!(
        matches!(stale, Err(pull::ApplyError::Moved(_))),
        "{stale:?}"
    );

    let mut p = resumed;
    while p.stage == Stage::Passes {
        let page = page_of(&ids, p.page, 2);
        p = store
            .write(|tx| pull::apply_page(tx, p, &page, at(T0 + MIN)))
            .unwrap()
            .1;
    }
    let summary = store
        .write(|tx| pull::finish(tx, p.cycle, at(T0 + 2 * MIN)))
        .unwrap();
    assert_eq!(
        (summary.passes, summary.pages),
        (5, 5),
        "2 empty catalog pages and 3 of passes"
    );
    assert_eq!(summary.seconds, 120.0);
    let status = state::status(store.conn(), true).unwrap();
    assert_eq!(status.passes, 5);
    assert_eq!(status.last_pull_passes, Some(5));
    assert_eq!(status.last_pull_at, Some(at(T0 + 2 * MIN)));
    assert!(status.pull_in_progress.is_none());
}

#[test]
fn a_pass_another_pass_holds_the_barcode_of_is_skipped_and_the_page_goes_on() {
    let mut t = attached();
    let local = common::qr_pass("local-1", "tpl-coffee", "storeCard", "QR-p2".into(), at(T0));
    common::add_template(t.store.conn(), "tpl-coffee", "Coffee", "storeCard");
    pass_store::upsert_pass(t.store.conn(), &local).unwrap();
    let p = through_catalog(&mut t.store, T0);
    let (done, _) = t
        .store
        .write(|tx| pull::apply_page(tx, p, &page_of(&["p1", "p2", "p3"], 1, 3), at(T0)))
        .unwrap();
    assert_eq!((done.passes, done.written, done.skipped), (3, 2, 1));
    assert_eq!(
        pass_store::find(t.store.conn(), "QR-p2")
            .unwrap()
            .unwrap()
            .pass
            .id,
        "local-1"
    );
    let first = t
        .store
        .write(|tx| pull::finish(tx, p.cycle, at(T0)))
        .unwrap();
    assert_eq!((first.passes, first.skipped), (3, 1));
    // The next cycle skips it again (the clash stays until someone resolves it) and rewrites
    // nothing: the other passes are as cached.
    let second = cycle(&mut t.store, &["p1", "p2", "p3"], 3, &[], T0 + MIN);
    assert_eq!((second.passes, second.skipped, second.voided), (3, 1, 0));
}

#[test]
fn a_pass_no_cycle_saw_is_confirmed_then_voided_if_gone_and_kept_if_not() {
    let mut t = attached();
    let first = cycle(&mut t.store, &["a", "b", "c", "d"], 2, &[], T0);
    assert_eq!((first.passes, first.voided), (4, 0));
    // A scan of "b" before it goes away upstream.
    let d = checkin(
        &mut t.store,
        &t.node.node_id,
        &scan_input(b"QR-b", Medium::Qr, "gate-1", T0 + MIN),
    )
    .unwrap();
    assert_eq!(d.verdict, Verdict::Accept);

    // Cycle 2: "b" is gone upstream, and "d" was hidden by pages shifting (still there).
    let mut p = through_catalog(&mut t.store, T0 + DAY);
    assert_eq!(p.cycle, 2);
    while p.stage == Stage::Passes {
        let page = page_of(&["a", "c"], p.page, 2);
        p = t
            .store
            .write(|tx| pull::apply_page(tx, p, &page, at(T0 + DAY)))
            .unwrap()
            .1;
    }
    let mut candidates = pull::sweep_candidates(t.store.conn(), p.cycle, 10).unwrap();
    candidates.sort();
    assert_eq!(candidates, ["b", "d"], "only what the cycle did not see");
    let voided = t
        .store
        .write(|tx| pull::confirm_gone(tx, "b", at(T0 + DAY)))
        .unwrap();
    assert!(voided);
    let body =
        json!({"data": resource("d", "Dee"), "meta": {"loyalty": {"balance": 12}}}).to_string();
    let item = page::pass_answer(body.as_bytes(), at(T0 + DAY)).unwrap();
    t.store
        .write(|tx| pull::confirm_kept(tx, p.cycle, "d", &item, at(T0 + DAY)))
        .unwrap();
    assert!(pull::sweep_candidates(t.store.conn(), p.cycle, 10)
        .unwrap()
        .is_empty());
    let summary = t
        .store
        .write(|tx| pull::finish(tx, p.cycle, at(T0 + DAY)))
        .unwrap();
    assert_eq!((summary.passes, summary.voided), (2, 1));

    // Voided, not deleted: its scan stays, its next scan is refused.
    let b = pass_store::get_pass(t.store.conn(), "b").unwrap().unwrap();
    assert_eq!(b.status, PassStatus::Voided);
    assert!(scan_log::get(t.store.conn(), &d.scan_id).unwrap().is_some());
    let again = checkin(
        &mut t.store,
        &t.node.node_id,
        &scan_input(b"QR-b", Medium::Qr, "gate-1", T0 + DAY + MIN),
    )
    .unwrap();
    assert_eq!(again.verdict, Verdict::Reject);
    let d_pass = pass_store::get_pass(t.store.conn(), "d").unwrap().unwrap();
    assert_eq!(d_pass.holder_name().as_deref(), Some("Dee"));
    assert_eq!(d_pass.status, PassStatus::Active);
    // A pass voided here is no sweep candidate again, and a third cycle seeing "d" voids nothing.
    let third = cycle(&mut t.store, &["a", "c", "d"], 2, &[], T0 + 2 * DAY);
    assert_eq!((third.passes, third.voided), (3, 0));
    assert_eq!(state::status(t.store.conn(), true).unwrap().passes, 4);
}

#[test]
fn scans_and_loyalty_made_here_become_requests_with_the_cursor_once() {
    let mut t = attached();
    cycle(&mut t.store, &["card"], 10, &[], T0);
    common::add_template(t.store.conn(), "tpl-local", "Local", "storeCard");
    let local = common::qr_pass("local", "tpl-local", "storeCard", "QR-local".into(), at(T0));
    pass_store::upsert_pass(t.store.conn(), &local).unwrap();
    let node = t.node.node_id.clone();
    let scan = |store: &mut Store, value: &[u8], ms: i64| {
        checkin(store, &node, &scan_input(value, Medium::Qr, "till-1", ms)).unwrap()
    };
    let accepted = scan(&mut t.store, b"QR-card", T0 + MIN + 250);
    scan(&mut t.store, b"QR-local", T0 + 2 * MIN);
    scan(&mut t.store, b"NOT-A-PASS", T0 + 3 * MIN);
    // A scan PassEntry's own reader validated, logged here: PassEntry knows it already.
    let elsewhere = scan_log::ElsewhereScan {
        reader_id: "pe-gate",
        pass_ref: Some("card"),
        value: Some("QR-card"),
        verdict: Verdict::Accept,
        reason: None,
        detail: Some("Valid"),
        at: at(T0 + 3 * MIN + 1),
        kind: "scan",
        balance_change: None,
        logged_at: at(T0 + 3 * MIN + 2),
    };
    t.store
        .write(|tx| scan_log::record_elsewhere(tx, &node, &elsewhere))
        .unwrap();
    let earn = Operation::Earn {
        pass: "QR-card".into(),
        amount_minor: None,
        points: Some(5),
    };
    let op = |store: &mut Store, op: &Operation, ms: i64| {
        loyalty::apply(
            store,
            &node,
            &uuid::Uuid::now_v7().to_string(),
            op,
            at(ms),
            TimeZone::UTC,
        )
        .unwrap()
    };
    op(&mut t.store, &earn, T0 + 4 * MIN);
    op(
        &mut t.store,
        &Operation::Override {
            pass: "card".into(),
            balance: 40,
        },
        T0 + 5 * MIN,
    );
    op(
        &mut t.store,
        &Operation::Stamp {
            pass: "card".into(),
            count: 1,
        },
        T0 + 6 * MIN,
    );
    op(
        &mut t.store,
        &Operation::Earn {
            pass: "local".into(),
            amount_minor: None,
            points: Some(3),
        },
        T0 + 7 * MIN,
    );

    // An event of ours that cannot be read (a payload from a future version): refused, shown.
    outbox::append(
        t.store.conn(),
        topic::PASS_LOYALTY_UPDATED,
        "card",
        &json!({"what": "?"}),
        at(T0 + 7 * MIN + 1),
    )
    .unwrap();
    let made = t
        .store
        .write(|tx| queue::enqueue(tx, &node, 100, at(T0 + 8 * MIN)))
        .unwrap();
    assert_eq!((made.events, made.requests, made.more), (9, 4, false));
    let shown = queue::needing_attention(t.store.conn(), 10).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].state, RequestState::Refused);
    let why = shown[0].answer.as_deref().unwrap();
    assert!(why.contains("not a loyalty result"), "{why}");
    let again = t
        .store
        .write(|tx| queue::enqueue(tx, &node, 100, at(T0 + 8 * MIN)))
        .unwrap();
    assert_eq!(again.events, 0, "the cursor moved with the rows");

    let first = queue::next(t.store.conn()).unwrap().unwrap();
    assert_eq!(
        (first.kind, first.method.as_str(), first.path.as_str()),
        (RequestKind::ScanLog, "POST", "/api/v1/scans/log")
    );
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(
        body,
        json!({"scan": {"status": "successful", "statusDetail": "accepted", "scanValue": "QR-card",
            "passId": "card", "readerId": "till-1", "scannedAt": "2027-01-15T08:01:00.250Z", "scanType": "scan"}})
    );
    let rows: Vec<(String, String)> = t
        .store
        .conn()
        .prepare("SELECT path, body FROM upstream_requests ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows[1],
        (
            "/api/v1/passes/card/loyalty".into(),
            r#"{"balance":5}"#.into()
        )
    );
    assert_eq!(
        rows[2],
        (
            "/api/v1/passes/card/loyalty".into(),
            r#"{"overrideBalance":40}"#.into()
        )
    );
    assert_eq!(
        scan_log::get(t.store.conn(), &accepted.scan_id)
            .unwrap()
            .unwrap()
            .pass_id
            .as_deref(),
        Some("card")
    );
}

#[test]
fn requests_go_in_order_a_refusal_does_not_block_and_a_retry_keeps_its_place() {
    let mut t = attached();
    cycle(&mut t.store, &["card"], 10, &[], T0);
    let node = t.node.node_id.clone();
    for i in 0..3 {
        checkin(
            &mut t.store,
            &node,
            &scan_input(b"QR-card", Medium::Qr, &format!("till-{i}"), T0 + i * MIN),
        )
        .unwrap();
    }
    t.store
        .write(|tx| queue::enqueue(tx, &node, 100, at(T0)))
        .unwrap();
    let r1 = queue::next(t.store.conn()).unwrap().unwrap();
    t.store
        .write(|tx| queue::mark_sending(tx, r1.id, None, None, at(T0 + 1)))
        .unwrap();
    // No answer: pending again, its place kept, tried later.
    let later = at(T0 + 1 + queue::backoff_ms(1));
    t.store
        .write(|tx| queue::mark_retry(tx, r1.id, Some(503), "PassEntry answered 503", later))
        .unwrap();
    let again = queue::next(t.store.conn()).unwrap().unwrap();
    assert_eq!(
        (again.id, again.state, again.attempts, again.next_attempt_at),
        (r1.id, RequestState::Pending, 1, Some(later))
    );
    t.store
        .write(|tx| queue::mark_sending(tx, r1.id, None, None, later))
        .unwrap();
    t.store
        .write(|tx| queue::mark_refused(tx, r1.id, 422, r#"{"errors":"pass refused"}"#, later))
        .unwrap();
    // The rest go on past the refusal.
    let r2 = queue::next(t.store.conn()).unwrap().unwrap();
    assert!(r2.id > r1.id);
    t.store
        .write(|tx| queue::mark_sending(tx, r2.id, None, None, later))
        .unwrap();
    assert!(
        t.store
            .write(|tx| queue::mark_sending(tx, r2.id, None, None, later))
            .is_err(),
        "sending once"
    );
    t.store
        .write(|tx| queue::mark_acknowledged(tx, r2.id, Some(201), "{}", later))
        .unwrap();
    let status = state::status(t.store.conn(), true).unwrap();
    assert_eq!(
        (status.queue_length, status.refused, status.uncertain),
        (1, 1, 0)
    );
    assert_eq!(status.last_push_at, Some(later));
    let shown = queue::needing_attention(t.store.conn(), 10).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(
        (shown[0].status, shown[0].answer.as_deref()),
        (Some(422), Some(r#"{"errors":"pass refused"}"#))
    );
    // A loyalty request found sending is resolved as the read-back says; uncertain is final.
    let r3 = queue::next(t.store.conn()).unwrap().unwrap();
    t.store
        .write(|tx| queue::mark_sending(tx, r3.id, Some(10), Some(15), later))
        .unwrap();
    t.store
        .write(|tx| queue::mark_uncertain(tx, r3.id, Some(12), queue::UNCERTAIN_BALANCE, later))
        .unwrap();
    let r3 = queue::get(t.store.conn(), r3.id).unwrap().unwrap();
    assert_eq!(
        (
            r3.state,
            r3.balance_before,
            r3.balance_expected,
            r3.balance_found
        ),
        (RequestState::Uncertain, Some(10), Some(15), Some(12))
    );
    assert!(queue::next(t.store.conn()).unwrap().is_none());
    assert_eq!(state::status(t.store.conn(), true).unwrap().uncertain, 1);

    // A person settles them. The uncertain one may be in PassEntry already: never sent again,
    // only marked handled, and then no longer shown.
    let refuse_again = t.store.write(|tx| queue::send_again(tx, r3.id)).unwrap();
    assert!(
        matches!(refuse_again, queue::Settled::NotAllowed(ref r) if r.state == RequestState::Uncertain),
        "{refuse_again:?}"
    );
    let handled = t
        .store
        .write(|tx| queue::mark_handled(tx, r3.id, later))
        .unwrap();
    assert!(
        matches!(handled, queue::Settled::Done(ref r) if r.handled_at == Some(later)),
        "{handled:?}"
    );
    assert!(matches!(
        t.store
            .write(|tx| queue::mark_handled(tx, r3.id, later))
            .unwrap(),
        queue::Settled::NotAllowed(_)
    ));
    // The refused one, its cause fixed, is sent again: pending, due now, first in line.
    let again = t.store.write(|tx| queue::send_again(tx, r1.id)).unwrap();
    assert!(
        matches!(again, queue::Settled::Done(ref r) if r.state == RequestState::Pending && r.next_attempt_at.is_none()),
        "{again:?}"
    );
    assert_eq!(queue::next(t.store.conn()).unwrap().unwrap().id, r1.id);
    let status = state::status(t.store.conn(), true).unwrap();
    assert_eq!(
        (status.queue_length, status.refused, status.uncertain),
        (1, 0, 0)
    );
    assert!(queue::needing_attention(t.store.conn(), 10)
        .unwrap()
        .is_empty());
    // Neither again, nor for an acknowledged request or none at all.
    for id in [r1.id, r2.id] {
        assert!(matches!(
            t.store.write(|tx| queue::send_again(tx, id)).unwrap(),
            queue::Settled::NotAllowed(_)
        ));
    }
    assert_eq!(
        t.store
            .write(|tx| queue::mark_handled(tx, 999_999, later))
            .unwrap(),
        queue::Settled::NotFound
    );
}

#[test]
fn the_read_back_decides_from_what_passentry_has() {
    use queue::loyalty_read_back as lrb;
    assert_eq!(lrb(Some(10), Some(15), Some(15)), ReadBack::Acknowledged);
    assert_eq!(lrb(Some(10), Some(15), Some(10)), ReadBack::SendAgain);
    assert_eq!(
        lrb(Some(10), Some(15), Some(12)),
        ReadBack::Uncertain { found: Some(12) }
    );
    assert_eq!(
        lrb(Some(10), Some(15), None),
        ReadBack::Uncertain { found: None }
    );
    // An override to the balance it already had: taken either way.
    assert_eq!(lrb(Some(40), Some(40), Some(40)), ReadBack::Acknowledged);

    let sent = r#"{"scan":{"status":"successful","statusDetail":"accepted","scanValue":"QR-card","passId":"card","readerId":"till-1","scannedAt":"2027-01-15T08:01:00.250Z","scanType":"scan"}}"#;
    let listed = |at: &str, reader: &str| {
        json!({"data": [
            {"id": "s0", "type": "scan", "attributes": {"scanValue": "QR-card", "readerId": "till-1", "scannedAt": "2027-01-15T07:00:00Z"}},
            {"id": "s1", "type": "scan", "attributes": {"scanValue": "QR-card", "readerId": reader, "scannedAt": at}}
        ]})
        .to_string()
    };
    assert!(
        queue::scan_listed(sent, listed("2027-01-15T08:01:00Z", "till-1").as_bytes()).unwrap(),
        "kept to the second"
    );
    assert!(queue::scan_listed(
        sent,
        listed("2027-01-15T08:01:00.250Z", "till-1").as_bytes()
    )
    .unwrap());
    assert!(
        !queue::scan_listed(sent, listed("2027-01-15T08:01:01Z", "till-1").as_bytes()).unwrap()
    );
    assert!(
        !queue::scan_listed(sent, listed("2027-01-15T08:01:00Z", "till-2").as_bytes()).unwrap()
    );
    let nested = r#"{"data":[{"id":"s1","type":"scan","attributes":{"scanInfo":{"scanValue":"QR-card","readerId":"till-1","scannedAt":"2027-01-15T08:01:00Z"}}}]}"#;
    assert!(queue::scan_listed(sent, nested.as_bytes()).unwrap());
    assert!(queue::scan_listed(sent, b"<html>").is_err());
    assert!(queue::scan_listed(sent, br#"{"data":{}}"#).is_err());
}

#[test]
fn retention_keeps_what_has_not_become_a_request_and_an_unattached_store_waits_for_nothing() {
    let mut t = attached();
    cycle(&mut t.store, &["card"], 10, &[], T0);
    let node = t.node.node_id.clone();
    for i in 0..5 {
        checkin(
            &mut t.store,
            &node,
            &scan_input(b"QR-card", Medium::Qr, "till-1", T0 + i * MIN),
        )
        .unwrap();
    }
    // Every event fanned out to webhooks long ago.
    let fanned_out = |t: &TestStore| {
        t.store
            .conn()
            .execute(
                "UPDATE webhook_cursor SET after_seq = (SELECT max(seq) FROM outbox)",
                [],
            )
            .unwrap();
    };
    fanned_out(&t);
    let prune = |t: &mut TestStore| {
        t.store
            .write(|tx| retention::prune(tx, at(T0 + 365 * DAY), 100))
            .unwrap()
    };
    assert_eq!(prune(&mut t).events, 0, "none made into requests yet");
    t.store
        .write(|tx| queue::enqueue(tx, &node, 2, at(T0)))
        .unwrap();
    assert_eq!(prune(&mut t).events, 2, "the two made into requests");
    t.store
        .write(|tx| queue::enqueue(tx, &node, 100, at(T0)))
        .unwrap();
    assert_eq!(prune(&mut t).events, 2, "the rest but the newest");

    checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-card", Medium::Qr, "till-1", T0 + 9 * MIN),
    )
    .unwrap();
    fanned_out(&t);
    t.store.write(|tx| state::detach(tx)).unwrap();
    assert_eq!(
        prune(&mut t).events,
        1,
        "detached: the cursor holds nothing back"
    );
    assert_eq!(
        t.store
            .write(|tx| queue::enqueue(tx, &node, 100, at(T0)))
            .unwrap()
            .events,
        0
    );
}

#[test]
fn attaching_starts_at_the_outbox_end_and_only_a_new_account_starts_afresh() {
    let mut t = TestStore::new();
    let node = t.node.node_id.clone();
    checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-x", Medium::Qr, "till-1", T0),
    )
    .unwrap();
    t.store.write(|tx| state::attach(tx, URL, at(T0))).unwrap();
    let cursor = state::push_cursor(t.store.conn()).unwrap();
    assert!(cursor > 0, "what came before is not sent");
    checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-x", Medium::Qr, "till-1", T0 + MIN),
    )
    .unwrap();
    t.store
        .write(|tx| state::attach(tx, URL, at(T0 + MIN)))
        .unwrap();
    assert_eq!(
        state::push_cursor(t.store.conn()).unwrap(),
        cursor,
        "the same account: unchanged"
    );
    t.store
        .write(|tx| state::attach(tx, "https://other.example", at(T0 + MIN)))
        .unwrap();
    assert!(state::push_cursor(t.store.conn()).unwrap() > cursor);
    let status = state::status(t.store.conn(), false).unwrap();
    assert_eq!(status.base_url.as_deref(), Some("https://other.example"));
    assert!(!status.configured);
}

#[test]
fn a_pass_passentry_created_by_webhook_has_its_scans_sent_before_a_pull_lists_it() {
    let mut t = attached();
    cycle(&mut t.store, &["card"], 10, &[], T0);
    let body = json!({
        "data": {
            "id": "018d8e07-beaa-7634-80a8-647cd33d6bb9",
            "type": "webhook",
            "attributes": { "timeStamp": "2022-01-01T00:00:00Z", "webhookType": "passCreated" },
            "relationships": { "pass": { "data": { "id": "hooked", "type": "pass" } } }
        },
        "included": [resource("hooked", "Jane Smith")]
    });
    let event = passdesk_core::hooks::passentry::parse(body.to_string().as_bytes()).unwrap();
    passdesk_core::hooks::apply::apply(&mut t.store, &event, at(T0 + MIN)).unwrap();
    let node = t.node.node_id.clone();
    let scanned = checkin(
        &mut t.store,
        &node,
        &scan_input(b"QR-hooked", Medium::Qr, "till-1", T0 + 2 * MIN),
    )
    .unwrap();
    assert_eq!(scanned.verdict, Verdict::Accept);
    t.store
        .write(|tx| queue::enqueue(tx, &node, 100, at(T0 + 3 * MIN)))
        .unwrap();
    let first = queue::next(t.store.conn())
        .unwrap()
        .expect("the scan became a request");
    assert_eq!(
        (first.kind, first.pass_id.as_str()),
        (RequestKind::ScanLog, "hooked")
    );
}

#[test]
fn a_pass_voided_here_stays_voided_when_the_next_pull_lists_it_active() {
    let mut t = attached();
    cycle(&mut t.store, &["a", "b"], 10, &[], T0);
    t.store
        .write(|tx| pass_store::set_status(tx, "a", PassStatus::Voided, at(T0 + MIN)))
        .unwrap();
    cycle(&mut t.store, &["a", "b"], 10, &[], T0 + DAY);
    let a = pass_store::get_pass(t.store.conn(), "a").unwrap().unwrap();
    assert!(a.is_voided(), "a manager's void is not undone by a pull");
    let d = checkin(
        &mut t.store,
        &t.node.node_id,
        &scan_input(b"QR-a", Medium::Qr, "gate-1", T0 + DAY + MIN),
    )
    .unwrap();
    assert_eq!(d.verdict, Verdict::Reject);
    let b = pass_store::get_pass(t.store.conn(), "b").unwrap().unwrap();
    assert!(!b.is_voided());
}
