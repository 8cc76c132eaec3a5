//! The audit log's totals and lists on a real SQLite file: the quarter-hour tally agrees with a
//! plain count of the log for every filter and range, and a gate's day is its event's.

mod common;

use common::{add_event, add_template, qr_pass, scan_input, TestStore, DAY, MIN, T0};
use passdesk_core::catalog;
use passdesk_core::import::import_lines;
use passdesk_core::local_day::{local_day, TimeZone};
use passdesk_core::pass::PassType;
use passdesk_core::reader::Reader;
use passdesk_core::scan::Medium;
use passdesk_core::scan_log::{self, ScanFilter, Totals};
use passdesk_core::{checkin, pass_store, Store, Timestamp, Verdict};

const QUARTER: i64 = 15 * MIN;

struct Log {
    store: Store,
    node_id: String,
    _dir: tempfile::TempDir,
}

fn zone(name: &str) -> TimeZone {
    name.parse().unwrap()
}

impl Log {
    fn new() -> Self {
        let TestStore {
            store, node, dir, ..
        } = TestStore::new();
        let c = store.conn();
        let at = Timestamp::from_unix_ms(T0);
        add_template(c, "coffee", "Coffee", PassType::STORE_CARD);
        // "Mars/Base": stored before event zones were checked.
        for (id, tz) in [("ev-berlin", "Europe/Berlin"), ("ev-old", "Mars/Base")] {
            add_event(c, id, id, tz);
        }
        for (id, event) in [
            ("gate-a", Some("ev-berlin")),
            ("gate-old", Some("ev-old")),
            ("till", None),
        ] {
            let mut r = Reader::unconfigured(id);
            r.event_id = event.map(Into::into);
            catalog::upsert_reader(c, &r, at).unwrap();
        }
        for i in 0..6 {
            let id = format!("L{i}");
            let p = qr_pass(&id, "coffee", PassType::STORE_CARD, format!("QR-{id}"), at);
            pass_store::upsert_pass(c, &p).unwrap();
        }
        Self {
            store,
            node_id: node.node_id,
            _dir: dir,
        }
    }

    fn scan(&mut self, value: &str, reader: &str, at_ms: i64) {
        let input = scan_input(value.as_bytes(), Medium::Qr, reader, at_ms);
        checkin(&mut self.store, &self.node_id, &input).unwrap();
    }

    /// Three days of accepts, rejects (unknown values, wrong event at gate-a) and repeat taps,
    /// at uneven times, so that ranges start and end inside quarter hours.
    fn fill(&mut self) {
        for i in 0..700i64 {
            let at = T0 + i * 7 * MIN + (i % 5) * 1_234;
            let reader = ["till", "gate-a", "till", "gate-old"][(i % 4) as usize];
            let value = if i % 9 == 0 {
                format!("NOPE-{i}")
            } else {
                format!("QR-L{}", i % 6)
            };
            self.scan(&value, reader, at);
            if i % 3 == 0 {
                // A repeat tap 2 s later: inside the duplicate window, counted once.
                self.scan(&value, reader, at + 2_000);
            }
        }
    }

    /// What the totals must be: a count of the log's rows, no index, no tally.
    fn counted(&self, f: &ScanFilter) -> Totals {
        self.store
            .conn()
            .query_row(
                "SELECT coalesce(sum(verdict = 'accept'), 0), coalesce(sum(verdict = 'reject'), 0)
                 FROM scans NOT INDEXED
                 WHERE duplicate_of IS NULL AND (?1 IS NULL OR pass_id = ?1)
                   AND (?2 IS NULL OR reader_id = ?2) AND (?3 IS NULL OR verdict = ?3)
                   AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5)",
                passdesk_core::rusqlite::params![
                    f.pass_id,
                    f.reader_id,
                    f.verdict.map(Verdict::as_str),
                    f.since,
                    f.until
                ],
                |r| {
                    Ok(Totals {
                        accepted: r.get(0)?,
                        rejected: r.get(1)?,
                    })
                },
            )
            .unwrap()
    }

    /// What the list must be: ids, newest first, no index.
    fn listed(&self, f: &ScanFilter) -> Vec<String> {
        let mut stmt = self
            .store
            .conn()
            .prepare(
                "SELECT id FROM scans NOT INDEXED
                 WHERE (?1 IS NULL OR pass_id = ?1) AND (?2 IS NULL OR reader_id = ?2)
                   AND (?3 IS NULL OR verdict = ?3) AND (?4 IS NULL OR at >= ?4)
                   AND (?5 IS NULL OR at < ?5)
                 ORDER BY at DESC, seq DESC LIMIT ?6",
            )
            .unwrap();
        let rows = stmt
            .query_map(
                passdesk_core::rusqlite::params![
                    f.pass_id,
                    f.reader_id,
                    f.verdict.map(Verdict::as_str),
                    f.since,
                    f.until,
                    f.limit
                ],
                |r| r.get::<_, String>(0),
            )
            .unwrap();
        rows.map(Result::unwrap).collect()
    }
}

