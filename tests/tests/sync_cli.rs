//! `passdesk sync join | status | now` against a real hub (`passdesk hub serve` over an SQLite
//! file), and the counter's sync routes on a real `passdesk serve`: joining once, refusals that
//! store nothing (a second join, a bad token, a hub that is down), a round that pushes
//! everything, a round with the hub down (exit 1, "offline since" recorded).

use passdesk_tests::events::until;
use passdesk_tests::hub::{sync_status, wait_pushed, Engine, HubDatabase};
use passdesk_tests::service::{Launch, TestApp};
use passdesk_tests::{describe, Node};
use serde_json::Value;

/// A loopback address where nothing listens (a port just freed).
fn nobody_listens() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_counter_joins_once_and_a_refused_join_stores_nothing() {
    let db = HubDatabase::new(Engine::Sqlite);
    let hub = db.hub();
    let node = Node::demo();
    let before = sync_status(&node);
    assert_eq!(before["joined"], false, "{before}");
    assert_eq!(before["online"], false, "{before}");

    // The hub is down: nothing stored.
    let token = hub.enroll("Gate 1");
    let fingerprint = node.fingerprint();
    let out = node.run(&["sync", "join", &nobody_listens(), &token]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("cannot reach the hub"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        node.fingerprint(),
        fingerprint,
        "a failed join stores nothing"
    );

    // A token the hub does not know: refused, nothing stored.
    let out = node.run(&["sync", "join", &hub.base, "not-a-token"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("bad_token"), "{}", describe(&out));
    assert_eq!(
        node.fingerprint(),
        fingerprint,
        "a refused join stores nothing"
    );

    // Not a URL: refused before anything is asked.
    let out = node.run(&["sync", "join", "hub.local", &token]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("not a hub URL"), "{}", describe(&out));

    // The good token: joined, under the name the hub gave.
    let joined = node.ok(&["sync", "join", &hub.base, &token]);
    assert_eq!(joined["joined"], true, "{joined}");
    assert_eq!(joined["nodeName"], "Gate 1", "{joined}");
    assert_eq!(joined["hubUrl"], hub.base.as_str(), "{joined}");
    let status = sync_status(&node);
    assert_eq!(status["joined"], true, "{status}");
    assert_eq!(status["hubUrl"], hub.base.as_str(), "{status}");
    assert_eq!(status["nodeName"], "Gate 1", "{status}");
    let listed = hub.nodes();
    assert!(
        listed
            .iter()
            .any(|n| n["nodeId"] == joined["nodeId"] && n["name"] == "Gate 1"),
        "the hub lists the counter: {listed:?}"
    );
    // The credential is the counter's secret: `status` never shows it.
    assert!(
        !status.to_string().to_lowercase().contains("credential"),
        "{status}"
    );

    // Twice: refused plainly, nothing changed.
    let fingerprint = node.fingerprint();
    let other = hub.enroll("Gate 2");
    let out = node.run(&["sync", "join", &hub.base, &other]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr(&out).contains("already joined"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        node.fingerprint(),
        fingerprint,
        "a second join stores nothing"
    );
}

#[test]
fn sync_now_pushes_everything_and_with_the_hub_down_exits_1_offline() {
    let db = HubDatabase::new(Engine::Sqlite);
    let mut hub = db.hub();
    let node = Node::demo();

    // Not joined: told what to do.
    let out = node.run(&["sync", "now"]);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(stderr(&out).contains("sync join"), "{}", describe(&out));

    hub.join(&node, "Till 1");
    node.ok(&["scan", "HLF-0001", "--reader", "gate-a", "--medium", "qr"]);
    let waiting = sync_status(&node);
    assert!(waiting["pending"].as_u64().unwrap() > 0, "{waiting}");

    let round = node.ok(&["sync", "now"]);
    assert!(round["pushed"]["accepted"].as_u64().unwrap() > 0, "{round}");
    assert_eq!(round["pending"], 0, "{round}");
    let after = sync_status(&node);
    assert_eq!(after["pending"], 0, "{after}");
    assert_eq!(after["online"], true, "{after}");
    assert!(after["offlineSince"].is_null(), "{after}");
    assert!(!after["lastPushAt"].is_null(), "{after}");
    assert!(!after["lastPullAt"].is_null(), "{after}");

    // Again: nothing waits, nothing pushed, still online.
    let again = node.ok(&["sync", "now"]);
    assert_eq!(again["pushed"]["accepted"], 0, "{again}");

    // The hub down: exit 1 with words, offline since recorded, the scan kept waiting.
    hub.stop();
    node.ok(&["scan", "HLF-0002", "--reader", "gate-a", "--medium", "qr"]);
    let out = node.run(&["sync", "now"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("cannot reach the hub"),
        "{}",
        describe(&out)
    );
    let down = sync_status(&node);
    assert_eq!(down["online"], false, "{down}");
    let since = down["offlineSince"]
        .as_str()
        .expect("offline since")
        .to_owned();
    assert!(
        down["lastError"].as_str().unwrap().contains("cannot reach"),
        "{down}"
    );
    assert!(down["pending"].as_u64().unwrap() > 0, "{down}");

    // Still down: offline since the first failure, not the last.
    let out = node.run(&["sync", "now"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(sync_status(&node)["offlineSince"], since.as_str());

    // Back: everything goes up, online again.
    hub.restart();
    let round = node.ok(&["sync", "now"]);
    assert_eq!(round["pending"], 0, "{round}");
    let back = sync_status(&node);
    assert_eq!(back["online"], true, "{back}");
    assert!(back["offlineSince"].is_null(), "{back}");
}

/// The counter's routes: the banner's state for any key, the conflicts and a round now for a
/// manager; `/status` carries the same state.
#[test]
fn a_joined_counter_serves_its_sync_state_and_a_round_now() {
    let db = HubDatabase::new(Engine::Sqlite);
    let hub = db.hub();
    let app = hub.counter("Gate 1", Launch::default(), |_| {});

    let r = app.get("/api/v1/sync", &app.reader_key);
    assert_eq!(r.status, 200, "{r:?}");
    let s = &r.body["data"]["attributes"];
    assert_eq!(r.body["data"]["type"], "sync", "{r:?}");
    assert_eq!(s["joined"], true, "{r:?}");
    assert_eq!(s["nodeName"], "Gate 1", "{r:?}");

    let status = app.get("/api/v1/status", &app.reader_key);
    assert_eq!(
        status.body["data"]["attributes"]["sync"]["joined"], true,
        "{status:?}"
    );

    // The worker pushes a scan by itself (a reader seen the first time is registered).
    let scanned = app.scan("NOT-A-PASS", "door");
    assert_eq!(scanned["verdict"], "reject", "{scanned}");
    wait_pushed(&app);

    let r = app.call(
        "POST",
        "/api/v1/sync/now",
        Some(&app.manager_key),
        None,
        &[],
    );
    assert_eq!(r.status, 202, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["joined"], true, "{r:?}");

    let r = app.get("/api/v1/sync/conflicts", &app.manager_key);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"], Value::Array(Vec::new()), "{r:?}");
    assert_eq!(r.body["meta"]["totalCount"], 0, "{r:?}");
    let r = app.get("/api/v1/sync/conflicts?limit=0", &app.manager_key);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.body["errors"][0]["source"]["parameter"], "limit", "{r:?}");
}

/// A counter that joined no hub: the banner's state says so, and a round now is refused.
#[test]
fn a_counter_without_a_hub_says_so() {
    let app = TestApp::start();
    let r = app.get("/api/v1/sync", &app.reader_key);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["joined"], false, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["online"], false, "{r:?}");
    let r = app.call(
        "POST",
        "/api/v1/sync/now",
        Some(&app.manager_key),
        None,
        &[],
    );
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.body["errors"][0]["code"], "not_joined", "{r:?}");
    let r = app.get("/api/v1/sync/conflicts", &app.manager_key);
    assert_eq!(r.status, 200, "{r:?}");
}

/// A counter that joins while it serves syncs without a restart: its worker looks for the
/// join, then pushes what was scanned before it.
#[test]
fn a_counter_that_joins_while_serving_syncs_without_a_restart() {
    let db = HubDatabase::new(Engine::Sqlite);
    let hub = db.hub();
    let app = TestApp::start();
    let scanned = app.scan("NOT-A-PASS", "door");
    assert_eq!(scanned["verdict"], "reject", "{scanned}");

    hub.join(&app.node, "Gate 9");

    let pushed = wait_pushed(&app);
    assert_eq!(pushed["nodeName"], "Gate 9", "{pushed}");
    let scan_id = scanned["scanId"]
        .as_str()
        .expect("the decision names its scan");
    let observer = hub.observer();
    until("the hub to hold the scan made before the join", || {
        observer
            .scan_ids(&hub)
            .iter()
            .any(|id| id == scan_id)
            .then_some(())
    });
}
