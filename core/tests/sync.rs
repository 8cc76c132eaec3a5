//! Sync between counters, the counter's side, on real SQLite files: what one node exports is
//! what another applies, carried as JSON through `serde_json` exactly as on the wire, through a
//! hub played here by a log with its own seq (the hub's own rules are the hub crate's tests).

mod common;

use common::{add_event, add_template, qr_pass, scan_input, TestStore, DAY, MIN, T0};
use passdesk_core::catalog::{self, SaveMode};
use passdesk_core::decision::Reason;
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{
    self, ledger, program, Operation, Program, RewardRef, RewardStatus, RewardUnit, StampOverflow,
    Tier,
};
use passdesk_core::outbox::{self, topic};
use passdesk_core::pass::{PassStatus, PassType};
use passdesk_core::policy::{CheckinPolicy, EntryMode, PolicyScope};
use passdesk_core::reader::ReaderChanges;
use passdesk_core::scan::Medium;
use passdesk_core::sync::apply::{self, Applied};
use passdesk_core::sync::wire::{
    Change, ChangeBody, ConflictKind, ConflictRecord, ConflictSide, NodeKeyRecord, PullResponse,
    PushRequest, Sequenced, HUB_NODE_ID,
};
use passdesk_core::sync::{conflicts, export, state};
use passdesk_core::webhook::retention;
use passdesk_core::{checkin, pass_store, Decision, Store, Timestamp, Verdict};
use serde_json::{json, Value};

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(ms)
}

/// The hub as these tests play it: every change it accepted, in order, kept as the JSON it
/// travelled as. Its seq is the log's place.
#[derive(Default)]
struct Hub {
    log: Vec<Value>,
}

impl Hub {
    fn append(&mut self, change: &Change) -> i64 {
        let seq = self.log.len() as i64 + 1;
        let mut json = serde_json::to_value(change).unwrap();
        json["seq"] = json!(seq);
        self.log.push(json);
        seq
    }

    /// `GET /changes?after=…`: the caller's own scans and ledger operations left out, the
    /// cursor past them all the same.
    fn pull(&self, node_id: &str, after: i64, limit: usize) -> PullResponse {
        let mut changes = Vec::new();
        let mut cursor = after;
        for entry in self.log.iter().skip(after as usize) {
            if changes.len() == limit {
                break;
            }
            cursor = entry["seq"].as_i64().unwrap();
            let own = entry["nodeId"] == node_id
                && matches!(entry["kind"].as_str(), Some("scan" | "ledger"));
            if !own {
                changes.push(entry.clone());
            }
        }
        let more = (cursor as usize) < self.log.len();
        let text = json!({"changes": changes, "cursor": cursor, "more": more, "hubTime": "2027-01-15T08:00:00Z"})
            .to_string();
        serde_json::from_str(&text).unwrap()
    }

    /// A hub-made change (`nodeId` = hub).
    fn say(&mut self, body: ChangeBody) -> i64 {
        self.append(&Change {
            id: uuid::Uuid::now_v7().to_string(),
            node_id: HUB_NODE_ID.into(),
            at: at(T0),
            body,
        })
    }
}

/// One counter joined to the hub, online since before `T0`.
struct Counter {
    t: TestStore,
    name: &'static str,
}

impl Counter {
    fn join(hub: &mut Hub, name: &'static str) -> Self {
        let t = TestStore::new();
        let joined = state::Joined {
            hub_url: "http://hub.test".into(),
            hub_id: "hub-1".into(),
            node_name: name.into(),
            credential: format!("secret-of-{name}"),
        };
        state::save_join(t.store.conn(), &joined, at(T0 - 10 * MIN)).unwrap();
        state::record_contact(t.store.conn(), true, true, at(T0 - 10 * MIN)).unwrap();
        // The hub writes every node's key at enrollment.
        hub.say(ChangeBody::NodeKey(NodeKeyRecord {
            node_id: t.node.node_id.clone(),
            node_name: name.into(),
            key_id: t.node.key.key_id().into(),
            public_key: base64_url(&t.node.key.public_sec1()),
        }));
        Self { t, name }
    }

    fn id(&self) -> String {
        self.t.node.node_id.clone()
    }

    fn store(&mut self) -> &mut Store {
        &mut self.t.store
    }

    /// One push round: everything pending, as JSON, appended to the hub's log.
    fn push(&mut self, hub: &mut Hub) -> usize {
        let node_id = self.id();
        let mut sent = 0;
        while let Some(p) = export::pending(self.t.store.conn(), &node_id, 1000).unwrap() {
            let body = serde_json::to_string(&PushRequest { changes: p.changes }).unwrap();
            let request: PushRequest = serde_json::from_str(&body).unwrap();
            for c in &request.changes {
                assert_eq!(c.node_id, node_id, "only this node's changes go up");
                assert!(c.body.pushable(), "{} is not pushed", c.body.kind());
                hub.append(c);
            }
            sent += request.changes.len();
            self.t
                .store
                .write(|tx| state::mark_pushed(tx, p.through_seq, &[], at(T0)))
                .unwrap();
        }
        sent
    }