#[test]
fn totals_and_lists_agree_with_the_log_for_every_filter_and_range() {
    let mut log = Log::new();
    log.fill();
    let ms = Timestamp::from_unix_ms;
    let slot = (T0 / QUARTER + 8) * QUARTER; // a quarter hour inside the log
    let ranges: Vec<(Option<Timestamp>, Option<Timestamp>)> = vec![
        (None, None),
        (Some(ms(slot)), None),
        (None, Some(ms(slot))),
        (Some(ms(slot)), Some(ms(slot + 40 * QUARTER))),
        (Some(ms(slot + 1)), Some(ms(slot + 40 * QUARTER - 1))),
        (
            Some(ms(slot + 7 * MIN + 3)),
            Some(ms(slot + 30 * QUARTER + 11 * MIN)),
        ),
        // Inside one quarter hour, and across one boundary only.
        (Some(ms(slot + MIN)), Some(ms(slot + 14 * MIN))),
        (Some(ms(slot + 14 * MIN)), Some(ms(slot + 16 * MIN))),
        // Empty and reversed.
        (Some(ms(slot)), Some(ms(slot))),
        (Some(ms(slot + QUARTER)), Some(ms(slot))),
        // Before and after everything.
        (Some(ms(T0 + 30 * DAY)), None),
        (None, Some(ms(T0 - 1))),
    ];
    let mut checked = 0;
    for pass in [None, Some("L1")] {
        for reader in [None, Some("till"), Some("gate-a"), Some("nobody")] {
            for verdict in [None, Some(Verdict::Accept), Some(Verdict::Reject)] {
                for (since, until) in &ranges {
                    let f = ScanFilter {
                        pass_id: pass.map(Into::into),
                        reader_id: reader.map(Into::into),
                        verdict,
                        since: *since,
                        until: *until,
                        limit: 25,
                    };
                    let got = scan_log::totals(log.store.conn(), &f).unwrap();
                    assert_eq!(got, log.counted(&f), "totals {f:?}");
                    let ids: Vec<String> = scan_log::list(log.store.conn(), &f)
                        .unwrap()
                        .into_iter()
                        .map(|s| s.id)
                        .collect();
                    assert_eq!(ids, log.listed(&f), "list {f:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * 4 * 3 * ranges.len());
    // The log has what the test means to cover.
    let all = log.counted(&ScanFilter::default());
    assert!(all.accepted > 100 && all.rejected > 100, "{all:?}");
    let repeats: u64 = log
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM scans WHERE duplicate_of IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(repeats > 50, "{repeats} repeat taps");
}

#[test]
fn a_gate_counts_its_day_in_its_events_zone() {
    let mut log = Log::new();
    log.fill();
    let conn = log.store.conn();
    let tokyo = zone("Asia/Tokyo");
    let at = Timestamp::from_unix_ms(T0 + DAY + 3 * 3_600_000);
    let day = |reader: Option<&str>| scan_log::day_at_reader(conn, reader, at, tokyo).unwrap();
    // gate-a is bound to a Berlin event; the till to none; an unknown reader to none.
    assert_eq!(day(Some("gate-a")), local_day(at, zone("Europe/Berlin")));
    assert_eq!(day(Some("till")), local_day(at, tokyo));
    assert_eq!(day(Some("nobody")), local_day(at, tokyo));
    assert_eq!(day(None), local_day(at, tokyo));
    // An event stored with a zone that is no IANA name counts in the counter's.
    assert_eq!(day(Some("gate-old")), local_day(at, tokyo));

    let berlin_day = day(Some("gate-a"));
    let today = scan_log::day_scans(conn, Some("gate-a"), berlin_day, 10).unwrap();
    let f = ScanFilter {
        reader_id: Some("gate-a".into()),
        since: Some(berlin_day.start),
        until: Some(berlin_day.end),
        limit: 10,
        ..ScanFilter::default()
    };
    assert_eq!(today.day, berlin_day);
    assert_eq!(today.totals, log.counted(&f));
    assert!(today.totals.accepted + today.totals.rejected > 10);
    let ids: Vec<String> = today.scans.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, log.listed(&f));
    assert!(today
        .scans
        .iter()
        .all(|s| s.reader_id == "gate-a" && berlin_day.contains(s.at)));
}

#[test]
fn an_imported_event_needs_a_known_time_zone() {
    let mut log = Log::new();
    let event = |tz: &str| {
        format!(
            r#"{{"id": "ev-new", "type": "event", "attributes": {{"name": "Gig", "timeZone": "{tz}"}}}}"#
        )
    };
    let lines = [Ok::<_, String>(event("Europe/Berlyn"))];
    let err = import_lines(&mut log.store, lines, Timestamp::from_unix_ms(T0)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 1") && text.contains("timeZone") && text.contains("Europe/Berlyn"),
        "{text}"
    );
    assert!(catalog::get_event(log.store.conn(), "ev-new")
        .unwrap()
        .is_none());
    let lines = [Ok::<_, String>(event("Europe/London"))];
    import_lines(&mut log.store, lines, Timestamp::from_unix_ms(T0)).unwrap();
    let e = catalog::get_event(log.store.conn(), "ev-new")
        .unwrap()
        .unwrap();
    assert_eq!(e.time_zone, "Europe/London");
}
