//! The webhook delivery log's promises, on a real SQLite file: the fan-out makes one delivery
//! per subscription and event, once; answers move a delivery by the schedule; a 2xx is final;
//! 410 and three days of failures turn a subscription off; retention prunes and a loyalty
//! replay still answers.

mod common;

use common::{add_template, qr_pass, scan_input, TestStore, DAY, MIN, T0};
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{self, program, Operation, Program, StampOverflow};
use passdesk_core::pass::PassType;
use passdesk_core::rusqlite::Connection;
use passdesk_core::scan::Medium;
use passdesk_core::webhook::deliveries::{self, Answered, Filter, Outcome, Schedule, State};
use passdesk_core::webhook::fanout::{self, Committed, Limits};
use passdesk_core::webhook::subscriptions::{
    self, Change, EventFilter, NewSubscription, WebhookUrl,
};
use passdesk_core::webhook::{retention, EventType, Format};
use passdesk_core::{checkin, pass_store, Store, Timestamp};
use std::time::Duration;

struct Counter {
    t: TestStore,
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

impl Counter {
    fn new() -> Self {
        let t = TestStore::new();
        let conn = t.store.conn();
        add_template(conn, "coffee", "Coffee Card", PassType::STORE_CARD);
        let p = Program {
            template_id: "coffee".into(),
            points_per_unit: 1,
            unit_minor: 100,
            card_size: None,
            stamp_overflow: StampOverflow::Refuse,
            expiry_days: None,
            offline_redemptions_per_day: None,
            tiers: Vec::new(),
        };
        program::set_program(conn, &p, at(T0)).unwrap();
        for id in ["card-1", "card-2"] {
            let pass = qr_pass(
                id,
                "coffee",
                PassType::STORE_CARD,
                format!("QR-{id}"),
                at(T0),
            );
            pass_store::upsert_pass(conn, &pass).unwrap();
        }
        Self { t }
    }

    fn conn(&self) -> &Connection {
        self.t.store.conn()
    }

    fn store(&mut self) -> &mut Store {
        &mut self.t.store
    }

    fn subscribe(&mut self, format: Format, events: &[&str], enabled: bool) -> String {
        let new = NewSubscription {
            url: WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap(),
            format,
            events: EventFilter::parse(events).unwrap(),
            enabled,
            secret: None,
        };
        subscriptions::create(self.conn(), new, at(T0))
            .unwrap()
            .0
            .id
    }

    fn scan(&mut self, value: &str, at_ms: i64) {
        let input = scan_input(value.as_bytes(), Medium::Qr, "gate-1", at_ms);
        let node = self.t.node.node_id.clone();
        checkin(self.store(), &node, &input).unwrap();
    }

    fn earn(&mut self, op_id: &str, points: i64, at_ms: i64) -> loyalty::OpResult {
        let node = self.t.node.node_id.clone();
        let op = Operation::Earn {
            pass: "card-1".into(),
            amount_minor: None,
            points: Some(points),
        };
        loyalty::apply(self.store(), &node, op_id, &op, at(at_ms), TimeZone::UTC).unwrap()
    }

    /// The whole outbox fanned out, batch by batch; the deliveries made.
    fn fan_out(&mut self, now: i64) -> usize {
        let mut made = 0;
        loop {
            let batch = self
                .store()
                .write(|tx| fanout::run(tx, Limits::default(), at(now)))
                .unwrap();
            let Some(batch) = batch else { break };
            made += batch.deliveries.len();
        }
        made
    }

    fn backlog(&self, sub: &str) -> u64 {
        subscriptions::get(self.conn(), sub)
            .unwrap()
            .unwrap()
            .backlog
    }

    fn due(&self, sub: &str, now: i64) -> Vec<deliveries::Due> {
        deliveries::due(self.conn(), sub, at(now), 100).unwrap()
    }

