//! Provider webhooks in, against the real `passdesk serve`: each provider's bodies from the
//! seeds (`shared/seeds`, read here with their page markers removed and their slips corrected
//! as each helper says), PassEntry's signatures made by `openssl dgst -hmac` (not by our
//! code), every change read back through the API, a voided pass refused at the next scan, and
//! every bad input answered with its status, the database unchanged (every row of every
//! table) and the process still up.

use passdesk_core::testkit as seeds;
use passdesk_tests::service::{Reply, TestApp};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

const PASSENTRY_SECRET: &str = "pe-whsec-7f3a9c";
const PASSCREATOR_SECRET: &str = "pc-path-0d9e4b1a";
const SKYCORE_SECRET: &str = "sky-path-55c2e8";

fn app() -> TestApp {
    TestApp::with_config(&format!(
        "[upstream.passentry]\nbase_url = \"http://127.0.0.1:9\"\napi_key = \"not-used\"\n\
         webhook_secret = \"{PASSENTRY_SECRET}\"\nenabled = false\n\n\
         [hooks.passcreator]\nsecret = \"{PASSCREATOR_SECRET}\"\n\n\
         [hooks.skycore]\nsecret = \"{SKYCORE_SECRET}\"\n"
    ))
}

// ---- the seeds ----

/// A PassEntry webhook body after `marker`, as written (the page's list markers removed).
fn passentry_seed(marker: &str) -> Value {
    serde_json::from_str(&seeds::passentry(marker)).unwrap()
}

const INSTALLED: &str = "Webhook triggered when a pass is added to the wallet by user";
const REMOVED: &str = "Webhook triggered when a pass is removed from the wallet by user";
const TAPPED: &str = "Webhook triggered when an NFC pass is tapped on a reader";
/// The pass the seed's webhooks relate to (they include another id, `e89b…`: a slip of the
/// example, corrected by giving the included pass the related id).
const PE_PASS: &str = "313c3c3b950d30d7ecec486ddf9adf33b887ae29";

/// A seed's PassEntry webhook as sent now: its own event id, `webhookType`, `timeStamp` now
/// (the seed's 2022 would be refused as too old), the included pass given the related id.
fn passentry_body(marker: &str, event_id: &str, webhook_type: &str) -> Vec<u8> {
    let mut v = passentry_seed(marker);
    v["data"]["id"] = event_id.into();
    v["data"]["attributes"]["webhookType"] = webhook_type.into();
    v["data"]["attributes"]["timeStamp"] = now_rfc3339().into();
    for item in v["included"].as_array_mut().unwrap() {
        if item["type"] == "pass" {
            item["id"] = PE_PASS.into();
        }
    }
    serde_json::to_vec(&v).unwrap()
}

fn now_rfc3339() -> String {
    let out = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

const PC_PASS: &str = "12fd53c5-863e-4056-9dbf-2525fa175523";
const PC_BARCODE: &str = "122501adfa977d7.55989831";

/// A Skycore wallet postback as sent now (`timestamp` now: the seed's 2018 would be too old).
fn skycore_json(title: &str, pass_id: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(&seeds::skycore_json(title)).unwrap();
    v["timestamp"] = now_rfc3339().into();
    v["pass-id"] = pass_id.into();
    serde_json::to_vec(&v).unwrap()
}

/// A Skycore XML postback unescaped from its page, TIMESTAMP now.
fn skycore_xml(file: &str) -> Vec<u8> {
    seeds::skycore_xml(file)
        .replace("2013-11-26T11:37:11-05:00", &now_rfc3339())
        .into_bytes()
}

const SKY_PASS: &str = "5294CE37878AE-112613-113711";
const SKY_CUSTOM_ID: &str = "ID-123323";

// ---- sending ----

/// PassEntry's signature, computed by OpenSSL.
fn openssl_hmac(secret: &str, body: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned()
}

/// Announces a 2 MiB body and sends a little of it: the answer's status (the service answers
/// 413 without reading the rest; a client writing on would see the connection closed).
fn oversized_post_status(app: &TestApp, path: &str) -> u16 {
    use std::io::Read;
    let addr = app.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Webhook-Signature: 00\r\nContent-Length: {}\r\n\r\n",
        2 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(&[b' '; 4096]);
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[9..12]).parse().unwrap()
}

