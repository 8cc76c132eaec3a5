//! The stand-in against the seed itself, over real HTTP: the seed's example list page, passes
//! put in as the seed shows them, comes back byte for byte in meaning (written here by hand from
//! `shared/seeds/passentry-api.txt`, its "- " prefixes removed); then its errors and every
//! fault a test can switch on.

use passdesk_passentry_standin::{
    seeded_barcode, seeded_id, CrashMode, Options, Outage, PageChange, RateLimit, RequestKind,
    StandIn,
};
use serde_json::{json, Value};
use std::time::Duration;

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .max_idle_connections(0)
        .build()
        .into()
}

fn call(
    s: &StandIn,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Result<Answer, ureq::Error> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", s.base_url()));
    if let Some(k) = key {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    let resp = match body {
        Some(b) => agent().run(
            req.header("Content-Type", "application/json")
                .body(b.as_bytes().to_vec())
                .unwrap(),
        ),
        None => agent().run(req.body(()).unwrap()),
    };
    let mut resp = resp?;
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.body_mut().read_to_vec()?;
    Ok(Answer {
        status: resp.status().as_u16(),
        retry_after,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    })
}

fn get(s: &StandIn, path: &str) -> Answer {
    call(s, "GET", path, Some(s.api_key()), None).unwrap()
}

fn send(s: &StandIn, method: &str, path: &str, body: &str) -> Answer {
    call(s, method, path, Some(s.api_key()), Some(body)).unwrap()
}

fn standin() -> StandIn {
    StandIn::start(Options::default()).unwrap()
}

/// The seed's eight passes of "PassEntry Ticketing", one a day from 2022-01-01.
fn seed_example_passes(s: &StandIn) {
    for i in 0..8 {
        assert!(s.add_pass(
            &format!("237f0526-b2aa-4dd1-884b-ed49abbd744{i}"),
            json!({
                "passType": "generic",
                "createdAt": format!("2022-01-0{}T00:00:00Z", i + 1),
                "status": "issued",
                "extId": format!("d994dfcf8b6d0b0a326{i}"),
                "passTemplateUuid": "2e2d7ee8c306e8f0223dbdc1",
                "passTemplateName": "PassEntry Ticketing",
                "nfc": null,
                "barcode": null,
                "passContent": {"fullName": "John Johnson"}
            })
        ));
    }
}

#[test]
fn a_page_is_the_seeds_example_page() {
    let s = standin();
    seed_example_passes(&s);
    let pass = |n: u32, day: u32| {
        json!({
            "id": format!("237f0526-b2aa-4dd1-884b-ed49abbd744{n}"),
            "type": "pass",
            "attributes": {
                "passType": "generic",
                "createdAt": format!("2022-01-0{day}T00:00:00Z"),
                "status": "issued",
                "extId": format!("d994dfcf8b6d0b0a326{n}"),
                "passTemplateUuid": "2e2d7ee8c306e8f0223dbdc1",
                "passTemplateName": "PassEntry Ticketing",
                "nfc": null,
                "barcode": null,
                "passContent": {
                    "fullName": "John Johnson"
                }
            }
        })
    };
    // The seed's page, as printed there (ids and dates spelled out by the closure above).
    let seed_page = json!({
        "data": [pass(7, 8), pass(6, 7), pass(5, 6), pass(4, 5), pass(3, 4)],
        "meta": {
            "totalCount": 8,
            "resultsPerPage": 5,
            "currentPage": 1,
            "totalPages": 2
        },
        "links": {
            "first": null,
            "prev": null,
            "next": "/api/v1/passes?page=2&perPage=5",
            "last": "/api/v1/passes?page=2&perPage=5"
        }
    });
    let page = get(&s, "/api/v1/passes?page=1&perPage=5");
    assert_eq!(page.status, 200);
    assert_eq!(page.body, seed_page);

    let second = get(&s, "/api/v1/passes?page=2&perPage=5");
    assert_eq!(
        second.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap()[32..].to_owned())
            .collect::<Vec<_>>(),
        ["7442", "7441", "7440"]
    );
    assert_eq!(
        second.body["links"],
        json!({"first": "/api/v1/passes?page=1&perPage=5", "prev": "/api/v1/passes?page=1&perPage=5",
               "next": null, "last": null})
    );
    // perPage defaults to 100, the seed's default.
    assert_eq!(
        get(&s, "/api/v1/passes").body["meta"]["resultsPerPage"],
        100
    );
}

