//! The webhook subscriptions and deliveries API against the real service (`passdesk serve` on
//! 127.0.0.1:0, real HTTP, a real SQLite file), and the `passdesk webhooks` commands on a real
//! data directory: what each call answers, what it stores, and that every refusal changes
//! nothing. The secret is shown by create and rotate only.

use passdesk_core::webhook::subscriptions;
use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::{describe, json_lines, last_json, Node};
use serde_json::{json, Value};

const SUBSCRIPTIONS: &str = "/api/v1/webhook-subscriptions";
const DELIVERIES: &str = "/api/v1/webhook-deliveries";

/// A receiver nobody listens on (the discard port): a delivery there only fails, slowly or
/// not at all, which these tests never wait for.
const NOWHERE: &str = "http://127.0.0.1:9/hooks";

fn body(fields: Value) -> Value {
    json!({ "webhookSubscription": fields })
}

fn create(app: &TestApp, fields: Value) -> Reply {
    let r = app.post(SUBSCRIPTIONS, &app.manager_key, body(fields));
    assert_eq!(r.status, 201, "{r:?}");
    r
}

/// The secret the store signs with now.
fn stored_secret(app: &TestApp, id: &str) -> String {
    subscriptions::secret(app.node.store().conn(), id)
        .unwrap()
        .expect("the subscription has a secret")
        .expose()
        .to_owned()
}

fn assert_error(r: &Reply, status: u16, code: &str, pointer: Option<&str>) {
    assert_eq!(r.status, status, "{r:?}");
    let e = &r.body["errors"][0];
    assert_eq!(e["code"], code, "{r:?}");
    assert_eq!(e["status"], status.to_string(), "{r:?}");
    assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{r:?}");
    if let Some(p) = pointer {
        assert_eq!(e["source"]["pointer"], p, "{r:?}");
    }
}