fn post_passentry(app: &TestApp, body: &[u8], signature: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = signature
        .map(|s| vec![("X-Webhook-Signature", s)])
        .unwrap_or_default();
    app.send(
        "POST",
        "/hooks/passentry",
        None,
        &headers,
        Some(body.to_vec()),
    )
}

fn signed_passentry(app: &TestApp, body: &[u8]) -> Reply {
    post_passentry(app, body, Some(&openssl_hmac(PASSENTRY_SECRET, body)))
}

fn post_passcreator(app: &TestApp, event: &str, body: &[u8]) -> Reply {
    app.raw(
        "POST",
        &format!("/hooks/passcreator/{PASSCREATOR_SECRET}/{event}"),
        None,
        body.to_vec(),
    )
}

fn post_skycore(app: &TestApp, body: &[u8]) -> Reply {
    app.raw(
        "POST",
        &format!("/hooks/skycore/{SKYCORE_SECRET}"),
        None,
        body.to_vec(),
    )
}

fn ok(r: &Reply, outcome: &str) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, json!({"status": "ok"}), "{r:?}");
    assert_eq!(r.header("x-passdesk-hook-outcome"), outcome, "{r:?}");
}

fn pass(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/passes/{id}"), &app.cashier_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["attributes"].clone()
}

/// Sends a bad request (`send`), expects `status` and `code`, and that nothing changed and the
/// service still answers.
fn refused(app: &TestApp, what: &str, status: u16, code: &str, send: impl FnOnce() -> Reply) {
    let before = app.node.fingerprint();
    let r = send();
    assert_eq!(r.status, status, "{what}: {r:?}");
    assert_eq!(r.body["errors"][0]["code"], code, "{what}: {r:?}");
    assert_eq!(
        app.node.fingerprint(),
        before,
        "{what}: the database changed"
    );
    let health = app.send("GET", "/health", None, &[], None);
    assert_eq!(health.status, 200, "{what}: the service is down");
}

// ---- PassEntry ----

#[test]
fn passentry_webhooks_change_the_pass_as_the_api_shows() {
    let app = app();
    let created = passentry_body(INSTALLED, "evt-created", "passCreated");
    ok(&signed_passentry(&app, &created), "created");
    let p = pass(&app, PE_PASS);
    assert_eq!(p["barcode"]["value"], "123abcd");
    assert_eq!(p["nfc"], "e89b1330fc391ec89656f3c664318cff8805471e");
    assert_eq!(p["passTemplateUuid"], "c1f632d3e693a75c376b440b");
    // An unknown template is created plain, with the name the payload gives.
    assert_eq!(p["passTemplateName"], "Pass Template 1 3079");
    assert_eq!(p["passContent"]["fullName"], "Jane Smith");
    assert_eq!(p["extId"], "0811d028ddf0da42c28f");

    // Removed, then installed again (each with its own event id and time).
    let removed = passentry_body(REMOVED, "evt-removed", "passRemoved");
    ok(&signed_passentry(&app, &removed), "removed");
    let p = pass(&app, PE_PASS);
    assert_eq!(p["status"], "removed");
    // The included pass's removedAt is the removal's time (the seed's, 2023-02-01).
    assert_eq!(p["removedAt"], "2023-02-01T00:00:00Z");

    let mut installed: Value =
        serde_json::from_slice(&passentry_body(INSTALLED, "evt-installed", "passInstalled"))
            .unwrap();
    let now = now_rfc3339();
    installed["included"][0]["attributes"]["addedAt"] = now.clone().into();
    let installed = serde_json::to_vec(&installed).unwrap();
    ok(&signed_passentry(&app, &installed), "installed");
    let p = pass(&app, PE_PASS);
    assert_eq!(p["status"], "active");
    assert_eq!(p["addedAt"], now.as_str());
    assert_eq!(p["removedAt"], Value::Null);
    assert_eq!(p["deviceType"], "android");

    // A tap at PassEntry's reader: logged, no scan row here.
    let scans_before = app.get("/api/v1/scans", &app.cashier_key).body["meta"].clone();
    let tapped = passentry_body(TAPPED, "evt-tapped", "passTapped");
    ok(&signed_passentry(&app, &tapped), "tapped");
    assert_eq!(
        app.get("/api/v1/scans", &app.cashier_key).body["meta"],
        scans_before
    );

    // Updated: the pass as PassEntry sends it.
    let mut updated: Value =
        serde_json::from_slice(&passentry_body(INSTALLED, "evt-updated", "passUpdated")).unwrap();
    updated["included"][0]["attributes"]["passContent"] = json!({"fullName": "Jane Q. Smith"});
    let updated = serde_json::to_vec(&updated).unwrap();
    ok(&signed_passentry(&app, &updated), "updated");
    assert_eq!(
        pass(&app, PE_PASS)["passContent"]["fullName"],
        "Jane Q. Smith"
    );

    // Accepted before the void, refused after it.
    assert_eq!(app.scan("123abcd", "gate-hooks")["verdict"], "accept");
    let voided = passentry_body(INSTALLED, "evt-voided", "passVoided");
    ok(&signed_passentry(&app, &voided), "voided");
    assert_eq!(pass(&app, PE_PASS)["status"], "voided");
    assert_eq!(app.scan("123abcd", "gate-hooks-2")["reason"], "voided");

    // The same event again: already applied, nothing changes.
    let before = app.node.fingerprint();
    ok(&signed_passentry(&app, &removed), "repeat");
    assert_eq!(app.node.fingerprint(), before);
    assert_eq!(pass(&app, PE_PASS)["status"], "voided");
}

