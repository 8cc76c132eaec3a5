//! Durability: the real binary scans in a loop and is killed with SIGKILL at a random moment.
//! Every decision it printed (acknowledged) must be in the log afterwards, with its outbox row,
//! and nothing may be half written.

use passdesk_tests::Node;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn every_acknowledged_scan_survives_kill_9() {
    let node = Node::demo();
    for (round, kill_after) in [37usize, 211, 503].into_iter().enumerate() {
        let mut child = node
            .cmd()
            .args(["scan", "-", "--reader", "till-1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Feed values faster than they are decided, so the process is mid-transaction when killed.
        let writer = std::thread::spawn(move || {
            for i in 0..100_000u32 {
                let value = match i % 4 {
                    0 => format!("BEAN-{:04}", i % 150 + 1),
                    1 => format!("HLF-{:04}", i % 240 + 1),
                    2 => format!("UNKNOWN-{round}-{i}"),
                    _ => "\u{1}garbage".to_owned(),
                };
                if writeln!(stdin, "{value}").is_err() {
                    return; // killed
                }
            }
        });
        let mut acked = HashSet::new();
        let started = Instant::now();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while acked.len() < kill_after && started.elapsed() < Duration::from_secs(60) {
            let Some(Ok(line)) = lines.next() else { break };
            let d: serde_json::Value = serde_json::from_str(&line).unwrap();
            acked.insert(d["scanId"].as_str().unwrap().to_owned());
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Anything printed between our last read and the kill was acknowledged too.
        for line in lines.map_while(Result::ok) {
            if let Ok(d) = serde_json::from_str::<serde_json::Value>(&line) {
                acked.insert(d["scanId"].as_str().unwrap().to_owned());
            }
        }
        writer.join().unwrap();
        assert!(
            acked.len() >= kill_after,
            "round {round}: only {} acknowledged",
            acked.len()
        );

        let store = node.store();
        store.integrity_check().unwrap();
        let conn = store.conn();
        let logged: HashSet<String> = conn
            .prepare("SELECT id FROM scans")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let lost: Vec<_> = acked.difference(&logged).collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged but lost: {lost:?}"
        );
        let orphans: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM scans s WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject_id = s.id))
                      + (SELECT count(*) FROM outbox o WHERE o.topic = 'passTapped'
                           AND NOT EXISTS (SELECT 1 FROM scans s WHERE s.id = o.subject_id))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            orphans, 0,
            "round {round}: a scan without its outbox row or the reverse"
        );
    }
}
