//! The benchmark still runs and reports what it promises. No timing is asserted here: the
//! numbers belong in the issue note, measured on a million passes.

use passdesk_tests::Node;

#[test]
fn bench_checkin_reports_percentiles_for_every_kind() {
    let node = Node::empty();
    let report = node.ok(&["bench", "checkin", "--passes", "3000", "--rounds", "40"]);
    assert_eq!(report["unexpected"], 0);
    let kinds: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "accept",
            "duplicate_tap",
            "reject_already_used",
            "reject_unknown",
            "accept_loyalty_card",
            "accept_offline_token"
        ]
    );
    for r in report["results"].as_array().unwrap() {
        assert!(r["count"].as_u64().unwrap() > 0);
        assert!(r["p50Ms"].as_f64().unwrap() <= r["p99Ms"].as_f64().unwrap());
        assert!(r["p99Ms"].as_f64().unwrap() <= r["maxMs"].as_f64().unwrap());
    }
    // A second run reuses the cache.
    let again = node.ok(&["bench", "checkin", "--passes", "3000", "--rounds", "40"]);
    assert!(again["buildSeconds"].is_null());
}
