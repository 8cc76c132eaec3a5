//! PassEntry's scan API on a real counter (`passdesk serve` on loopback, the demo's data):
//! `POST /api/v1/scans` with PassEntry's `{"scan": {…}}` body, `POST /api/v1/scans/log`, and
//! `GET /api/v1/scans` with `included`. Every request body is written by hand, byte for byte, as
//! a tool written for PassEntry would send it (not by our serializer), and every answer is read
//! field by field, types included (the loyalty numbers are strings).

use passdesk_core::Timestamp;
use passdesk_tests::service::{Reply, TestApp};
use serde_json::{json, Value};

const SCANS: &str = "/api/v1/scans";
const LOG: &str = "/api/v1/scans/log";

fn post_raw(app: &TestApp, path: &str, key: &str, body: &str) -> Reply {
    app.raw("POST", path, Some(key), body.as_bytes().to_vec())
}

/// PassEntry's scan, as its tools write it.
fn pe_scan(app: &TestApp, key: &str, reader: &str, pass: &str, scan_type: &str) -> Reply {
    let body = format!(
        r#"{{"scan": {{"readerId": "{reader}", "passId": "{pass}", "scanType": "{scan_type}"}}}}"#
    );
    post_raw(app, SCANS, key, &body)
}

/// PassEntry's scan with a loyalty `balance`, under an `Idempotency-Key`.
fn pe_loyalty(
    app: &TestApp,
    key: &str,
    reader: &str,
    pass: &str,
    scan_type: &str,
    balance: i64,
    op_id: &str,
) -> Reply {
    let body = format!(
        "{{\n  \"scan\": {{\n    \"readerId\": \"{reader}\",\n    \"passId\": \"{pass}\",\n    \"scanType\": \"{scan_type}\",\n    \"loyalty\": {{ \"balance\": {balance} }}\n  }}\n}}"
    );
    app.send(
        "POST",
        SCANS,
        Some(key),
        &[("Idempotency-Key", op_id)],
        Some(body.into_bytes()),
    )
}

/// The answer's `data`, after checking it is PassEntry's shape, every member of the right type.
fn answer(r: &Reply) -> &Value {
    assert_eq!(r.status, 201, "{r:?}");
    let data = &r.body["data"];
    assert_eq!(data["type"], "scan", "{r:?}");
    let v = &data["validationResponse"];
    let i = &data["scanInfo"];
    assert!(
        matches!(v["status"].as_str(), Some("successful" | "failed")),
        "{r:?}"
    );
    assert!(v["statusDetail"].is_string(), "{r:?}");
    assert!(v["readerInstructions"]["message"].is_string(), "{r:?}");
    for field in ["scanId", "scanType", "scanValue", "scannedAt", "readerId"] {
        assert!(i[field].is_string(), "scanInfo.{field}: {r:?}");
    }
    assert_eq!(i["validationType"], "internal", "{r:?}");
    assert!(
        matches!(i["status"].as_str(), Some("successful" | "failed")),
        "{r:?}"
    );
    for field in ["passId", "passExtId"] {
        assert!(
            i[field].is_string() || i[field].is_null(),
            "scanInfo.{field}: {r:?}"
        );
    }
    assert_eq!(data["id"], i["scanId"], "{r:?}");
    Timestamp::parse_rfc3339(i["scannedAt"].as_str().unwrap()).expect("scannedAt is RFC 3339");
    if let Some(l) = v.get("loyalty") {
        for field in ["balanceChange", "updatedBalance", "operation"] {
            assert!(l[field].is_string(), "loyalty.{field} is a string: {r:?}");
        }
    }
    data
}

