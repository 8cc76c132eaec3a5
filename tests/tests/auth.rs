//! Keys, roles and what answers without a key, against the real `passdesk serve`: the bearer
//! scheme in any case, request ids and storage errors that keep SQLite's words in the log,
//! keys' last use, keys bound to readers, `/api/v1/me`, the holder page's unguessable link and
//! its headers, and the per-address rate limits.

use base64::Engine;
use passdesk_tests::events::until;
use passdesk_tests::service::{client, send, Reply, TestApp};
use passdesk_tests::Node;
use serde_json::{json, Value};
use sha2::Digest;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A request without a key of the app's own (headers as given: an `Authorization` of the
/// test's making, or none).
fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    app.send("GET", path, None, headers, None)
}

fn key_id(key: &str) -> &str {
    key.split('_').nth(1).unwrap()
}

fn listed_key(node: &Node, key: &str) -> Value {
    let list = node.ok(&["keys", "list"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id(key))
        .cloned()
        .unwrap_or_else(|| panic!("key {} not listed: {list}", key_id(key)))
}

#[test]
fn the_bearer_scheme_is_matched_in_any_case_and_every_answer_has_a_request_id() {
    let app = TestApp::start();
    for auth in [
        format!("bearer {}", app.reader_key),
        format!("BEARER {}", app.reader_key),
        format!("  Bearer    {}  ", app.reader_key),
    ] {
        let a = get(&app, "/api/v1/me", &[("Authorization", &auth)]);
        assert_eq!(a.status, 200, "{auth:?}: {}", a.text());
        assert_eq!(a.body["data"]["attributes"]["role"], "reader");
    }
    let basic = get(
        &app,
        "/api/v1/me",
        &[("Authorization", &format!("Basic {}", app.reader_key))],
    );
    assert_eq!(basic.status, 401);

    // A client's own short id is kept; any other is replaced; errors carry it as their `id`.
    let mine = get(&app, "/api/v1/me", &[("x-request-id", "till-1/req-42")]);
    assert_eq!(mine.status, 401);
    assert_eq!(mine.header("x-request-id"), "till-1/req-42");
    assert_eq!(mine.body["errors"][0]["id"], "till-1/req-42");
    let long = "x".repeat(65);
    for given in [long.as_str(), "two words"] {
        let a = get(&app, "/health", &[("x-request-id", given)]);
        let id = a.header("x-request-id");
        assert!(!id.is_empty() && id != given, "{id:?}");
    }
    let a = get(&app, "/api/v1/no-such-route", &[]);
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body["errors"][0]["id"].as_str(),
        Some(a.header("x-request-id"))
    );
    assert!(!a.header("x-request-id").is_empty());
}

#[test]
fn me_says_who_the_key_is_and_never_its_secret() {
    let app = TestApp::start();
    for (key, role) in [
        (&app.reader_key, "reader"),
        (&app.cashier_key, "cashier"),
        (&app.manager_key, "manager"),
        (&app.admin_key, "admin"),
    ] {
        let me = app.get("/api/v1/me", key);
        assert_eq!(me.status, 200, "{me:?}");
        let data = &me.body["data"];
        assert_eq!(data["type"], "apiKey");
        assert_eq!(data["id"], key_id(key));
        assert_eq!(data["attributes"]["name"], role);
        assert_eq!(data["attributes"]["role"], role);
        assert_eq!(data["attributes"]["readers"], json!([]));
        let secret = key.rsplit('_').next().unwrap();
        assert!(!me.body.to_string().contains(secret));
    }
    assert_eq!(app.call("GET", "/api/v1/me", None, None, &[]).status, 401);
    app.node.ok(&["keys", "revoke", &app.cashier_key]);
    assert_eq!(app.get("/api/v1/me", &app.cashier_key).status, 401);
}

/// A real storage failure (the service's table renamed under it by another process): the
/// client gets a generic 500 with the request id; SQLite's words are in the log line with it.
#[test]
fn a_storage_failure_answers_a_generic_500_with_the_request_id_in_the_log() {
    let node = Node::demo();
    let key = node.ok(&["keys", "create", "--role", "manager", "--name", "m"])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut child = node
        .cmd()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-readers",
            "--no-camera",
        ])
        .env("PASSDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = serde_json::from_str::<Value>(&line).unwrap()["listening"]
        .as_str()
        .unwrap()
        .to_owned();
    let (log_tx, log_rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if log_tx.send(l).is_err() {
                return;
            }
        }
    });
    let events = || {
        send(
            &client(),
            "GET",
            &format!("{base}/api/v1/events"),
            Some(&key),
            &[],
            None,
        )
    };
    assert_eq!(events().status, 200);
    node.store()
        .conn()
        .execute_batch("ALTER TABLE events RENAME TO events_gone")
        .unwrap();
    let a = events();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(a.status, 500, "{}", a.text());
    let lower = a.text().to_lowercase();
    for word in ["sqlite", "no such table", "events_gone", "database error"] {
        assert!(
            !lower.contains(word),
            "{word:?} reached the client: {}",
            a.text()
        );
    }
    let id = a.header("x-request-id").to_owned();
    assert!(!id.is_empty());
    assert_eq!(a.body["errors"][0]["id"], id.as_str());
    assert_eq!(a.body["errors"][0]["code"], "internal");
    let logged = log_rx
        .iter()
        .find(|l| l.contains(&id) && l.contains("no such table"));
    assert!(
        logged.is_some(),
        "no log line names request {id} and what SQLite said"
    );
}