#[test]
fn a_single_pass_and_its_loyalty_as_the_seed() {
    let s = standin();
    // The seed's store card with 7 points.
    s.add_pass(
        "2258d9ed-05bc-47cd-be65-83b9bb5e0273",
        json!({
            "passType": "storeCard", "deviceType": "android", "createdAt": "2022-01-01T00:00:00Z",
            "status": "active", "extId": "4e9ab9e571bbc8ff64e7",
            "passTemplateUuid": "b7f3372d08eddd76f28926ff", "passTemplateName": "PassEntry Store",
            "nfc": "941c35348d16187199a6b41047f0b7862b2dcb67", "barcode": null,
            "passContent": {"fullName": "Robert Smith", "points": "7"}
        }),
    );
    s.set_balance("2258d9ed-05bc-47cd-be65-83b9bb5e0273", 7);
    let path = "/api/v1/passes/2258d9ed-05bc-47cd-be65-83b9bb5e0273";
    let one = get(&s, path);
    assert_eq!(one.status, 200);
    assert_eq!(one.body["meta"], json!({"loyalty": {"balance": 7}}));
    assert_eq!(one.body["data"]["type"], "pass");

    // The seed's PATCH: {"balance": 10} → 17, points shown 17.
    let patched = send(
        &s,
        "PATCH",
        &format!("{path}/loyalty"),
        r#"{"balance": 10}"#,
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["meta"]["loyalty"]["balance"], 17);
    assert_eq!(
        patched.body["data"]["attributes"]["passContent"]["points"],
        "17"
    );
    let r = send(
        &s,
        "PATCH",
        &format!("{path}/loyalty"),
        r#"{"balance": -5}"#,
    );
    assert_eq!(r.body["meta"]["loyalty"]["balance"], 12);
    let r = send(
        &s,
        "PATCH",
        &format!("{path}/loyalty"),
        r#"{"overrideBalance": 3, "message": "Reset"}"#,
    );
    assert_eq!(r.body["meta"]["loyalty"]["balance"], 3);
    // Both keys at once: refused, nothing changed.
    let both = send(
        &s,
        "PATCH",
        &format!("{path}/loyalty"),
        r#"{"balance": 1, "overrideBalance": 3}"#,
    );
    assert_eq!(both.status, 422);
    assert!(both.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("overrideBalance"));
    for bad in [
        r#"{}"#,
        r#"{"balance": "5"}"#,
        r#"{"balance": 1.5}"#,
        "[1]",
        "not json",
    ] {
        let r = send(&s, "PATCH", &format!("{path}/loyalty"), bad);
        assert!(matches!(r.status, 400 | 422), "{bad}: {}", r.body);
        assert_eq!(r.body["errors"][0]["status"], r.status.to_string());
    }
    assert_eq!(s.balance("2258d9ed-05bc-47cd-be65-83b9bb5e0273"), Some(3));
    assert_eq!(s.loyalty_patches(None).len(), 3);

    // Gone: 404 Not Found.
    assert!(s.delete_pass("2258d9ed-05bc-47cd-be65-83b9bb5e0273"));
    let gone = get(&s, path);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["errors"][0]["title"], "Not Found");
}