#[test]
fn a_subscription_is_created_listed_changed_rotated_and_deleted() {
    let app = TestApp::start();
    let made = create(&app, json!({ "url": NOWHERE }));
    let data = &made.body["data"];
    assert_eq!(data["type"], "webhookSubscription");
    let id = data["id"].as_str().unwrap().to_owned();
    let a = &data["attributes"];
    assert_eq!(a["url"], NOWHERE);
    assert_eq!(a["enabled"], true, "enabled by default");
    assert_eq!(a["subscribedEvents"], json!([]), "every event by default");
    assert_eq!(a["format"], "passentry", "PassEntry's format by default");
    assert_eq!(a["backlog"], 0);
    assert!(a["disabledReason"].is_null() && a["lastSuccessAt"].is_null());
    assert!(a["createdAt"].as_str().is_some() && a["updatedAt"].as_str().is_some());
    let secret = a["secretKey"].as_str().expect("create shows the secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(stored_secret(&app, &id), secret);

    // The alias is stored as its name; the order and repeats of the request do not matter.
    let standard = create(
        &app,
        json!({ "url": "https://pos.example/h?x=1", "enabled": false,
                "subscribedEvents": ["passVoided", "passScanned", "passTapped"], "format": "standard" }),
    );
    let a = &standard.body["data"]["attributes"];
    assert_eq!(a["subscribedEvents"], json!(["passVoided", "passTapped"]));
    assert_eq!(a["format"], "standard");
    assert_eq!(a["enabled"], false);
    create(
        &app,
        json!({ "url": "http://10.0.0.7:8080/", "format": "skycore-xml", "subscribedEvents": [] }),
    );

    // Pages as the seed's lists: meta and links, oldest first, never a secret.
    let first = app.get(&format!("{SUBSCRIPTIONS}?perPage=2"), &app.manager_key);
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(
        first.body["meta"],
        json!({ "totalCount": 3, "resultsPerPage": 2, "currentPage": 1, "totalPages": 2 })
    );
    assert_eq!(first.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["data"][0]["id"], id.as_str());
    assert!(first.body["links"]["prev"].is_null());
    let next = first.body["links"]["next"].as_str().expect("a next page");
    let second = app.get(next, &app.manager_key);
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(second.body["meta"]["currentPage"], 2);
    assert_eq!(second.body["data"].as_array().unwrap().len(), 1);
    assert!(second.body["links"]["next"].is_null());
    assert_eq!(first.body["links"]["last"], next);
    for page in [&first, &second] {
        assert!(!page.text().contains("secretKey"), "{page:?}");
        assert!(!page.text().contains("whsec_"), "{page:?}");
    }

    let got = app.get(&format!("{SUBSCRIPTIONS}/{id}"), &app.manager_key);
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body["data"]["id"], id.as_str());
    assert!(
        got.body["data"]["attributes"].get("secretKey").is_none(),
        "{got:?}"
    );

    // Every field of a change is optional; what is left out stays.
    let path = format!("{SUBSCRIPTIONS}/{id}");
    let changed = app.patch(
        &path,
        &app.manager_key,
        body(json!({ "enabled": false, "subscribedEvents": ["passCreated"] })),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    let a = &changed.body["data"]["attributes"];
    assert_eq!(a["enabled"], false);
    assert_eq!(a["subscribedEvents"], json!(["passCreated"]));
    assert_eq!(a["url"], NOWHERE);
    assert_eq!(a["format"], "passentry");
    assert!(a.get("secretKey").is_none(), "{changed:?}");
    let changed = app.patch(
        &path,
        &app.manager_key,
        body(json!({ "url": "https://crm.example/in", "format": "passcreator", "enabled": true, "subscribedEvents": [] })),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    let a = &changed.body["data"]["attributes"];
    assert_eq!(
        (
            &a["url"],
            &a["format"],
            &a["enabled"],
            &a["subscribedEvents"]
        ),
        (
            &json!("https://crm.example/in"),
            &json!("passcreator"),
            &json!(true),
            &json!([])
        )
    );
    let unchanged = app.patch(&path, &app.manager_key, body(json!({})));
    assert_eq!(unchanged.status, 200, "{unchanged:?}");
    assert_eq!(
        unchanged.body["data"]["attributes"]["url"],
        "https://crm.example/in"
    );

    // A new secret, shown once; the old one signs nothing from now on.
    let rotated = app.patch(
        &format!("{path}/rotate-secret"),
        &app.manager_key,
        json!(null),
    );
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_secret = rotated.body["data"]["attributes"]["secretKey"]
        .as_str()
        .expect("rotate shows the new secret")
        .to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert_eq!(stored_secret(&app, &id), new_secret);
    let got = app.get(&path, &app.manager_key);
    assert!(!got.text().contains(&new_secret) && !got.text().contains("secretKey"));

    let gone = app.call("DELETE", &path, Some(&app.manager_key), None, &[]);
    assert_eq!(gone.status, 204, "{gone:?}");
    assert!(gone.bytes.is_empty(), "{gone:?}");
    assert_error(&app.get(&path, &app.manager_key), 404, "not_found", None);
    let again = app.call("DELETE", &path, Some(&app.manager_key), None, &[]);
    assert_error(&again, 404, "not_found", None);
    let list = app.get(SUBSCRIPTIONS, &app.manager_key);
    assert_eq!(list.body["meta"]["totalCount"], 2, "{list:?}");
    // An admin may do what a manager may.
    assert_eq!(app.get(SUBSCRIPTIONS, &app.admin_key).status, 200);
}

#[test]
fn every_bad_request_is_refused_with_its_field_and_changes_nothing() {
    let app = TestApp::start();
    let id = create(&app, json!({ "url": NOWHERE })).body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{SUBSCRIPTIONS}/{id}");
    let before = app.node.fingerprint();
    let url = "/webhookSubscription/url";
    let bad_urls = [
        "ftp://files.example/in",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "pos.example/hooks",
        "",
        "https://user:password@pos.example/",
    ];
    for bad in bad_urls {
        let r = app.post(SUBSCRIPTIONS, &app.manager_key, body(json!({ "url": bad })));
        assert_error(&r, 422, "invalid_url", Some(url));
        let r = app.patch(&path, &app.manager_key, body(json!({ "url": bad })));
        assert_error(&r, 422, "invalid_url", Some(url));
    }
    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        body(json!({ "url": "ftp://x.example/" })),
    );
    let detail = r.body["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("http or https"), "{detail}");

    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        body(json!({ "url": NOWHERE, "format": "xml" })),
    );
    assert_error(
        &r,
        422,
        "invalid_format",
        Some("/webhookSubscription/format"),
    );
    assert!(
        r.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("skycore-xml"),
        "{r:?}"
    );
    let r = app.patch(
        &path,
        &app.manager_key,
        body(json!({ "format": "PassEntry" })),
    );
    assert_error(
        &r,
        422,
        "invalid_format",
        Some("/webhookSubscription/format"),
    );

    let events = json!({ "url": NOWHERE, "subscribedEvents": ["passTapped", "passInstalled"] });
    let r = app.post(SUBSCRIPTIONS, &app.manager_key, body(events));
    assert_error(
        &r,
        422,
        "invalid_event",
        Some("/webhookSubscription/subscribedEvents/1"),
    );
    assert!(
        r.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("passInstalled"),
        "{r:?}"
    );
    let r = app.patch(
        &path,
        &app.manager_key,
        body(json!({ "subscribedEvents": ["pass_created"] })),
    );
    assert_error(
        &r,
        422,
        "invalid_event",
        Some("/webhookSubscription/subscribedEvents/0"),
    );
    // The test event goes to the subscription it tests: no one subscribes to it.
    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        body(json!({ "url": NOWHERE, "subscribedEvents": ["webhookTest"] })),
    );
    assert_error(
        &r,
        422,
        "invalid_event",
        Some("/webhookSubscription/subscribedEvents/0"),
    );

    // Strict bodies: unknown fields, wrong types, a missing url, no envelope.
    let unknown = body(json!({ "url": NOWHERE, "secretKey": "whsec_mine" }));
    assert_error(
        &app.post(SUBSCRIPTIONS, &app.manager_key, unknown),
        400,
        "bad_request",
        Some("/webhookSubscription/secretKey"),
    );
    let r = app.patch(&path, &app.manager_key, body(json!({ "active": true })));
    assert_error(&r, 400, "bad_request", Some("/webhookSubscription/active"));
    let r = app.post(SUBSCRIPTIONS, &app.manager_key, json!({ "url": NOWHERE }));
    assert_error(&r, 400, "bad_request", None);
    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        body(json!({ "enabled": true })),
    );
    assert_error(&r, 400, "bad_request", None);
    let r = app.post(
        SUBSCRIPTIONS,
        &app.manager_key,
        body(json!({ "url": NOWHERE, "enabled": "yes" })),
    );
    assert_error(&r, 400, "bad_request", Some("/webhookSubscription/enabled"));
    let r = app.raw(
        "POST",
        SUBSCRIPTIONS,
        Some(&app.manager_key),
        b"{\"webhookSubscription\": {".to_vec(),
    );
    assert_error(&r, 400, "bad_request", None);

    // Query parameters.
    for q in ["perPage=0", "perPage=1001", "page=x", "secret=1"] {
        let r = app.get(&format!("{SUBSCRIPTIONS}?{q}"), &app.manager_key);
        assert_error(&r, 400, "bad_request", None);
    }
    for q in ["state=pending", "state=FAILED", "perPage=0", "limit=3"] {
        let r = app.get(&format!("{DELIVERIES}?{q}"), &app.manager_key);
        assert_error(&r, 400, "bad_request", None);
    }

    // Unknown ids: JSON:API 404s.
    let nobody = format!("{SUBSCRIPTIONS}/01900000-0000-7000-8000-000000000000");
    assert_error(&app.get(&nobody, &app.manager_key), 404, "not_found", None);
    assert_error(
        &app.patch(&nobody, &app.manager_key, body(json!({ "enabled": false }))),
        404,
        "not_found",
        None,
    );
    assert_error(
        &app.call("DELETE", &nobody, Some(&app.manager_key), None, &[]),
        404,
        "not_found",
        None,
    );
    assert_error(
        &app.patch(
            &format!("{nobody}/rotate-secret"),
            &app.manager_key,
            json!(null),
        ),
        404,
        "not_found",
        None,
    );
    assert_error(
        &app.post(&format!("{nobody}/test"), &app.manager_key, json!(null)),
        404,
        "not_found",
        None,
    );
    let no_delivery = format!("{DELIVERIES}/01900000-0000-7000-8000-000000000000");
    assert_error(
        &app.get(&no_delivery, &app.manager_key),
        404,
        "not_found",
        None,
    );
    assert_error(
        &app.post(
            &format!("{no_delivery}/retry"),
            &app.manager_key,
            json!(null),
        ),
        404,
        "not_found",
        None,
    );

    // A cashier (or a reader) may not: 403, whatever the request.
    for key in [&app.cashier_key, &app.reader_key] {
        assert_error(
            &app.post(SUBSCRIPTIONS, key, body(json!({ "url": NOWHERE }))),
            403,
            "forbidden",
            None,
        );
        assert_error(&app.get(SUBSCRIPTIONS, key), 403, "forbidden", None);
        assert_error(&app.get(&path, key), 403, "forbidden", None);
        assert_error(
            &app.patch(&path, key, body(json!({ "enabled": false }))),
            403,
            "forbidden",
            None,
        );
        assert_error(
            &app.call("DELETE", &path, Some(key), None, &[]),
            403,
            "forbidden",
            None,
        );
        assert_error(
            &app.patch(&format!("{path}/rotate-secret"), key, json!(null)),
            403,
            "forbidden",
            None,
        );
        assert_error(
            &app.post(&format!("{path}/test"), key, json!(null)),
            403,
            "forbidden",
            None,
        );
        assert_error(&app.get(DELIVERIES, key), 403, "forbidden", None);
    }
    assert_eq!(app.call("GET", SUBSCRIPTIONS, None, None, &[]).status, 401);

    assert_eq!(
        app.node.fingerprint(),
        before,
        "a refused request changed the database"
    );
    let list = app.get(SUBSCRIPTIONS, &app.manager_key);
    assert_eq!(list.body["meta"]["totalCount"], 1, "{list:?}");
}