    fn answer(
        &mut self,
        id: &str,
        outcome: Outcome,
        schedule: &Schedule,
        now: i64,
    ) -> deliveries::Recorded {
        let answered = Answered {
            delivery_id: id.to_owned(),
            at: at(now),
            latency_ms: 3,
            outcome,
        };
        self.store()
            .write(|tx| deliveries::record(tx, &answered, schedule, at(now)))
            .unwrap()
            .expect("the delivery exists")
    }

    fn delivery(&self, id: &str) -> (deliveries::Delivery, Vec<deliveries::Attempt>) {
        deliveries::get(self.conn(), id).unwrap().unwrap()
    }
}

fn failed(status: Option<u16>, retry_after: Option<Duration>) -> Outcome {
    Outcome::Failed {
        status,
        error: "no".into(),
        retry_after,
    }
}

#[test]
fn each_event_becomes_one_delivery_per_subscription_that_wants_it_once() {
    let mut c = Counter::new();
    c.scan("QR-before", T0);
    let all = c.subscribe(Format::PassEntry, &[], true);
    let taps = c.subscribe(Format::Standard, &["passScanned"], true);
    let loyal = c.subscribe(Format::PassEntry, &["passLoyaltyUpdated"], true);
    let off = c.subscribe(Format::PassEntry, &[], false);
    c.scan("QR-card-1", T0 + MIN);
    c.scan("QR-unknown", T0 + 2 * MIN);
    c.earn(&uuid::Uuid::now_v7().to_string(), 5, T0 + 3 * MIN);
    assert_eq!(fanout::waiting(c.conn()).unwrap(), 4);

    let made = c.fan_out(T0 + 4 * MIN);
    // 3 events for `all` and `off`, 2 taps for `taps`, 1 loyalty change for `loyal`; the scan
    // before the subscriptions for none.
    assert_eq!(made, 3 + 3 + 2 + 1);
    assert_eq!(fanout::waiting(c.conn()).unwrap(), 0);
    for (sub, n) in [(&all, 3), (&taps, 2), (&loyal, 1), (&off, 3)] {
        assert_eq!(c.backlog(sub), n, "{sub}");
        assert_eq!(c.due(sub, T0 + 4 * MIN).len(), n as usize);
    }
    let tap = &c.due(&taps, T0 + 4 * MIN)[0];
    assert_eq!(tap.event_type, EventType::PassTapped.as_str());
    assert_eq!(tap.content_type, "application/json");
    let body: serde_json::Value = serde_json::from_slice(&tap.body).unwrap();
    assert_eq!(body["type"], "passTapped", "{body}");

    // Nothing new: no batch. The same batch committed twice: the second is stale, nothing doubled.
    assert_eq!(c.fan_out(T0 + 5 * MIN), 0);
    c.scan("QR-card-2", T0 + 6 * MIN);
    let batch = fanout::prepare(c.conn(), Limits::default())
        .unwrap()
        .unwrap();
    assert_eq!(batch.deliveries.len(), 3);
    let now = at(T0 + 6 * MIN);
    let first = c
        .store()
        .write(|tx| fanout::commit(tx, &batch, now))
        .unwrap();
    assert_eq!(first, Committed::Done { deliveries: 3 });
    let again = c
        .store()
        .write(|tx| fanout::commit(tx, &batch, now))
        .unwrap();
    assert_eq!(again, Committed::Stale);
    assert_eq!(c.backlog(&all), 4);
    // A subscription deleted takes its deliveries with it.
    assert!(subscriptions::delete(c.conn(), &loyal).unwrap());
    let (_, total) = deliveries::page(c.conn(), &Filter::default(), 1, 50).unwrap();
    assert_eq!(total, 4 + 3 + 4);
}

#[test]
fn a_batch_stops_at_an_events_end_once_its_deliveries_reach_the_limit() {
    let mut c = Counter::new();
    let subs: Vec<String> = (0..3)
        .map(|_| c.subscribe(Format::PassEntry, &[], true))
        .collect();
    for i in 0..5 {
        c.scan(&format!("QR-x{i}"), T0 + i);
    }
    let limits = Limits {
        deliveries: 4,
        ..Limits::default()
    };
    let batch = fanout::prepare(c.conn(), limits).unwrap().unwrap();
    assert_eq!((batch.events, batch.deliveries.len()), (2, 6));
    let mut batches = 0;
    while let Some(b) = c
        .store()
        .write(|tx| fanout::run(tx, limits, at(T0 + MIN)))
        .unwrap()
    {
        assert!(b.deliveries.len() <= 6);
        batches += 1;
    }
    assert_eq!(batches, 3);
    for s in &subs {
        assert_eq!(c.backlog(s), 5);
    }
}

#[test]
fn a_2xx_is_final_a_failure_waits_by_the_schedule_and_the_last_one_gives_up() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    c.scan("QR-card-1", T0);
    c.scan("QR-card-2", T0);
    c.fan_out(T0);
    let due = c.due(&sub, T0);
    let (a, b) = (due[0].id.clone(), due[1].id.clone());
    let schedule = Schedule::new(vec![Duration::from_secs(60), Duration::from_secs(300)]).unwrap();
    assert_eq!(schedule.attempts(), 3);