#[test]
fn passentry_bad_inputs_change_nothing() {
    let app = app();
    ok(
        &signed_passentry(&app, &passentry_body(INSTALLED, "evt-1", "passCreated")),
        "created",
    );
    let installed = passentry_body(INSTALLED, "evt-2", "passInstalled");

    refused(&app, "no signature", 401, "missing_signature", || {
        post_passentry(&app, &installed, None)
    });
    refused(&app, "a wrong signature", 401, "bad_signature", || {
        post_passentry(&app, &installed, Some(&openssl_hmac("another", &installed)))
    });
    refused(
        &app,
        "a signature that is not hex",
        401,
        "bad_signature",
        || post_passentry(&app, &installed, Some("not-hex")),
    );
    let mut tampered = installed.clone();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    refused(
        &app,
        "a body changed after signing",
        401,
        "bad_signature",
        || {
            post_passentry(
                &app,
                &tampered,
                Some(&openssl_hmac(PASSENTRY_SECRET, &installed)),
            )
        },
    );
    refused(&app, "not JSON", 400, "not_json", || {
        signed_passentry(&app, b"<xml>not json</xml>")
    });
    refused(&app, "a truncated body", 400, "not_json", || {
        signed_passentry(&app, &installed[..installed.len() / 2])
    });
    let mut wrong: Value = serde_json::from_slice(&installed).unwrap();
    wrong["data"]["attributes"]["timeStamp"] = json!(17);
    let r = {
        let before = app.node.fingerprint();
        let r = signed_passentry(&app, &serde_json::to_vec(&wrong).unwrap());
        assert_eq!(app.node.fingerprint(), before);
        r
    };
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.body["errors"][0]["source"]["pointer"],
        "/data/attributes/timeStamp"
    );
    let mut unknown_event: Value = serde_json::from_slice(&installed).unwrap();
    unknown_event["data"]["attributes"]["webhookType"] = json!("passExploded");
    refused(&app, "an unknown event", 400, "unknown_event", || {
        signed_passentry(&app, &serde_json::to_vec(&unknown_event).unwrap())
    });
    let mut unknown_pass: Value = serde_json::from_slice(&installed).unwrap();
    unknown_pass["data"]["relationships"]["pass"]["data"]["id"] = json!("no-such-pass");
    refused(&app, "an unknown pass", 422, "unknown_pass", || {
        signed_passentry(&app, &serde_json::to_vec(&unknown_pass).unwrap())
    });
    // The seed's body as written: its 2022 timestamp is a replay.
    let seed_body = serde_json::to_vec(&passentry_seed(INSTALLED)).unwrap();
    refused(&app, "an old timestamp", 422, "too_old", || {
        signed_passentry(&app, &seed_body)
    });
    let mut future: Value = serde_json::from_slice(&installed).unwrap();
    future["data"]["attributes"]["timeStamp"] = json!("2999-01-01T00:00:00Z");
    refused(&app, "a time in the future", 422, "in_future", || {
        signed_passentry(&app, &serde_json::to_vec(&future).unwrap())
    });
    // A body over the limit (1 MiB by default): refused before it is read.
    let before = app.node.fingerprint();
    assert_eq!(oversized_post_status(&app, "/hooks/passentry"), 413);
    assert_eq!(app.node.fingerprint(), before);
    // Still applied once after all that.
    ok(&signed_passentry(&app, &installed), "installed");
}

