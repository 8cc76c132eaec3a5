//! Several counters and a hub on loopback, all real processes: `passdesk hub serve` over an
//! SQLite file or a throwaway PostgreSQL cluster (every case runs over both), and `passdesk
//! serve` counters that joined it. The counters start empty; their passes come from the hub
//! (`passdesk hub import`) or from each other. Tests wait for what they need (a scan arriving,
//! a status changing, a conflict listed), never for a time, and never assume which of two
//! counters reaches the hub first.

use passdesk_core::Timestamp;
use passdesk_tests::events::until;
use passdesk_tests::hub::{
    node_id, own_scan_ids, sync_status, wait_offline, wait_online, wait_pushed, wait_scan, Engine,
    HubApp, HubDatabase,
};
use passdesk_tests::receiver::Receiver;
use passdesk_tests::service::{Launch, TestApp};
use passdesk_tests::Node;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

/// Short waits after a failure, so a counter notices the hub back at once; `extra` lines
/// follow in `[sync]`.
fn sync_toml(extra: &str) -> String {
    format!("[sync]\nretry_min = \"100ms\"\nretry_max = \"500ms\"\n{extra}\n")
}

const HOUR: i64 = 3_600_000;
const TICKET_TEMPLATE: &str = "tpl-sync-ticket";
const CARD_TEMPLATE: &str = "tpl-sync-card";
const FESTIVAL: &str = "ev-sync-fest";
/// The card program's reward tier: 50 points.
const TIER: &str = "Free lunch";

/// Templates and the event every counter and the hub share.
fn catalogue() -> Vec<Value> {
    let now = Timestamp::now();
    vec![
        json!({"id": TICKET_TEMPLATE, "type": "passTemplate", "attributes": {"name": "Sync Festival Ticket", "templateType": "eventTicket"}}),
        json!({"id": CARD_TEMPLATE, "type": "passTemplate", "attributes": {"name": "Sync Coffee Card", "templateType": "storeCard"}}),
        json!({"id": FESTIVAL, "type": "event", "attributes": {"name": "Sync Festival", "startTime": now.minus_ms(HOUR).to_rfc3339(), "endTime": now.plus_ms(12 * HOUR).to_rfc3339(), "timeZone": "UTC"}}),
    ]
}

fn ticket_id(i: u32) -> String {
    format!("sync-ticket-{i:05}")
}

fn ticket_code(i: u32) -> String {
    format!("TK-{i:05}")
}

fn card_id(i: u32) -> String {
    format!("sync-card-{i:05}")
}

/// A single-entry festival ticket (an event ticket with no policy: single entry).
fn ticket(i: u32) -> Value {
    json!({"id": ticket_id(i), "type": "pass", "attributes": {
        "passType": "eventTicket", "status": "issued", "extId": format!("ORDER-{i}"),
        "passTemplateUuid": TICKET_TEMPLATE, "eventUuid": FESTIVAL,
        "barcode": {"type": "qrCode", "value": ticket_code(i), "displayText": true},
        "passContent": {"fullName": format!("Ticket Holder {i}")}}})
}

/// A loyalty card (a store card scans any number of times).
fn card(i: u32) -> Value {
    json!({"id": card_id(i), "type": "pass", "attributes": {
        "passType": "storeCard", "status": "issued",
        "passTemplateUuid": CARD_TEMPLATE,
        "barcode": {"type": "qrCode", "value": format!("CARD-{i:05}"), "displayText": true},
        "passContent": {"fullName": format!("Card Holder {i}")}}})
}

fn write_lines(path: &Path, lines: impl IntoIterator<Item = Value>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// Loads the catalogue, `tickets` tickets and `cards` cards into the hub.
fn load_hub(hub: &HubApp, tickets: u32, cards: u32) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.jsonl");
    write_lines(
        &file,
        catalogue()
            .into_iter()
            .chain((1..=tickets).map(ticket))
            .chain((1..=cards).map(card)),
    );
    hub.import(&file);
}