#[test]
fn a_keys_last_use_is_recorded_and_not_rewritten_within_the_minute() {
    let app = TestApp::start();
    assert_eq!(
        listed_key(&app.node, &app.reader_key)["lastUsedAt"],
        Value::Null
    );
    assert_eq!(app.get("/api/v1/me", &app.reader_key).status, 200);
    let first = until("the reader key's last use", || {
        let v = listed_key(&app.node, &app.reader_key)["lastUsedAt"].clone();
        v.as_str().map(str::to_owned)
    });
    let first_seen = Instant::now();
    // Used again within the minute, then another key used for the first time: the uses are
    // written in order, so once the second key's shows, the first key's would have too.
    assert_eq!(app.get("/api/v1/me", &app.reader_key).status, 200);
    assert_eq!(app.get("/api/v1/me", &app.cashier_key).status, 200);
    until("the cashier key's last use", || {
        listed_key(&app.node, &app.cashier_key)["lastUsedAt"]
            .as_str()
            .map(|_| ())
    });
    let again = listed_key(&app.node, &app.reader_key)["lastUsedAt"].clone();
    if first_seen.elapsed() < Duration::from_secs(50) {
        assert_eq!(again, json!(first), "rewritten within the minute");
    }
    // Never used: still none.
    assert_eq!(
        listed_key(&app.node, &app.admin_key)["lastUsedAt"],
        Value::Null
    );
}

#[test]
fn a_bound_key_scans_only_as_its_readers() {
    let app = TestApp::start();
    let create = |name: &str, readers: &[&str]| -> Value {
        let mut args = vec!["keys", "create", "--role", "reader", "--name", name];
        for r in readers {
            args.extend(["--reader", r]);
        }
        app.node.ok(&args)
    };
    let one = create("gate-a key", &["gate-a"]);
    let two = create("gates key", &["gate-b", "gate-a"]);
    assert_eq!(one["readers"], json!(["gate-a"]));
    assert_eq!(two["readers"], json!(["gate-a", "gate-b"]));
    let (one, two) = (one["key"].as_str().unwrap(), two["key"].as_str().unwrap());
    assert_eq!(
        listed_key(&app.node, two)["readers"],
        json!(["gate-a", "gate-b"])
    );
    assert_eq!(listed_key(&app.node, &app.reader_key)["readers"], json!([]));
    let bad = app.node.run(&[
        "keys",
        "create",
        "--role",
        "reader",
        "--name",
        "x",
        "--reader",
        "no spaces",
    ]);
    assert!(!bad.status.success());

    let me = app.get("/api/v1/me", two);
    assert_eq!(
        me.body["data"]["attributes"]["readers"],
        json!(["gate-a", "gate-b"])
    );

    let scans = || -> i64 {
        app.node
            .store()
            .conn()
            .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))
            .unwrap()
    };
    let scan = |key: &str, reader: Option<&str>| {
        let mut body = json!({"value": "BEAN-0001", "medium": "qr"});
        if let Some(r) = reader {
            body["readerId"] = json!(r);
        }
        app.post("/api/v1/scans", key, body)
    };
    let before = scans();
    let refused = scan(one, Some("gate-b"));
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.body["errors"][0]["code"], "reader_not_allowed");
    let unnamed = scan(two, None);
    assert_eq!(unnamed.status, 422, "{unnamed:?}");
    assert_eq!(unnamed.body["errors"][0]["code"], "reader_required");
    assert_eq!(scans(), before, "a refused scan recorded something");

    let as_own = scan(one, None);
    assert_eq!(as_own.status, 201, "{as_own:?}");
    assert_eq!(as_own.body["data"]["attributes"]["readerId"], "gate-a");
    let named = scan(two, Some("gate-b"));
    assert_eq!(named.status, 201, "{named:?}");
    assert_eq!(named.body["data"]["attributes"]["readerId"], "gate-b");
    // An unbound key scans as whatever it names, as before.
    assert_eq!(scan(&app.reader_key, Some("till-1")).status, 201);
    assert_eq!(scans(), before + 3);

    // A bound key's gate screen sees its own reader's day, and no other's.
    let day = |key: &str, query: &str| app.get(&format!("/api/v1/scans/today{query}"), key);
    let own = day(one, "");
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(own.body["meta"]["readerId"], "gate-a");
    assert_eq!(own.body["meta"]["count"], 1, "{own:?}");
    assert_eq!(own.body["data"][0]["id"], as_own.body["data"]["id"]);
    assert_eq!(day(one, "?readerId=gate-a").status, 200);
    let other = day(one, "?readerId=till-1");
    assert_eq!(other.status, 403, "{other:?}");
    assert_eq!(other.body["errors"][0]["code"], "reader_not_allowed");
    assert_eq!(day(two, "").status, 422);
    assert_eq!(day(two, "?readerId=gate-b").status, 200);
}

