//! Webhook delivery end to end: the real `passdesk serve` (127.0.0.1:0, a real SQLite file)
//! sends to real loopback receivers (`passdesk_tests::receiver`) that record every request and
//! answer as each test tells them. Signatures are checked by code we did not write (the
//! `standardwebhooks` PyPI library and Python's `hmac`, `tests/webhooks/verify.py`). Every
//! wait is for something the receiver or the service reports, never for a time.

use passdesk_tests::events::until;
use passdesk_tests::receiver::{always, delivered_ids, Answer, Received, Receiver, Reserved};
use passdesk_tests::service::TestApp;
use passdesk_tests::signatures::{self, Signed};
use passdesk_tests::{describe, last_json, Node};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

const SUBSCRIPTIONS: &str = "/api/v1/webhook-subscriptions";

/// `[webhooks]` with short waits between attempts (`waits` of 200 ms) and `extra` lines.
fn config(waits: usize, extra: &str) -> String {
    let waits = vec!["\"200ms\""; waits].join(", ");
    format!("[webhooks]\nretry_schedule = [{waits}]\n{extra}\n")
}

/// Subscribes `url`; returns its id and secret.
fn subscribe(app: &TestApp, url: &str, format: &str, events: &[&str]) -> (String, String) {
    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        json!({"webhookSubscription": {"url": url, "format": format, "subscribedEvents": events}}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let a = &r.body["data"]["attributes"];
    (
        r.body["data"]["id"].as_str().unwrap().to_owned(),
        a["secretKey"].as_str().unwrap().to_owned(),
    )
}

/// A scan of a value no pass has: a decision (refused), so a `passTapped` event.
fn tap(app: &TestApp, value: &str) {
    app.scan(value, "gate-a");
}

/// The subscription's line on `/status`.
fn status_line(app: &TestApp, id: &str) -> Value {
    let status = app.get("/api/v1/status", &app.reader_key);
    assert_eq!(status.status, 200, "{status:?}");
    status.body["data"]["attributes"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no line for {id} on /status: {status:?}"))
}

fn set_enabled(app: &TestApp, id: &str, enabled: bool) {
    let r = app.patch(
        &format!("{SUBSCRIPTIONS}/{id}"),
        &app.manager_key,
        json!({"webhookSubscription": {"enabled": enabled}}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

/// One query's single number from the counter's database (read beside the running service).
fn count(node: &Node, sql: &str) -> i64 {
    node.store()
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// What the receivers' code (`passdesk_tests::signatures`) says of each request: the Standard
/// Webhooks library's verdict ("ok" or its error) and PassEntry's signature recomputed (`None`
/// without one).
fn verify(secret: &str, requests: &[Received]) -> Vec<(String, Option<bool>)> {
    let signed: Vec<Signed<'_>> = requests
        .iter()
        .map(|r| Signed {
            name: r.webhook_id(),
            body: &r.body,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect(),
        })
        .collect();
    signatures::verify(secret, false, &signed)
        .into_iter()
        .map(|v| (v.standard, v.passentry))
        .collect()
}

fn on(log: &[Received], path: &str) -> Vec<Received> {
    log.iter().filter(|r| r.path == path).cloned().collect()
}

/// How many requests each `webhook-id` got on `path`.
fn per_event(log: &[Received], path: &str) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in log.iter().filter(|r| r.path == path) {
        *n.entry(r.webhook_id().to_owned()).or_default() += 1;
    }
    n
}

#[test]
fn events_reach_each_subscription_once_in_its_format_and_signed() {
    let receiver = Receiver::ok();
    let app = TestApp::with_config(&config(20, ""));
    let (pe, pe_secret) = subscribe(&app, &receiver.url("/pe"), "passentry", &[]);
    let (_, std_secret) = subscribe(&app, &receiver.url("/std"), "standard", &["passScanned"]);
    let (_, pc_secret) = subscribe(&app, &receiver.url("/pc/{event}"), "passcreator", &[]);

    let issued = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Webhook Holder"}}),
    );
    assert!(issued.status == 201 || issued.status == 200, "{issued:?}");
    for i in 0..3 {
        tap(&app, &format!("WEBHOOK-{i}"));
    }
    let log = receiver.wait_until(
        "3 taps and an issue on /pe, 3 taps on /std, 1 on /pc",
        |log| {
            delivered_ids(log, "/pe").len() == 4
                && delivered_ids(log, "/std").len() == 3
                && delivered_ids(log, "/pc/pass_created").len() == 1
        },
    );

    // Each event once per subscription, as the outbox has it: the taps' ids are the outbox
    // rows' ids, the same for every subscription.
    for path in ["/pe", "/std", "/pc/pass_created"] {
        assert!(per_event(&log, path).values().all(|&n| n == 1), "{path}");
    }
    let taps: BTreeSet<String> = app
        .node
        .store()
        .conn()
        .prepare("SELECT id FROM outbox WHERE topic = 'passTapped' ORDER BY seq DESC LIMIT 3")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(delivered_ids(&log, "/std"), taps);
    assert!(taps.is_subset(&delivered_ids(&log, "/pe")));

    // PassEntry's body and both its signatures.
    let pe_log = on(&log, "/pe");
    for r in &pe_log {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), "application/json");
        let kind = r.json()["data"]["attributes"]["webhookType"].clone();
        assert_eq!(
            r.header("x-passdesk-event"),
            kind.as_str().unwrap(),
            "{kind}"
        );
    }
    let kinds: BTreeSet<String> = pe_log
        .iter()
        .map(|r| r.header("x-passdesk-event").to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["passCreated", "passTapped"].map(String::from).into()
    );
    for (standard, passentry) in verify(&pe_secret, &pe_log) {
        assert_eq!((standard.as_str(), passentry), ("ok", Some(true)));
    }
    // Standard Webhooks: its envelope, its signature; no PassEntry header.
    let std_log = on(&log, "/std");
    for r in &std_log {
        assert_eq!(r.json()["type"], "passTapped", "{}", r.json());
    }
    for (standard, passentry) in verify(&std_secret, &std_log) {
        assert_eq!((standard.as_str(), passentry), ("ok", None));
    }
    // Another subscription's secret verifies nothing.
    assert!(verify(&pe_secret, &std_log).iter().all(|(s, _)| s != "ok"));
    // Passcreator: its event in the URL and the body, its only event here the issue.
    let pc_log = on(&log, "/pc/pass_created");
    assert_eq!(pc_log[0].header("x-passdesk-event"), "pass_created");
    assert_eq!(verify(&pc_secret, &pc_log)[0].0, "ok");

    // A test event queued by the CLI (another process, straight into the database) is sent
    // by the running counter.
    let out = app.node.run(&["webhooks", "test", &pe]);
    assert!(out.status.success(), "{}", describe(&out));
    let is_test = |r: &Received| r.json()["data"]["attributes"]["webhookType"] == "webhookTest";
    receiver.wait_until("the CLI's test event", |log| {
        log.iter()
            .any(|r| r.path == "/pe" && r.delivered() && is_test(r))
    });

    // A new secret signs every later delivery at once; the old one verifies none of them.
    let rotated = app.patch(
        &format!("{SUBSCRIPTIONS}/{pe}/rotate-secret"),
        &app.manager_key,
        json!({}),
    );
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_secret = rotated.body["data"]["attributes"]["secretKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.post(
        &format!("{SUBSCRIPTIONS}/{pe}/test"),
        &app.manager_key,
        json!({}),
    );
    assert!(r.status < 300, "{r:?}");
    let log = receiver.wait_until("the API's test event", |log| {
        log.iter()
            .filter(|r| r.path == "/pe" && r.delivered() && is_test(r))
            .count()
            == 2
    });
    let last = log
        .iter()
        .rev()
        .find(|r| r.path == "/pe" && is_test(r))
        .unwrap();
    assert_eq!(
        verify(&new_secret, std::slice::from_ref(last))[0],
        ("ok".into(), Some(true))
    );
    assert_ne!(verify(&pe_secret, std::slice::from_ref(last))[0].0, "ok");
}

#[test]
fn a_receiver_that_was_down_gets_everything_once_it_is_up() {
    let port = Reserved::new();
    let app = TestApp::with_config(&config(50, ""));
    let (id, _) = subscribe(&app, &port.url("/down"), "standard", &[]);
    for i in 0..3 {
        tap(&app, &format!("DOWN-{i}"));
    }
    // Each refused at least once, and said so where the manager looks.
    until("3 deliveries refused", || {
        let list = app.get(
            &format!("/api/v1/webhook-deliveries?subscriptionId={id}"),
            &app.manager_key,
        );
        let refused = list.body["data"].as_array()?.iter().filter(|d| {
            d["attributes"]["lastError"]
                .as_str()
                .is_some_and(|e| e.contains("cannot connect"))
        });
        (refused.count() == 3).then_some(())
    });
    let line = status_line(&app, &id);
    assert!(!line["failingSince"].is_null(), "{line}");
    assert_eq!(line["backlog"], 3, "{line}");
    assert!(
        line["lastError"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{line}"
    );
    assert_eq!(line["enabled"], true);
    assert_eq!(line["host"], port.addr.to_string());

    let receiver = port.start(always(200));
    let log = receiver.wait_delivered("/down", 3);
    assert!(per_event(&log, "/down").values().all(|&n| n == 1));
    let line = until("a clean bill of health on /status", || {
        let line = status_line(&app, &id);
        (line["backlog"] == 0 && !line["lastSuccessAt"].is_null()).then_some(line)
    });
    assert!(
        line["failingSince"].is_null() && line["lastError"].is_null(),
        "{line}"
    );

    // The log has every attempt: refused ones first, the 2xx last.
    let list = app.get(
        &format!("/api/v1/webhook-deliveries?subscriptionId={id}"),
        &app.manager_key,
    );
    assert_eq!(list.status, 200, "{list:?}");
    for d in list.body["data"].as_array().unwrap() {
        assert_eq!(d["attributes"]["state"], "delivered", "{d}");
        let got = app.get(
            &format!("/api/v1/webhook-deliveries/{}", d["id"].as_str().unwrap()),
            &app.manager_key,
        );
        let attempts = got.body["included"].as_array().unwrap();
        assert!(attempts.len() >= 2, "{got:?}");
        let first = &attempts[0]["attributes"];
        assert!(first["status"].is_null(), "{first}");
        assert!(
            first["error"].as_str().unwrap().contains("cannot connect"),
            "{first}"
        );
        assert_eq!(attempts.last().unwrap()["attributes"]["status"], 200);
    }
}

#[test]
fn a_500_is_tried_again_the_last_failure_is_kept_and_retry_sends_it() {
    // Two attempts: the first 500 is tried again, the second given up.
    let receiver = Receiver::start(always(500));
    let app = TestApp::with_config(&config(1, ""));
    let (id, _) = subscribe(&app, &receiver.url("/flaky"), "passentry", &["passTapped"]);
    tap(&app, "FLAKY-1");
    let log = receiver.wait_until("two attempts", |log| log.len() == 2);
    assert_eq!(
        log[0].webhook_id(),
        log[1].webhook_id(),
        "the same webhook-id"
    );
    assert_eq!(log[0].body, log[1].body, "the same body");
    let failed = until("the delivery given up", || {
        let r = app.get(
            &format!("/api/v1/webhook-deliveries?subscriptionId={id}&state=failed"),
            &app.manager_key,
        );
        r.body["data"].as_array().and_then(|d| d.first().cloned())
    });
    let a = &failed["attributes"];
    assert_eq!(
        (a["attempts"].clone(), a["lastStatus"].clone()),
        (json!(2), json!(500))
    );
    assert!(a["lastError"].as_str().unwrap().contains("500"), "{a}");
    assert_eq!(status_line(&app, &id)["backlog"], 0);

    // The endpoint mends; the manager retries: sent once more, delivered.
    receiver.set_plan(always(204));
    let delivery = failed["id"].as_str().unwrap();
    let r = app.post(
        &format!("/api/v1/webhook-deliveries/{delivery}/retry"),
        &app.manager_key,
        json!({}),
    );
    assert_eq!(r.status, 202, "{r:?}");
    let log = receiver.wait_until("the retried delivery", |log| {
        log.len() == 3 && log[2].delivered()
    });
    assert_eq!(log[2].webhook_id(), log[0].webhook_id());
    until("the 2xx recorded", || {
        let r = app.get(
            &format!("/api/v1/webhook-deliveries/{delivery}"),
            &app.manager_key,
        );
        (r.body["data"]["attributes"]["state"] == "delivered").then_some(())
    });
    let r = app.post(
        &format!("/api/v1/webhook-deliveries/{delivery}/retry"),
        &app.manager_key,
        json!({}),
    );
    assert_eq!(r.status, 409, "a delivered one is never sent again: {r:?}");
}

#[test]
fn a_503_with_retry_after_waits_at_least_that_long() {
    let receiver = Receiver::start(Box::new(|_, before| {
        if before.is_empty() {
            Answer::With(503, vec![("retry-after", "2".into())])
        } else {
            Answer::Status(200)
        }
    }));
    let app = TestApp::with_config(&config(5, ""));
    subscribe(&app, &receiver.url("/busy"), "standard", &[]);
    tap(&app, "BUSY-1");
    let log = receiver.wait_delivered("/busy", 1);
    assert_eq!(log.len(), 2);
    let waited = log[1].at - log[0].answered_at.unwrap();
    assert!(
        waited >= Duration::from_secs(2),
        "tried again {waited:?} after a Retry-After of 2 s (the schedule says 200 ms)"
    );
}

#[test]
fn gone_turns_a_subscription_off_and_turning_it_on_replays_what_it_held() {
    let gone = Receiver::start(always(410));
    let control = Receiver::ok();
    let app = TestApp::with_config(&config(20, "concurrency = 1"));
    let (id, _) = subscribe(&app, &gone.url("/gone"), "passentry", &[]);
    subscribe(&app, &control.url("/control"), "passentry", &[]);
    tap(&app, "GONE-1");
    tap(&app, "GONE-2");
    let line = until("the subscription turned off for a 410", || {
        let line = status_line(&app, &id);
        (line["enabled"] == false).then_some(line)
    });
    assert_eq!(line["disabledReason"], "gone", "{line}");
    // Later events are held for it, not sent: the control receiver gets them, it nothing.
    tap(&app, "GONE-3");
    tap(&app, "GONE-4");
    control.wait_delivered("/control", 4);
    until("4 events fanned out to both", || {
        (status_line(&app, &id)["backlog"] == 3).then_some(())
    });
    assert_eq!(
        gone.received().len(),
        1,
        "one request, answered 410, then nothing"
    );

    // The endpoint is back; a manager turns the subscription on: its backlog is replayed.
    gone.set_plan(always(200));
    set_enabled(&app, &id, true);
    let log = gone.wait_delivered("/gone", 3);
    assert_eq!(log.len(), 4);
    let line = until("an empty backlog", || {
        let line = status_line(&app, &id);
        (line["backlog"] == 0).then_some(line)
    });
    assert!(
        line["disabledReason"].is_null() && line["enabled"] == true,
        "{line}"
    );
}

#[test]
fn a_slow_receiver_never_holds_a_fast_one() {
    let slow = Receiver::start(Box::new(|_, _| Answer::Hold(200)));
    let fast = Receiver::ok();
    let app = TestApp::with_config(&config(20, "timeout_secs = 120"));
    subscribe(&app, &slow.url("/slow"), "passentry", &[]);
    subscribe(&app, &fast.url("/fast"), "passentry", &[]);
    for i in 0..10 {
        tap(&app, &format!("SLOW-{i}"));
    }
    fast.wait_delivered("/fast", 10);
    let held = slow.received();
    assert!(
        held.iter().all(|r| r.answered.is_none()),
        "the slow receiver has answered nothing yet"
    );
    assert!(
        held.len() <= 4,
        "at most 4 requests in flight per endpoint: {}",
        held.len()
    );
    slow.release();
    let log = slow.wait_delivered("/slow", 10);
    assert!(per_event(&log, "/slow").values().all(|&n| n == 1));
}

#[test]
fn kill_9_mid_delivery_then_restart_delivers_everything_and_nothing_twice_after_its_2xx() {
    // The first three requests are answered at once; the rest are held (never answered).
    let receiver = Receiver::start(Box::new(|r, _| {
        if r.n < 3 {
            Answer::Status(200)
        } else {
            Answer::Hold(200)
        }
    }));
    let mut app = TestApp::with_config(&config(50, ""));
    subscribe(&app, &receiver.url("/k"), "standard", &[]);
    for i in 0..8 {
        tap(&app, &format!("KILL-{i}"));
    }
    receiver.wait_until("3 answered and more held", |log| log.len() >= 4);
    let delivered = "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'";
    until("the 3 answers recorded", || {
        (count(&app.node, delivered) == 3).then_some(())
    });
    let recorded: BTreeSet<String> = app
        .node
        .store()
        .conn()
        .prepare("SELECT event_id FROM webhook_deliveries WHERE state = 'delivered'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recorded, delivered_ids(&receiver.received(), "/k"));

    app.kill();
    receiver.set_plan(always(200));
    app.restart();
    let log = receiver.wait_delivered("/k", 8);
    // Each event got exactly one 2xx: those recorded before the kill were not sent again;
    // those held were sent again after the restart, with the same webhook-id.
    let mut answered_2xx: HashMap<&str, usize> = HashMap::new();
    for r in log.iter().filter(|r| r.delivered()) {
        *answered_2xx.entry(r.webhook_id()).or_default() += 1;
    }
    assert_eq!(answered_2xx.len(), 8);
    assert!(answered_2xx.values().all(|&n| n == 1), "{answered_2xx:?}");
    for id in &recorded {
        assert_eq!(
            per_event(&log, "/k")[id],
            1,
            "{id} was recorded as delivered and sent again"
        );
    }
    until("all 8 recorded as delivered", || {
        (count(&app.node, delivered) == 8).then_some(())
    });
}

#[test]
fn retention_prunes_the_outbox_and_the_log_and_a_loyalty_replay_still_answers() {
    let receiver = Receiver::ok();
    let mut app = TestApp::with_config(&config(5, "retention_days = 0"));
    // The run at start prunes the demo's events (all but the newest); the next is an hour
    // away, so only the restart below runs it again.
    until("retention at start", || {
        (count(&app.node, "SELECT count(*) FROM outbox") == 1).then_some(())
    });
    subscribe(
        &app,
        &receiver.url("/loyal"),
        "passentry",
        &["passLoyaltyUpdated"],
    );
    let key = "0190b5a0-0000-7000-8000-00000000c0de";
    let earn = |app: &TestApp| {
        let r = app.call(
            "POST",
            "/api/v1/passes/CUST-9001/loyalty/earn",
            Some(&app.cashier_key),
            Some(&json!({"points": 7})),
            &[("Idempotency-Key", key)],
        );
        assert_eq!(r.status, 200, "{r:?}");
        r.body["data"]["attributes"].clone()
    };
    let first = earn(&app);
    assert_eq!(first["replayed"], false);
    let event_id = receiver.wait_delivered("/loyal", 1)[0]
        .webhook_id()
        .to_owned();
    // A later event: the newest is always kept (seqs only grow), this one.
    tap(&app, "AFTER-THE-EARN");
    until("the outbox fanned out", || {
        let s = app.get("/api/v1/status", &app.reader_key);
        (s.body["data"]["attributes"]["outboxPending"] == 0).then_some(())
    });
    until("the delivery recorded", || {
        (count(
            &app.node,
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'",
        ) == 1)
            .then_some(())
    });
    let loyalty_event = format!("SELECT count(*) FROM outbox WHERE id = '{event_id}'");
    assert_eq!(count(&app.node, &loyalty_event), 1);

    // Retention runs at start: with 0 days, everything fanned out and done goes.
    assert!(app.stop().success());
    app.restart();
    until("the outbox and the delivery log pruned", || {
        (count(&app.node, "SELECT count(*) FROM outbox") == 1
            && count(&app.node, "SELECT count(*) FROM webhook_deliveries") == 0)
            .then_some(())
    });
    assert_eq!(count(&app.node, &loyalty_event), 0);
    assert_eq!(count(&app.node, "SELECT count(*) FROM webhook_attempts"), 0);
    let kept =
        "SELECT count(*) FROM loyalty_operations WHERE outbox_seq IS NULL AND result IS NOT NULL";
    assert!(count(&app.node, kept) > 0);

    let again = earn(&app);
    assert_eq!(again["replayed"], true, "{again}");
    assert_eq!(again["entries"], first["entries"]);
    assert_eq!(again["account"], first["account"]);
    let loyalty = app.get("/api/v1/passes/CUST-9001/loyalty", &app.cashier_key);
    assert_eq!(loyalty.status, 200, "{loyalty:?}");
}

#[test]
fn bad_webhook_settings_stop_the_start_and_say_what_is_wrong() {
    for (toml, says) in [
        ("[webhooks]\nconcurrency = 0\n", "give 1 to 64"),
        ("[webhooks]\ntimeout_secs = 0\n", "give 1 to 300 seconds"),
        (
            "[webhooks]\nretry_schedule = [\"1m\", \"later\"]\n",
            "wait 2 (\"later\") is not a duration",
        ),
        ("[webhooks]\nretention_days = -3\n", "give 0 to 3650"),
        ("[webhooks]\nretries = 5\n", "retries"),
    ] {
        let node = Node::new();
        std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap();
        let out = node.run(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-readers",
            "--no-camera",
        ]);
        assert!(!out.status.success(), "{toml}: {}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{toml}: {err}");
        assert!(err.contains("webhooks"), "{toml}: {err}");
        assert!(out.stdout.is_empty() || last_json(&out).get("listening").is_none());
    }
}