    let r = c.answer(&a, Outcome::Delivered { status: 204 }, &schedule, T0 + 1000);
    assert_eq!(r.state, State::Delivered);
    let (d, attempts) = c.delivery(&a);
    assert_eq!(
        (d.state, d.attempts, d.last_status),
        (State::Delivered, 1, Some(204))
    );
    assert_eq!(attempts.len(), 1);
    let body: Option<Vec<u8>> = c
        .conn()
        .query_row(
            "SELECT body FROM webhook_deliveries WHERE id = ?1",
            [&a],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(body, None, "a delivered body is dropped");
    assert_eq!(c.backlog(&sub), 1);
    let s = subscriptions::get(c.conn(), &sub).unwrap().unwrap();
    assert_eq!(s.last_success_at, Some(at(T0 + 1000)));
    assert!(
        c.due(&sub, T0 + 10 * DAY).iter().all(|d| d.id != a),
        "never due again"
    );
    // A late second answer for it (it was in flight twice?) is only logged.
    let r = c.answer(&a, failed(Some(500), None), &schedule, T0 + 2000);
    assert_eq!(r.state, State::Delivered);
    assert_eq!(c.delivery(&a).1.len(), 2);

    // b: 500 → due 60 s later; 503 with a Retry-After of 10 min → due 10 min later (later than
    // the schedule's 5 min); the third attempt was the last → failed, body kept.
    let r = c.answer(&b, failed(Some(500), None), &schedule, T0 + 10_000);
    assert_eq!(r.next_attempt_at, Some(at(T0 + 70_000)));
    let s = subscriptions::get(c.conn(), &sub).unwrap().unwrap();
    assert_eq!(s.failing_since, Some(at(T0 + 10_000)));
    assert!(c.due(&sub, T0 + 69_999).is_empty());
    assert_eq!(c.due(&sub, T0 + 70_000).len(), 1);
    let r = c.answer(
        &b,
        failed(Some(503), Some(Duration::from_secs(600))),
        &schedule,
        T0 + 70_000,
    );
    assert_eq!(r.next_attempt_at, Some(at(T0 + 670_000)));
    // A Retry-After shorter than the schedule's wait changes nothing.
    let r = c.answer(
        &b,
        failed(None, Some(Duration::from_secs(1))),
        &schedule,
        T0 + 670_000,
    );
    assert_eq!((r.state, r.next_attempt_at), (State::Failed, None));
    let (d, attempts) = c.delivery(&b);
    assert_eq!(
        (d.state, d.attempts, d.last_status),
        (State::Failed, 3, None)
    );
    assert_eq!(attempts.iter().map(|a| a.n).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(attempts[1].status, Some(503));
    assert_eq!(c.backlog(&sub), 0);
    let (failed_list, n) = deliveries::page(
        c.conn(),
        &Filter {
            subscription_id: Some(sub.clone()),
            failed_only: true,
        },
        1,
        10,
    )
    .unwrap();
    assert_eq!((n, failed_list[0].id.as_str()), (1, b.as_str()));

    // Retry: pending, due now, attempts afresh, the log goes on; a delivered one stays so.
    let d = deliveries::retry(c.conn(), &b, at(T0 + DAY))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.state, d.attempts, d.next_attempt_at),
        (State::Pending, 0, Some(at(T0 + DAY)))
    );
    assert_eq!(c.backlog(&sub), 1);
    assert!(
        !c.due(&sub, T0 + DAY)[0].body.is_empty(),
        "a failed body is kept"
    );
    let r = c.answer(&b, Outcome::Delivered { status: 200 }, &schedule, T0 + DAY);
    assert_eq!(r.state, State::Delivered);
    assert_eq!(c.delivery(&b).1.last().unwrap().n, 4);
    let d = deliveries::retry(c.conn(), &a, at(T0 + DAY))
        .unwrap()
        .unwrap();
    assert_eq!(d.state, State::Delivered);
    assert_eq!(c.backlog(&sub), 0);
    assert!(deliveries::retry(c.conn(), "nope", at(T0))
        .unwrap()
        .is_none());
}