#[test]
fn a_test_event_is_queued_listed_with_its_attempts_and_filtered() {
    let app = TestApp::start();
    // Off: its deliveries wait, so what the log shows here is what the request made.
    let made = create(
        &app,
        json!({ "url": NOWHERE, "enabled": false, "format": "standard" }),
    );
    let sub = made.body["data"]["id"].as_str().unwrap().to_owned();
    let other = create(&app, json!({ "url": NOWHERE, "enabled": false })).body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let queued = app.post(
        &format!("{SUBSCRIPTIONS}/{sub}/test"),
        &app.manager_key,
        json!(null),
    );
    assert_eq!(queued.status, 202, "{queued:?}");
    let d = &queued.body["data"];
    assert_eq!(d["type"], "webhookDelivery");
    let delivery = d["id"].as_str().unwrap().to_owned();
    let a = &d["attributes"];
    assert_eq!(a["subscriptionId"], sub.as_str());
    assert_eq!(a["eventType"], "webhookTest");
    assert_eq!(a["state"], "pending");
    assert_eq!(a["attempts"], 0);
    assert!(a["eventId"].as_str().is_some_and(|e| !e.is_empty()), "{a}");
    assert!(!queued.text().contains("whsec_"), "{queued:?}");
    let second = app.post(
        &format!("{SUBSCRIPTIONS}/{other}/test"),
        &app.manager_key,
        json!(null),
    );
    assert_eq!(second.status, 202, "{second:?}");
    let later = app.post(
        &format!("{SUBSCRIPTIONS}/{sub}/test"),
        &app.manager_key,
        json!(null),
    );
    assert_eq!(later.status, 202, "{later:?}");
    let latest = later.body["data"]["id"].as_str().unwrap().to_owned();
    assert_ne!(
        later.body["data"]["attributes"]["eventId"], a["eventId"],
        "a new event each time"
    );

    let got = app.get(&format!("{SUBSCRIPTIONS}/{sub}"), &app.manager_key);
    assert_eq!(got.body["data"]["attributes"]["backlog"], 2, "{got:?}");

    // Newest first; narrowed to one subscription; pages with their filters in the links.
    let all = app.get(DELIVERIES, &app.manager_key);
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(all.body["meta"]["totalCount"], 3, "{all:?}");
    assert_eq!(all.body["data"][0]["id"], latest.as_str());
    let mine = app.get(
        &format!("{DELIVERIES}?subscriptionId={sub}&perPage=1"),
        &app.manager_key,
    );
    assert_eq!(mine.status, 200, "{mine:?}");
    assert_eq!(mine.body["meta"]["totalCount"], 2, "{mine:?}");
    assert_eq!(mine.body["data"][0]["id"], latest.as_str());
    let next = mine.body["links"]["next"].as_str().expect("a second page");
    assert!(next.contains(&format!("subscriptionId={sub}")), "{next}");
    let page2 = app.get(next, &app.manager_key);
    assert_eq!(page2.body["data"][0]["id"], delivery.as_str(), "{page2:?}");
    let failed = app.get(&format!("{DELIVERIES}?state=failed"), &app.manager_key);
    assert_eq!(failed.status, 200, "{failed:?}");
    assert_eq!(failed.body["meta"]["totalCount"], 0, "{failed:?}");
    let nobody = app.get(
        &format!("{DELIVERIES}?subscriptionId=nobody"),
        &app.manager_key,
    );
    assert_eq!(nobody.body["meta"]["totalCount"], 0, "{nobody:?}");

    let one = app.get(&format!("{DELIVERIES}/{delivery}"), &app.manager_key);
    assert_eq!(one.status, 200, "{one:?}");
    assert_eq!(one.body["data"]["id"], delivery.as_str());
    assert_eq!(one.body["included"], json!([]), "not sent yet: no attempt");

    // A pending delivery may be retried: due now, attempts counted afresh.
    let retried = app.post(
        &format!("{DELIVERIES}/{delivery}/retry"),
        &app.manager_key,
        json!(null),
    );
    assert_eq!(retried.status, 202, "{retried:?}");
    assert_eq!(retried.body["data"]["id"], delivery.as_str());
    assert_eq!(retried.body["data"]["attributes"]["state"], "pending");
    assert_eq!(retried.body["data"]["attributes"]["attempts"], 0);

    // Deleting the subscription takes its log with it.
    let gone = app.call(
        "DELETE",
        &format!("{SUBSCRIPTIONS}/{sub}"),
        Some(&app.manager_key),
        None,
        &[],
    );
    assert_eq!(gone.status, 204, "{gone:?}");
    assert_error(
        &app.get(&format!("{DELIVERIES}/{delivery}"), &app.manager_key),
        404,
        "not_found",
        None,
    );
    let all = app.get(DELIVERIES, &app.manager_key);
    assert_eq!(all.body["meta"]["totalCount"], 1, "{all:?}");
}

