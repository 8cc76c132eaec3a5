//! "Today" over HTTP: the counter's configured zone on /status, a gate's day in its event's zone
//! on GET /api/v1/scans/today, event zones checked, an unknown configured zone refused.

use passdesk_core::local_day::{local_day, LocalDay, TimeZone};
use passdesk_core::Timestamp;
use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::Node;
use serde_json::{json, Value};

fn zone(name: &str) -> TimeZone {
    name.parse().unwrap()
}

fn day_json(day: &LocalDay) -> Value {
    json!({ "start": day.start, "end": day.end, "timeZone": day.time_zone })
}

/// `reply`'s day is the local day of `zone` at some instant between `before` and now (a test
/// running across midnight sees either day, never a third).
fn assert_day(got: &Value, zone: TimeZone, before: Timestamp) {
    let then = day_json(&local_day(before, zone));
    let now = day_json(&local_day(Timestamp::now(), zone));
    assert!(
        *got == then || *got == now,
        "{got} is neither {then} nor {now}"
    );
}

fn today(app: &TestApp, query: &str, key: &str) -> Reply {
    app.get(&format!("/api/v1/scans/today{query}"), key)
}

fn start_in(zone_name: &str) -> TestApp {
    TestApp::with_config(&format!("time_zone = \"{zone_name}\"\n"))
}

#[test]
fn a_gate_sees_its_day_in_its_events_zone_and_the_counter_in_its_own() {
    let before = Timestamp::now();
    let app = start_in("Asia/Tokyo");
    let tokyo = zone("Asia/Tokyo");
    let kiritimati = zone("Pacific/Kiritimati");

    // A gate bound to an event far from the counter's zone.
    let r = app.post(
        "/api/v1/events",
        &app.manager_key,
        json!({"event": {"id": "ev-k", "name": "Dawn Gig", "timeZone": "Pacific/Kiritimati"}}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let r = app.post(
        "/api/v1/readers",
        &app.manager_key,
        json!({"reader": {"id": "gate-k", "name": "Gate K", "eventUuid": "ev-k"}}),
    );
    assert!(r.status < 300, "{r:?}");

    let empty = today(&app, "?readerId=gate-k", &app.reader_key);
    assert_eq!(empty.status, 200, "{empty:?}");
    assert_eq!(
        empty.body["meta"]["totals"],
        json!({"accepted": 0, "rejected": 0})
    );
    assert_day(&empty.body["meta"]["day"], kiritimati, before);

    // Two refusals at the gate; at the till an accept and its repeat tap (counted once).
    for value in ["NOPE-1", "NOPE-2"] {
        assert_eq!(app.scan(value, "gate-k")["verdict"], "reject");
    }
    assert_eq!(app.scan("BEAN-0001", "till-1")["verdict"], "accept");
    let repeat = app.scan("BEAN-0001", "till-1");
    assert!(repeat["duplicateOf"].is_string(), "{repeat}");

    let gate = today(&app, "?readerId=gate-k", &app.reader_key);
    assert_eq!(gate.status, 200, "{gate:?}");
    assert_eq!(
        gate.body["meta"]["totals"],
        json!({"accepted": 0, "rejected": 2})
    );
    assert_eq!(gate.body["meta"]["readerId"], "gate-k");
    assert_eq!(gate.body["meta"]["day"]["timeZone"], "Pacific/Kiritimati");
    let values: Vec<&str> = gate.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["attributes"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["NOPE-2", "NOPE-1"], "newest first");

    let till = today(&app, "?readerId=till-1&limit=1", &app.reader_key);
    assert_eq!(till.status, 200, "{till:?}");
    assert_eq!(
        till.body["meta"]["totals"],
        json!({"accepted": 1, "rejected": 0})
    );
    assert_eq!(till.body["meta"]["count"], 1);
    assert_eq!(till.body["data"][0]["id"], repeat["scanId"]);
    assert_day(&till.body["meta"]["day"], tokyo, before);

    // Every reader: a cashier's question, not a gate's.
    let all = today(&app, "", &app.reader_key);
    assert_eq!(all.status, 403, "{all:?}");
    let all = today(&app, "", &app.cashier_key);
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(
        all.body["meta"]["totals"],
        json!({"accepted": 1, "rejected": 2})
    );
    assert_eq!(all.body["meta"]["readerId"], Value::Null);
    assert_eq!(all.body["meta"]["count"], 4);
    assert_day(&all.body["meta"]["day"], tokyo, before);

    // The status screen's "today" is the counter's day, counted the same way.
    let status = app.get("/api/v1/status", &app.reader_key);
    assert_eq!(status.status, 200, "{status:?}");
    let attrs = &status.body["data"]["attributes"];
    assert_eq!(attrs["scansToday"], 3);
    assert_day(&attrs["day"], tokyo, before);

    // Bad questions get clear answers.
    for (query, status) in [
        ("?readerId=gate%20k!", 400),
        ("?readerId=gate-k&limit=-1", 400),
        ("?readerId=gate-k&since=2020-01-01T00:00:00Z", 400),
    ] {
        let r = today(&app, query, &app.reader_key);
        assert_eq!(r.status, status, "{query}: {r:?}");
        assert!(r.body["errors"][0]["detail"].is_string(), "{query}: {r:?}");
    }
    assert_eq!(
        app.call(
            "GET",
            "/api/v1/scans/today?readerId=gate-k",
            None,
            None,
            &[]
        )
        .status,
        401
    );
}

#[test]
fn an_events_time_zone_must_be_an_iana_name() {
    let app = TestApp::start();
    let before = app.node.fingerprint();
    let r = app.post(
        "/api/v1/events",
        &app.manager_key,
        json!({"event": {"id": "ev-x", "name": "Gig", "timeZone": "Mars/Olympus_Mons"}}),
    );
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "invalid_time_zone", "{r:?}");
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"], "/event/timeZone",
        "{r:?}"
    );
    assert_eq!(
        app.node.fingerprint(),
        before,
        "a refused event changes nothing"
    );

    let r = app.post(
        "/api/v1/events",
        &app.manager_key,
        json!({"event": {"id": "ev-x", "name": "Gig", "timeZone": "Europe/London"}}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let patch = |tz: &str| {
        app.patch(
            "/api/v1/events/ev-x",
            &app.manager_key,
            json!({"event": {"timeZone": tz}}),
        )
    };
    let r = patch("GMT+25");
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "invalid_time_zone", "{r:?}");
    let r = patch("Europe/Berlin");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["timeZone"], "Europe/Berlin");
}

#[test]
fn an_unknown_configured_time_zone_stops_the_start() {
    let node = Node::demo();
    let out = node
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0", "--no-readers"])
        .env("PASSDESK_TIME_ZONE", "Mars/Olympus_Mons")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown time zone \"Mars/Olympus_Mons\"") && stderr.contains("IANA"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "it never said it was listening");
}
