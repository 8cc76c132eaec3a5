//! The HTTP service, started as the real binary on 127.0.0.1:0, driven over real HTTP.

use passdesk_tests::events::StreamEvents;
use passdesk_tests::service::TestApp;
use serde_json::json;
use std::io::{BufRead, BufReader};

#[test]
fn issue_a_pass_then_its_token_is_admitted_once() {
    let app = TestApp::start();
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-hlf-ticket", "eventUuid": "ev-harbour-lights", "extId": "box-office-1",
               "pass": {"fullName": "Ada Lovelace"}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let attrs = &created.body["data"]["attributes"];
    let barcode = attrs["barcode"]["value"].as_str().unwrap();
    assert!(
        barcode.starts_with("PD1."),
        "the default barcode is a signed token: {barcode}"
    );
    assert_eq!(attrs["status"], "issued");
    assert!(attrs["downloadUrl"].as_str().unwrap().starts_with("/p/"));

    let first = app.scan(barcode, "gate-a");
    assert_eq!(
        (
            first["verdict"].as_str(),
            first["pass"]["holderName"].as_str()
        ),
        (Some("accept"), Some("Ada Lovelace"))
    );
    let second = app.scan(barcode, "gate-b");
    assert_eq!(second["reason"], "already_used");
    assert_eq!(second["previousUse"]["readerName"], "Gate A");

    let id = created.body["data"]["id"].as_str().unwrap();
    let by_ext = app.get("/api/v1/passes/box-office-1", &app.cashier_key);
    assert_eq!(by_ext.body["data"]["id"], id);
    let voided = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"passAction": "void"}),
    );
    assert_eq!(
        voided.body["data"]["attributes"]["status"], "voided",
        "{voided:?}"
    );
    assert_eq!(app.scan(barcode, "gate-a")["reason"], "voided");
    let honest = app.get(
        &format!("/api/v1/passes/{id}?includePassSource=apple"),
        &app.cashier_key,
    );
    // No [wallet.apple] on this counter: said plainly, with the code a client can act on.
    assert_eq!(honest.status, 409, "{honest:?}");
    assert_eq!(honest.body["errors"][0]["code"], "appleWalletNotSetUp");
}

#[test]
fn pass_list_speaks_passentry_filters_and_pagination() {
    let app = TestApp::start();
    let page = app.get(
        "/api/v1/passes?perPage=5&page=2&eventUuid=ev-harbour-lights&status=voided",
        &app.cashier_key,
    );
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.body["meta"]["totalCount"], 7); // 6 voided tickets and one voided weekend pass
    assert_eq!(page.body["meta"]["totalPages"], 2);
    assert_eq!(page.body["data"].as_array().unwrap().len(), 2);
    assert!(page.body["links"]["next"].is_null());
    assert!(page.body["links"]["prev"]
        .as_str()
        .unwrap()
        .contains("page=1"));
    let sparse = app.get("/api/v1/passes?perPage=1&fields=extId,status&passTemplateName=Bean%20There%20Coffee%20Card", &app.cashier_key);
    let attrs = sparse.body["data"][0]["attributes"].as_object().unwrap();
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["extId", "status"]);
    assert_eq!(sparse.body["meta"]["totalCount"], 150);
    for bad in [
        "/api/v1/passes?perPage=0",
        "/api/v1/passes?status=lost",
        "/api/v1/passes?createdAfter=yesterday",
        "/api/v1/passes?colour=red",
    ] {
        let r = app.get(bad, &app.cashier_key);
        assert_eq!(r.status, 400, "{bad}: {r:?}");
        assert!(r.body["errors"][0]["detail"].is_string());
    }
}

