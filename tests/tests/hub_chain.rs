//! Two hub processes over one PostgreSQL database (a chain's servers behind a load balancer):
//! both create-or-find the schema when started at once, a push at one reaches a pull waiting at
//! the other, and concurrent pushes through both leave a log without a gap or a reordering: a
//! reader that follows the log while the pushes go on ends with every seq, in order.

mod hub_support;

use hub_support::{scan, Db, HubProc, Node, Scan};
use passdesk_tests::events::WAIT;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Instant;

/// Counters pushing at once, pushes each, scans per push.
const PUSHERS: usize = 10;
const PUSHES: usize = 20;
const PER_PUSH: usize = 25;

#[test]
fn two_hub_processes_share_one_postgres_log() {
    let db = Db::postgres();
    // Started at once on a fresh database: both make or find the same schema.
    let (one, two) = (HubProc::spawn(&db.url), HubProc::spawn(&db.url));
    let (one, two) = (one.ready(), two.ready());
    assert_eq!(one.hub_id, two.hub_id, "one hub, two processes");

    let a = one.enroll("Gate A", "gate-a");
    let b = two.enroll("Gate B", "gate-b");
    let cursor = two.pull(&b, 0, None, 0).body["cursor"].as_i64().unwrap();
    assert_eq!(cursor, 2, "both node keys, whichever process wrote them");

    // B waits at the second process; A pushes at the first. The answer carries the scan: the
    // second process saw the first's commit (a page that timed out would be empty).
    let change = scan(&a, &Scan::entry("ticket-1").single());
    let waited = std::thread::scope(|s| {
        let waiting = s.spawn(|| two.pull(&b, cursor, None, 30));
        assert_eq!(one.push(&a, [&change]).body["accepted"], 1);
        waiting.join().unwrap()
    });
    assert_eq!(waited.status, 200, "{waited:?}");
    assert_eq!(waited.body["changes"][0]["id"], change["id"], "{waited:?}");

    // And a conflict across processes: B admits the same ticket at the second process.
    let again = scan(&b, &Scan::entry("ticket-1").single().offline());
    assert_eq!(two.push(&b, [&again]).body["conflicts"], 1);
    assert_eq!(one.conflicts().len(), 1);
}

#[test]
fn concurrent_pushes_through_two_processes_leave_no_gap_and_no_reorder() {
    let db = Db::postgres();
    let hubs = [HubProc::start(&db), HubProc::start(&db)];
    let observer = hubs[0].enroll("Observer", "observer");
    let nodes: Vec<Node> = (0..PUSHERS)
        .map(|i| hubs[i % 2].enroll(&format!("Till {i}"), &format!("till-{i}")))
        .collect();
    let expected = 1 + PUSHERS + PUSHERS * PUSHES * PER_PUSH;

    let (followed, elapsed) = std::thread::scope(|s| {
        // A reader following the log at the second process while the pushes go on.
        let reader = s.spawn(|| follow(&hubs[1], &observer, expected));
        let started = Instant::now();
        let pushers: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let hubs = &hubs;
                s.spawn(move || {
                    for p in 0..PUSHES {
                        let batch: Vec<Value> = (0..PER_PUSH)
                            .map(|k| scan(node, &Scan::entry(&format!("pass-{i}-{p}-{k}"))))
                            .collect();
                        let r = hubs[(i + p) % 2].push(node, &batch);
                        assert_eq!(r.status, 200, "{r:?}");
                        assert_eq!(r.body["accepted"], PER_PUSH as u64, "{r:?}");
                    }
                })
            })
            .collect();
        for p in pushers {
            p.join().unwrap();
        }
        let elapsed = started.elapsed();
        (reader.join().unwrap(), elapsed)
    });
    let pushed = PUSHERS * PUSHES * PER_PUSH;
    eprintln!(
        "{pushed} scans in {} pushes of {PER_PUSH} from {PUSHERS} counters through 2 hub \
         processes: {:.0} events/s",
        PUSHERS * PUSHES,
        pushed as f64 / elapsed.as_secs_f64()
    );

    // What the reader saw while the pushes went on is the whole log, in order, no gap.
    let seqs: Vec<i64> = followed
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect();
    let whole: Vec<i64> = (1..=expected as i64).collect();
    assert_eq!(seqs, whole, "the follower saw every seq once, in order");
    let ids: HashSet<&str> = followed.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), expected);
    let after = hubs[0].pull_all(&observer);
    assert_eq!(after, followed, "both processes serve the same log");
}

/// Follows the log from the start with long polls until it holds `expected` changes.
fn follow(hub: &HubProc, node: &Node, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT * 4;
    let mut cursor = 0;
    let mut seen = Vec::new();
    while seen.len() < expected {
        assert!(
            Instant::now() < deadline,
            "the follower has {} of {expected} changes",
            seen.len()
        );
        let page = hub.pull(node, cursor, Some(300), 5);
        assert_eq!(page.status, 200, "{page:?}");
        seen.extend(page.body["changes"].as_array().unwrap().iter().cloned());
        cursor = page.body["cursor"].as_i64().unwrap();
    }
    seen
}