#[test]
fn auth_and_bad_parameters() {
    let s = StandIn::start(Options {
        max_per_page: 50,
        passes: 120,
        ..Options::default()
    })
    .unwrap();
    let none = call(&s, "GET", "/api/v1/passes", None, None).unwrap();
    assert_eq!(none.status, 401);
    assert_eq!(
        none.body["errors"][0],
        json!({"status": "401", "title": "Unauthorized",
               "detail": "a valid API key is required: Authorization: Bearer {API KEY}"})
    );
    let wrong = call(&s, "GET", "/api/v1/passes", Some("nope"), None).unwrap();
    assert_eq!(wrong.status, 401);
    // Above the maximum: 400 naming perPage (and the default 100 is capped to it).
    let over = get(&s, "/api/v1/passes?perPage=51");
    assert_eq!(over.status, 400);
    assert!(over.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("perPage"));
    assert_eq!(get(&s, "/api/v1/passes").body["meta"]["resultsPerPage"], 50);
    assert_eq!(get(&s, "/api/v1/passes?page=0").status, 400);
    assert_eq!(get(&s, "/api/v1/passes?createdAfter=yesterday").status, 400);
    // Past the end: an empty page.
    let past = get(&s, "/api/v1/passes?page=4&perPage=50");
    assert_eq!(past.status, 200);
    assert_eq!(past.body["data"], json!([]));
    assert_eq!(past.body["meta"]["totalPages"], 3);
}

