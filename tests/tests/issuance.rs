//! Issuing passes and un-issuing rewards must not lose or double anything: the real
//! `passdesk serve` on a demo data directory, driven over real HTTP, its SQLite file read
//! beside it.

use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::Node;
use serde_json::{json, Value};

const KEY_HEADER: &str = "Idempotency-Key";

/// Every row of the tables issuance and loyalty write, as text: equal means nothing changed.
/// (Not the whole file: an API key's `last_used_at` may move with any request.)
fn written(node: &Node) -> String {
    let store = node.store();
    let mut out = String::new();
    for table in [
        "passes",
        "outbox",
        "scans",
        "loyalty_ledger",
        "loyalty_accounts",
        "loyalty_lots",
        "loyalty_rewards",
        "loyalty_operations",
        "issue_requests",
    ] {
        let mut stmt = store
            .conn()
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            out.push_str(table);
            for i in 0..columns {
                let v: passdesk_core::rusqlite::types::Value = row.get(i).unwrap();
                out.push_str(&format!(" {v:?}"));
            }
            out.push('\n');
        }
    }
    out
}

fn count(node: &Node, sql: &str) -> i64 {
    node.store()
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// A request with its body as given, byte for byte (key order included), and the
/// `Idempotent-Replayed` header of the answer.
fn post_text(app: &TestApp, path: &str, key: Option<&str>, body: &str) -> (Reply, bool) {
    let headers: Vec<(&str, &str)> = key.map(|k| (KEY_HEADER, k)).into_iter().collect();
    let body = Some(body.as_bytes().to_vec());
    let r = app.send("POST", path, Some(&app.manager_key), &headers, body);
    let replayed = r.header("idempotent-replayed") == "true";
    (r, replayed)
}

fn issue(app: &TestApp, key: Option<&str>, body: Value) -> Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| (KEY_HEADER, k)).into_iter().collect();
    app.call(
        "POST",
        "/api/v1/passes",
        Some(&app.manager_key),
        Some(&body),
        &headers,
    )
}

fn pass_count(app: &TestApp) -> i64 {
    let r = app.get("/api/v1/passes?perPage=1", &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["meta"]["totalCount"].as_i64().unwrap()
}

fn verify(node: &Node) {
    let v = node.ok(&["loyalty", "verify"]);
    assert_eq!(v["drift"], json!([]), "{v}");
}

#[test]
fn a_refused_initial_balance_leaves_no_pass_and_no_event() {
    let app = TestApp::start();
    let before = (pass_count(&app), written(&app.node));
    let key = "0190e5a0-4444-7000-8000-000000000001";
    let body = |balance: i64| json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Refused Ruth"}, "initialBalance": balance});
    let r = issue(&app, Some(key), body(-5));
    assert_eq!(
        (
            r.status,
            r.body["errors"][0]["code"].as_str(),
            r.body["errors"][0]["source"]["pointer"].as_str()
        ),
        (422, Some("invalid_amount"), Some("/initialBalance")),
        "{r:?}"
    );
    assert!(r.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("below zero"));
    assert_eq!(
        (pass_count(&app), written(&app.node)),
        before,
        "no pass, no passCreated event, no ledger row, no key"
    );
    // The refusal did not use up the key: the corrected request under it issues the pass.
    let r = issue(&app, Some(key), body(5));
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(pass_count(&app), before.0 + 1);
    let id = r.body["data"]["id"].as_str().unwrap();
    let loyalty = app.get(&format!("/api/v1/passes/{id}/loyalty"), &app.cashier_key);
    assert_eq!(loyalty.body["data"]["attributes"]["balance"], 5);
    // The pass, its event and its balance's entry and event: written together.
    assert_eq!(
        count(
            &app.node,
            &format!("SELECT count(*) FROM outbox WHERE subject_id = '{id}'")
        ),
        2
    );
    // A bad includePassSource is refused before anything is written, too.
    let before = written(&app.node);
    let r = app.call(
        "POST",
        "/api/v1/passes?includePassSource=nokia",
        Some(&app.manager_key),
        Some(&body(1)),
        &[],
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(written(&app.node), before);
    verify(&app.node);
}

#[test]
fn the_same_request_under_one_key_makes_one_pass() {
    let app = TestApp::start();
    let before = pass_count(&app);
    let key = "0190e5a0-4444-7000-8000-000000000002";
    let first_body = r#"{"passTemplate":"tpl-bean-there","extId":"till-order-77","pass":{"fullName":"Grace Retry","email":"grace@example.com"},"initialBalance":20,"expiresAt":"2031-01-01T00:00:00Z"}"#;
    let (first, replayed) = post_text(&app, "/api/v1/passes", Some(key), first_body);
    assert_eq!((first.status, replayed), (201, false), "{first:?}");
    // A client that lost the answer retries blindly; this one also writes its keys in another
    // order, names the template in the query and the expiry in another offset.
    let retry_body = r#"{"initialBalance":20,"expiresAt":"2031-01-01T01:00:00+01:00","pass":{"email":"grace@example.com","fullName":"Grace Retry"},"extId":"till-order-77"}"#;
    let (again, replayed) = post_text(
        &app,
        "/api/v1/passes?passTemplate=tpl-bean-there",
        Some(" 0190E5A0-4444-7000-8000-000000000002"),
        retry_body,
    );
    assert_eq!((again.status, replayed), (201, true), "{again:?}");
    let attrs = |r: &Reply| {
        (
            r.body["data"]["id"].clone(),
            r.body["data"]["attributes"]["barcode"]["value"].clone(),
        )
    };
    assert_eq!(
        attrs(&again),
        attrs(&first),
        "the first pass, same id and barcode"
    );
    assert_eq!(pass_count(&app), before + 1, "one pass made");
    let id = first.body["data"]["id"].as_str().unwrap();
    let loyalty = app.get(&format!("/api/v1/passes/{id}/loyalty"), &app.cashier_key);
    assert_eq!(
        loyalty.body["data"]["attributes"]["balance"], 20,
        "the initial balance given once"
    );

    // The same key with another request: 409, and nothing is made.
    let state = written(&app.node);
    let other = issue(
        &app,
        Some(key),
        json!({"passTemplate": "tpl-bean-there", "extId": "till-order-77", "pass": {"fullName": "Grace Retry", "email": "grace@example.com"}, "initialBalance": 25, "expiresAt": "2031-01-01T00:00:00Z"}),
    );
    assert_eq!(
        (
            other.status,
            other.body["errors"][0]["code"].as_str(),
            other.body["errors"][0]["source"]["parameter"].as_str()
        ),
        (409, Some("op_conflict"), Some(KEY_HEADER)),
        "{other:?}"
    );
    assert_eq!(written(&app.node), state);

    // Without a key every request is a new pass, as before.
    let plain = json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "No Key"}});
    let a = issue(&app, None, plain.clone());
    let b = issue(&app, None, plain);
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.body["data"]["id"], b.body["data"]["id"]);
    verify(&app.node);
}