#[test]
fn loyalty_over_http_with_a_replayed_idempotency_key() {
    let app = TestApp::start();
    let key = "0190e5a0-2222-7000-8000-000000000001";
    let patch = |body: serde_json::Value, k: &str| {
        app.call(
            "PATCH",
            "/api/v1/passes/CUST-9001/loyalty",
            Some(&app.cashier_key),
            Some(&body),
            &[("Idempotency-Key", k)],
        )
    };
    let before = app
        .get("/api/v1/passes/CUST-9001/loyalty", &app.cashier_key)
        .body["data"]["attributes"]["balance"]
        .as_i64()
        .unwrap();
    let first = patch(json!({"balance": 5}), key);
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["meta"]["loyalty"]["balance"], before + 5);
    let again = patch(json!({"balance": 5}), key);
    assert_eq!(again.body["meta"]["loyalty"]["balance"], before + 5);
    assert_eq!(again.body["meta"]["operation"]["replayed"], true);
    let conflict = patch(json!({"balance": 6}), key);
    assert_eq!(conflict.status, 409, "{conflict:?}");
    let both = patch(
        json!({"balance": 1, "overrideBalance": 3}),
        "0190e5a0-2222-7000-8000-000000000002",
    );
    assert_eq!(
        (
            both.status,
            both.body["errors"][0]["source"]["pointer"].as_str()
        ),
        (422, Some("/overrideBalance"))
    );
    // overrideBalance is a manager's call.
    let r = patch(
        json!({"overrideBalance": 100}),
        "0190e5a0-2222-7000-8000-000000000003",
    );
    assert_eq!(r.status, 403);
    // A reward redeemed by a double click: the same key twice redeems once.
    app.patch(
        "/api/v1/passes/CUST-9001/loyalty",
        &app.manager_key,
        json!({"overrideBalance": 120}),
    );
    let redeem = |k: &str| {
        app.call(
            "POST",
            "/api/v1/passes/CUST-9001/loyalty/redeem",
            Some(&app.cashier_key),
            Some(&json!({"tier": "£5 off"})),
            &[("Idempotency-Key", k)],
        )
    };
    let click = "0190e5a0-2222-7000-8000-000000000004";
    assert_eq!(redeem(click).body["meta"]["loyalty"]["balance"], 70);
    assert_eq!(redeem(click).body["meta"]["loyalty"]["balance"], 70);
    let history = app.get("/api/v1/passes/CUST-9001/loyalty", &app.cashier_key);
    let redeems = history.body["included"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["attributes"]["kind"] == "reward_redeem")
        .count();
    assert_eq!(redeems, 1);
}

#[test]
fn every_role_and_route_gets_401_or_403_right() {
    let app = TestApp::start();
    let routes: Vec<(&str, &str, Option<serde_json::Value>, u8)> = vec![
        // (method, path, body, minimum role: 0 reader, 1 cashier, 2 manager, 3 admin)
        ("GET", "/api/v1/status", None, 0),
        (
            "POST",
            "/api/v1/scans",
            Some(json!({"value": "BEAN-0001", "readerId": "till-1"})),
            0,
        ),
        ("GET", "/api/v1/scans", None, 1),
        ("GET", "/api/v1/passes", None, 1),
        ("GET", "/api/v1/passes/CUST-9002", None, 1),
        (
            "POST",
            "/api/v1/passes",
            Some(json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "X"}})),
            2,
        ),
        (
            "PATCH",
            "/api/v1/passes/CUST-9002",
            Some(json!({"message": "hi"})),
            2,
        ),
        ("GET", "/api/v1/passes/CUST-9002/loyalty", None, 1),
        (
            "POST",
            "/api/v1/passes/CUST-9002/loyalty/earn",
            Some(json!({"points": 1})),
            1,
        ),
        (
            "POST",
            "/api/v1/passes/CUST-9002/loyalty/stamps",
            Some(json!({"count": 1})),
            1,
        ),
        (
            "PATCH",
            "/api/v1/passes/CUST-9002/loyalty",
            Some(json!({"overrideBalance": 10})),
            2,
        ),
        ("GET", "/api/v1/passTemplates", None, 1),
        (
            "POST",
            "/api/v1/passTemplates",
            Some(json!({"name": "New"})),
            2,
        ),
        ("GET", "/api/v1/events", None, 1),
        (
            "POST",
            "/api/v1/events",
            Some(json!({"event": {"name": "Gig"}})),
            2,
        ),
        ("GET", "/api/v1/readers", None, 1),
        (
            "POST",
            "/api/v1/readers",
            Some(json!({"reader": {"id": "new-1", "name": "New"}})),
            2,
        ),
        (
            "PATCH",
            "/api/v1/readers/till-1",
            Some(json!({"reader": {"name": "Till One"}})),
            2,
        ),
    ];
    let keys = [
        &app.reader_key,
        &app.cashier_key,
        &app.manager_key,
        &app.admin_key,
    ];
    for (method, path, body, min) in &routes {
        let none = app.call(method, path, None, body.as_ref(), &[]);
        assert_eq!(none.status, 401, "{method} {path} without a key");
        let bad = app.call(
            method,
            path,
            Some("pdk_000000000000000000_nope"),
            body.as_ref(),
            &[],
        );
        assert_eq!(bad.status, 401, "{method} {path} with a bad key");
        for (role, key) in keys.iter().enumerate() {
            let r = app.call(method, path, Some(key), body.as_ref(), &[]);
            if role < usize::from(*min) {
                assert_eq!(r.status, 403, "{method} {path} as role {role}: {r:?}");
            } else {
                assert!(r.status < 400, "{method} {path} as role {role}: {r:?}");
            }
        }
    }
    // A revoked key stops working at once.
    app.node.ok(&["keys", "revoke", &app.cashier_key]);
    assert_eq!(app.get("/api/v1/passes", &app.cashier_key).status, 401);
}

