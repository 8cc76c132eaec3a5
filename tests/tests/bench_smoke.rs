//! The benchmark still runs and reports what it promises. No timing is asserted here: the
//! numbers belong in the issue note, measured on a million passes.

use passdesk_tests::Node;

#[test]
fn bench_checkin_reports_percentiles_for_every_kind() {
    let node = Node::empty();
    let args = [
        "bench",
        "checkin",
        "--passes",
        "3000",
        "--rounds",
        "40",
        "--scan-rows",
        "20000",
        "--busy-today",
        "500",
    ];
    let report = node.ok(&args);
    assert_eq!(report["unexpected"], 0);
    // The audit log was filled in bulk: history, and a busy today at the measured gate.
    assert!(report["scanRows"].as_u64().unwrap() >= 20_000, "{report}");
    assert!(report["busyToday"].as_u64().unwrap() >= 500, "{report}");
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
            "accept_offline_token",
            "today_totals",
            "today_gate"
        ]
    );
    for r in report["results"].as_array().unwrap() {
        assert!(r["count"].as_u64().unwrap() > 0);
        assert!(r["p50Ms"].as_f64().unwrap() <= r["p99Ms"].as_f64().unwrap());
        assert!(r["p99Ms"].as_f64().unwrap() <= r["maxMs"].as_f64().unwrap());
    }
    // A second run reuses the cache.
    let again = node.ok(&args);
    assert!(again["buildSeconds"].is_null());
    assert!(again["logSeconds"].is_null(), "{again}");
}

/// `bench webhooks` delivers to its loopback receiver with 1 and 10 subscriptions, capped and
/// not, and times scans without and while delivering.
#[test]
fn bench_webhooks_reports_throughput_and_scan_percentiles() {
    let node = Node::empty();
    let report = node.ok(&[
        "bench", "webhooks", "--passes", "2000", "--events", "50", "--rounds", "50",
    ]);
    let runs = report["throughput"].as_array().unwrap();
    let shapes: Vec<(u64, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["subscriptions"].as_u64().unwrap(),
                r["maxPerSecond"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shapes, [(1, 500), (10, 500), (1, 100000), (10, 100000)]);
    for r in runs {
        // Every event reached every subscription.
        assert_eq!(
            r["deliveries"].as_u64().unwrap(),
            r["events"].as_u64().unwrap() * r["subscriptions"].as_u64().unwrap(),
            "{r}"
        );
    }
    let kinds: Vec<&str> = report["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "accept_no_webhooks",
            "reject_no_webhooks",
            "accept_delivering",
            "reject_delivering",
            "accept_uncapped",
            "reject_uncapped"
        ]
    );
    for r in report["scans"].as_array().unwrap() {
        assert!(r["count"].as_u64().unwrap() > 0);
        assert!(r["p50Ms"].as_f64().unwrap() <= r["p99Ms"].as_f64().unwrap());
    }
}

/// `bench nfc` taps through the real pcsc crate, pcscd and vpcd, and reports each protocol's
/// APDUs and host time, and the decryption steps alone.
#[test]
fn bench_nfc_reports_every_protocol_through_pcscd() {
    let _turn = passdesk_tests::vpcd::exclusive();
    passdesk_tests::vpcd::ensure_pcscd();
    let node = Node::empty();
    let report = node.ok(&["bench", "nfc", "--taps", "10", "--decrypts", "20"]);
    assert_eq!(report["bench"], "nfc");
    assert_eq!(report["reader"], "Virtual PCD 00 00");
    let results = report["results"].as_array().unwrap();
    let apdus: Vec<(&str, u64, u64)> = results
        .iter()
        .map(|r| {
            (
                r["protocol"].as_str().unwrap(),
                r["apdusMin"].as_u64().unwrap(),
                r["apdusMax"].as_u64().unwrap(),
            )
        })
        .collect();
    // The protocol minimum: VAS is SELECT + GET DATA; Smart Tap adds NEGOTIATE, and the second
    // SELECT only for handsets that ask for it; a bundle in parts adds GET MOREs.
    assert_eq!(apdus[0], ("vas", 2, 2));
    assert_eq!(apdus[1], ("smart_tap", 3, 3));
    assert_eq!(apdus[2], ("smart_tap_select", 4, 4));
    assert_eq!(apdus[3].0, "smart_tap_get_more");
    assert!(apdus[3].1 > 3, "{apdus:?}");
    for r in results {
        assert_eq!(r["taps"], 10);
        let h = &r["hostMs"];
        assert!(h["p50"].as_f64().unwrap() <= h["p95"].as_f64().unwrap());
        assert!(h["p95"].as_f64().unwrap() <= h["p99"].as_f64().unwrap());
        assert!(h["p99"].as_f64().unwrap() <= h["max"].as_f64().unwrap());
        assert!(r["withPhoneMs"]["p50"].as_f64().is_some());
    }
    let steps: Vec<&str> = report["decryption"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["vas_decrypt", "smart_tap_decrypt", "smart_tap_session"]
    );
    for d in report["decryption"].as_array().unwrap() {
        assert_eq!(d["runs"], 20);
        assert!(d["p50Us"].as_f64().unwrap() > 0.0);
    }
}