    /// One pull round: until caught up, each page applied with its cursor.
    fn pull(&mut self, hub: &Hub) -> Applied {
        let node_id = self.id();
        let mut total = Applied::default();
        loop {
            let after = state::pull_cursor(self.t.store.conn()).unwrap();
            let page = hub.pull(&node_id, after, 5000);
            let done = !page.more;
            let applied = self
                .t
                .store
                .write(|tx| apply::apply_batch(tx, &node_id, &page.changes, page.cursor, at(T0)))
                .unwrap();
            total.applied += applied.applied;
            total.skipped += applied.skipped;
            total.conflicts += applied.conflicts;
            total.rejected += applied.rejected;
            if done {
                return total;
            }
        }
    }

    fn scan(&mut self, value: &str, reader: &str, at_ms: i64) -> Decision {
        let node_id = self.id();
        let input = scan_input(value.as_bytes(), Medium::Qr, reader, at_ms);
        checkin(&mut self.t.store, &node_id, &input).unwrap()
    }

    fn name_reader(&mut self, id: &str, name: &str) {
        let changes = ReaderChanges {
            name: Some(name.into()),
            ..ReaderChanges::default()
        };
        self.t
            .store
            .write(|tx| catalog::save_reader(tx, id, changes, SaveMode::Upsert, at(T0)))
            .unwrap();
    }

    /// A pass issued here, as the service issues one: the pass and its `passCreated` event.
    fn issue(&mut self, id: &str, template: &str, kind: &str, event: Option<&str>) {
        let mut p = qr_pass(id, template, kind, format!("QR-{id}"), at(T0));
        p.event_id = event.map(str::to_owned);
        self.t
            .store
            .write(|tx| {
                pass_store::upsert_pass(tx, &p)?;
                outbox::append(tx, topic::PASS_CREATED, id, &json!({}), at(T0)).map(|_| ())
            })
            .unwrap();
    }

    fn void(&mut self, id: &str, when: i64) {
        self.t
            .store
            .write(|tx| {
                pass_store::set_status(tx, id, PassStatus::Voided, at(when))?;
                outbox::append(tx, topic::PASS_VOIDED, id, &json!({}), at(when)).map(|_| ())
            })
            .unwrap();
    }

