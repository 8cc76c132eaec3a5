//! `passdesk loyalty` as a till would use it, on the demo coffee shop.

use passdesk_tests::{describe, last_json, Node};
use std::process::Stdio;

#[test]
fn two_processes_redeem_the_same_reward_exactly_once() {
    let node = Node::demo();
    node.ok(&["loyalty", "earn", "BEAN-0002", "--points", "1000"]);
    for round in 0..6 {
        let reward = node.ok(&[
            "loyalty",
            "reward",
            "create",
            "BEAN-0002",
            "--tier",
            "£5 off",
        ]);
        let id = reward["reward"]["id"].as_str().unwrap().to_owned();
        let children: Vec<_> = (0..2)
            .map(|_| {
                node.cmd()
                    .args(["loyalty", "reward", "redeem", &id])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<_> = outs.iter().map(|o| o.status.code()).collect();
        assert!(
            codes.contains(&Some(0)) && codes.contains(&Some(4)),
            "round {round}: {codes:?}"
        );
        let refused = outs.iter().find(|o| o.status.code() == Some(4)).unwrap();
        assert_eq!(
            last_json(refused)["error"]["code"],
            "reward_not_available",
            "{}",
            describe(refused)
        );
        // Each round's limit is per day: let the sync mark them so the offline cap stays out of the way.
        node.store()
            .conn()
            .execute("UPDATE loyalty_ledger SET synced_at = at", [])
            .unwrap();
    }
    let verify = node.ok(&["loyalty", "verify"]);
    assert_eq!(verify["drift"].as_array().unwrap().len(), 0);
}

#[test]
fn a_replayed_op_id_prints_the_first_result_and_changes_nothing() {
    let node = Node::demo();
    let op = "0190e5a0-1111-7000-8000-000000000042";
    let first = node.ok(&[
        "loyalty",
        "earn",
        "BEAN-0003",
        "--amount",
        "1999",
        "--op-id",
        op,
    ]);
    let before = node.fingerprint();
    let again = node.ok(&[
        "loyalty",
        "earn",
        "BEAN-0003",
        "--amount",
        "1999",
        "--op-id",
        op,
    ]);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["entries"], first["entries"]);
    assert_eq!(node.fingerprint(), before);
    let conflict = node.run(&[
        "loyalty",
        "earn",
        "BEAN-0003",
        "--amount",
        "2000",
        "--op-id",
        op,
    ]);
    assert_eq!(conflict.status.code(), Some(4));
    assert_eq!(last_json(&conflict)["error"]["code"], "op_conflict");
}

#[test]
fn bad_input_is_refused_clearly_and_changes_nothing() {
    let node = Node::demo();
    let before = node.fingerprint();
    for (args, code) in [
        (
            vec!["loyalty", "earn", "BEAN-0004", "--amount", "-5"],
            "invalid_amount",
        ),
        (
            vec!["loyalty", "earn", "NO-SUCH-CARD", "--points", "5"],
            "unknown_pass",
        ),
        (
            vec![
                "loyalty",
                "adjust",
                "BEAN-0004",
                "--points",
                "-100000",
                "--reason",
                "oops",
            ],
            "insufficient_balance",
        ),
        (
            vec!["loyalty", "reward", "redeem", "no-such-reward"],
            "unknown_reward",
        ),
        (
            vec![
                "loyalty",
                "reward",
                "redeem",
                "BEAN-0004",
                "--tier",
                "Free car",
            ],
            "unknown_tier",
        ),
        (vec!["loyalty", "reverse", "no-such-entry"], "unknown_entry"),
        (
            vec![
                "loyalty",
                "earn",
                "BEAN-0004",
                "--points",
                "5",
                "--op-id",
                "yesterday",
            ],
            "invalid_op_id",
        ),
        (
            vec!["loyalty", "earn", "BEAN-0025", "--points", "5"],
            "pass_not_usable",
        ),
        (
            vec![
                "loyalty",
                "earn",
                "BEAN-0004",
                "--points",
                "9223372036854775807",
            ],
            "overflow",
        ),
    ] {
        let out = node.run(&args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", describe(&out));
        assert_eq!(last_json(&out)["error"]["code"], code, "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
        assert_eq!(node.fingerprint(), before, "{args:?} changed the database");
    }
    // Beyond i64 is the command line's to refuse.
    let out = node.run(&[
        "loyalty",
        "earn",
        "BEAN-0004",
        "--points",
        "99999999999999999999",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too large"),
        "{}",
        describe(&out)
    );
    let out = node.run(&[
        "loyalty",
        "program",
        "set",
        "tpl-bean-there",
        "--tier",
        "Broken=-3",
    ]);
    assert_eq!(
        last_json(&out)["error"]["code"],
        "invalid_program",
        "{}",
        describe(&out)
    );
    assert_eq!(node.fingerprint(), before);
}

#[test]
fn the_cashier_sees_balance_and_rewards_on_the_scan() {
    let node = Node::demo();
    node.ok(&["loyalty", "stamp", "BEAN-0006", "--count", "10"]);
    let d = node.ok(&["scan", "BEAN-0006", "--reader", "till-1"]);
    let loyalty = &d["loyalty"];
    assert!(loyalty["balance"].as_i64().unwrap() > 0, "{d}");
    assert!(
        loyalty["claimable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Free coffee"),
        "{d}"
    );
    let redeemed = node.ok(&[
        "loyalty",
        "reward",
        "redeem",
        "BEAN-0006",
        "--tier",
        "Free coffee",
    ]);
    assert_eq!(redeemed["reward"]["status"], "redeemed");
    let history = node.ok(&["loyalty", "history", "BEAN-0006"]);
    let kinds: Vec<_> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.ends_with(&["reward_create".to_owned(), "reward_redeem".to_owned()]),
        "{kinds:?}"
    );
    // A refund of the purchase: reverse its earn entry.
    let earn = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "earn")
        .unwrap();
    let reversed = node.ok(&[
        "loyalty",
        "reverse",
        earn["id"].as_str().unwrap(),
        "--reason",
        "refund",
    ]);
    assert_eq!(reversed["entries"][0]["reverses"], earn["id"]);
}