// ---- Passcreator ----

#[test]
fn passcreator_hooks_create_update_install_and_void() {
    let app = app();
    ok(
        &post_passcreator(&app, "pass_created", seeds::passcreator(0).as_bytes()),
        "created",
    );
    let p = pass(&app, PC_PASS);
    assert_eq!(p["barcode"]["value"], PC_BARCODE);
    assert_eq!(
        p["passTemplateUuid"],
        "02fd53c5-863e-4056-9dbf-2525fa171123"
    );
    assert_eq!(p["passTemplateName"], "test");
    assert_eq!(p["passContent"]["fullName"], "John Doe");
    assert_eq!(p["passContent"]["email"], "buyer@example.com");
    assert_eq!(p["expiresAt"], "2015-04-17T22:00:00Z");

    // The seed's pass expired in 2015: give it a future expiry through its update, with a new
    // dynamic field.
    let updated = seeds::passcreator(1)
        .replace("2015-04-17 22:00:00", "2099-01-01 00:00:00")
        .replace(
            "\"userProvidedId\": \"\"",
            "\"userProvidedId\": \"CRM-77\", \"tier\": \"gold\"",
        );
    ok(
        &post_passcreator(&app, "pass_updated", updated.as_bytes()),
        "updated",
    );
    let p = pass(&app, PC_PASS);
    assert_eq!(p["passContent"]["tier"], "gold");
    assert_eq!(p["extId"], "CRM-77");
    assert_eq!(p["expiresAt"], "2099-01-01T00:00:00Z");

    // Example 3 has `bulkCreationId` twice: taken as any JSON parser does.
    ok(
        &post_passcreator(
            &app,
            "first_pushnotification_registered",
            seeds::passcreator(3).as_bytes(),
        ),
        "installed",
    );
    let p = pass(&app, PC_PASS);
    assert_eq!(p["status"], "active");
    assert_eq!(p["deviceType"], "apple");
    // Removed from one phone of several: noted, nothing changes.
    let before = app.node.fingerprint();
    let r = post_passcreator(
        &app,
        "pushnotification_unregistered",
        seeds::passcreator(5).as_bytes(),
    );
    ok(&r, "noted");
    assert_eq!(pass(&app, PC_PASS)["status"], "active");
    assert_ne!(app.node.fingerprint(), before, "the hook log has its row");

    assert_eq!(app.scan(PC_BARCODE, "gate-pc")["verdict"], "accept");
    ok(
        &post_passcreator(&app, "pass_voided", seeds::passcreator(2).as_bytes()),
        "voided",
    );
    assert_eq!(pass(&app, PC_PASS)["status"], "voided");
    assert_eq!(app.scan(PC_BARCODE, "gate-pc-2")["reason"], "voided");

    // The pass_voided body again: already applied.
    let before = app.node.fingerprint();
    ok(
        &post_passcreator(&app, "pass_voided", seeds::passcreator(2).as_bytes()),
        "repeat",
    );
    assert_eq!(app.node.fingerprint(), before);
}