#[test]
fn two_retries_racing_under_one_key_make_one_pass() {
    let app = TestApp::start();
    let before = pass_count(&app);
    let body = json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Racing Rita"}, "initialBalance": 7});
    let key = "0190e5a0-4444-7000-8000-000000000003";
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| issue(&app, Some(key), body.clone())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &replies {
        assert_eq!(r.status, 201, "{r:?}");
        assert_eq!(r.body["data"]["id"], replies[0].body["data"]["id"]);
    }
    assert_eq!(pass_count(&app), before + 1);
    let id = replies[0].body["data"]["id"].as_str().unwrap();
    assert_eq!(
        count(
            &app.node,
            &format!("SELECT count(*) FROM loyalty_ledger WHERE pass_id = '{id}'")
        ),
        1
    );
    verify(&app.node);
}

#[test]
fn a_bad_idempotency_key_is_refused_the_same_way_everywhere_and_changes_nothing() {
    let app = TestApp::start();
    let before = written(&app.node);
    let calls: [(&str, &str, &str, Value); 4] = [
        (
            "POST",
            "/api/v1/passes",
            &app.manager_key,
            json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "X"}}),
        ),
        (
            "POST",
            "/api/v1/passes/CUST-9001/loyalty/earn",
            &app.cashier_key,
            json!({"points": 5}),
        ),
        (
            "PATCH",
            "/api/v1/passes/CUST-9001/loyalty",
            &app.manager_key,
            json!({"overrideBalance": 5}),
        ),
        // A till's scan with a purchase: refused before the scan is decided or recorded.
        (
            "POST",
            "/api/v1/scans",
            &app.cashier_key,
            json!({"value": "BEAN-0001", "readerId": "till-1", "loyalty": {"points": 5}}),
        ),
    ];
    for (method, path, key, body) in &calls {
        for bad in ["retry-1", "", "0190e5a0-4444-7000-8000"] {
            let r = app.call(method, path, Some(key), Some(body), &[(KEY_HEADER, bad)]);
            assert_eq!(
                (
                    r.status,
                    r.body["errors"][0]["code"].as_str(),
                    r.body["errors"][0]["source"]["parameter"].as_str()
                ),
                (400, Some("invalid_idempotency_key"), Some(KEY_HEADER)),
                "{method} {path} with {bad:?}: {r:?}"
            );
        }
    }
    assert_eq!(written(&app.node), before);
}