    fn loyalty(&mut self, op: Operation, when: i64) -> loyalty::OpResult {
        let node_id = self.id();
        let op_id = uuid::Uuid::now_v7().to_string();
        loyalty::apply(self.store(), &node_id, &op_id, &op, at(when), TimeZone::UTC).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.t
            .store
            .conn()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn coffee_program() -> Program {
    Program {
        template_id: "coffee".into(),
        points_per_unit: 1,
        unit_minor: 100,
        card_size: Some(10),
        stamp_overflow: StampOverflow::Carry,
        expiry_days: Some(30),
        offline_redemptions_per_day: Some(1),
        tiers: vec![Tier {
            name: "Free coffee".into(),
            threshold: 50,
            unit: RewardUnit::Points,
        }],
    }
}

/// What `passdesk hub import` loads: a scratch store's catalogue, as changes from the hub.
fn import_catalogue(hub: &mut Hub) {
    let scratch = TestStore::new();
    let conn = scratch.store.conn();
    add_template(conn, "ticket", "Festival Ticket", PassType::EVENT_TICKET);
    add_template(conn, "coffee", "Coffee Card", PassType::STORE_CARD);
    add_event(conn, "fest", "Harbour Festival", "Europe/London");
    let policy = CheckinPolicy {
        entry_mode: EntryMode::Single,
        ..CheckinPolicy::default_for(&PassType::new(PassType::EVENT_TICKET))
    };
    catalog::set_policy(
        conn,
        &CheckinPolicy {
            scope: PolicyScope::Event("fest".into()),
            ..policy
        },
        at(T0),
    )
    .unwrap();
    program::set_program(conn, &coffee_program(), at(T0)).unwrap();
    let changes = export::snapshot(conn, HUB_NODE_ID).unwrap();
    let kinds: Vec<&str> = changes.iter().map(|c| c.body.kind()).collect();
    assert_eq!(
        kinds,
        ["template", "template", "event", "policy", "program"]
    );
    for c in &changes {
        hub.append(c);
    }
}

/// A hub, a catalogue, and counters A and B (readers "Gate 1" at each), caught up.
fn venue() -> (Hub, Counter, Counter) {
    let mut hub = Hub::default();
    import_catalogue(&mut hub);
    let mut a = Counter::join(&mut hub, "Gate A");
    let mut b = Counter::join(&mut hub, "Gate B");
    a.name_reader("gate-1", "Gate 1");
    b.name_reader("gate-1", "Gate 1");
    a.pull(&hub);
    b.pull(&hub);
    (hub, a, b)
}

#[test]
fn a_pass_issued_at_a_scans_at_b() {
    let (mut hub, mut a, mut b) = venue();
    assert_eq!(
        b.scan("QR-t1", "gate-1", T0).reason,
        Some(Reason::UnknownPass)
    );
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    assert_eq!(a.push(&mut hub), 1);
    let applied = b.pull(&hub);
    assert_eq!((applied.applied, applied.rejected), (1, 0));
    let d = b.scan("QR-t1", "gate-1", T0 + MIN);
    assert_eq!(d.verdict, Verdict::Accept, "{}", d.message);
    let summary = d.pass.unwrap();
    assert_eq!(summary.event_name.as_deref(), Some("Harbour Festival"));
    assert_eq!(summary.template_name.as_deref(), Some("Festival Ticket"));
    // A pass written by sync has its holder link, like any other, and made no event at B.
    let token = passdesk_core::holder_link::token_of(b.t.store.conn(), "t1").unwrap();
    assert!(token.is_some());
    assert_eq!(
        b.count("SELECT count(*) FROM outbox WHERE topic != 'passTapped'"),
        0
    );
}

#[test]
fn a_ticket_admitted_at_a_is_refused_at_b_with_as_reader_and_node() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    b.pull(&hub);
    // 19:42 UTC on A's clock.
    let admitted_at = T0 + 11 * 60 * MIN + 42 * MIN;
    assert!(a.scan("QR-t1", "gate-1", admitted_at).accepted());
    a.push(&mut hub);
    b.pull(&hub);
    // B's own reader is also "gate-1": the earlier admission is A's, named as A named it, and
    // B's duplicate window (its own reader's repeat) does not take it for a repeat.
    let d = b.scan("QR-t1", "gate-1", admitted_at + 5_000);
    assert_eq!(d.reason, Some(Reason::AlreadyUsed), "{}", d.message);
    assert_eq!(d.message, "Already used 19:42 UTC at Gate 1 (Gate A)");
    assert_eq!(d.duplicate_of, None);
    let previous = d.previous_use.unwrap();
    assert_eq!(previous.reader_name, "Gate 1 (Gate A)");
    // A's scan is in B's log under A's node id, with no tally row: B's day totals are B's.
    let scan = passdesk_core::scan_log::get(b.t.store.conn(), &previous.scan_id)
        .unwrap()
        .unwrap();
    assert_eq!(scan.node_id, a.id());
    let day = passdesk_core::scan_log::ScanFilter {
        since: Some(at(T0 - DAY)),
        until: Some(at(T0 + DAY)),
        limit: 10,
        ..Default::default()
    };
    let totals = passdesk_core::scan_log::totals(b.t.store.conn(), &day).unwrap();
    assert_eq!((totals.accepted, totals.rejected), (0, 1));
    // The pass's own history shows both nodes' scans; B's reader's list only B's.
    let of_pass = passdesk_core::scan_log::ScanFilter {
        pass_id: Some("t1".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        passdesk_core::scan_log::list(b.t.store.conn(), &of_pass)
            .unwrap()
            .len(),
        2
    );
    let of_reader = passdesk_core::scan_log::ScanFilter {
        reader_id: Some("gate-1".into()),
        limit: 10,
        ..Default::default()
    };
    let listed = passdesk_core::scan_log::list(b.t.store.conn(), &of_reader).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].node_id, b.id());
}

#[test]
fn a_replayed_batch_is_a_no_op_and_the_cursor_goes_with_its_batch() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.scan("QR-t1", "gate-1", T0);
    a.push(&mut hub);
    let before = state::pull_cursor(b.t.store.conn()).unwrap();
    let page = hub.pull(&b.id(), before, 5000);
    let node = b.id();
    let first = b
        .store()
        .write(|tx| apply::apply_batch(tx, &node, &page.changes, page.cursor, at(T0)))
        .unwrap();
    assert_eq!((first.applied, first.skipped), (2, 0));
    assert_eq!(state::pull_cursor(b.t.store.conn()).unwrap(), page.cursor);
    let scans = b.count("SELECT count(*) FROM scans");
    // The same batch again (a cursor lost with a crash): nothing changes.
    let again = b
        .store()
        .write(|tx| apply::apply_batch(tx, &node, &page.changes, page.cursor, at(T0)))
        .unwrap();
    assert_eq!((again.applied, again.skipped), (0, 2));
    assert_eq!(b.count("SELECT count(*) FROM scans"), scans);
    // A batch whose transaction does not commit leaves neither its changes nor its cursor.
    a.issue("t2", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    let cursor = state::pull_cursor(b.t.store.conn()).unwrap();
    let page = hub.pull(&node, cursor, 5000);
    let failed: Result<(), passdesk_core::StoreError> = b.store().write(|tx| {
        apply::apply_batch(tx, &node, &page.changes, page.cursor, at(T0))?;
        Err(passdesk_core::StoreError::CheckpointBusy)
    });
    assert!(failed.is_err());
    assert_eq!(state::pull_cursor(b.t.store.conn()).unwrap(), cursor);
    assert!(pass_store::get_pass(b.t.store.conn(), "t2")
        .unwrap()
        .is_none());
    assert_eq!(b.pull(&hub).applied, 1);
    assert!(pass_store::get_pass(b.t.store.conn(), "t2")
        .unwrap()
        .is_some());
}