/// A counter's own things: the catalogue (so it can issue and run the card program before
/// its first sync), its gate `gate-<letter>` ("Gate <LETTER>") at the festival and its till
/// `till-<letter>` that redeems and adds points, the card program, and `[sync]`.
fn counter_setup(letter: char, toml: &str) -> impl FnOnce(&Node) + '_ {
    move |node: &Node| {
        let upper = letter.to_ascii_uppercase();
        let file = node.data_dir().join("counter.jsonl");
        write_lines(
            &file,
            catalogue().into_iter().chain([
                json!({"id": format!("gate-{letter}"), "type": "reader", "attributes": {"name": format!("Gate {upper}"), "readerType": "PassdeskCounter", "eventUuid": FESTIVAL}}),
                json!({"id": format!("till-{letter}"), "type": "reader", "attributes": {"name": format!("Till {upper}"), "readerType": "PassdeskCounter", "redeemEnabled": true, "addPointsEnabled": true}}),
            ]),
        );
        node.ok(&[std::ffi::OsStr::new("import"), file.as_os_str()]);
        // At most 5 offline redemptions a day: the cap is not what these tests look at.
        node.ok(&[
            "loyalty",
            "program",
            "set",
            CARD_TEMPLATE,
            "--points-per-unit",
            "1",
            "--unit-minor",
            "100",
            "--tier",
            &format!("{TIER}=50"),
            "--offline-redemptions-per-day",
            "5",
        ]);
        std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap();
    }
}

/// A counter joined to `hub` as "Counter <LETTER>".
fn counter(hub: &HubApp, letter: char) -> TestApp {
    counter_with(hub, letter, Launch::default(), &sync_toml(""))
}

fn counter_with(hub: &HubApp, letter: char, launch: Launch, toml: &str) -> TestApp {
    let name = format!("Counter {}", letter.to_ascii_uppercase());
    hub.counter(&name, launch, counter_setup(letter, toml))
}

/// Waits until the counter knows pass `id`.
#[track_caller]
fn wait_pass(app: &TestApp, id: &str) {
    until(&format!("pass {id} at {}", app.base), || {
        (app.get(&format!("/api/v1/passes/{id}"), &app.cashier_key)
            .status
            == 200)
            .then_some(())
    })
}