#[test]
fn passcreator_bad_inputs_change_nothing() {
    let app = app();
    let body = seeds::passcreator(0);
    refused(&app, "a wrong path secret", 404, "not_found", || {
        app.raw(
            "POST",
            "/hooks/passcreator/guessed/pass_created",
            None,
            body.clone().into_bytes(),
        )
    });
    refused(&app, "an unknown event", 400, "unknown_event", || {
        post_passcreator(&app, "pass_exploded", body.as_bytes())
    });
    refused(&app, "not JSON", 400, "not_json", || {
        post_passcreator(&app, "pass_created", b"identifier=12fd53c5")
    });
    refused(&app, "a JSON array", 400, "invalid_field", || {
        post_passcreator(&app, "pass_created", b"[]")
    });
    let no_template = body.replace("\"02fd53c5-863e-4056-9dbf-2525fa171123\"", "\"\"");
    let r = app.node.fingerprint();
    let reply = post_passcreator(&app, "pass_created", no_template.as_bytes());
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(
        reply.body["errors"][0]["source"]["pointer"],
        "/passTemplateGuid"
    );
    assert_eq!(app.node.fingerprint(), r);
    refused(&app, "an unknown pass", 422, "unknown_pass", || {
        post_passcreator(&app, "pass_voided", seeds::passcreator(2).as_bytes())
    });
    refused(&app, "a bad date", 400, "invalid_field", || {
        post_passcreator(
            &app,
            "pass_created",
            body.replace("2015-04-03 21:30:50", "03.04.2015").as_bytes(),
        )
    });
    // A second pass with the first one's barcode.
    ok(
        &post_passcreator(&app, "pass_created", body.as_bytes()),
        "created",
    );
    refused(
        &app,
        "a barcode another pass has",
        409,
        "duplicate_value",
        || {
            post_passcreator(
                &app,
                "pass_created",
                body.replace(PC_PASS, "another-pass").as_bytes(),
            )
        },
    );
}

// ---- Skycore ----

#[test]
fn skycore_postbacks_create_install_remove_and_update() {
    let app = app();
    ok(
        &post_skycore(&app, &skycore_xml("skycore-pass-postback-xml.txt")),
        "created",
    );
    let p = pass(&app, SKY_PASS);
    assert_eq!(p["barcode"]["value"], "XSSDEW2223");
    assert_eq!(p["extId"], SKY_CUSTOM_ID);
    assert_eq!(p["passTemplateUuid"], "skycore-passes");
    assert_eq!(p["passContent"]["fullName"], "John");
    assert_eq!(p["passContent"]["Occupation"], "Software Developer");

    // The wallet postbacks name the pass by its custom id.
    ok(
        &post_skycore(&app, &skycore_json("3. Response", SKY_CUSTOM_ID)),
        "installed",
    );
    let p = pass(&app, SKY_PASS);
    assert_eq!(p["status"], "active");
    assert_eq!(p["deviceType"], "apple");
    ok(
        &post_skycore(&app, &skycore_json("6. Response", SKY_CUSTOM_ID)),
        "removed",
    );
    assert_eq!(pass(&app, SKY_PASS)["status"], "removed");
    ok(
        &post_skycore(&app, &skycore_json("7. Response", SKY_CUSTOM_ID)),
        "updated",
    );
    ok(
        &post_skycore(&app, &skycore_json("8. Response", SKY_CUSTOM_ID)),
        "noted",
    );
    ok(
        &post_skycore(&app, &skycore_json("2. Response", "never-made")),
        "noted",
    );
    // The short (bundle) form of another pass: created with no barcode.
    let short = String::from_utf8(skycore_xml("skycore-pass-postback-bundle.txt"))
        .unwrap()
        .replace(SKY_PASS, "BUNDLE-1")
        .replace(SKY_CUSTOM_ID, "ID-BUNDLE-1");
    ok(&post_skycore(&app, short.as_bytes()), "created");
    let p = pass(&app, "BUNDLE-1");
    assert_eq!(p["barcode"], Value::Null);
    // A JSON generation postback of a third.
    ok(
        &post_skycore(&app, &skycore_json("1. Response", "Store-78912")),
        "created",
    );
    assert_eq!(
        pass(&app, "Store-78912")["passTemplateUuid"],
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    );
}

