//! Apple's pass update web service, as a phone uses it, against the real `passdesk serve`: a
//! store card issued over the API, its `.pkpass` read the way Wallet reads it (the
//! `authenticationToken` and `webServiceURL` from `pass.json`), the device registered, the
//! balance changed over the loyalty API, the change found by `passesUpdatedSince` and the new
//! balance in the latest `.pkpass`. Every refusal is checked to change nothing.

use axum::response::IntoResponse as _;
use base64::Engine as _;
use passdesk_tests::events::until;
use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::wallet_ca::{test_ca, unzip, PASS_TYPE_ID};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

const WEB_SERVICE_URL: &str = "https://counter.example/wallet/apple";
const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const PUSH_TOKEN: &str = "8c97f3e1aa0b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";

/// A counter with Apple Wallet set up (and pushing to `apns`, when given).
fn start(apns: Option<&str>) -> TestApp {
    let mut toml = format!(
        "{}web_service_url = \"{WEB_SERVICE_URL}\"\n",
        test_ca().apple_config_toml()
    );
    if let Some(url) = apns {
        toml.push_str(&format!("push = true\napns_url = \"{url}\"\n"));
    }
    TestApp::with_config(&toml)
}

/// A phone holding one pass: where it calls, and the pass's token.
struct Phone<'a> {
    app: &'a TestApp,
    /// `webServiceURL`'s path on this counter (`/wallet/apple`).
    base: String,
    serial: String,
    token: String,
}

impl Phone<'_> {
    fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let auth = auth.map(|t| format!("ApplePass {t}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        self.app.send(
            method,
            &format!("{}{path}", self.base),
            None,
            &all,
            body.map(<[u8]>::to_vec),
        )
    }

    fn registration(&self) -> String {
        format!(
            "/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/{}",
            self.serial
        )
    }

    fn register(&self, token: Option<&str>, body: &[u8]) -> Reply {
        self.call("POST", &self.registration(), token, &[], Some(body))
    }

    fn updated_since(&self, tag: Option<&str>) -> Reply {
        let query = tag.map_or(String::new(), |t| format!("?passesUpdatedSince={t}"));
        self.call(
            "GET",
            &format!("/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}{query}"),
            None,
            &[],
            None,
        )
    }

    fn latest(&self, if_modified_since: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = if_modified_since
            .map(|v| ("If-Modified-Since", v))
            .into_iter()
            .collect();
        self.call(
            "GET",
            &format!("/v1/passes/{PASS_TYPE_ID}/{}", self.serial),
            Some(&self.token),
            &headers,
            None,
        )
    }
}

fn pass_json(pkpass: &[u8]) -> Value {
    let files = unzip(pkpass);
    serde_json::from_slice(&files["pass.json"]).expect("pass.json is JSON")
}

/// The store card's balance as the phone shows it (the field keyed `balance` or `points`).
fn balance_of(pass: &Value) -> i64 {
    let card = &pass["storeCard"];
    for row in [
        "headerFields",
        "primaryFields",
        "secondaryFields",
        "auxiliaryFields",
        "backFields",
    ] {
        for field in card[row].as_array().into_iter().flatten() {
            if matches!(field["key"].as_str(), Some("balance" | "points")) {
                return field["value"].as_i64().expect("a numeric balance");
            }
        }
    }
    panic!("no balance field in {pass:#}");
}