/// `bench sync` runs a hub and counters of this binary and reports every figure it promises:
/// the first sync, the offline push, the simulated counters and the propagation.
#[test]
fn bench_sync_reports_first_sync_push_simulated_counters_and_propagation() {
    let node = Node::empty();
    let report = node.ok(&[
        "bench",
        "sync",
        "--passes",
        "500",
        "--offline-scans",
        "200",
        "--nodes",
        "3",
        "--scans-per-node",
        "40",
        "--batch",
        "10",
        "--propagation",
        "5",
    ]);
    assert_eq!(report["bench"], "sync");
    assert_eq!(report["engine"], "sqlite");
    assert!(
        report["firstSync"]["passes"].as_u64().unwrap() >= 500,
        "{report}"
    );
    assert!(report["firstSync"]["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(report["offlinePush"]["scans"], 200);
    let sim = &report["simulatedCounters"];
    // Every simulated scan was accepted once.
    assert_eq!(sim["events"], 120, "{report}");
    assert_eq!(sim["duplicates"], 0, "{report}");
    assert_eq!(sim["pushes"], 12, "{report}");
    assert!(sim["pushP50Ms"].as_f64().unwrap() <= sim["pushP99Ms"].as_f64().unwrap());
    let p = &report["propagation"];
    assert_eq!(p["scans"], 5);
    assert!(p["p50Ms"].as_f64().unwrap() <= p["p95Ms"].as_f64().unwrap());
    assert!(p["p95Ms"].as_f64().unwrap() <= p["maxMs"].as_f64().unwrap());
}

/// `bench upstream` seeds the PassEntry stand-in, pulls every pass into an empty counter and
/// reports the pages it took.
#[test]
fn bench_upstream_pulls_every_pass_and_reports_pages() {
    let node = Node::empty();
    let report = node.ok(&["bench", "upstream", "--passes", "450", "--per-page", "50"]);
    assert_eq!(report["passes"], 450, "{report}");
    assert_eq!(report["pages"], 9, "{report}");
    assert_eq!(report["summary"]["passes"], 450, "{report}");
    assert!(
        report["passesPerSecond"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(
        report["pageRoundP50Ms"].as_f64().unwrap() <= report["pageRoundP99Ms"].as_f64().unwrap(),
        "{report}"
    );
}

/// `bench wallet` builds signed `.pkpass` files with a signer it makes, and reports the whole
/// build and its parts, then the same cards' Google Wallet links.
#[test]
fn bench_wallet_reports_pkpass_builds_and_their_parts() {
    let node = Node::empty();
    let report = node.ok(&["bench", "wallet", "--builds", "20"]);
    assert_eq!(report["bench"], "wallet", "{report}");
    assert_eq!(report["builds"], 20, "{report}");
    assert!(
        report["pkpassPerSecond"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(report["meanBytes"].as_f64().unwrap() > 1000.0, "{report}");
    let kinds: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["pkpass", "pass_json_manifest", "signature", "google_link"]
    );
    assert!(
        report["googleLinksPerSecond"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(
        report["googleLongestUrlChars"].as_u64().unwrap() < 2000,
        "{report}"
    );
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["count"], 20, "{r}");
        assert!(
            r["p50Ms"].as_f64().unwrap() <= r["p99Ms"].as_f64().unwrap(),
            "{r}"
        );
    }
}