#[test]
fn bad_requests_get_clear_errors_and_change_nothing() {
    let app = TestApp::start();
    let before = app.node.fingerprint();
    assert_eq!(oversized_post_status(&app), 413);
    let cases = [
        (b"{\"value\": ".to_vec(), 400, ""),
        (b"[1,2]".to_vec(), 400, ""),
        (b"{\"value\": 12}".to_vec(), 400, "/value"),
        (
            b"{\"value\": \"x\", \"readerId\": \"bad id!\"}".to_vec(),
            422,
            "/readerId",
        ),
        (
            b"{\"value\": \"x\", \"medium\": \"telepathy\"}".to_vec(),
            422,
            "/medium",
        ),
    ];
    for (body, status, pointer) in cases {
        let r = app.raw("POST", "/api/v1/scans", Some(&app.reader_key), body.clone());
        assert_eq!(
            r.status,
            status,
            "{}: {r:?}",
            String::from_utf8_lossy(&body)
        );
        if !pointer.is_empty() {
            assert_eq!(r.body["errors"][0]["source"]["pointer"], pointer, "{r:?}");
        }
    }
    let r = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "no-such-template"}),
    );
    assert_eq!(
        (r.status, r.body["errors"][0]["source"]["pointer"].as_str()),
        (422, Some("/passTemplate"))
    );
    let r = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"qr": {"value": "BEAN-0001"}}}),
    );
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(app.get("/api/v1/nothing-here", &app.admin_key).status, 404);
    assert_eq!(
        app.get("/api/v1/passes/no-such-pass", &app.admin_key)
            .status,
        404
    );
    assert_eq!(app.node.fingerprint(), before);
    // Malformed scan values are decisions (rejects), not errors.
    let d = app.scan("", "gate-a");
    assert_eq!(d["reason"], "malformed_value");
}

#[test]
fn every_decision_reaches_the_event_stream() {
    let app = TestApp::start();
    let req = ureq::http::Request::builder()
        .uri(app.url("/api/v1/scans/stream"))
        .header("Authorization", format!("Bearer {}", app.reader_key))
        .body(())
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(20)))
        .build()
        .into();
    let resp = agent.run(req).unwrap();
    assert_eq!(resp.status(), 200);
    let mut lines = BufReader::new(resp.into_body().into_reader()).lines();
    let posted = app.scan("HLF-0011", "gate-a");
    // The decision's event, whatever else the stream says first (a camera's `device` line).
    let mut event = String::new();
    let data = loop {
        let line = lines.next().expect("stream ended").unwrap();
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_owned();
        } else if let Some(d) = line.strip_prefix("data: ") {
            let data: serde_json::Value = serde_json::from_str(d).unwrap();
            if event == "decision" && data["id"] == posted["scanId"] {
                break data;
            }
        }
    };
    assert_eq!(data["attributes"]["verdict"], "accept");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut app = TestApp::start();
    // A screen listening to the stream must not hold the shutdown up.
    let events = app.events();
    let posted = app.scan("BEAN-0010", "till-1");
    events.wait_for("decision", |d| d["id"] == posted["scanId"]);
    let status = app.stop();
    assert!(status.success(), "{status:?}");
    app.node.store().integrity_check().unwrap();
    assert_eq!(
        app.node.ok(&["scans", "list", "--limit", "1"])["data"][0]["value"],
        "BEAN-0010"
    );
}