#[test]
fn a_voided_pass_stays_voided() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    b.pull(&hub);
    b.void("t1", T0 + MIN);
    b.push(&mut hub);
    // An update made at A before it heard of the void arrives after it.
    a.t.store
        .write(|tx| {
            let mut p = pass_store::get_pass(tx, "t1")?.unwrap();
            p.latest_message = Some("Doors at 18:00".into());
            pass_store::upsert_pass(tx, &p)?;
            outbox::append(tx, topic::PASS_UPDATED, "t1", &json!({}), at(T0 + 2 * MIN)).map(|_| ())
        })
        .unwrap();
    a.push(&mut hub);
    a.pull(&hub);
    b.pull(&hub);
    let update = hub.log.last().unwrap();
    assert_eq!(
        (update["kind"].as_str(), update["data"]["status"].as_str()),
        (Some("pass"), Some("active"))
    );
    for node in [&mut a, &mut b] {
        let p = pass_store::get_pass(node.t.store.conn(), "t1")
            .unwrap()
            .unwrap();
        assert!(p.is_voided(), "{}: {:?}", node.name, p.status);
        let d = node.scan("QR-t1", "gate-1", T0 + 3 * MIN);
        assert_eq!(d.reason, Some(Reason::Voided), "{}", node.name);
    }
}

#[test]
fn loyalty_at_a_agrees_at_b() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("c1", "coffee", PassType::STORE_CARD, None);
    a.loyalty(
        Operation::Earn {
            pass: "c1".into(),
            amount_minor: Some(8_000),
            points: None,
        },
        T0,
    );
    let created = a.loyalty(
        Operation::RewardCreate {
            pass: "c1".into(),
            tier: "Free coffee".into(),
        },
        T0 + MIN,
    );
    let reward_id = created.reward.unwrap().id;
    a.push(&mut hub);
    b.pull(&hub);
    let account = |n: &Counter| ledger::account(n.t.store.conn(), "c1").unwrap();
    assert_eq!(account(&a), account(&b));
    assert_eq!((account(&b).points, account(&b).reserved_points), (30, 50));
    let reward = loyalty::rewards::get(b.t.store.conn(), &reward_id)
        .unwrap()
        .unwrap();
    assert_eq!(reward.status, RewardStatus::Available);
    // Redeemed at B, then B's points spent: A agrees, lots and all.
    b.loyalty(
        Operation::RewardRedeem {
            reward: RewardRef::Id(reward_id.clone()),
        },
        T0 + 2 * MIN,
    );
    b.loyalty(
        Operation::Adjust {
            pass: "c1".into(),
            points: -20,
            reason: "spent".into(),
        },
        T0 + 3 * MIN,
    );
    b.push(&mut hub);
    a.pull(&hub);
    assert_eq!(account(&a), account(&b));
    assert_eq!((account(&a).points, account(&a).reserved_points), (10, 0));
    let at_a = loyalty::rewards::get(a.t.store.conn(), &reward_id)
        .unwrap()
        .unwrap();
    assert_eq!(at_a.status, RewardStatus::Redeemed);
    let lots =
        |n: &Counter| n.count("SELECT sum(remaining) FROM loyalty_lots WHERE pass_id = 'c1'");
    assert_eq!((lots(&a), lots(&b)), (10, 10));
    for node in [&a, &b] {
        let (checked, drift) = ledger::verify(node.t.store.conn()).unwrap();
        assert_eq!((checked, drift.len()), (1, 0), "{}", node.name);
    }
    // What came from the hub is upstream's; what B made and pushed is marked synced too.
    assert_eq!(
        a.count("SELECT count(*) FROM loyalty_ledger WHERE synced_at IS NULL"),
        0
    );
    assert_eq!(
        b.count("SELECT count(*) FROM loyalty_ledger WHERE synced_at IS NULL"),
        0
    );
    // The earn's lot kept its expiry at B: 30 days after A's earn, both expire the rest once.
    let expires: Option<i64> =
        b.t.store
            .conn()
            .query_row(
                "SELECT expires_at FROM loyalty_lots WHERE pass_id = 'c1' AND remaining > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(expires, Some(T0 + 30 * DAY));
    a.scan("QR-c1", "gate-1", T0 + 31 * DAY);
    b.scan("QR-c1", "gate-1", T0 + 31 * DAY);
    a.push(&mut hub);
    b.push(&mut hub);
    a.pull(&hub);
    b.pull(&hub);
    assert_eq!(account(&a), account(&b));
    assert_eq!(account(&a).points, 0);
}