/// The `'sha256-…'` source of a CSP's style-src.
fn style_hash(csp: &str) -> Option<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("style-src "))
        .and_then(|d| d.split(' ').find_map(|s| s.strip_prefix("'sha256-")))
        .map(|s| s.trim_end_matches('\'').to_owned())
}

#[test]
fn the_holder_page_opens_by_its_link_only() {
    let app = TestApp::start();
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "extId": "ORDER-1001", "pass": {"fullName": "Ada Lovelace"}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let link = created.body["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = link.strip_prefix("/p/").unwrap();
    assert_eq!(token.len(), 32, "{link}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    assert!(!link.contains(&id) && !link.contains("ORDER-1001"));
    // The same link whenever the pass is read.
    let again = app.get(&format!("/api/v1/passes/{id}"), &app.cashier_key);
    assert_eq!(
        again.body["data"]["attributes"]["downloadUrl"],
        link.as_str()
    );

    let page = get(&app, &link, &[]);
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("Ada Lovelace") && html.contains("<svg"),
        "{html}"
    );
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The page's one inline style is the one the policy allows by hash.
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|s| s.split("</style>").next())
        .unwrap();
    let want = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    assert_eq!(style_hash(csp).as_deref(), Some(want.as_str()), "{csp}");
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("x-robots-tag"), "noindex");

    // By pass id, by extId (this pass's and a demo order number), or by a token of no pass:
    // the same plain 404 page, with the same headers.
    let missing: Vec<Reply> = [
        format!("/p/{id}"),
        "/p/ORDER-1001".to_owned(),
        "/p/CUST-9002".to_owned(),
        format!("/p/{}", "0".repeat(32)),
        format!("/p/{}", token.to_uppercase()),
    ]
    .iter()
    .map(|p| get(&app, p, &[]))
    .collect();
    for m in &missing {
        assert_eq!(m.status, 404);
        assert_eq!(m.text(), missing[0].text());
        assert_eq!(m.header("content-security-policy"), csp);
        assert_eq!(m.header("cache-control"), "no-store");
        assert!(!m.text().contains("Ada"));
    }
    // A pass that arrived by import (the demo) has its link too.
    let imported = app.get("/api/v1/passes/CUST-9002", &app.cashier_key);
    let imported_link = imported.body["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!imported_link.contains("CUST-9002"));
    assert_eq!(get(&app, &imported_link, &[]).status, 200);
}

#[test]
fn unauthenticated_routes_are_rate_limited_per_address_and_valid_keys_never() {
    let app = TestApp::with_config(
        "[rate_limit]\npublic_burst = 5\npublic_per_minute = 1\nrefused_burst = 3\nrefused_per_minute = 1\n",
    );
    // The public routes share one bucket per address: five answers, then 429.
    let paths = [
        "/health",
        "/",
        "/p/00000000000000000000000000000000",
        "/health",
        "/api/v1/openapi.json",
    ];
    for p in paths {
        let a = get(&app, p, &[]);
        assert!(a.status == 200 || a.status == 404, "{p}: {}", a.status);
    }
    for p in [
        "/health",
        "/",
        "/p/00000000000000000000000000000000",
        "/assets/x.js",
    ] {
        let a = get(&app, p, &[]);
        assert_eq!(a.status, 429, "{p}");
        let wait: u64 = a.header("retry-after").parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(a.body["errors"][0]["code"], "rate_limited");
    }
    // Refused keys: three 401s, then 429, while a valid key from the same address goes on.
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/me", "pdk_000000000000000000_nope").status,
            401
        );
    }
    let limited = app.get("/api/v1/me", "pdk_000000000000000000_nope");
    assert_eq!(limited.status, 429);
    assert_eq!(
        app.call("GET", "/api/v1/status", None, None, &[]).status,
        429
    );
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/me", &app.reader_key).status, 200);
    }
    assert_eq!(app.scan("BEAN-0001", "till-1")["readerId"], "till-1");
}