/// Announces a 2 MiB body and sends a little of it: the service must answer 413 without
/// reading the rest (a client writing on would see the connection closed, as it should).
fn oversized_post_status(app: &TestApp) -> u16 {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/v1/scans HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.reader_key,
        2 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(&[b' '; 4096]);
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[9..12]).parse().unwrap()
}

#[test]
fn pass_qr_images_and_the_holders_page() {
    let app = TestApp::start();
    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Grace <Hopper>"}}),
    );
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let download = created.body["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let get_raw = |path: &str, key: Option<&str>| {
        let (status, content_type, _, body) = app.get_bytes(path, key);
        (status, content_type, body)
    };
    let (status, ct, svg) = get_raw(
        &format!("/api/v1/passes/{id}/qr.svg?size=4"),
        Some(&app.cashier_key),
    );
    assert_eq!((status, ct.as_str()), (200, "image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    let (status, ct, png) = get_raw(
        &format!("/api/v1/passes/{id}/qr.png"),
        Some(&app.cashier_key),
    );
    assert_eq!((status, ct.as_str()), (200, "image/png"));
    assert!(png.starts_with(b"\x89PNG"));
    assert_eq!(get_raw(&format!("/api/v1/passes/{id}/qr.png"), None).0, 401);
    // The holder's page needs no key, escapes what it shows, and carries the QR code.
    let (status, ct, page) = get_raw(&download, None);
    let page = String::from_utf8_lossy(&page);
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    assert!(
        page.contains("Grace &lt;Hopper&gt;") && page.contains("<svg"),
        "{page}"
    );
    assert_eq!(get_raw("/p/no-such-pass", None).0, 404);
}

#[test]
fn a_till_scans_and_adds_the_purchase_in_one_request() {
    let app = TestApp::start();
    let scan = |key: &str, reader: &str, loyalty: serde_json::Value, idem: &str| {
        app.call(
            "POST",
            "/api/v1/scans",
            Some(key),
            Some(&json!({"value": "BEAN-0003", "readerId": reader, "loyalty": loyalty})),
            &[("Idempotency-Key", idem)],
        )
    };
    let before = app
        .get("/api/v1/passes/CUST-9003/loyalty", &app.cashier_key)
        .body["data"]["attributes"]["balance"]
        .as_i64()
        .unwrap();
    let r = scan(
        &app.cashier_key,
        "till-1",
        json!({"amountMinor": 1250}),
        "0190e5a0-3333-7000-8000-000000000001",
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["data"]["attributes"]["verdict"], "accept");
    assert_eq!(r.body["meta"]["loyalty"]["balance"], before + 12, "{r:?}");
    // A reader key may scan but not change loyalty.
    assert_eq!(
        scan(
            &app.reader_key,
            "till-1",
            json!({"points": 5}),
            "0190e5a0-3333-7000-8000-000000000002"
        )
        .status,
        403
    );
    // Nor may a reader whose permission is off: the scan stands, the change is refused.
    let off = app.patch(
        "/api/v1/readers/till-1",
        &app.manager_key,
        json!({"reader": {"addPointsEnabled": false}}),
    );
    assert_eq!(off.status, 200, "{off:?}");
    let r = scan(
        &app.cashier_key,
        "till-1",
        json!({"stamps": 1}),
        "0190e5a0-3333-7000-8000-000000000003",
    );
    assert_eq!(
        r.body["meta"]["loyalty"]["error"]["code"], "reader_not_allowed",
        "{r:?}"
    );
    let r = app.call(
        "POST",
        "/api/v1/scans",
        Some(&app.cashier_key),
        Some(&json!({"value": "BEAN-0003", "loyalty": {"points": 1, "stamps": 1}})),
        &[],
    );
    assert_eq!(r.status, 422);
}