#[test]
fn seeded_passes_templates_events_and_filters() {
    let s = StandIn::start(Options {
        passes: 250,
        ..Options::default()
    })
    .unwrap();
    let mut seen = Vec::new();
    for page in 1..=3 {
        let p = get(&s, &format!("/api/v1/passes?page={page}&perPage=100"));
        assert_eq!(p.body["meta"]["totalPages"], 3);
        for r in p.body["data"].as_array().unwrap() {
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<String> = (0..250).rev().map(seeded_id).collect();
    assert_eq!(seen, expected, "newest first, every pass once");
    let first = get(&s, &format!("/api/v1/passes/{}", seeded_id(0)));
    assert_eq!(
        first.body["data"]["attributes"]["barcode"]["value"],
        seeded_barcode(0)
    );
    assert!(first.body.get("meta").is_none(), "a ticket has no loyalty");
    let card = get(&s, &format!("/api/v1/passes/{}", seeded_id(9)));
    assert_eq!(card.body["meta"]["loyalty"]["balance"], 0);

    let cards = get(
        &s,
        "/api/v1/passes?passTemplateUuid=7b3c9e1a5d2f4a6c8e0b1d3f&perPage=10",
    );
    assert_eq!(cards.body["meta"]["totalCount"], 25);
    assert_eq!(cards.body["data"][0]["id"], seeded_id(249));
    assert_eq!(
        cards.body["links"]["next"],
        "/api/v1/passes?page=2&perPage=10&passTemplateUuid=7b3c9e1a5d2f4a6c8e0b1d3f"
    );
    let after = get(&s, "/api/v1/passes?createdAfter=2024-01-01T00:03:00Z");
    assert_eq!(after.body["meta"]["totalCount"], 250 - 181);
    let by_event = get(&s, "/api/v1/passes?eventName=Stand-in%20Live&perPage=1");
    assert_eq!(by_event.body["meta"]["totalCount"], 225);

    let templates = get(&s, "/api/v1/pass-templates");
    assert_eq!(templates.body["meta"]["totalCount"], 2);
    assert_eq!(templates.body["data"][0]["type"], "passTemplate");
    let events = get(&s, "/api/v1/events");
    assert_eq!(events.body["data"][0]["type"], "event");
    assert_eq!(events.body["data"][0]["meta"]["passesCount"], 225);
}

#[test]
fn scans_logged_and_read_back() {
    let s = StandIn::start(Options {
        passes: 10,
        ..Options::default()
    })
    .unwrap();
    let id = seeded_id(3);
    let body = format!(
        r#"{{"scan": {{"status": "successful", "statusDetail": "Welcome", "scanValue": "{}",
           "passId": "{id}", "readerId": "gate-1", "scannedAt": "2024-05-01T10:00:00.123Z",
           "scanType": "scan"}}}}"#,
        seeded_barcode(3)
    );
    let r = send(&s, "POST", "/api/v1/scans/log", &body);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"]["type"], "scan");
    assert_eq!(
        r.body["data"]["attributes"]["scannedAt"],
        "2024-05-01T10:00:00.123Z"
    );
    let back = get(&s, &format!("/api/v1/scans?passId={id}"));
    assert_eq!(back.body["meta"]["totalCount"], 1);
    assert_eq!(back.body["data"][0]["attributes"]["readerId"], "gate-1");
    assert_eq!(
        get(&s, "/api/v1/scans?passId=other").body["data"],
        json!([])
    );

    // Refused: an unknown pass (422), bad fields (422), not JSON (400); nothing logged.
    for (bad, status) in [
        (r#"{"scan": {"passId": "nope"}}"#, 422),
        (r#"{"scan": {"readerId": "g"}}"#, 422),
        (r#"{"scan": "x"}"#, 422),
        (r#"{"scan": {"passId": "P", "status": "ok"}}"#, 422),
        (r#"{"scan": {"passId": "P", "scannedAt": "today"}}"#, 422),
        ("{", 400),
    ] {
        let bad = bad.replace("\"P\"", &format!("\"{id}\""));
        let r = send(&s, "POST", "/api/v1/scans/log", &bad);
        assert_eq!(r.status, status, "{bad}: {}", r.body);
    }
    assert_eq!(s.logged_scans(None).len(), 1);
}

#[test]
fn outages_rate_limit_refusals_and_crash_windows() {
    let s = StandIn::start(Options {
        passes: 30,
        ..Options::default()
    })
    .unwrap();
    // 503 while unavailable.
    s.set_outage(Some(Outage::Unavailable));
    assert_eq!(get(&s, "/api/v1/passes").status, 503);
    // Refused: no connection at all.
    s.set_outage(Some(Outage::Refused));
    let e = call(&s, "GET", "/api/v1/passes", Some(s.api_key()), None);
    assert!(e.is_err(), "a connection while refusing");
    s.set_outage(None);
    assert_eq!(get(&s, "/api/v1/passes").status, 200);

    // Rate limit: the third request in the window is 429 with Retry-After.
    s.set_rate_limit(Some(RateLimit {
        requests: 2,
        window: Duration::from_secs(30),
    }));
    assert_eq!(get(&s, "/api/v1/passes").status, 200);
    assert_eq!(get(&s, "/api/v1/passes").status, 200);
    let limited = get(&s, "/api/v1/passes");
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.retry_after.unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait));
    s.set_rate_limit(None);

    // One pass refused with the test's answer; the others served.
    let refused = seeded_id(4);
    s.refuse_pass(
        &refused,
        422,
        json!({"errors": [{"detail": "pass is archived"}]}),
    );
    let r = get(&s, &format!("/api/v1/passes/{refused}"));
    assert_eq!(
        (r.status, &r.body["errors"][0]["detail"]),
        (422, &json!("pass is archived"))
    );
    assert_eq!(
        get(&s, &format!("/api/v1/passes/{}", seeded_id(5))).status,
        200
    );
    s.allow_pass(&refused);

    // A page that changes between requests: pass 25 deleted after page 1 shifts pass 24
    // (page 2's first before) onto page 1's end, out of a client's sight.
    s.after_passes_page(1, PageChange::DeletePass(seeded_id(25)));
    let p1 = get(&s, "/api/v1/passes?page=1&perPage=5");
    assert_eq!(p1.body["data"][4]["id"], seeded_id(25));
    let p2 = get(&s, "/api/v1/passes?page=2&perPage=5");
    assert_eq!(p2.body["data"][0]["id"], seeded_id(23));
    assert_eq!(s.pass_count(), 29);

    // The crash window: the scan is logged, the client hears nothing.
    s.crash_next(CrashMode::Drop, |k| *k == RequestKind::ScanLog);
    let body = format!(
        r#"{{"scan": {{"passId": "{}", "status": "successful"}}}}"#,
        seeded_id(1)
    );
    let crashed = call(
        &s,
        "POST",
        "/api/v1/scans/log",
        Some(s.api_key()),
        Some(&body),
    );
    assert!(crashed.is_err(), "an answer came through the crash window");
    assert_eq!(s.logged_scans(Some(&seeded_id(1))).len(), 1);
    let last = s.requests().pop().unwrap();
    assert_eq!((last.kind, last.status), (RequestKind::ScanLog, None));
    // Once only.
    assert_eq!(send(&s, "POST", "/api/v1/scans/log", &body).status, 201);
    assert_eq!(s.logged_scans(Some(&seeded_id(1))).len(), 2);
    assert_eq!(s.passes_pages_requested(), [1, 1, 1, 1, 1, 1, 2]);
}
