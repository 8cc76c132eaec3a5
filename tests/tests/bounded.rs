//! Bounded work: a stuck database holds at most a queue of reads (the rest are dropped,
//! counted on `/status` and announced), and QR images are capped in size.

use passdesk_core::rusqlite::Connection;
use passdesk_tests::service::TestApp;
use passdesk_tests::socat::PtyPair;
use serde_json::{json, Value};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// `pipeline::feed::CAPACITY` in the service: reads that may wait for the decider.
const FEED_CAPACITY: usize = 16;

/// What became of each read of `till-1`, as the screens were told.
#[derive(Debug, Default)]
struct Outcomes {
    decided: Vec<String>,
    not_recorded: usize,
    dropped: usize,
}

impl Outcomes {
    fn total(&self) -> usize {
        self.decided.len() + self.not_recorded + self.dropped
    }

    /// Takes events until `done` holds (at most 60 s: the first read waits out the busy
    /// timeout of the stuck store).
    fn follow(&mut self, events: &Receiver<(String, Value)>, done: impl Fn(&Self) -> bool) {
        let until = Instant::now() + Duration::from_secs(60);
        while !done(self) {
            let left = until.saturating_duration_since(Instant::now());
            let (name, data) = events
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("stream stalled at {self:?}"));
            match name.as_str() {
                "decision" if data["attributes"]["readerId"] == "till-1" => {
                    self.decided.push(data["id"].as_str().unwrap().to_owned())
                }
                "tapFailed" if data["readerId"] == "till-1" => {
                    if data["dropped"] == true {
                        self.dropped += 1;
                    } else {
                        self.not_recorded += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Another connection holds the write lock (`BEGIN EXCLUSIVE`) while a scanner sends 200
/// reads at once: the serial pipeline keeps at most its queue (and the one read being
/// decided), drops the rest, counts them on the device's `/status` line in words, and once the
/// store answers again decides what it kept. Every read is accounted for exactly once.
#[test]
fn a_stuck_database_drops_reads_and_counts_them_instead_of_holding_them() {
    let cables = tempfile::tempdir().unwrap();
    let cable = PtyPair::start(cables.path());
    let host = cable.host_path();
    let app = TestApp::with_serial_till(&host, "medium = \"serial\"");
    let events = app.events();

    let stuck = Connection::open(app.node.db_path()).unwrap();
    stuck.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let sent = 200;
    let burst: String = (1..=sent).map(|n| format!("STUCK-{n:04}\r")).collect();
    cable.device().send(burst.as_bytes());

    let mut seen = Outcomes::default();
    let kept = FEED_CAPACITY + 1;
    seen.follow(&events, |s| s.dropped >= sent - kept);
    stuck.execute_batch("ROLLBACK").unwrap();
    seen.follow(&events, |s| s.total() >= sent);

    assert_eq!(seen.total(), sent, "{seen:?}");
    assert!(seen.decided.len() + seen.not_recorded <= kept, "{seen:?}");
    let line = app.device("till-1").unwrap();
    assert_eq!(
        line["droppedReads"].as_u64(),
        Some(seen.dropped as u64),
        "{line}"
    );
    assert!(
        line["detail"].as_str().unwrap_or("").contains(&format!(
            "{} reads dropped: the database did not answer",
            seen.dropped
        )),
        "{line}"
    );
    let logged: i64 = app
        .node
        .store()
        .conn()
        .query_row(
            "SELECT count(*) FROM scans WHERE reader_id = 'till-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged as usize, seen.decided.len(), "{seen:?}");
}

/// QR images are drawn within caps: a module size outside 2..=40 or an image wider than
/// 4096 px is a 422 that says what would have been drawn and what fits.
#[test]
fn qr_images_past_the_cap_are_refused_with_what_fits() {
    let app = TestApp::start();
    let long = "x".repeat(2000);
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Long Code", "qr": {"value": long}}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    for kind in ["png", "svg"] {
        let r = app.get(
            &format!("/api/v1/passes/{id}/qr.{kind}?size=40"),
            &app.cashier_key,
        );
        assert_eq!(r.status, 422, "{r:?}");
        let e = &r.body["errors"][0];
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("size 40 with a 2000-byte code would be ")
                && detail.contains("px wide; at most 4096: ask for size "),
            "{detail}"
        );
        assert_eq!(
            (e["code"].as_str(), e["source"]["parameter"].as_str()),
            (Some("qr_too_large"), Some("size"))
        );
    }
    for size in [0, 1, 41, 100_000] {
        let r = app.get(
            &format!("/api/v1/passes/{id}/qr.png?size={size}"),
            &app.cashier_key,
        );
        assert_eq!(
            (r.status, r.body["errors"][0]["code"].as_str()),
            (422, Some("invalid_size")),
            "{r:?}"
        );
    }
    let (status, content_type, _, png) = app.get_bytes(
        &format!("/api/v1/passes/{id}/qr.png?size=8"),
        Some(&app.cashier_key),
    );
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    assert!(png.starts_with(b"\x89PNG"));
}