#[test]
fn templates_and_events_can_be_updated() {
    let app = TestApp::start();
    let t = app.patch(
        "/api/v1/passTemplates/tpl-bean-there",
        &app.manager_key,
        json!({"name": "Bean There Card"}),
    );
    assert_eq!(
        t.body["data"]["attributes"]["name"], "Bean There Card",
        "{t:?}"
    );
    let e = app.patch(
        "/api/v1/events/ev-jazz-night",
        &app.manager_key,
        json!({"event": {"venueName": "The Vault"}}),
    );
    assert_eq!(
        e.body["data"]["attributes"]["venueName"], "The Vault",
        "{e:?}"
    );
    assert_eq!(
        app.patch(
            "/api/v1/events/ev-jazz-night",
            &app.cashier_key,
            json!({"event": {}})
        )
        .status,
        403
    );
    assert_eq!(
        app.patch(
            "/api/v1/events/none",
            &app.manager_key,
            json!({"event": {}})
        )
        .status,
        404
    );
}

#[test]
fn the_scan_list_counts_all_of_today_whatever_its_limit_and_search_finds_an_email() {
    let app = TestApp::start();
    let before = app.get("/api/v1/scans?limit=1", &app.cashier_key);
    assert_eq!(before.status, 200, "{before:?}");
    let (a0, r0) = (
        before.body["meta"]["totals"]["accepted"].as_u64().unwrap(),
        before.body["meta"]["totals"]["rejected"].as_u64().unwrap(),
    );
    app.scan("HLF-0002", "gate-a");
    app.scan("HLF-0002", "gate-a"); // the same tap again: shown, not counted twice
    app.scan("HLF-0040", "gate-a"); // voided
    app.scan("NOPE-1", "gate-a");
    let after = app.get("/api/v1/scans?limit=1", &app.cashier_key);
    assert_eq!(after.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(after.body["meta"]["count"], 1);
    assert_eq!(after.body["meta"]["totals"]["accepted"], a0 + 1);
    assert_eq!(after.body["meta"]["totals"]["rejected"], r0 + 2);
    let gate = app.get(
        "/api/v1/scans?readerId=gate-a&verdict=reject",
        &app.cashier_key,
    );
    assert_eq!(gate.body["meta"]["totals"]["accepted"], 0);
    assert_eq!(gate.body["meta"]["totals"]["rejected"], 2);

    let created = app.post(
        "/api/v1/passes",
        &app.manager_key,
        json!({"passTemplate": "tpl-hlf-ticket", "eventUuid": "ev-harbour-lights",
               "pass": {"fullName": "Grace Hopper", "email": "grace@navy.example"}}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let found = app.get("/api/v1/passes?search=navy.example", &app.cashier_key);
    assert_eq!(found.body["meta"]["totalCount"], 1, "{found:?}");
    assert_eq!(found.body["data"][0]["id"], created.body["data"]["id"]);
}

#[test]
fn openapi_command_prints_the_served_document() {
    let app = TestApp::start();
    let served = app.get("/api/v1/openapi.json", &app.cashier_key);
    let out = std::process::Command::new(passdesk_tests::passdesk_bin())
        .arg("openapi")
        .output()
        .expect("run passdesk openapi");
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, served.body);
    // The response shapes are typed, so generated clients (the UI's) know them.
    let schemas = &printed["components"]["schemas"];
    for name in [
        "Decision",
        "ScanDoc",
        "LoyaltyOperationDoc",
        "PassPage",
        "StatusDoc",
    ] {
        assert!(schemas[name].is_object(), "{name} is in the document");
    }
}