fn registrations(app: &TestApp) -> i64 {
    app.node
        .store()
        .conn()
        .query_row("SELECT count(*) FROM wallet_apple_registrations", [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// A store card issued over the API with its `.pkpass`: its id and `pass.json`.
fn issue_store_card(app: &TestApp) -> (String, Value) {
    let issued = app.call(
        "POST",
        "/api/v1/passes?includePassSource=apple",
        Some(&app.manager_key),
        Some(&json!({"passTemplate": "tpl-bean-there", "pass": {"fullName": "Jane Smith"}})),
        &[],
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    let serial = issued.body["data"]["id"].as_str().unwrap().to_owned();
    let pkpass = base64::engine::general_purpose::STANDARD
        .decode(
            issued.body["data"]["attributes"]["passSource"]["appleBase64"]
                .as_str()
                .expect("passSource.appleBase64"),
        )
        .unwrap();
    let pass = pass_json(&pkpass);
    assert_eq!(pass["serialNumber"], serial.as_str());
    assert_eq!(pass["webServiceURL"], WEB_SERVICE_URL);
    (serial, pass)
}

#[test]
fn a_phone_registers_sees_the_balance_change_and_gets_the_new_pass() {
    let app = start(None);
    let (serial, pass) = issue_store_card(&app);
    let first_balance = balance_of(&pass);
    let phone = Phone {
        app: &app,
        base: "/wallet/apple".into(),
        serial: serial.clone(),
        token: pass["authenticationToken"].as_str().unwrap().to_owned(),
    };
    let body = json!({ "pushToken": PUSH_TOKEN }).to_string();

    // Refusals first: each changes nothing.
    let before = app.node.fingerprint();
    let wrong = "0".repeat(32);
    let refusals: Vec<(&str, Reply, u16)> = vec![
        (
            "a wrong token",
            phone.register(Some(&wrong), body.as_bytes()),
            401,
        ),
        (
            "no Authorization header",
            phone.register(None, body.as_bytes()),
            401,
        ),
        (
            "another scheme",
            phone.call(
                "POST",
                &phone.registration(),
                None,
                &[("Authorization", &format!("Bearer {}", phone.token))],
                Some(body.as_bytes()),
            ),
            401,
        ),
        (
            "an unknown serial",
            phone.call(
                "POST",
                &format!("/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/no-such-pass"),
                Some(&phone.token),
                &[],
                Some(body.as_bytes()),
            ),
            401,
        ),
        (
            "another pass type",
            phone.call(
                "POST",
                &format!("/v1/devices/{DEVICE}/registrations/pass.com.other/{serial}"),
                Some(&phone.token),
                &[],
                Some(body.as_bytes()),
            ),
            401,
        ),
        (
            "malformed JSON",
            phone.register(Some(&phone.token), b"{\"pushToken\": "),
            400,
        ),
        (
            "no push token",
            phone.register(Some(&phone.token), b"{}"),
            400,
        ),
        (
            "a push token that is not hex",
            phone.register(Some(&phone.token), br#"{"pushToken": "not a token"}"#),
            400,
        ),
        (
            "a malformed device id",
            phone.call(
                "POST",
                &format!("/v1/devices/bad%20device/registrations/{PASS_TYPE_ID}/{serial}"),
                Some(&phone.token),
                &[],
                Some(body.as_bytes()),
            ),
            400,
        ),
        (
            "unregister with a wrong token",
            phone.call("DELETE", &phone.registration(), Some(&wrong), &[], None),
            401,
        ),
        (
            "the latest pass with a wrong token",
            phone.call(
                "GET",
                &format!("/v1/passes/{PASS_TYPE_ID}/{serial}"),
                Some(&wrong),
                &[],
                None,
            ),
            401,
        ),
        (
            "the latest pass of another type",
            phone.call(
                "GET",
                &format!("/v1/passes/pass.com.other/{serial}"),
                Some(&phone.token),
                &[],
                None,
            ),
            401,
        ),
        (
            "a malformed log body",
            phone.call("POST", "/v1/log", None, &[], Some(b"[1, 2")),
            400,
        ),
    ];
    for (what, reply, status) in &refusals {
        assert_eq!(reply.status, *status, "{what}: {reply:?}");
        if *status != 304 {
            assert!(
                reply.body["errors"][0]["detail"].is_string(),
                "{what}: a JSON:API error: {reply:?}"
            );
        }
    }
    assert_eq!(
        app.node.fingerprint(),
        before,
        "a refusal changed the store"
    );
    assert_eq!(registrations(&app), 0);

    // Register: 201, again 200 (still one registration).
    let r = phone.register(Some(&phone.token), body.as_bytes());
    assert_eq!(r.status, 201, "{r:?}");
    let r = phone.register(Some(&phone.token), body.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(registrations(&app), 1);

    // The first ask lists the pass; its tag then lists nothing; a tag not ours lists all.
    let all = phone.updated_since(None);
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(all.body["serialNumbers"], json!([serial]));
    let tag1 = all.body["lastUpdated"].as_str().unwrap().to_owned();
    let none = phone.updated_since(Some(&tag1));
    assert_eq!(none.status, 204, "{none:?}");
    assert!(none.bytes.is_empty());
    let odd = phone.updated_since(Some("yesterday"));
    assert_eq!(odd.status, 200, "{odd:?}");
    assert_eq!(odd.body["serialNumbers"], json!([serial]));
    let other_type = phone.call(
        "GET",
        &format!("/v1/devices/{DEVICE}/registrations/pass.com.other"),
        None,
        &[],
        None,
    );
    assert_eq!(other_type.status, 204, "{other_type:?}");

    // The latest pass before the change, with its Last-Modified.
    let old = phone.latest(None);
    assert_eq!(old.status, 200, "{old:?}");
    assert_eq!(old.header("content-type"), "application/vnd.apple.pkpass");
    let old_modified = old.header("last-modified").to_owned();
    assert!(!old_modified.is_empty(), "Last-Modified");
    assert_eq!(balance_of(&pass_json(&old.bytes)), first_balance);

    // The balance changes over the loyalty API: the pass is listed again, with a newer tag.
    let earn = app.post(
        &format!("/api/v1/passes/{serial}/loyalty/earn"),
        &app.cashier_key,
        json!({"points": 25}),
    );
    assert_eq!(earn.status, 200, "{earn:?}");
    let changed = phone.updated_since(Some(&tag1));
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["serialNumbers"], json!([serial]));
    let tag2 = changed.body["lastUpdated"].as_str().unwrap().to_owned();
    assert!(
        tag2.parse::<i64>().unwrap() > tag1.parse::<i64>().unwrap(),
        "{tag1} then {tag2}"
    );
    assert_eq!(phone.updated_since(Some(&tag2)).status, 204);

    // The latest pass shows the new balance; the old time is answered in full.
    let new = phone.latest(Some(&old_modified));
    assert_eq!(new.status, 200, "{new:?}");
    assert_eq!(balance_of(&pass_json(&new.bytes)), first_balance + 25);
    // Its own Last-Modified is answered 304 once that names a whole second after the change
    // (within the change's own second the answer is in full: never a 304 that hides one).
    until("a 304 for the pass's own Last-Modified", || {
        let fresh = phone.latest(None);
        assert_eq!(fresh.status, 200, "{fresh:?}");
        let again = phone.latest(Some(fresh.header("last-modified")));
        match again.status {
            304 => Some(()),
            200 => None,
            _ => panic!("{again:?}"),
        }
    });
    let ims_garbage = phone.latest(Some("not a date"));
    assert_eq!(
        ims_garbage.status, 200,
        "an unreadable If-Modified-Since is ignored"
    );

    // The log endpoint.
    let log = phone.call(
        "POST",
        "/v1/log",
        None,
        &[],
        Some(br#"{"logs": ["[2027-01-15] Web service error for pass.com.example: bad\nline"]}"#),
    );
    assert_eq!(log.status, 200, "{log:?}");

    // Unregister: gone, and again is fine.
    let gone = phone.call(
        "DELETE",
        &phone.registration(),
        Some(&phone.token),
        &[],
        None,
    );
    assert_eq!(gone.status, 200, "{gone:?}");
    assert_eq!(registrations(&app), 0);
    assert_eq!(phone.updated_since(None).status, 204);
    let again = phone.call(
        "DELETE",
        &phone.registration(),
        Some(&phone.token),
        &[],
        None,
    );
    assert_eq!(again.status, 200, "{again:?}");
}

#[test]
fn without_apple_wallet_every_call_is_404_and_changes_nothing() {
    let app = TestApp::start();
    let before = app.node.fingerprint();
    let calls: [(&str, String, Option<&[u8]>); 5] = [
        (
            "POST",
            format!("/wallet/apple/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/CUST-9001"),
            Some(br#"{"pushToken": "00"}"#),
        ),
        (
            "DELETE",
            format!("/wallet/apple/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}/CUST-9001"),
            None,
        ),
        (
            "GET",
            format!("/wallet/apple/v1/devices/{DEVICE}/registrations/{PASS_TYPE_ID}"),
            None,
        ),
        (
            "GET",
            format!("/wallet/apple/v1/passes/{PASS_TYPE_ID}/CUST-9001"),
            None,
        ),
        (
            "POST",
            "/wallet/apple/v1/log".into(),
            Some(br#"{"logs": []}"#),
        ),
    ];
    for (method, path, body) in calls {
        let r = app.send(
            method,
            &path,
            None,
            &[(
                "Authorization",
                "ApplePass 00000000000000000000000000000000",
            )],
            body.map(<[u8]>::to_vec),
        );
        assert_eq!(r.status, 404, "{method} {path}: {r:?}");
        assert!(r.body["errors"][0]["detail"].is_string(), "{r:?}");
    }
    assert_eq!(app.node.fingerprint(), before);
}

/// One request the fake APNs took.
#[derive(Debug, Clone)]
struct ApnsRequest {
    version: String,
    path: String,
    topic: String,
    body: Vec<u8>,
    answered: u16,
}

/// A loopback APNs, written from Apple's documented request (`POST /3/device/<token>`,
/// `apns-topic`, a JSON body; answers 200, or a status with `{"reason": …}`). It speaks h2c
/// (HTTP/2 with prior knowledge over plain TCP): the worker's TLS client certificate is not
/// exercised here, its HTTP/2 request is. Each token answers its scripted statuses in turn,
/// then 200.
struct FakeApns {
    url: String,
    requests: Arc<Mutex<Vec<ApnsRequest>>>,
    _runtime: tokio::runtime::Runtime,
}

type Script = Arc<Mutex<HashMap<String, VecDeque<(u16, &'static str)>>>>;

impl FakeApns {
    fn start(script: &[(&str, &[(u16, &'static str)])]) -> Self {
        let requests: Arc<Mutex<Vec<ApnsRequest>>> = Arc::default();
        let script: Script = Arc::new(Mutex::new(
            script
                .iter()
                .map(|(t, answers)| (t.to_string(), answers.iter().copied().collect()))
                .collect(),
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let recorded = requests.clone();
        let app = axum::Router::new().route(
            "/3/device/{token}",
            axum::routing::post(
                move |axum::extract::Path(token): axum::extract::Path<String>,
                      req: axum::extract::Request| {
                    let (recorded, script) = (recorded.clone(), script.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = axum::body::to_bytes(body, 1 << 16)
                            .await
                            .unwrap_or_default();
                        let (status, reason) = script
                            .lock()
                            .unwrap()
                            .get_mut(&token)
                            .and_then(VecDeque::pop_front)
                            .unwrap_or((200, ""));
                        recorded.lock().unwrap().push(ApnsRequest {
                            version: format!("{:?}", parts.version),
                            path: parts.uri.path().to_owned(),
                            topic: parts
                                .headers
                                .get("apns-topic")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned(),
                            body: body.to_vec(),
                            answered: status,
                        });
                        let status = axum::http::StatusCode::from_u16(status).unwrap();
                        if reason.is_empty() {
                            status.into_response()
                        } else {
                            (status, axum::Json(json!({ "reason": reason }))).into_response()
                        }
                    }
                },
            ),
        );
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            requests,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> Vec<ApnsRequest> {
        self.requests.lock().unwrap().clone()
    }
}

const TOKEN_A: &str = "aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000";
const TOKEN_B: &str = "bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000";

fn apple_status(app: &TestApp) -> Value {
    let r = app.get("/api/v1/status", &app.reader_key);
    assert_eq!(r.status, 200, "{r:?}");
    r.body["data"]["attributes"]["wallet"]["apple"].clone()
}

#[test]
fn a_changed_pass_is_pushed_to_its_phones_and_a_dead_token_is_dropped() {
    // Phone A's first push meets APNs unavailable (503), then goes; phone B's token is dead.
    let apns = FakeApns::start(&[
        (TOKEN_A, &[(503, "ServiceUnavailable")]),
        (TOKEN_B, &[(410, "Unregistered")]),
    ]);
    let mut app = start(Some(&apns.url));
    let (serial, pass) = issue_store_card(&app);
    let token = pass["authenticationToken"].as_str().unwrap().to_owned();
    for (device, push) in [("device-a", TOKEN_A), ("device-b", TOKEN_B)] {
        let r = app.send(
            "POST",
            &format!("/wallet/apple/v1/devices/{device}/registrations/{PASS_TYPE_ID}/{serial}"),
            None,
            &[("Authorization", &format!("ApplePass {token}"))],
            Some(json!({ "pushToken": push }).to_string().into_bytes()),
        );
        assert_eq!(r.status, 201, "{r:?}");
    }
    // Registered as the pass is now: nothing is due (once the worker has looked).
    until("the worker's first look", || {
        (apple_status(&app)["pushBacklog"] == 0).then_some(())
    });

    let earn = app.post(
        &format!("/api/v1/passes/{serial}/loyalty/earn"),
        &app.cashier_key,
        json!({"points": 10}),
    );
    assert_eq!(earn.status, 200, "{earn:?}");

    until(
        "phone A's push delivered and phone B's token dropped",
        || {
            let done = apns.requests().iter().any(|r| r.answered == 200)
                && registrations(&app) == 1
                && apple_status(&app)["pushBacklog"] == 0;
            done.then_some(())
        },
    );
    let requests = apns.requests();
    for r in &requests {
        assert_eq!(r.version, "HTTP/2.0", "{r:?}");
        assert_eq!(r.topic, PASS_TYPE_ID, "{r:?}");
        assert_eq!(r.body, b"{}", "{r:?}");
    }
    let to_a: Vec<u16> = requests
        .iter()
        .filter(|r| r.path == format!("/3/device/{TOKEN_A}"))
        .map(|r| r.answered)
        .collect();
    assert_eq!(to_a, [503, 200], "A: retried after APNs was unavailable");
    let to_b: Vec<u16> = requests
        .iter()
        .filter(|r| r.path == format!("/3/device/{TOKEN_B}"))
        .map(|r| r.answered)
        .collect();
    assert_eq!(to_b, [410], "B: once, then forgotten");
    let remaining: String = app
        .node
        .store()
        .conn()
        .query_row(
            "SELECT device_library_id FROM wallet_apple_registrations",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(remaining, "device-a");
    let status = apple_status(&app);
    assert!(status.get("pushError").is_none(), "{status}");
    assert!(
        app.stop().success(),
        "a clean shutdown with the APNs worker"
    );
}