#[test]
fn a_retry_after_is_capped_at_a_day() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    c.scan("QR-card-1", T0);
    c.fan_out(T0);
    let id = c.due(&sub, T0)[0].id.clone();
    let r = c.answer(
        &id,
        failed(Some(429), Some(Duration::from_secs(30 * 86_400))),
        &Schedule::standard(),
        T0,
    );
    assert_eq!(r.next_attempt_at, Some(at(T0 + DAY)));
}

#[test]
fn gone_turns_the_subscription_off_and_turning_it_on_replays_what_it_held() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    for i in 0..3 {
        c.scan(&format!("QR-g{i}"), T0 + i);
    }
    c.fan_out(T0);
    let first = c.due(&sub, T0)[0].id.clone();
    let r = c.answer(&first, Outcome::Gone, &Schedule::standard(), T0 + MIN);
    assert_eq!((r.state, r.disabled), (State::Failed, Some("gone")));
    let s = subscriptions::get(c.conn(), &sub).unwrap().unwrap();
    assert!(!s.enabled);
    assert_eq!(s.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(s.backlog, 2, "the others are held");
    // Events keep coming while it is off: held too.
    c.scan("QR-g3", T0 + 2 * MIN);
    c.fan_out(T0 + 2 * MIN);
    assert_eq!(c.backlog(&sub), 3);
    // Held for a while (a failed attempt pushed one far ahead), then turned on: all due now.
    let second = c.due(&sub, T0 + 2 * MIN)[0].id.clone();
    c.answer(
        &second,
        failed(Some(500), None),
        &Schedule::standard(),
        T0 + 2 * MIN,
    );
    let on = Change {
        enabled: Some(true),
        ..Change::default()
    };
    let s = subscriptions::update(c.conn(), &sub, on, at(T0 + 3 * MIN))
        .unwrap()
        .unwrap();
    assert!(s.enabled && s.disabled_reason.is_none());
    let due = c.due(&sub, T0 + 3 * MIN);
    assert_eq!(due.len(), 3);
    // Each has the whole schedule before it again: the one that failed once counts afresh.
    assert!(due.iter().all(|d| d.attempts == 0), "{due:?}");
    let again = deliveries::get(c.conn(), &second).unwrap().unwrap();
    assert_eq!(again.1.len(), 1, "the attempt log keeps its attempt");
}