fn pass_id_of(app: &TestApp, value: &str) -> String {
    let r = app.get(&format!("/api/v1/passes/{value}"), &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["id"].as_str().unwrap().to_owned()
}

fn balance(app: &TestApp, pass: &str) -> i64 {
    let r = app.get(&format!("/api/v1/passes/{pass}/loyalty"), &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["attributes"]["balance"].as_i64().unwrap()
}

fn scan_count(app: &TestApp) -> i64 {
    app.node
        .store()
        .conn()
        .query_row("SELECT count(*) FROM scans", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_passentry_reader_is_answered_in_passentrys_words_and_the_log_includes_what_it_names() {
    let app = TestApp::start();
    let id = pass_id_of(&app, "HLF-0003");

    // Admitted.
    let r = pe_scan(&app, &app.reader_key, "gate-a", "HLF-0003", "scan");
    let d = answer(&r);
    let v = &d["validationResponse"];
    assert_eq!(
        (
            &v["status"],
            &v["statusDetail"],
            &v["readerInstructions"]["message"]
        ),
        (&json!("successful"), &json!("valid"), &json!("Valid")),
        "{r:?}"
    );
    assert!(
        v.get("loyalty").is_none(),
        "no loyalty change, no loyalty: {r:?}"
    );
    let i = &d["scanInfo"];
    assert_eq!(
        (
            &i["scanType"],
            &i["scanValue"],
            &i["status"],
            &i["passId"],
            &i["passExtId"],
            &i["readerId"]
        ),
        (
            &json!("scan"),
            &json!("HLF-0003"),
            &json!("successful"),
            &json!(id),
            &json!("HLF-ORDER-1003"),
            &json!("gate-a")
        ),
        "{r:?}"
    );
    let first_scan = i["scanId"].as_str().unwrap().to_owned();

    // Already used, with the gate's words.
    let r = pe_scan(&app, &app.reader_key, "gate-b", "HLF-0003", "scan");
    let d = answer(&r);
    let v = &d["validationResponse"];
    assert_eq!(
        (&v["status"], &v["statusDetail"]),
        (&json!("failed"), &json!("already_used")),
        "{r:?}"
    );
    let words = v["readerInstructions"]["message"].as_str().unwrap();
    assert!(
        words.starts_with("Already used ") && words.ends_with(" at Gate A"),
        "{r:?}"
    );
    assert_eq!(d["scanInfo"]["status"], "failed");

    // Voided.
    let r = pe_scan(&app, &app.reader_key, "gate-a", "HLF-0040", "scan");
    let v = &answer(&r)["validationResponse"];
    assert_eq!(
        (&v["status"], &v["statusDetail"]),
        (&json!("failed"), &json!("voided")),
        "{r:?}"
    );
    assert!(
        v["readerInstructions"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Voided"),
        "{r:?}"
    );

    // Unknown.
    let r = pe_scan(&app, &app.reader_key, "gate-a", "NOT-A-PASS-42", "scan");
    let d = answer(&r);
    assert_eq!(
        d["validationResponse"]["statusDetail"], "unknown_pass",
        "{r:?}"
    );
    assert_eq!(
        (&d["scanInfo"]["passId"], &d["scanInfo"]["passExtId"]),
        (&Value::Null, &Value::Null)
    );

    // Passdesk's own body keeps working, and answers as before.
    let own = app.scan("HLF-0004", "gate-a");
    assert_eq!(
        (own["verdict"].as_str(), own["reason"].clone()),
        (Some("accept"), Value::Null),
        "{own}"
    );

    // The log, newest first, keeps today's fields and relates each scan to its pass and
    // reader; `included` holds each of them once.
    let r = app.get("/api/v1/scans?limit=10", &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 5, "{r:?}");
    for scan in data {
        let a = &scan["attributes"];
        for field in [
            "id",
            "nodeId",
            "at",
            "readerId",
            "medium",
            "direction",
            "value",
            "verdict",
        ] {
            assert!(!a[field].is_null(), "{field}: {scan}");
        }
        assert_eq!(a["validatedElsewhere"], false, "{scan}");
        assert_eq!(
            scan["relationships"]["reader"]["data"],
            json!({"id": a["readerId"], "type": "reader"})
        );
        let pass = &scan["relationships"]["pass"]["data"];
        match a["passId"].as_str() {
            Some(p) => assert_eq!(pass, &json!({"id": p, "type": "pass"}), "{scan}"),
            None => assert!(pass.is_null(), "{scan}"),
        }
    }
    assert_eq!(data.last().unwrap()["id"], first_scan.as_str());
    assert_eq!(data.last().unwrap()["attributes"]["medium"], "nfc");
    let included = r.body["included"].as_array().unwrap();
    let named: Vec<(String, String)> = included
        .iter()
        .map(|x| {
            (
                x["type"].as_str().unwrap().to_owned(),
                x["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut once = named.clone();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), named.len(), "each resource once: {named:?}");
    let own_id = own["passId"].as_str().unwrap();
    let voided = pass_id_of(&app, "HLF-0040");
    let mut expected = vec![
        ("pass".to_owned(), id.clone()),
        ("pass".to_owned(), voided),
        ("pass".to_owned(), own_id.to_owned()),
        ("reader".to_owned(), "gate-a".to_owned()),
        ("reader".to_owned(), "gate-b".to_owned()),
    ];
    expected.sort();
    assert_eq!(once, expected, "{named:?}");
    let pass = included.iter().find(|x| x["id"] == id.as_str()).unwrap();
    assert_eq!(
        (
            &pass["attributes"]["extId"],
            &pass["attributes"]["barcode"]["value"],
            &pass["attributes"]["passTemplateUuid"]
        ),
        (
            &json!("HLF-ORDER-1003"),
            &json!("HLF-0003"),
            &json!("tpl-hlf-ticket")
        ),
        "{pass}"
    );
    assert!(pass["attributes"]["passTemplateName"].is_string(), "{pass}");
    let gate = included.iter().find(|x| x["id"] == "gate-b").unwrap();
    assert_eq!(gate["attributes"]["name"], "Gate B", "{gate}");
    assert_eq!(gate["attributes"]["scanEnabled"], true, "{gate}");
}

#[test]
fn a_typed_pass_number_opens_only_a_reader_that_accepts_ids() {
    // A pass whose NFC value is not its id (PassEntry's default is the id, the demo's too):
    // its id and its extId are numbers a person types, not what a reader reads.
    let app = TestApp::launch(Default::default(), |node| {
        let file = node.data_dir().join("typed.jsonl");
        std::fs::write(
            &file,
            r#"{"id": "pe-7f3a", "type": "pass", "attributes": {"passType": "eventTicket", "status": "issued", "extId": "PE-ORDER-7", "passTemplateUuid": "tpl-hlf-ticket", "nfc": null, "barcode": {"type": "qrCode", "value": "PE-QR-7", "displayText": true}, "passContent": {"fullName": "Ada Typed"}, "createdAt": "2024-01-01T00:00:00Z"}}
"#,
        )
        .unwrap();
        node.ok(&["import", file.to_str().unwrap()]);
    });
    for typed in ["pe-7f3a", "PE-ORDER-7"] {
        let r = pe_scan(&app, &app.reader_key, "pe-door", typed, "scan");
        let d = answer(&r);
        let v = &d["validationResponse"];
        assert_eq!(
            (&v["status"], &v["statusDetail"]),
            (&json!("failed"), &json!("typed_id_not_accepted")),
            "{typed}: {r:?}"
        );
        assert_eq!(
            v["readerInstructions"]["message"],
            "Typed pass number not accepted here: scan the code on the pass"
        );
        // The audit names the pass; whoever typed learns nothing of it.
        assert_eq!(d["scanInfo"]["passId"], "pe-7f3a", "{r:?}");
        assert!(d["scanInfo"]["passExtId"].is_null(), "{r:?}");
    }
    // A PassEntry-compatible box office switches acceptIds on.
    let r = app.patch(
        "/api/v1/readers/pe-door",
        &app.manager_key,
        json!({"reader": {"acceptIds": true}}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = pe_scan(&app, &app.reader_key, "pe-door", "pe-7f3a", "scan");
    let v = &answer(&r)["validationResponse"];
    assert_eq!(
        (
            &v["status"],
            &v["statusDetail"],
            &v["readerInstructions"]["message"]
        ),
        (
            &json!("successful"),
            &json!("valid"),
            &json!("Valid (typed pass number)")
        ),
        "{r:?}"
    );
    // That was its one entry: the code on the pass is now used (at another door: at this one
    // a tap inside the duplicate window repeats the first answer).
    let r = pe_scan(&app, &app.reader_key, "pe-door-2", "PE-QR-7", "scan");
    assert_eq!(
        answer(&r)["validationResponse"]["statusDetail"],
        "already_used",
        "{r:?}"
    );

    // The demo's passes carry their id as NFC value, as PassEntry's do: that is a read, so a
    // PassEntry reader's passId admits at a gate without acceptIds.
    let id = pass_id_of(&app, "HLF-0009");
    let r = pe_scan(&app, &app.reader_key, "gate-a", &id, "scan");
    assert_eq!(
        answer(&r)["validationResponse"]["status"],
        "successful",
        "{r:?}"
    );
}

#[test]
fn a_loyalty_balance_adds_and_subtracts_where_the_reader_may() {
    let app = TestApp::start();
    let b0 = balance(&app, "BEAN-0005");

    // Adds at the till, which may.
    let op = "0190f1a2-0000-7000-8000-000000000001";
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-1",
        "BEAN-0005",
        "addPoints",
        5,
        op,
    );
    let d = answer(&r);
    let v = &d["validationResponse"];
    assert_eq!(
        (&v["status"], &v["statusDetail"]),
        (&json!("successful"), &json!("valid")),
        "{r:?}"
    );
    assert_eq!(
        v["loyalty"],
        json!({"balanceChange": "5", "updatedBalance": (b0 + 5).to_string(), "operation": "add"}),
        "{r:?}"
    );
    assert_eq!(d["scanInfo"]["scanType"], "addPoints");
    assert_eq!(balance(&app, "BEAN-0005"), b0 + 5);
    // The same key and body again (a retry): the first result, added once.
    let again = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-1",
        "BEAN-0005",
        "addPoints",
        5,
        op,
    );
    assert_eq!(
        answer(&again)["validationResponse"]["loyalty"],
        v["loyalty"],
        "{again:?}"
    );
    assert_eq!(balance(&app, "BEAN-0005"), b0 + 5);

    // Subtracts: redeem with a negative balance, and a plain scan whose balance is negative.
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-1",
        "BEAN-0005",
        "redeem",
        -3,
        "0190f1a2-0000-7000-8000-000000000002",
    );
    let v = &answer(&r)["validationResponse"];
    assert_eq!(
        v["loyalty"],
        json!({"balanceChange": "3", "updatedBalance": (b0 + 2).to_string(), "operation": "subtract"}),
        "{r:?}"
    );
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-1",
        "BEAN-0005",
        "scan",
        -2,
        "0190f1a2-0000-7000-8000-000000000003",
    );
    assert_eq!(
        answer(&r)["validationResponse"]["loyalty"]["operation"],
        "subtract",
        "{r:?}"
    );
    assert_eq!(balance(&app, "BEAN-0005"), b0);
    // More than the balance: refused with the ledger's code, the scan still recorded.
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-1",
        "BEAN-0005",
        "redeem",
        -(b0 + 1000),
        "0190f1a2-0000-7000-8000-000000000004",
    );
    let d = answer(&r);
    assert_eq!(d["validationResponse"]["status"], "failed", "{r:?}");
    assert_ne!(d["validationResponse"]["statusDetail"], "valid", "{r:?}");
    assert!(d["validationResponse"].get("loyalty").is_none(), "{r:?}");
    assert_eq!(d["scanInfo"]["status"], "successful", "{r:?}");
    assert_eq!(balance(&app, "BEAN-0005"), b0);

    // A reader key may scan but not change a balance: 403, nothing recorded.
    let before = app.node.fingerprint();
    let r = pe_loyalty(
        &app,
        &app.reader_key,
        "till-1",
        "BEAN-0005",
        "addPoints",
        5,
        "0190f1a2-0000-7000-8000-000000000005",
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(app.node.fingerprint(), before);

    // A reader id a client makes up only scans: the scan stands, the change is refused.
    for (scan_type, b, setting) in [
        ("addPoints", 5, "addPointsEnabled"),
        ("redeem", -1, "redeemEnabled"),
    ] {
        let r = pe_loyalty(
            &app,
            &app.cashier_key,
            "till-x",
            "BEAN-0005",
            scan_type,
            b,
            &format!("0190f1a2-0000-7000-8000-00000000001{}", b.abs()),
        );
        let d = answer(&r);
        let v = &d["validationResponse"];
        assert_eq!(
            (&v["status"], &v["statusDetail"]),
            (&json!("failed"), &json!("reader_not_allowed")),
            "{r:?}"
        );
        let words = v["readerInstructions"]["message"].as_str().unwrap();
        assert!(
            words.contains("reader till-x may not") && words.contains(setting),
            "{r:?}"
        );
        assert!(v.get("loyalty").is_none(), "{r:?}");
        assert_eq!(d["scanInfo"]["status"], "successful", "{r:?}");
    }
    assert_eq!(balance(&app, "BEAN-0005"), b0);
    // A manager lets it add points; it still does not subtract.
    let r = app.patch(
        "/api/v1/readers/till-x",
        &app.manager_key,
        json!({"reader": {"addPointsEnabled": true}}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-x",
        "BEAN-0005",
        "addPoints",
        2,
        "0190f1a2-0000-7000-8000-000000000020",
    );
    assert_eq!(
        answer(&r)["validationResponse"]["loyalty"]["updatedBalance"],
        (b0 + 2).to_string(),
        "{r:?}"
    );
    let r = pe_loyalty(
        &app,
        &app.cashier_key,
        "till-x",
        "BEAN-0005",
        "redeem",
        -2,
        "0190f1a2-0000-7000-8000-000000000021",
    );
    assert_eq!(
        answer(&r)["validationResponse"]["statusDetail"],
        "reader_not_allowed",
        "{r:?}"
    );
    assert_eq!(balance(&app, "BEAN-0005"), b0 + 2);
}

#[test]
fn a_scan_logged_from_elsewhere_counts_and_a_real_scan_of_the_ticket_is_then_refused() {
    let app = TestApp::start();
    let id = pass_id_of(&app, "HLF-0007");
    let at = Timestamp::now().minus_ms(5 * 60 * 1000).to_rfc3339();
    let body = format!(
        r#"{{
  "scan": {{
    "readerId": "pe-west-gate",
    "passId": "{id}",
    "scanValue": "HLF-0007",
    "scanType": "scan",
    "status": "successful",
    "statusDetail": "Valid",
    "scannedAt": "{at}"
  }}
}}"#
    );
    let scans_before = scan_count(&app);
    let r = post_raw(&app, LOG, &app.reader_key, &body);
    assert_eq!(r.status, 201, "{r:?}");
    let data = &r.body["data"];
    let a = &data["attributes"];
    assert_eq!(data["type"], "scanRecord");
    assert_eq!(
        (
            &a["validatedElsewhere"],
            &a["medium"],
            &a["verdict"],
            &a["counted"],
            &a["passId"],
            &a["readerId"],
            &a["value"],
            &a["detail"],
            &a["at"]
        ),
        (
            &json!(true),
            &json!("elsewhere"),
            &json!("accept"),
            &json!(true),
            &json!(id),
            &json!("pe-west-gate"),
            &json!("HLF-0007"),
            &json!("Valid"),
            &json!(at)
        ),
        "{r:?}"
    );
    assert_eq!(data["relationships"]["pass"]["data"]["id"], id.as_str());
    assert_eq!(
        r.body["meta"],
        json!({"replayed": false, "knownPass": true}),
        "{r:?}"
    );
    let scan_id = data["id"].as_str().unwrap().to_owned();
    // Its outbox event says where it was validated (a worker telling PassEntry of our scans
    // skips it).
    let payload: String = app
        .node
        .store()
        .conn()
        .query_row(
            "SELECT payload FROM outbox WHERE topic = 'passTapped' AND subject_id = ?1",
            [&scan_id],
            |r| r.get(0),
        )
        .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        (
            &payload["validatedElsewhere"],
            &payload["scanType"],
            &payload["successful"]
        ),
        (&json!(true), &json!("scan"), &json!(true)),
        "{payload}"
    );

    // The same log again (PassEntry retries; it has no idempotency key): that row, once.
    let again = post_raw(&app, LOG, &app.reader_key, &body);
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(again.body["data"]["id"], scan_id.as_str());
    assert_eq!(again.body["meta"]["replayed"], true);
    assert_eq!(scan_count(&app), scans_before + 1);

    // The single-entry ticket has had its entry: a real scan is refused, naming the reader.
    let r = pe_scan(&app, &app.reader_key, "gate-a", "HLF-0007", "scan");
    let v = &answer(&r)["validationResponse"];
    assert_eq!(v["statusDetail"], "already_used", "{r:?}");
    assert!(
        v["readerInstructions"]["message"]
            .as_str()
            .unwrap()
            .ends_with(" at pe-west-gate"),
        "{r:?}"
    );
    let own = app.scan("HLF-0007", "gate-b");
    assert_eq!(own["reason"], "already_used", "{own}");
    assert_eq!(own["previousUse"]["scanId"], scan_id.as_str(), "{own}");

    // A pass this counter does not know yet is recorded under the id given, with the reason
    // when it is one of ours.
    let r = post_raw(
        &app,
        LOG,
        &app.reader_key,
        &format!(
            r#"{{"scan":{{"readerId":"pe-west-gate","passId":"pe-not-pulled-yet","scanType":"scan","status":"failed","statusDetail":"already_used","scannedAt":"{at}"}}}}"#
        ),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let a = &r.body["data"]["attributes"];
    assert_eq!(
        (
            &a["passId"],
            &a["verdict"],
            &a["reason"],
            &a["counted"],
            &a["value"]
        ),
        (
            &json!("pe-not-pulled-yet"),
            &json!("reject"),
            &json!("already_used"),
            &json!(false),
            &json!("pe-not-pulled-yet")
        ),
        "{r:?}"
    );
    assert_eq!(r.body["meta"]["knownPass"], false, "{r:?}");
    // Words that are not one of our codes stay words.
    let r = post_raw(
        &app,
        LOG,
        &app.reader_key,
        &format!(
            r#"{{"scan":{{"readerId":"pe-west-gate","scanValue":"SOMETHING-ELSE","scanType":"scan","status":"failed","statusDetail":"Ticket not found","scannedAt":"{at}"}}}}"#
        ),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let a = &r.body["data"]["attributes"];
    assert_eq!(
        (&a["reason"], &a["detail"], &a["passId"]),
        (&Value::Null, &json!("Ticket not found"), &Value::Null),
        "{r:?}"
    );
    // A redeem logged with its amount (made there, recorded here, not applied again).
    let b0 = balance(&app, "BEAN-0003");
    let r = post_raw(
        &app,
        LOG,
        &app.reader_key,
        &format!(
            r#"{{"scan":{{"readerId":"pe-till","passId":"BEAN-0003","scanType":"redeem","status":"successful","scannedAt":"{at}","loyalty":{{"balance":-4}}}}}}"#
        ),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(balance(&app, "BEAN-0003"), b0);

    // A key bound to a reader logs only as it.
    let bound = app.node.ok(&[
        "keys",
        "create",
        "--role",
        "reader",
        "--name",
        "west",
        "--reader",
        "pe-west-gate",
    ])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.node.fingerprint();
    let elsewhere = body.replace("pe-west-gate", "pe-east-gate");
    let r = post_raw(&app, LOG, &bound, &elsewhere);
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"], "/scan/readerId",
        "{r:?}"
    );
    let r = pe_scan(&app, &bound, "gate-a", "HLF-0008", "scan");
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"], "/scan/readerId",
        "{r:?}"
    );
    // A scan from next week is a mistake, not a scan.
    let future = body.replace(
        &at,
        &Timestamp::now().plus_ms(7 * 24 * 3600 * 1000).to_rfc3339(),
    );
    let r = post_raw(&app, LOG, &app.reader_key, &future);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(
        (
            &r.body["errors"][0]["code"],
            &r.body["errors"][0]["source"]["pointer"]
        ),
        (&json!("invalid_time"), &json!("/scan/scannedAt")),
        "{r:?}"
    );
    assert_eq!(app.node.fingerprint(), before, "refusals record nothing");
    let r = post_raw(&app, LOG, &bound, &body);
    assert_eq!(
        (r.status, &r.body["meta"]["replayed"]),
        (201, &json!(true)),
        "{r:?}"
    );
}

#[test]
fn every_bad_body_is_a_400_naming_the_field_and_records_nothing() {
    let app = TestApp::start();
    let at = Timestamp::now().minus_ms(60_000).to_rfc3339();
    let long = "x".repeat(2000);
    let scans: Vec<(String, &str, &str)> = vec![
        ("this is not JSON".into(), "", "invalid JSON body"),
        ("[1, 2]".into(), "", "must be a JSON object"),
        (r#"{"scan": "HLF-0001"}"#.into(), "/scan", "scan is a string; it must be an object"),
        (r#"{"scan": null}"#.into(), "/scan", "scan is null"),
        (r#"{"scan": ["gate-a", "HLF-0001", "scan"]}"#.into(), "/scan", "scan is an array"),
        (r#"{"scan": {"passId": "HLF-0001", "scanType": "scan"}}"#.into(), "/scan/readerId", "missing field `readerId`"),
        (r#"{"scan": {"readerId": "gate-a", "scanType": "scan"}}"#.into(), "/scan/passId", "missing field `passId`"),
        (r#"{"scan": {"readerId": "gate-a", "passId": "HLF-0001"}}"#.into(), "/scan/scanType", "missing field `scanType`"),
        (r#"{"scan": {"readerId": 7, "passId": "HLF-0001", "scanType": "scan"}}"#.into(), "/scan/readerId", "invalid type: integer"),
        (r#"{"scan": {"readerId": "gate-a", "passId": ["HLF-0001"], "scanType": "scan"}}"#.into(), "/scan/passId", "invalid type: sequence"),
        (r#"{"scan": {"readerId": "gate-a", "passId": "HLF-0001", "scanType": "admit"}}"#.into(), "/scan/scanType", "unknown variant `admit`"),
        (r#"{"scan": {"readerId": "gate-a", "passId": "HLF-0001", "scanType": "scan", "medium": "qr"}}"#.into(), "/scan/medium", "unknown field `medium`"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "scan", "loyalty": 5}}"#.into(), "/scan/loyalty", "scan.loyalty is a number"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "addPoints", "loyalty": [5]}}"#.into(), "/scan/loyalty", "scan.loyalty is an array"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "addPoints", "loyalty": {"balance": "5"}}}"#.into(), "/scan/loyalty/balance", "invalid type: string"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "addPoints", "loyalty": {"balance": 1.5}}}"#.into(), "/scan/loyalty/balance", "invalid type: floating point"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "addPoints", "loyalty": {"balance": 0}}}"#.into(), "/scan/loyalty/balance", "changes nothing"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "addPoints", "loyalty": {"balance": -5}}}"#.into(), "/scan/loyalty/balance", "must be positive"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "redeem", "loyalty": {"balance": 5}}}"#.into(), "/scan/loyalty/balance", "must be negative"),
        (r#"{"scan": {"readerId": "till-1", "passId": "BEAN-0001", "scanType": "redeem"}}"#.into(), "/scan/loyalty", "needs loyalty.balance"),
        (r#"{"scan": {"readerId": "gate-a", "passId": "HLF-0001", "scanType": "scan"}, "value": "HLF-0001"}"#.into(), "/value", "two shapes at once"),
        (r#"{"value": "HLF-0001", "readerId": "gate-a", "scan": {"readerId": "gate-a", "passId": "HLF-0001", "scanType": "scan"}}"#.into(), "/readerId", "two shapes at once"),
        (r#"{"value": "HLF-0001", "readerId": "gate-a", "scanType": "scan"}"#.into(), "/scanType", "unknown field `scanType`"),
    ];
    let logs: Vec<(String, &str, &str)> = vec![
        ("{\"scan\": ".into(), "/scan", "invalid JSON body: EOF"),
        ("\"scan\"".into(), "", "must be a JSON object"),
        (r#"{"scan": []}"#.into(), "/scan", "scan is an array"),
        ("{}".into(), "/scan", "missing field `scan`"),
        (format!(r#"{{"scan": {{"passId": "p", "scanType": "scan", "status": "successful", "scannedAt": "{at}"}}}}"#), "/scan/readerId", "missing field `readerId`"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "scan", "scannedAt": "{at}"}}}}"#), "/scan/status", "missing field `status`"),
        (r#"{"scan": {"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "successful"}}"#.into(), "/scan/scannedAt", "missing field `scannedAt`"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "ok", "scannedAt": "{at}"}}}}"#), "/scan/status", "unknown variant `ok`"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "validate", "status": "failed", "scannedAt": "{at}"}}}}"#), "/scan/scanType", "unknown variant `validate`"),
        (r#"{"scan": {"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "failed", "scannedAt": "yesterday"}}"#.into(), "/scan/scannedAt", "scannedAt"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "scanType": "scan", "status": "failed", "scannedAt": "{at}"}}}}"#), "/scan/passId", "give passId"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": 12, "scanType": "scan", "status": "failed", "scannedAt": "{at}"}}}}"#), "/scan/passId", "invalid type: integer"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "failed", "scannedAt": "{at}", "verdict": "reject"}}}}"#), "/scan/verdict", "unknown field `verdict`"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "failed", "statusDetail": "{long}", "scannedAt": "{at}"}}}}"#), "/scan/statusDetail", "at most 1024"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "addPoints", "status": "successful", "scannedAt": "{at}"}}}}"#), "/scan/loyalty", "needs loyalty.balance"),
        (format!(r#"{{"scan": {{"readerId": "pe-1", "passId": "p", "scanType": "scan", "status": "successful", "scannedAt": "{at}"}}, "value": "p"}}"#), "/value", "unknown field `value`"),
    ];
    let before = app.node.fingerprint();
    let scans_before = scan_count(&app);
    for (path, cases) in [(SCANS, &scans), (LOG, &logs)] {
        for (body, pointer, words) in cases {
            let r = post_raw(&app, path, &app.cashier_key, body);
            assert_eq!(r.status, 400, "{path} {body}: {r:?}");
            let e = &r.body["errors"][0];
            assert_eq!(e["code"], "bad_request", "{path} {body}: {r:?}");
            assert_eq!(e["source"]["pointer"], *pointer, "{path} {body}: {r:?}");
            assert!(
                e["detail"].as_str().unwrap().contains(words),
                "{path} {body}: wanted {words:?} in {r:?}"
            );
        }
    }
    // An invalid reader id is refused as in Passdesk's own body (422 invalid_reader).
    let r = pe_scan(&app, &app.reader_key, "gate a", "HLF-0001", "scan");
    assert_eq!(
        (
            r.status,
            &r.body["errors"][0]["code"],
            &r.body["errors"][0]["source"]["pointer"]
        ),
        (422, &json!("invalid_reader"), &json!("/scan/readerId")),
        "{r:?}"
    );
    assert_eq!(scan_count(&app), scans_before);
    assert_eq!(
        app.node.fingerprint(),
        before,
        "a refused body records nothing"
    );
}