#[test]
fn skycore_bad_inputs_change_nothing() {
    let app = app();
    ok(
        &post_skycore(&app, &skycore_xml("skycore-pass-postback-xml.txt")),
        "created",
    );
    let json_body = skycore_json("5. Response", SKY_CUSTOM_ID);
    refused(&app, "a wrong path secret", 404, "not_found", || {
        app.raw("POST", "/hooks/skycore/guessed", None, json_body.clone())
    });
    refused(&app, "neither XML nor JSON", 400, "not_json", || {
        post_skycore(&app, b"status=N805")
    });
    refused(&app, "broken XML", 400, "not_xml", || {
        post_skycore(&app, b"<POSTBACK><ORIGIN>GENERATE_PASS</POSTBACK>")
    });
    refused(&app, "an entity bomb", 400, "not_xml", || {
        post_skycore(
            &app,
            b"<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><POSTBACK>&b;</POSTBACK>",
        )
    });
    // The seed's installation example as written (its missing comma).
    let text = seeds::seed("skycore-wallet-postback-json.txt");
    let at = text.find("3. Response").unwrap();
    let slip = seeds::object_at(&text, at).to_owned();
    refused(&app, "the seed's slip", 400, "not_json", || {
        post_skycore(&app, slip.as_bytes())
    });
    refused(&app, "an unknown status code", 400, "unknown_event", || {
        post_skycore(
            &app,
            &String::from_utf8(json_body.clone())
                .unwrap()
                .replace("N805", "N899")
                .into_bytes(),
        )
    });
    refused(&app, "an unknown pass", 422, "unknown_pass", || {
        post_skycore(&app, &skycore_json("5. Response", "no-such-pass"))
    });
    let xml = String::from_utf8(skycore_xml("skycore-pass-postback-bundle.txt")).unwrap();
    let no_serial = xml.replace(&format!("<SERIALNUMBER>{SKY_PASS}</SERIALNUMBER>"), "");
    refused(&app, "a missing element", 400, "invalid_field", || {
        post_skycore(&app, no_serial.as_bytes())
    });
    // The seed's XML as written: generated in 2013, a replay.
    let old = seeds::skycore_xml("skycore-pass-postback-bundle.txt").replace(SKY_PASS, "OLD-1");
    refused(&app, "an old timestamp", 422, "too_old", || {
        post_skycore(&app, old.as_bytes())
    });
    ok(&post_skycore(&app, &json_body), "removed");
    let before = app.node.fingerprint();
    ok(&post_skycore(&app, &json_body), "repeat");
    assert_eq!(
        app.node.fingerprint(),
        before,
        "a repeat changed the database"
    );
}

#[test]
fn unconfigured_providers_are_not_there() {
    let bare = TestApp::start();
    let body = seeds::passcreator(0).into_bytes();
    let answers: Vec<Reply> = [
        "/hooks/passentry".to_owned(),
        "/hooks/passcreator/anything/pass_created".to_owned(),
        "/hooks/skycore/anything".to_owned(),
    ]
    .iter()
    .map(|path| {
        let before = bare.node.fingerprint();
        let r = bare.raw("POST", path, None, body.clone());
        assert_eq!(bare.node.fingerprint(), before);
        r
    })
    .collect();
    for r in &answers {
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(r.body["errors"][0]["code"], "not_found");
        assert_eq!(r.body["errors"][0]["detail"], "no such route");
    }
    // A wrong secret where the provider is configured answers the same words, and so does
    // a provider or a path no counter knows, whatever the method.
    let configured = app();
    for (method, path) in [
        ("POST", "/hooks/skycore/anything"),
        ("POST", "/hooks/unknown-provider"),
        ("POST", "/hooks/passentry/extra/segments"),
        ("GET", "/hooks/"),
        ("POST", "/wallet/apple/v2/devices"),
    ] {
        let before = configured.node.fingerprint();
        let wrong = configured.raw(method, path, None, body.clone());
        assert_eq!(wrong.status, 404, "{method} {path}: {wrong:?}");
        assert_eq!(
            wrong.body["errors"][0]["detail"], "no such route",
            "{method} {path}: {wrong:?}"
        );
        assert_eq!(configured.node.fingerprint(), before, "{method} {path}");
    }
}