#[test]
fn a_subscription_failing_for_three_days_is_turned_off() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    c.scan("QR-card-1", T0);
    c.scan("QR-card-2", T0);
    c.fan_out(T0);
    let due = c.due(&sub, T0);
    let schedule = Schedule::new(vec![Duration::from_secs(3600); 100]).unwrap();
    let r = c.answer(&due[0].id, failed(None, None), &schedule, T0);
    assert_eq!(r.disabled, None);
    let r = c.answer(&due[1].id, failed(None, None), &schedule, T0 + 3 * DAY - 1);
    assert_eq!(r.disabled, None);
    let r = c.answer(&due[1].id, failed(None, None), &schedule, T0 + 3 * DAY);
    assert_eq!((r.state, r.disabled), (State::Pending, Some("failing")));
    let s = subscriptions::get(c.conn(), &sub).unwrap().unwrap();
    assert_eq!(
        (s.enabled, s.disabled_reason.as_deref()),
        (false, Some("failing"))
    );
    assert_eq!(s.failing_since, Some(at(T0)));
    assert_eq!(s.last_error.as_deref(), Some("no"));
    // A success in between would have started the three days again.
    let on = Change {
        enabled: Some(true),
        ..Change::default()
    };
    subscriptions::update(c.conn(), &sub, on, at(T0 + 4 * DAY)).unwrap();
    let s = subscriptions::get(c.conn(), &sub).unwrap().unwrap();
    assert_eq!(s.failing_since, None);
}

#[test]
fn the_test_event_is_queued_for_one_subscription_in_its_format() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::Standard, &["passVoided"], false);
    let other = c.subscribe(Format::PassEntry, &[], true);
    let d = deliveries::enqueue_test(c.conn(), &sub, at(T0))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.state, d.event_type.as_str()),
        (State::Pending, "webhookTest")
    );
    assert_eq!(c.backlog(&sub), 1);
    assert_eq!(c.backlog(&other), 0);
    let due = c.due(&sub, T0);
    let body: serde_json::Value = serde_json::from_slice(&due[0].body).unwrap();
    assert_eq!(body["type"], "webhookTest", "{body}");
    assert!(deliveries::enqueue_test(c.conn(), "nope", at(T0))
        .unwrap()
        .is_none());
}