#[test]
fn a_conflict_is_listed_marked_and_told_once_by_the_flagged_node() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    b.pull(&hub);
    // Both gates lose the hub and admit the same ticket.
    for n in [&mut a, &mut b] {
        state::record_failure(n.t.store.conn(), "connection refused", at(T0 + 5 * MIN)).unwrap();
    }
    let first = a.scan("QR-t1", "gate-1", T0 + 6 * MIN);
    let second = b.scan("QR-t1", "gate-1", T0 + 7 * MIN);
    assert!(first.accepted() && second.accepted());
    for n in [&mut a, &mut b] {
        state::record_contact(n.t.store.conn(), false, false, at(T0 + 8 * MIN)).unwrap();
    }
    a.push(&mut hub);
    b.push(&mut hub);
    // Both went up flagged offline.
    let offline: Vec<bool> = hub
        .log
        .iter()
        .filter(|c| c["kind"] == "scan")
        .map(|c| c["data"]["offline"].as_bool().unwrap())
        .collect();
    assert_eq!(offline, [true, true]);
    // The hub finds the double admission and writes it to its log.
    let side = |n: &Counter, d: &Decision, at_ms: i64| ConflictSide {
        node_id: n.id(),
        node_name: n.name.into(),
        ref_id: d.scan_id.clone(),
        change_id: uuid::Uuid::now_v7().to_string(),
        at: at(at_ms),
        offline: true,
        reader_name: Some("Gate 1".into()),
    };
    let conflict = ConflictRecord {
        id: uuid::Uuid::now_v7().to_string(),
        kind: ConflictKind::DoubleAdmission,
        pass_id: "t1".into(),
        first: side(&a, &first, T0 + 6 * MIN),
        flagged: side(&b, &second, T0 + 7 * MIN),
        message: "Admitted at Gate A at 08:06 UTC while offline".into(),
        detected_at: at(T0 + 9 * MIN),
    };
    hub.say(ChangeBody::Conflict(conflict.clone()));
    assert_eq!(a.pull(&hub).conflicts, 1);
    assert_eq!(b.pull(&hub).conflicts, 1);
    for n in [&a, &b] {
        assert_eq!(
            conflicts::list(n.t.store.conn(), 10).unwrap(),
            std::slice::from_ref(&conflict)
        );
        assert_eq!(conflicts::of_pass(n.t.store.conn(), "t1").unwrap().len(), 1);
        assert_eq!(state::status(n.t.store.conn()).unwrap().conflicts, 1);
    }
    // Flagged where the flagged scan is: B's own, and its copy at A.
    let flagged = |n: &Counter| -> i64 {
        n.t.store
            .conn()
            .query_row(
                "SELECT count(*) FROM scans WHERE id = ?1 AND conflict_id = ?2",
                [&second.scan_id, &conflict.id],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!((flagged(&a), flagged(&b)), (1, 1));
    // Only B tells its webhooks, once, and never sends it up.
    let told = |n: &Counter| n.count("SELECT count(*) FROM outbox WHERE topic = 'passConflict'");
    assert_eq!((told(&a), told(&b)), (0, 1));
    assert_eq!(b.push(&mut hub), 0);
    assert_eq!(b.pull(&hub).applied, 0);
    assert_eq!(told(&b), 1);
    // The next scan of the ticket, anywhere, carries the hub's words.
    let next = b.scan("QR-t1", "gate-1", T0 + 20 * MIN);
    assert_eq!(next.reason, Some(Reason::AlreadyUsed));
    let note = next.conflict.unwrap();
    assert_eq!(note.kind, ConflictKind::DoubleAdmission);
    assert_eq!(
        note.message,
        "Admitted at Gate A at 08:06 UTC while offline"
    );
    let json = serde_json::to_value(a.scan("QR-t1", "gate-1", T0 + 21 * MIN)).unwrap();
    assert_eq!(json["conflict"]["kind"], "doubleAdmission");
    // A pass without a conflict says nothing of one.
    a.issue("t2", "ticket", PassType::EVENT_TICKET, Some("fest"));
    let json = serde_json::to_value(a.scan("QR-t2", "gate-1", T0 + 22 * MIN)).unwrap();
    assert!(json.get("conflict").is_none(), "{json}");
}

#[test]
fn a_bad_change_is_recorded_and_the_rest_applied() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    // A pass whose barcode B's own pass already has, a scan with a reason nobody knows, a
    // policy with a mode nobody knows: each refused in words; the pass after them applied.
    b.issue("mine", "ticket", PassType::EVENT_TICKET, Some("fest"));
    let mut clash = hub.log.last().unwrap().clone();
    clash["id"] = json!(uuid::Uuid::now_v7().to_string());
    clash["data"]["id"] = json!("t-clash");
    clash["data"]["barcodeValue"] = json!("QR-mine");
    let clash: Change = serde_json::from_value(clash).unwrap();
    hub.append(&clash);
    let a_scan = a.scan("QR-t1", "gate-1", T0);
    a.push(&mut hub);
    let mut odd_scan = hub.log.last().unwrap().clone();
    odd_scan["id"] = json!(uuid::Uuid::now_v7().to_string());
    odd_scan["data"]["scanId"] = json!(uuid::Uuid::now_v7().to_string());
    odd_scan["data"]["reason"] = json!("too_sunny");
    let odd_scan: Change = serde_json::from_value(odd_scan).unwrap();
    hub.append(&odd_scan);
    let odd_policy = serde_json::from_value::<Change>(json!({
        "id": uuid::Uuid::now_v7().to_string(), "nodeId": "hub", "at": "2027-01-15T08:00:00Z",
        "kind": "policy",
        "data": {"scope": "event", "scopeId": "fest", "entryMode": "twice", "maxEntries": null,
                 "duplicateWindowMs": 0, "validFrom": null, "validUntil": null, "allowedReaders": null}
    }))
    .unwrap();
    hub.append(&odd_policy);
    a.issue("t2", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    let applied = b.pull(&hub);
    assert_eq!(applied.rejected, 3, "{applied:?}");
    let rejections = state::rejections(b.t.store.conn(), 10).unwrap();
    let reason_of = |id: &str| {
        rejections
            .iter()
            .find(|r| r.change_id == id)
            .map(|r| r.reason.clone())
            .unwrap_or_default()
    };
    assert!(
        reason_of(&clash.id).contains("already belongs to pass mine"),
        "{rejections:?}"
    );
    assert!(
        reason_of(&odd_scan.id).contains("too_sunny"),
        "{rejections:?}"
    );
    assert!(
        reason_of(&odd_policy.id).contains("twice"),
        "{rejections:?}"
    );
    assert!(rejections
        .iter()
        .all(|r| r.hub_seq.is_some() && r.outbox_seq.is_none()));
    assert_eq!(state::status(b.t.store.conn()).unwrap().rejected, 3);
    // Nothing of the refused ones; everything else.
    assert!(pass_store::get_pass(b.t.store.conn(), "t-clash")
        .unwrap()
        .is_none());
    assert!(
        passdesk_core::scan_log::get(b.t.store.conn(), &a_scan.scan_id)
            .unwrap()
            .is_some()
    );
    assert!(pass_store::get_pass(b.t.store.conn(), "t2")
        .unwrap()
        .is_some());
    let policy = catalog::resolve_policy(
        b.t.store.conn(),
        Some("fest"),
        "ticket",
        &PassType::new("eventTicket"),
    )
    .unwrap();
    assert_eq!(policy.entry_mode, EntryMode::Single);
    assert_eq!(
        state::pull_cursor(b.t.store.conn()).unwrap(),
        hub.log.len() as i64
    );
    // The hub's refusals of our pushes are recorded against their outbox events.
    let pending = export::pending(b.t.store.conn(), &b.id(), 10)
        .unwrap()
        .unwrap();
    let refused = passdesk_core::sync::wire::Rejected {
        id: pending.changes[0].id.clone(),
        reason: "not this node's change".into(),
    };
    b.store()
        .write(|tx| state::mark_pushed(tx, pending.through_seq, &[refused], at(T0)))
        .unwrap();
    let rejections = state::rejections(b.t.store.conn(), 10).unwrap();
    assert!(rejections
        .iter()
        .any(|r| r.outbox_seq.is_some() && r.reason == "not this node's change"));
}

#[test]
fn retention_keeps_what_the_hub_has_not_got() {
    let (mut hub, mut a, _b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    for i in 0..5 {
        a.scan("QR-t1", "gate-1", T0 + i * MIN);
    }
    // Every event fanned out to webhooks long ago; six of them (the pass and five scans)
    // are there, one pushed.
    let conn = a.t.store.conn();
    conn.execute(
        "UPDATE webhook_cursor SET after_seq = (SELECT max(seq) FROM outbox)",
        [],
    )
    .unwrap();
    let waiting = export::pending_count(conn).unwrap();
    assert_eq!(waiting, 5);
    let pruned = a
        .store()
        .write(|tx| retention::prune(tx, at(T0 + 365 * DAY), 100))
        .unwrap();
    assert_eq!(pruned.events, 1, "only the pushed event goes");
    assert_eq!(export::pending_count(a.t.store.conn()).unwrap(), 5);
    assert_eq!(a.push(&mut hub), 5);
    let pruned = a
        .store()
        .write(|tx| retention::prune(tx, at(T0 + 365 * DAY), 100))
        .unwrap();
    assert_eq!(pruned.events, 4, "the rest but the newest");
}

#[test]
fn offline_flags_come_from_offline_periods() {
    let mut hub = Hub::default();
    import_catalogue(&mut hub);
    let t = TestStore::new();
    let conn = t.store.conn();
    // Not joined: nothing is "offline".
    assert!(!state::was_offline(conn, at(T0)).unwrap());
    let joined = state::Joined {
        hub_url: "http://hub.test".into(),
        hub_id: "hub-1".into(),
        node_name: "Till 1".into(),
        credential: "secret".into(),
    };
    state::save_join(conn, &joined, at(T0)).unwrap();
    assert_eq!(state::joined(conn).unwrap(), Some(joined.clone()));
    assert!(!format!("{:?}", state::joined(conn).unwrap().unwrap()).contains("secret"));
    // Joined, no contact yet: offline.
    assert!(state::was_offline(conn, at(T0 + MIN)).unwrap());
    state::record_contact(conn, true, false, at(T0 + 2 * MIN)).unwrap();
    assert!(
        state::was_offline(conn, at(T0 + MIN)).unwrap(),
        "before the first contact"
    );
    assert!(!state::was_offline(conn, at(T0 + 3 * MIN)).unwrap());
    state::record_failure(conn, "timed out", at(T0 + 10 * MIN)).unwrap();
    state::record_failure(conn, "refused", at(T0 + 11 * MIN)).unwrap();
    let s = state::status(conn).unwrap();
    assert!(!s.online);
    assert_eq!(s.offline_since, Some(at(T0 + 10 * MIN)));
    assert_eq!(s.last_error.as_deref(), Some("refused"));
    assert!(state::was_offline(conn, at(T0 + 12 * MIN)).unwrap());
    state::record_contact(conn, true, true, at(T0 + 20 * MIN)).unwrap();
    let s = state::status(conn).unwrap();
    assert!(s.online && s.offline_since.is_none() && s.last_error.is_none());
    assert_eq!(s.last_push_at, Some(at(T0 + 20 * MIN)));
    assert!(state::was_offline(conn, at(T0 + 15 * MIN)).unwrap());
    assert!(!state::was_offline(conn, at(T0 + 9 * MIN)).unwrap());
    assert!(!state::was_offline(conn, at(T0 + 20 * MIN)).unwrap());
    assert!(!state::was_offline(conn, at(T0 + 25 * MIN)).unwrap());
    // A second period.
    state::record_failure(conn, "down", at(T0 + 30 * MIN)).unwrap();
    assert!(state::was_offline(conn, at(T0 + 40 * MIN)).unwrap());
    assert!(!state::was_offline(conn, at(T0 + 25 * MIN)).unwrap());
    assert_eq!(
        t.store
            .conn()
            .query_row("SELECT count(*) FROM sync_offline_periods", [], |r| r
                .get::<_, i64>(0))
            .unwrap(),
        2
    );
}

/// The first pull of a new counter: 100,000 passes in pages of 5,000, each page one
/// transaction. `cargo test --release -p passdesk-core --test sync -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run it with --release --ignored"]
fn first_pull_of_100k_passes() {
    let mut hub = Hub::default();
    import_catalogue(&mut hub);
    let template = export::snapshot(TestStore::new().store.conn(), HUB_NODE_ID).unwrap();
    assert!(template.is_empty());
    let scratch = TestStore::new();
    add_template(
        scratch.store.conn(),
        "ticket",
        "Festival Ticket",
        PassType::EVENT_TICKET,
    );
    add_event(
        scratch.store.conn(),
        "fest",
        "Harbour Festival",
        "Europe/London",
    );
    let mut scratch = scratch;
    scratch
        .store
        .write(|tx| {
            for i in 0..100_000 {
                let mut p = qr_pass(
                    &format!("p{i:06}"),
                    "ticket",
                    PassType::EVENT_TICKET,
                    format!("QR-{i:06}"),
                    at(T0),
                );
                p.event_id = Some("fest".into());
                pass_store::upsert_pass(tx, &p)?;
            }
            Ok::<_, passdesk_core::StoreError>(())
        })
        .unwrap();
    for c in export::snapshot(scratch.store.conn(), HUB_NODE_ID).unwrap() {
        hub.append(&c);
    }
    // As JSON, as the counter receives it.
    let mut pages: Vec<PullResponse> = Vec::new();
    let mut after = 0;
    loop {
        let page = hub.pull("counter", after, 5000);
        let text = serde_json::to_string(&page).unwrap();
        let page: PullResponse = serde_json::from_str(&text).unwrap();
        after = page.cursor;
        let more = page.more;
        pages.push(page);
        if !more {
            break;
        }
    }
    let mut counter = TestStore::new();
    let node = counter.node.node_id.clone();
    let started = std::time::Instant::now();
    let mut applied = 0;
    for page in &pages {
        let changes: &[Sequenced] = &page.changes;
        applied += counter
            .store
            .write(|tx| apply::apply_batch(tx, &node, changes, page.cursor, at(T0)))
            .unwrap()
            .applied;
    }
    let took = started.elapsed();
    println!(
        "applied {applied} changes in {} pages: {:.2} s",
        pages.len(),
        took.as_secs_f64()
    );
    assert!(applied >= 100_000);
    assert_eq!(
        pass_store::count_passes(counter.store.conn()).unwrap(),
        100_000
    );
}

/// Sets a pass's message here, as the service's update does (the pass and its event).
fn set_message(n: &mut Counter, id: &str, message: &str, when: i64) {
    n.t.store
        .write(|tx| {
            let mut p = pass_store::get_pass(tx, id)?.unwrap();
            p.latest_message = Some(message.into());
            p.updated_at = at(when);
            pass_store::upsert_pass(tx, &p)?;
            outbox::append(tx, topic::PASS_UPDATED, id, &json!({}), at(when)).map(|_| ())
        })
        .unwrap();
}

fn message(n: &Counter, id: &str) -> Option<String> {
    pass_store::get_pass(n.t.store.conn(), id)
        .unwrap()
        .unwrap()
        .latest_message
}

#[test]
fn a_change_not_pushed_yet_is_not_overwritten_by_a_pull() {
    let (mut hub, mut a, mut b) = venue();
    a.issue("t1", "ticket", PassType::EVENT_TICKET, Some("fest"));
    a.push(&mut hub);
    b.pull(&hub);
    // A's own change comes back after a newer one was made here: the newer one stays.
    set_message(&mut a, "t1", "first", T0 + MIN);
    a.push(&mut hub);
    set_message(&mut a, "t1", "second", T0 + 2 * MIN);
    a.pull(&hub);
    assert_eq!(message(&a, "t1").as_deref(), Some("second"));
    // B's change arrives while A's newer one waits to go up: A's goes up after it, so A's is
    // the last word at the hub, at A and at B.
    set_message(&mut b, "t1", "from B", T0 + 3 * MIN);
    b.push(&mut hub);
    a.pull(&hub);
    assert_eq!(message(&a, "t1").as_deref(), Some("second"));
    a.push(&mut hub);
    a.pull(&hub);
    b.pull(&hub);
    assert_eq!(message(&a, "t1").as_deref(), Some("second"));
    assert_eq!(message(&b, "t1").as_deref(), Some("second"));
    // A void is taken all the same, and the waiting change goes up voided.
    b.void("t1", T0 + 4 * MIN);
    b.push(&mut hub);
    set_message(&mut a, "t1", "third", T0 + 5 * MIN);
    a.pull(&hub);
    let p = pass_store::get_pass(a.t.store.conn(), "t1")
        .unwrap()
        .unwrap();
    assert!(p.is_voided());
    assert_eq!(p.latest_message.as_deref(), Some("third"));
    a.push(&mut hub);
    b.pull(&hub);
    let p = pass_store::get_pass(b.t.store.conn(), "t1")
        .unwrap()
        .unwrap();
    assert!(p.is_voided());
    assert_eq!(p.latest_message.as_deref(), Some("third"));
}

/// 10,000 scans made offline, read for the push in batches of 1,000 (`MAX_PUSH`) and marked
/// pushed. `cargo test --release -p passdesk-core --test sync -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run it with --release --ignored"]
fn export_of_10k_offline_scans() {
    let (_hub, mut a, _b) = venue();
    a.issue("c1", "coffee", PassType::STORE_CARD, None);
    state::record_failure(a.t.store.conn(), "down", at(T0)).unwrap();
    let node = a.id();
    let inputs: Vec<_> = (0..10_000)
        .map(|i| scan_input(b"QR-c1", Medium::Qr, "gate-1", T0 + MIN + i * 11_000))
        .collect();
    for chunk in inputs.chunks(500) {
        passdesk_core::checkin_batch(a.store(), &node, chunk).unwrap();
    }
    let started = std::time::Instant::now();
    let mut sent = 0;
    while let Some(p) = export::pending(a.t.store.conn(), &node, 1000).unwrap() {
        let body = serde_json::to_vec(&PushRequest { changes: p.changes }).unwrap();
        let request: PushRequest = serde_json::from_slice(&body).unwrap();
        assert!(request.changes.iter().all(|c| match &c.body {
            ChangeBody::Scan(s) => s.offline,
            _ => true,
        }));
        sent += request.changes.len();
        a.store()
            .write(|tx| state::mark_pushed(tx, p.through_seq, &[], at(T0)))
            .unwrap();
    }
    let took = started.elapsed();
    println!("exported {sent} changes: {:.2} s", took.as_secs_f64());
    assert_eq!(sent, 10_001);
}