/// A manager gives a coffee card points through the API (each earn is a lot that expires a
/// year on, by the demo's program).
fn earn(app: &TestApp, pass: &str, points: i64) {
    let r = app.post(
        &format!("/api/v1/passes/{pass}/loyalty/earn"),
        &app.cashier_key,
        json!({ "points": points }),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

fn create_reward(app: &TestApp, pass: &str) -> String {
    let r = app.post(
        &format!("/api/v1/passes/{pass}/loyalty/rewards"),
        &app.cashier_key,
        json!({"tier": "£5 off"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["attributes"]["reward"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A pass's lots, oldest first: (points left, expiry in unix ms or none).
fn lots(node: &Node, pass: &str) -> Vec<(i64, Option<i64>)> {
    let store = node.store();
    let mut stmt = store
        .conn()
        .prepare("SELECT remaining, expires_at FROM loyalty_lots WHERE pass_id = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([pass], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_deleted_reward_gives_its_points_back_to_their_lots_with_their_expiry() {
    let app = TestApp::start();
    let issued = issue(
        &app,
        None,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Lot Lottie"}}),
    );
    let pass = issued.body["data"]["id"].as_str().unwrap().to_owned();
    earn(&app, &pass, 30);
    earn(&app, &pass, 40);
    let earned = lots(&app.node, &pass);
    assert_eq!(earned.len(), 2);
    assert!(earned.iter().all(|(_, exp)| exp.is_some()), "{earned:?}");

    // Created (30 of the first lot, 20 of the second) and deleted: the same lots as before,
    // the same expiry, and no lot that never expires.
    let reward = create_reward(&app, &pass);
    assert_eq!(
        lots(&app.node, &pass),
        [(0, earned[0].1), (20, earned[1].1)]
    );
    let path = format!("/api/v1/passes/{pass}/loyalty/rewards/{reward}");
    let r = app.call("DELETE", &path, Some(&app.cashier_key), None, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["meta"]["loyalty"]["balance"], 70);
    assert_eq!(lots(&app.node, &pass), earned);
    verify(&app.node);

    // Again, but the first lot's day comes while the reward holds its points (its expiry moved
    // into the past in the file, as a year passing would). Deleting the reward gives them back
    // and they expire at once: the answer says so, with an entry of its own.
    let reward = create_reward(&app, &pass);
    app.node
        .store()
        .conn()
        .execute(
            "UPDATE loyalty_lots SET expires_at = 1 WHERE pass_id = ?1
             AND seq = (SELECT min(seq) FROM loyalty_lots WHERE pass_id = ?1)",
            [&pass],
        )
        .unwrap();
    let path = format!("/api/v1/passes/{pass}/loyalty/rewards/{reward}");
    let r = app.call("DELETE", &path, Some(&app.cashier_key), None, &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let entries: Vec<(String, i64)> = r.body["data"]["attributes"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["points"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [("reward_delete".to_owned(), 50), ("expire".to_owned(), -30)]
    );
    assert_eq!(r.body["meta"]["loyalty"]["balance"], 40);
    assert_eq!(lots(&app.node, &pass), [(0, Some(1)), (40, earned[1].1)]);
    let shown = app.get(&format!("/api/v1/passes/{pass}/loyalty"), &app.cashier_key);
    assert_eq!(shown.body["data"]["attributes"]["balance"], 40);
    verify(&app.node);
}

#[test]
fn a_reward_under_another_passs_url_is_not_found_and_stays_put() {
    let app = TestApp::start();
    for pass in ["CUST-9010", "CUST-9011"] {
        earn(&app, pass, 100);
    }
    let theirs = create_reward(&app, "CUST-9011");
    let before = written(&app.node);
    let redeem = format!("/api/v1/passes/CUST-9010/loyalty/rewards/{theirs}/redeem");
    let delete = format!("/api/v1/passes/CUST-9010/loyalty/rewards/{theirs}");
    for (method, path) in [("POST", &redeem), ("DELETE", &delete)] {
        let r = app.call(method, path, Some(&app.cashier_key), None, &[]);
        assert_eq!(
            (r.status, r.body["errors"][0]["code"].as_str()),
            (404, Some("unknown_reward")),
            "{method} {path}: {r:?}"
        );
    }
    assert_eq!(written(&app.node), before, "nothing changed");
    let shown = app.get("/api/v1/passes/CUST-9011/loyalty", &app.cashier_key);
    let still = shown.body["data"]["attributes"]["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == theirs.as_str())
        .cloned();
    assert_eq!(still.map(|r| r["status"].clone()), Some(json!("available")));
    // Under its own pass it redeems.
    let r = app.call(
        "POST",
        &format!("/api/v1/passes/CUST-9011/loyalty/rewards/{theirs}/redeem"),
        Some(&app.cashier_key),
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["reward"]["status"], "redeemed");
    verify(&app.node);
}