/// A scan over the API: the whole answer (`data.id` is the scan's id).
#[track_caller]
fn scan(app: &TestApp, value: &str, reader: &str) -> Value {
    let r = app.post(
        "/api/v1/scans",
        &app.reader_key,
        json!({"value": value, "readerId": reader, "medium": "qr"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.body
}

fn scan_id(doc: &Value) -> String {
    doc["data"]["id"].as_str().unwrap().to_owned()
}

fn verdict(doc: &Value) -> (&str, &str) {
    let a = &doc["data"]["attributes"];
    (
        a["verdict"].as_str().unwrap_or(""),
        a["reason"].as_str().unwrap_or(""),
    )
}

/// The counter's conflicts as its API lists them.
fn counter_conflicts(app: &TestApp) -> Value {
    let r = app.get("/api/v1/sync/conflicts", &app.manager_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

/// Waits until the hub lists a conflict of `kind` about `pass`; returns it.
#[track_caller]
fn wait_hub_conflict(hub: &HubApp, kind: &str, pass: &str) -> Value {
    until(
        &format!("a {kind} conflict about {pass} at the hub"),
        || {
            hub.conflicts()
                .into_iter()
                .find(|c| c["kind"] == kind && c["passId"] == pass)
        },
    )
}

/// Waits until the counter's conflict list holds `conflict_id`; returns its attributes.
#[track_caller]
fn wait_counter_conflict(app: &TestApp, conflict_id: &str) -> Value {
    until(&format!("conflict {conflict_id} at {}", app.base), || {
        counter_conflicts(app)["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == conflict_id)
            .map(|c| c["attributes"].clone())
    })
}

/// A pass's loyalty balance at a counter.
fn balance(app: &TestApp, pass: &str) -> i64 {
    let r = app.get(&format!("/api/v1/passes/{pass}/loyalty"), &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["attributes"]["balance"].as_i64().unwrap()
}

#[track_caller]
fn wait_balance(app: &TestApp, pass: &str, want: i64) {
    until(&format!("balance {want} of {pass} at {}", app.base), || {
        (balance(app, pass) == want).then_some(())
    })
}

fn loyalty_post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, &app.cashier_key, body);
    assert_eq!(r.status, 200, "{path}: {r:?}");
    r.body
}

/// 1. A pass issued at A scans at B (accepted), then at C it is refused: already used at B's
///    gate, which C knows only from the hub.
fn issued_at_a_admitted_at_b_refused_at_c(engine: Engine) {
    let db = HubDatabase::new(engine);
    let hub = db.hub();
    let (a, b, c) = (counter(&hub, 'a'), counter(&hub, 'b'), counter(&hub, 'c'));

    let created = a.post(
        "/api/v1/passes",
        &a.manager_key,
        json!({"passTemplate": TICKET_TEMPLATE, "eventUuid": FESTIVAL, "pass": {"fullName": "Ada Synced"}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let barcode = created.body["data"]["attributes"]["barcode"]["value"]
        .as_str()
        .unwrap()
        .to_owned();

    wait_pass(&b, &id);
    let at_b = scan(&b, &barcode, "gate-b");
    assert_eq!(verdict(&at_b), ("accept", ""), "{at_b}");

    wait_scan(&c, &scan_id(&at_b));
    let at_c = scan(&c, &barcode, "gate-c");
    assert_eq!(verdict(&at_c), ("reject", "already_used"), "{at_c}");
    let previous = &at_c["data"]["attributes"]["previousUse"];
    // Another counter's reader is named with its counter.
    assert_eq!(previous["readerName"], "Gate B (Counter B)", "{at_c}");
    // Nothing here was offline: no conflict anywhere.
    assert!(hub.conflicts().is_empty());
}

/// 2. A scan at A is known at B while both are online (how fast: `passdesk bench sync`).
fn a_scan_at_a_is_known_at_b(engine: Engine) {
    let db = HubDatabase::new(engine);
    let hub = db.hub();
    load_hub(&hub, 3, 0);
    let (a, b) = (counter(&hub, 'a'), counter(&hub, 'b'));
    wait_pass(&a, &ticket_id(1));
    wait_online(&b);
    let at_a = scan(&a, &ticket_code(1), "gate-a");
    assert_eq!(verdict(&at_a), ("accept", ""), "{at_a}");
    wait_scan(&b, &scan_id(&at_a));
    let again = scan(&b, &ticket_code(1), "gate-b");
    assert_eq!(verdict(&again), ("reject", "already_used"), "{again}");
    assert_eq!(
        again["data"]["attributes"]["previousUse"]["readerName"],
        "Gate A (Counter A)"
    );
}

/// 3. The hub is stopped; A and B each admit the same single-entry ticket (offline, both
///    accept). The hub back: the conflict is listed at the hub and by every counter, the next
///    scan of the ticket says so, both scans are in the hub's log, the later flagged, and the
///    flagged counter sends a `passConflict` webhook.
fn offline_double_admission_is_a_conflict_everywhere(engine: Engine) {
    let db = HubDatabase::new(engine);
    let mut hub = db.hub();
    load_hub(&hub, 3, 0);
    let (a, b, c) = (counter(&hub, 'a'), counter(&hub, 'b'), counter(&hub, 'c'));
    let pass = ticket_id(2);
    for app in [&a, &b, &c] {
        wait_pass(app, &pass);
    }
    // Each of A and B tells its own path of the receiver about conflicts.
    let receiver = Receiver::ok();
    for (app, path) in [(&a, "/a"), (&b, "/b")] {
        let r = app.post(
            "/api/v1/webhook-subscriptions",
            &app.manager_key,
            json!({"webhookSubscription": {"url": receiver.url(path), "format": "passentry", "subscribedEvents": ["passConflict"]}}),
        );
        assert_eq!(r.status, 201, "{r:?}");
    }

    assert!(hub.stop().success());
    wait_offline(&a);
    wait_offline(&b);
    let at_a = scan(&a, &ticket_code(2), "gate-a");
    let at_b = scan(&b, &ticket_code(2), "gate-b");
    assert_eq!(verdict(&at_a), ("accept", ""), "{at_a}");
    assert_eq!(verdict(&at_b), ("accept", ""), "{at_b}");
    for app in [&a, &b] {
        let s = sync_status(&app.node);
        assert_eq!(s["online"], false, "{s}");
        assert!(!s["offlineSince"].is_null(), "{s}");
        assert!(s["pending"].as_u64().unwrap() > 0, "{s}");
    }

    hub.restart();
    let conflict = wait_hub_conflict(&hub, "doubleAdmission", &pass);
    let conflict_id = conflict["id"].as_str().unwrap().to_owned();
    let (id_a, id_b) = (scan_id(&at_a), scan_id(&at_b));
    let sides: BTreeSet<&str> = [
        conflict["first"]["refId"].as_str().unwrap(),
        conflict["flagged"]["refId"].as_str().unwrap(),
    ]
    .into();
    assert_eq!(sides, [id_a.as_str(), id_b.as_str()].into(), "{conflict}");
    // Whichever reached the hub second is the flagged one.
    let (flagged_app, flagged_path, flagged_scan, other_app, other_scan) =
        if conflict["flagged"]["refId"] == id_a.as_str() {
            (&a, "/a", &id_a, &b, &id_b)
        } else {
            (&b, "/b", &id_b, &a, &id_a)
        };
    assert_eq!(conflict["flagged"]["nodeId"], node_id(&flagged_app.node));
    assert_eq!(conflict["flagged"]["offline"], true, "{conflict}");
    assert_eq!(conflict["first"]["offline"], true, "{conflict}");

    for app in [&a, &b, &c] {
        // Every counter has it as the hub found it: both sides, the words.
        let listed = wait_counter_conflict(app, &conflict_id);
        assert_eq!(listed["kind"], "doubleAdmission", "{listed}");
        assert_eq!(listed["message"], conflict["message"], "{listed}");
        assert_eq!(listed["flagged"]["refId"], conflict["flagged"]["refId"]);
    }
    // Both scans are in the hub's log, once each.
    let log = hub.observer().scan_ids(&hub);
    for id in [&id_a, &id_b] {
        assert_eq!(
            log.iter().filter(|s| *s == id).count(),
            1,
            "{id} in {log:?}"
        );
    }
    // The flagged scan is marked at its counter; the other is not.
    let marked = |node: &Node, scan: &str| -> Option<String> {
        node.store()
            .conn()
            .query_row("SELECT conflict_id FROM scans WHERE id = ?1", [scan], |r| {
                r.get(0)
            })
            .unwrap()
    };
    until("the flagged scan marked at its counter", || {
        (marked(&flagged_app.node, flagged_scan).as_deref() == Some(conflict_id.as_str()))
            .then_some(())
    });
    assert_eq!(marked(&other_app.node, other_scan), None);

    // The next scan of the ticket, anywhere, carries the conflict's words.
    let next = scan(&c, &ticket_code(2), "gate-c");
    assert_eq!(verdict(&next), ("reject", "already_used"), "{next}");
    let note = &next["data"]["attributes"]["conflict"];
    assert_eq!(
        (&note["id"], &note["kind"], &note["message"]),
        (&conflict["id"], &conflict["kind"], &conflict["message"]),
        "the next scan: {next}"
    );

    // The flagged counter tells its subscriber.
    let got = receiver.wait_until("a passConflict from the flagged counter", |log| {
        log.iter().any(|r| {
            r.path == flagged_path
                && r.delivered()
                && r.header("x-passdesk-event") == "passConflict"
        })
    });
    let hook = got
        .iter()
        .find(|r| r.path == flagged_path && r.delivered())
        .unwrap();
    assert!(
        String::from_utf8_lossy(&hook.body).contains(&pass),
        "{}",
        String::from_utf8_lossy(&hook.body)
    );
}

/// 4. One reward redeemed at two offline tills: `doubleRedemption`. Points spent at two
///    (a reward claimed at each from the same 60 points): the merged balance is below zero,
///    `negativeBalance`. Every counter ends with the same balances.
fn offline_loyalty_conflicts_and_balances_agree(engine: Engine) {
    let db = HubDatabase::new(engine);
    let mut hub = db.hub();
    load_hub(&hub, 0, 2);
    let (a, b, c) = (counter(&hub, 'a'), counter(&hub, 'b'), counter(&hub, 'c'));
    let (twice, spent) = (card_id(1), card_id(2));
    for app in [&a, &b, &c] {
        wait_pass(app, &twice);
        wait_pass(app, &spent);
    }
    // Online: 60 points on each card at A, and a reward claimed on the first.
    for pass in [&twice, &spent] {
        loyalty_post(
            &a,
            &format!("/api/v1/passes/{pass}/loyalty/earn"),
            json!({"points": 60}),
        );
    }
    let claimed = loyalty_post(
        &a,
        &format!("/api/v1/passes/{twice}/loyalty/rewards"),
        json!({"tier": TIER}),
    );
    let reward = claimed["data"]["attributes"]["reward"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for app in [&b, &c] {
        wait_balance(app, &twice, 10);
        wait_balance(app, &spent, 60);
    }

    assert!(hub.stop().success());
    wait_offline(&a);
    wait_offline(&b);
    for app in [&a, &b] {
        loyalty_post(
            app,
            &format!("/api/v1/passes/{twice}/loyalty/rewards/{reward}/redeem"),
            json!({}),
        );
        loyalty_post(
            app,
            &format!("/api/v1/passes/{spent}/loyalty/rewards"),
            json!({"tier": TIER}),
        );
        assert_eq!(balance(app, &spent), 10);
    }

    hub.restart();
    let redeemed = wait_hub_conflict(&hub, "doubleRedemption", &twice);
    let negative = wait_hub_conflict(&hub, "negativeBalance", &spent);
    for conflict in [&redeemed, &negative] {
        let nodes: BTreeSet<&str> = [
            conflict["first"]["nodeId"].as_str().unwrap(),
            conflict["flagged"]["nodeId"].as_str().unwrap(),
        ]
        .into();
        assert_eq!(
            nodes,
            [node_id(&a.node), node_id(&b.node)]
                .iter()
                .map(String::as_str)
                .collect(),
            "{conflict}"
        );
        // Both sides were made while their counter had no hub.
        assert_eq!(conflict["first"]["offline"], true, "{conflict}");
        assert_eq!(conflict["flagged"]["offline"], true, "{conflict}");
        let id = conflict["id"].as_str().unwrap();
        for app in [&a, &b, &c] {
            assert_eq!(wait_counter_conflict(app, id)["kind"], conflict["kind"]);
        }
    }
    // Both claims stand (history is not rewritten): 60 - 50 - 50 everywhere.
    for app in [&a, &b, &c] {
        wait_balance(app, &spent, -40);
    }
    let first = balance(&a, &twice);
    for app in [&b, &c] {
        wait_balance(app, &twice, first);
    }
}

/// Makes `n` scans of a loyalty card at `reader` with `passdesk scan -` (one process, one
/// decision per line): accepted, each its own row and its own change to push.
fn many_scans(app: &TestApp, reader: &str, card: u32, n: usize) {
    let mut child = app
        .node
        .cmd()
        .args(["scan", "-", "--reader", reader, "--medium", "qr"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
        for _ in 0..n {
            writeln!(stdin, "CARD-{card:05}").unwrap();
        }
    }
    assert!(child.wait().unwrap().success());
}

/// Every scan id of the hub's log appears once, and the hub holds exactly the scans the
/// counters made.
#[track_caller]
fn hub_holds_exactly(hub: &HubApp, counters: &[&TestApp]) {
    let log = hub.observer().scan_ids(hub);
    let mut seen = HashMap::new();
    for id in &log {
        *seen.entry(id.as_str()).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "scans twice in the hub's log: {twice:?}");
    let at_hub: BTreeSet<String> = log.iter().cloned().collect();
    let made: BTreeSet<String> = counters
        .iter()
        .flat_map(|c| own_scan_ids(&c.node))
        .collect();
    let lost: Vec<_> = made.difference(&at_hub).take(5).collect();
    let unknown: Vec<_> = at_hub.difference(&made).take(5).collect();
    assert!(
        lost.is_empty() && unknown.is_empty(),
        "{} scans made, {} at the hub; lost (first 5): {lost:?}; unknown: {unknown:?}",
        made.len(),
        at_hub.len()
    );
}

/// How many of the counter's own scans the hub holds.
fn at_hub(hub: &HubApp, observer: &passdesk_tests::hub::Observer) -> usize {
    observer.scan_ids(hub).len()
}

/// 5a. `kill -9` of a counter while it pushes 2,000 queued scans, 100 per push; restarted, it
///     pushes the rest: every scan at the hub exactly once.
fn counter_killed_mid_push_loses_and_doubles_nothing(engine: Engine) {
    let db = HubDatabase::new(engine);
    let mut hub = db.hub();
    load_hub(&hub, 0, 1);
    let mut a = counter_with(&hub, 'a', Launch::default(), &sync_toml("batch = 100"));
    wait_pass(&a, &card_id(1));
    assert!(hub.stop().success());
    wait_offline(&a);
    many_scans(&a, "till-a", 1, 2000);
    hub.restart();
    let observer = hub.observer();
    // Killed as soon as the hub holds some of them (if it already holds all, the restart
    // still has to leave them exactly once).
    let before = until("the first pushes at the hub", || {
        Some(at_hub(&hub, &observer)).filter(|n| *n > 0)
    });
    a.kill();
    // What the kill interrupted, for whoever reads the output (not asserted: how far the
    // pushes got by then is the machine's business).
    eprintln!(
        "counter killed with {before} (or a little more) of its 2000 scans at the hub, {} after",
        at_hub(&hub, &observer)
    );
    a.restart();
    wait_pushed(&a);
    hub_holds_exactly(&hub, &[&a]);
    assert_eq!(own_scan_ids(&a.node).len(), 2000);
}

/// 5b. `kill -9` of the hub while two counters push; restarted: nothing lost, nothing twice.
fn hub_killed_mid_push_loses_and_doubles_nothing(engine: Engine) {
    let db = HubDatabase::new(engine);
    let mut hub = db.hub();
    load_hub(&hub, 0, 2);
    let toml = sync_toml("batch = 50");
    let a = counter_with(&hub, 'a', Launch::default(), &toml);
    let b = counter_with(&hub, 'b', Launch::default(), &toml);
    for app in [&a, &b] {
        wait_pass(app, &card_id(2));
    }
    assert!(hub.stop().success());
    wait_offline(&a);
    wait_offline(&b);
    many_scans(&a, "till-a", 1, 1000);
    many_scans(&b, "till-b", 2, 1000);
    hub.restart();
    let observer = hub.observer();
    let before = until("the first pushes at the hub", || {
        Some(at_hub(&hub, &observer)).filter(|n| *n > 0)
    });
    hub.kill();
    eprintln!("hub killed with {before} (or a little more) of the 2000 scans");
    wait_offline(&a);
    hub.restart();
    wait_pushed(&a);
    wait_pushed(&b);
    hub_holds_exactly(&hub, &[&a, &b]);
}

/// 6. A counter whose clock is 10 minutes fast still syncs both ways: the hub's cursor orders
///    everything, never a clock.
fn a_counter_ten_minutes_fast_syncs_both_ways(engine: Engine) {
    let db = HubDatabase::new(engine);
    let hub = db.hub();
    load_hub(&hub, 4, 0);
    let a = counter_with(&hub, 'a', Launch::clock_off("+10m"), &sync_toml(""));
    let b = counter(&hub, 'b');
    wait_pass(&a, &ticket_id(1));
    wait_pass(&b, &ticket_id(1));

    // A's clock really is ahead: its scan is stamped 10 minutes from now.
    let at_a = scan(&a, &ticket_code(1), "gate-a");
    assert_eq!(verdict(&at_a), ("accept", ""), "{at_a}");
    let stamped = Timestamp::parse_rfc3339(at_a["data"]["attributes"]["at"].as_str().unwrap())
        .expect("an RFC 3339 time");
    assert!(
        stamped.unix_ms() > Timestamp::now().plus_ms(9 * 60_000).unix_ms(),
        "A's clock is not ahead: {at_a}"
    );
    wait_scan(&b, &scan_id(&at_a));
    assert_eq!(
        verdict(&scan(&b, &ticket_code(1), "gate-b")),
        ("reject", "already_used")
    );

    let at_b = scan(&b, &ticket_code(2), "gate-b");
    assert_eq!(verdict(&at_b), ("accept", ""), "{at_b}");
    wait_scan(&a, &scan_id(&at_b));
    assert_eq!(
        verdict(&scan(&a, &ticket_code(2), "gate-a")),
        ("reject", "already_used")
    );

    // A pass issued at the fast counter reaches the other.
    let created = a.post(
        "/api/v1/passes",
        &a.manager_key,
        json!({"passTemplate": TICKET_TEMPLATE, "eventUuid": FESTIVAL, "pass": {"fullName": "Early Eve"}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    wait_pass(&b, created.body["data"]["id"].as_str().unwrap());
    wait_pushed(&a);
    wait_pushed(&b);
}

/// 7. Two hub processes over one PostgreSQL database: A joined through the first, B through
///    the second; a scan at A reaches B.
#[test]
fn two_hub_processes_over_one_postgresql() {
    let db = HubDatabase::new(Engine::Postgres);
    let one = db.hub();
    let two = db.hub();
    assert_ne!(one.base, two.base);
    load_hub(&one, 2, 0);
    let a = counter(&one, 'a');
    let b = counter(&two, 'b');
    wait_pass(&a, &ticket_id(1));
    wait_pass(&b, &ticket_id(1));
    let at_a = scan(&a, &ticket_code(1), "gate-a");
    assert_eq!(verdict(&at_a), ("accept", ""), "{at_a}");
    wait_scan(&b, &scan_id(&at_a));
    let at_b = scan(&b, &ticket_code(2), "gate-b");
    wait_scan(&a, &scan_id(&at_b));
    // Both nodes are known to the database, whichever process enrolled them.
    let names: BTreeSet<String> = one
        .nodes()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains("Counter A") && names.contains("Counter B"),
        "{names:?}"
    );
}

/// 8. A new counter's first sync of 10,000 passes, interrupted by `kill -9` and resumed: all
///    of them there.
fn first_sync_interrupted_and_resumed(engine: Engine) {
    const PASSES: u32 = 10_000;
    let db = HubDatabase::new(engine);
    let hub = db.hub();
    load_hub(&hub, PASSES, 0);
    // Small pages, so the first sync is many transactions and the kill falls between two.
    let mut a = counter_with(&hub, 'a', Launch::default(), &sync_toml("pull_batch = 500"));
    let count = |node: &Node| -> i64 {
        node.store()
            .conn()
            .query_row(
                "SELECT count(*) FROM passes WHERE id LIKE 'sync-ticket-%'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    until("the first sync under way", || {
        (count(&a.node) > 0).then_some(())
    });
    a.kill();
    let kept = count(&a.node);
    eprintln!("first sync killed with {kept} of {PASSES} passes at the counter");
    a.restart();
    until("all the passes at the counter", || {
        (count(&a.node) == i64::from(PASSES)).then_some(())
    });
    assert!(kept <= i64::from(PASSES));
    // Scans find them.
    assert_eq!(
        verdict(&scan(&a, &ticket_code(PASSES), "gate-a")),
        ("accept", "")
    );
}

/// Each case as two tests: over an SQLite hub and over a PostgreSQL hub.
macro_rules! over_both_engines {
    ($($case:ident),* $(,)?) => {
        mod sqlite_hub {
            $(#[test] fn $case() { super::$case(passdesk_tests::hub::Engine::Sqlite) })*
        }
        mod postgres_hub {
            $(#[test] fn $case() { super::$case(passdesk_tests::hub::Engine::Postgres) })*
        }
    };
}

over_both_engines!(
    issued_at_a_admitted_at_b_refused_at_c,
    a_scan_at_a_is_known_at_b,
    offline_double_admission_is_a_conflict_everywhere,
    offline_loyalty_conflicts_and_balances_agree,
    counter_killed_mid_push_loses_and_doubles_nothing,
    hub_killed_mid_push_loses_and_doubles_nothing,
    a_counter_ten_minutes_fast_syncs_both_ways,
    first_sync_interrupted_and_resumed,
);