/// Runs `passdesk webhooks ARGS` and expects a refusal naming `expected`, and no change.
fn refused(node: &Node, args: &[&str], expected: &str) {
    let before = node.fingerprint();
    let out = node.run(&[&["webhooks"], args].concat());
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(expected),
        "{args:?}: expected {expected:?} in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed {}", describe(&out));
    assert_eq!(node.fingerprint(), before, "{args:?} changed the database");
}

#[test]
fn the_webhooks_commands_manage_subscriptions_and_their_log() {
    let node = Node::new();
    let added = node.ok(&["webhooks", "add", NOWHERE]);
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(
        added["secretKey"].as_str().unwrap().starts_with("whsec_"),
        "{added}"
    );
    assert_eq!(added["format"], "passentry");
    assert_eq!(added["enabled"], true);
    assert_eq!(added["subscribedEvents"], json!([]));

    let mine = "a-shared-secret-of-the-crm-team";
    let second = node.ok(&[
        "webhooks",
        "add",
        "https://crm.example/in",
        "--format",
        "skycore-json",
        "--events",
        "passScanned,passCreated",
        "--secret",
        mine,
        "--disabled",
    ]);
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_eq!(second["secretKey"], mine);
    assert_eq!(second["format"], "skycore-json");
    assert_eq!(second["enabled"], false);
    assert_eq!(
        second["subscribedEvents"],
        json!(["passCreated", "passTapped"])
    );

    let list = node.run(&["webhooks", "list"]);
    assert!(list.status.success(), "{}", describe(&list));
    let lines = json_lines(&list);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], id.as_str());
    assert!(!String::from_utf8_lossy(&list.stdout).contains("whsec_"));
    assert!(!String::from_utf8_lossy(&list.stdout).contains(mine));
    assert!(lines.iter().all(|l| l.get("secretKey").is_none()));

    assert_eq!(
        node.ok(&["webhooks", "enable", &second_id])["enabled"],
        true
    );
    let off = node.ok(&["webhooks", "disable", &id]);
    assert_eq!(off["enabled"], false);
    assert!(off.get("secretKey").is_none());

    let rotated = node.ok(&["webhooks", "rotate-secret", &second_id]);
    let new_secret = rotated["secretKey"].as_str().unwrap();
    assert!(
        new_secret.starts_with("whsec_") && new_secret != mine,
        "{rotated}"
    );
    let stored = subscriptions::secret(node.store().conn(), &second_id)
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), new_secret);

    // The test event: queued, printed, and the person told who sends it.
    let out = node.run(&["webhooks", "test", &id]);
    assert!(out.status.success(), "{}", describe(&out));
    let delivery = last_json(&out);
    assert_eq!(delivery["subscriptionId"], id.as_str());
    assert_eq!(delivery["eventType"], "webhookTest");
    assert_eq!(delivery["state"], "pending");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("running counter"), "{stderr}");
    let delivery_id = delivery["id"].as_str().unwrap().to_owned();
    node.ok(&["webhooks", "test", &second_id]);

    let log = |args: &[&str]| {
        let out = node.run(&[&["webhooks", "deliveries"], args].concat());
        assert!(out.status.success(), "{}", describe(&out));
        json_lines(&out)
    };
    let all = log(&[]);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["subscriptionId"], second_id.as_str(), "newest first");
    assert_eq!(log(&["--limit", "1"]).len(), 1);
    let just_one = log(&["--subscription", &id]);
    assert_eq!(just_one.len(), 1);
    assert_eq!(just_one[0]["id"], delivery_id.as_str());
    assert!(log(&["--failed"]).is_empty());

    let out = node.run(&["webhooks", "retry", &delivery_id]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(last_json(&out)["id"], delivery_id.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains("running counter"));

    let removed = node.ok(&["webhooks", "remove", &id]);
    assert_eq!(removed, json!({ "id": id, "removed": true }));
    assert_eq!(log(&[]).len(), 1, "its log went with it");

    // Every refusal says what was wrong and changes nothing.
    refused(&node, &["add", "ftp://files.example/in"], "http or https");
    refused(&node, &["add", "javascript:alert(1)"], "http or https");
    refused(&node, &["add", "http://"], "not a url");
    refused(
        &node,
        &["add", NOWHERE, "--format", "xml"],
        "unknown webhook format",
    );
    refused(
        &node,
        &["add", NOWHERE, "--events", "passTapped,passInstalled"],
        "passInstalled",
    );
    refused(&node, &["add", NOWHERE, "--secret", "short"], "--secret");
    refused(&node, &["remove", &id], "no webhook subscription");
    refused(&node, &["enable", &id], "no webhook subscription");
    refused(&node, &["disable", "nobody"], "no webhook subscription");
    refused(
        &node,
        &["rotate-secret", "nobody"],
        "no webhook subscription",
    );
    refused(&node, &["test", "nobody"], "no webhook subscription");
    refused(&node, &["retry", "nobody"], "no webhook delivery");
    refused(
        &node,
        &["deliveries", "--subscription", "nobody"],
        "no webhook subscription",
    );
    refused(&node, &["deliveries", "--limit", "0"], "--limit");
}