#[test]
fn retention_prunes_what_is_old_and_done_and_a_loyalty_replay_still_answers() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    let held = c.subscribe(Format::PassEntry, &[], false);
    let op = uuid::Uuid::now_v7().to_string();
    let first = c.earn(&op, 7, T0);
    c.scan("QR-card-1", T0 + MIN);
    c.fan_out(T0 + MIN);
    // A young event, not yet fanned out: kept whatever its age says.
    c.scan("QR-card-2", T0 + 2 * MIN);
    let due = c.due(&sub, T0 + MIN);
    assert_eq!(due.len(), 2);
    for d in &due {
        c.answer(
            &d.id,
            Outcome::Delivered { status: 200 },
            &Schedule::standard(),
            T0 + MIN,
        );
    }
    let events = |c: &Counter| -> i64 {
        c.conn()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(events(&c), 3);

    // Nothing is old yet.
    let cutoff = at(T0);
    let p = c
        .store()
        .write(|tx| retention::prune(tx, cutoff, 100))
        .unwrap();
    assert_eq!((p.events, p.deliveries, p.held_dropped), (0, 0, 0));

    // A month later: the two fanned-out events go (the loyalty one's answer copied out), the
    // delivered deliveries go, the held ones of the turned-off subscription are dropped.
    let cutoff = at(T0 + 30 * DAY);
    let mut p = c
        .store()
        .write(|tx| retention::prune(tx, cutoff, 1))
        .unwrap();
    assert_eq!((p.events, p.loyalty_answers_kept, p.more), (1, 1, true));
    p.add(
        c.store()
            .write(|tx| retention::prune(tx, cutoff, 100))
            .unwrap(),
    );
    assert_eq!(
        (p.events, p.deliveries, p.held_dropped, p.more),
        (2, 2, 2, false)
    );
    assert_eq!(events(&c), 1, "the event not fanned out stays");
    assert_eq!(c.backlog(&held), 0);
    assert_eq!(c.backlog(&sub), 0);
    let attempts: i64 = c
        .conn()
        .query_row("SELECT count(*) FROM webhook_attempts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 0, "attempts go with their deliveries");

    // The loyalty operation replays with the same answer, its event gone.
    let again = c.earn(&op, 7, T0 + 31 * DAY);
    assert!(again.replayed);
    assert_eq!(again.entries, first.entries);
    assert_eq!(again.account, first.account);
    let (seq, result): (Option<i64>, Option<String>) = c
        .conn()
        .query_row(
            "SELECT outbox_seq, result FROM loyalty_operations WHERE op_id = ?1",
            [&op],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(seq, None);
    assert!(result.is_some());
}

#[test]
fn retention_keeps_the_newest_event_so_seqs_only_grow() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    c.scan("QR-card-1", T0);
    c.scan("QR-card-2", T0);
    c.fan_out(T0);
    let cutoff = at(T0 + DAY);
    let p = c
        .store()
        .write(|tx| retention::prune(tx, cutoff, 100))
        .unwrap();
    assert_eq!(p.events, 1, "all but the newest");
    let cursor = fanout::cursor(c.conn()).unwrap();
    c.scan("QR-card-1", T0 + DAY);
    let seq: i64 = c
        .conn()
        .query_row("SELECT max(seq) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert!(seq > cursor, "a new event comes after the cursor");
    assert_eq!(c.fan_out(T0 + DAY), 1);
    assert_eq!(c.backlog(&sub), 3);
}

#[test]
fn the_log_lists_newest_first_by_subscription_and_failed() {
    let mut c = Counter::new();
    let a = c.subscribe(Format::PassEntry, &[], true);
    let b = c.subscribe(Format::Standard, &[], true);
    for i in 0..3 {
        c.scan(&format!("QR-l{i}"), T0 + i);
        c.fan_out(T0 + i);
    }
    let (all, n) = deliveries::page(c.conn(), &Filter::default(), 1, 4).unwrap();
    assert_eq!((all.len(), n), (4, 6));
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    let (rest, _) = deliveries::page(c.conn(), &Filter::default(), 2, 4).unwrap();
    assert_eq!(rest.len(), 2);
    let only_b = Filter {
        subscription_id: Some(b.clone()),
        failed_only: false,
    };
    let (list, n) = deliveries::page(c.conn(), &only_b, 1, 10).unwrap();
    assert_eq!(n, 3);
    assert!(list.iter().all(|d| d.subscription_id == b));
    let failed_only = Filter {
        subscription_id: None,
        failed_only: true,
    };
    assert_eq!(
        deliveries::page(c.conn(), &failed_only, 1, 10).unwrap().1,
        0
    );
    let id = c.due(&a, T0 + 5)[0].id.clone();
    c.answer(&id, Outcome::Gone, &Schedule::standard(), T0 + 5);
    let (list, n) = deliveries::page(c.conn(), &failed_only, 1, 10).unwrap();
    assert_eq!((n, list[0].id.as_str()), (1, id.as_str()));
}

#[test]
fn an_event_that_cannot_be_read_is_passed_over_not_a_wall() {
    let mut c = Counter::new();
    let sub = c.subscribe(Format::PassEntry, &[], true);
    c.scan("QR-card-1", T0);
    // A tap whose payload is not JSON (a damaged row), between two good ones.
    c.conn()
        .execute(
            "INSERT INTO outbox (id, topic, subject_id, payload, created_at)
             VALUES ('0190a0a0-0000-7000-8000-000000000000', 'passTapped', 'x', '{not json', ?1)",
            [T0 + 1],
        )
        .unwrap();
    c.scan("QR-card-2", T0 + 2);
    assert_eq!(
        c.fan_out(T0 + 3),
        2,
        "the two good events, the bad one passed over"
    );
    assert_eq!(c.backlog(&sub), 2);
    let cursor: i64 = c
        .conn()
        .query_row("SELECT after_seq FROM webhook_cursor", [], |r| r.get(0))
        .unwrap();
    let last: i64 = c
        .conn()
        .query_row("SELECT max(seq) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursor, last, "the cursor went past it");
}
