//! Who may call what, derived from the API document itself: every operation in the served
//! `/api/v1/openapi.json` states its least role (`x-passdesk-role`: `public`, `reader`,
//! `cashier`, `manager` or `admin`), and the real service is held to it for every operation,
//! without a key and with a key of each role. The service builds its router and that document
//! from one list (`server::documented`), so a new route is in this test the day it exists.
//!
//! - Without a key, or with one that is not valid: 401, before anything else of the request is read (the request carries an
//!   unknown query parameter and, where there is a body, one that does not parse, so a check
//!   that came after the parsing would answer 400 instead). A public operation: never 401.
//! - A role below the stated one: 403, with the same unreadable request.
//! - The stated role and above: neither 401 nor 403, with a readable request (real demo ids in
//!   the path, the smallest body the document's schema allows), so the handler's own checks run
//!   too; what it then answers (200, 404, 422...) is its business.

use passdesk_core::api_keys::Role;
use passdesk_tests::service::TestApp;
use serde_json::{json, Map, Value};

/// Shaped like a key, known to no one.
const NOT_A_KEY: &str = "pdk_000000000000000000_nope";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What an operation's `x-passdesk-role` states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    Key(Role),
}

fn access_of(operation: &Value) -> Result<Access, String> {
    match operation.get("x-passdesk-role").and_then(Value::as_str) {
        None => Err("states no x-passdesk-role".into()),
        Some("public") => Ok(Access::Public),
        Some(role) => role.parse().map(Access::Key),
    }
}

/// One request as the test sends it.
struct Request<'a> {
    method: String,
    path: String,
    key: Option<&'a str>,
    body: Option<Vec<u8>>,
}

/// Status and a short look at the body (an event stream's is never read: it does not end).
fn send(app: &TestApp, r: &Request) -> (u16, String) {
    let reply = app.send(
        &r.method.to_uppercase(),
        &r.path,
        r.key,
        &[],
        r.body.clone(),
    );
    let body = if reply
        .header("content-type")
        .starts_with("text/event-stream")
    {
        "(an event stream)".to_owned()
    } else {
        reply.text().chars().take(300).collect()
    };
    (reply.status, body)
}

/// A real id for the parameter after `collection` (the path up to it): the first item the
/// admin key lists there, else one that exists nowhere (the handler answers 404, after the
/// key check).
fn sample_id(app: &TestApp, collection: &str) -> String {
    let listed = app.call("GET", collection, Some(&app.admin_key), None, &[]);
    listed.body["data"][0]["id"]
        .as_str()
        .map_or_else(|| "no-such-id".to_owned(), str::to_owned)
}

/// The path with every `{parameter}` filled, left to right.
fn fill_path(app: &TestApp, template: &str) -> String {
    let mut filled = String::new();
    for segment in template.split('/').skip(1) {
        filled.push('/');
        if segment.starts_with('{') && segment.ends_with('}') {
            filled.push_str(&sample_id(app, filled.trim_end_matches('/')));
        } else {
            filled.push_str(segment);
        }
    }
    filled
}

/// The query string of the operation's required query parameters (a placeholder value each),
/// and of those the document gives an example for (a parameter a lower role must give, such as
/// a gate's `readerId`, states what a reader key would send).
fn required_query(operation: &Value) -> Vec<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            match (&p["example"], &p["required"]) {
                (Value::String(example), _) => Some(format!("{name}={example}")),
                (_, Value::Bool(true)) => Some(format!("{name}=1")),
                _ => None,
            }
        })
        .collect()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("the document has no {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

/// The smallest value `schema` allows: required properties only, the first of a choice.
fn minimal(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    for choice in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema[choice].as_array().and_then(|c| {
            c.iter()
                .find(|s| resolve(doc, s)["type"] != "null")
                .or(c.first())
        }) {
            return minimal(doc, first);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str() {
        Some("string") if schema["format"] == "date-time" => json!("2030-01-01T00:00:00Z"),
        Some("string") => json!("x"),
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        Some("null") => Value::Null,
        _ => {
            let mut object = Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                object.insert(name.to_owned(), minimal(doc, &schema["properties"][name]));
            }
            Value::Object(object)
        }
    }
}

#[test]
fn every_operation_answers_401_without_a_key_and_403_below_its_stated_role_before_reading_the_request(
) {
    // A webhook subscription (off: nothing is sent) and a delivery, so their paths get real ids.
    let app = TestApp::start_with(
        |node| {
            let sub = node.ok(&["webhooks", "add", "http://127.0.0.1:9/", "--disabled"]);
            node.ok(&["webhooks", "test", sub["id"].as_str().unwrap()]);
        },
        false,
    );
    let doc = app.call("GET", "/api/v1/openapi.json", None, None, &[]);
    assert_eq!(doc.status, 200, "{doc:?}");
    let doc = doc.body;
    let keys = [
        (Role::Reader, app.reader_key.as_str()),
        (Role::Cashier, app.cashier_key.as_str()),
        (Role::Manager, app.manager_key.as_str()),
        (Role::Admin, app.admin_key.as_str()),
    ];
    let mut operations = 0;
    let mut failures = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            operations += 1;
            let name = format!(
                "{} {template} ({})",
                method.to_uppercase(),
                operation["operationId"]
                    .as_str()
                    .unwrap_or("no operationId")
            );
            let access = match access_of(operation) {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{name}: {e}"));
                    continue;
                }
            };
            let path = fill_path(&app, template);
            let query = required_query(operation);
            let mut probing = query.clone();
            probing.push("roleProbe=unknown".into());
            let (readable_path, unreadable_path) =
                (with_query(&path, &query), with_query(&path, &probing));
            let has_body = operation.get("requestBody").is_some();
            let body = operation["requestBody"]["content"]["application/json"]
                .get("schema")
                .map(|s| serde_json::to_vec(&minimal(&doc, s)).unwrap())
                .or_else(|| has_body.then(|| b"{}".to_vec()));
            let readable = |key| Request {
                method: method.to_owned(),
                path: readable_path.clone(),
                key,
                body: body.clone(),
            };
            let unreadable = |key| Request {
                method: method.to_owned(),
                path: unreadable_path.clone(),
                key,
                body: has_body.then(|| b"{\"roleProbe\": [unterminated".to_vec()),
            };
            let mut expect = |r: Request, ok: &dyn Fn(u16) -> bool, wanted: &str| {
                let (status, body) = send(&app, &r);
                if !ok(status) {
                    let who = match r.key {
                        None => "no key".to_owned(),
                        Some(NOT_A_KEY) => "a key that is not valid".to_owned(),
                        Some(k) => {
                            let role = keys.iter().find(|(_, key)| *key == k).map(|(r, _)| *r);
                            format!("a {} key", role.map_or("?", Role::as_str))
                        }
                    };
                    failures.push(format!(
                        "{name} with {who}: {status} where {wanted} was due: {body}"
                    ));
                }
            };
            match access {
                Access::Public => {
                    expect(readable(None), &|s| s != 401, "anything but 401");
                    expect(readable(Some(NOT_A_KEY)), &|s| s != 401, "anything but 401");
                    for (_, key) in keys {
                        expect(readable(Some(key)), &|s| s != 401 && s != 403, "no 401/403");
                    }
                }
                Access::Key(least) => {
                    expect(unreadable(None), &|s| s == 401, "401");
                    expect(unreadable(Some(NOT_A_KEY)), &|s| s == 401, "401");
                    for (role, key) in keys {
                        if role < least {
                            expect(unreadable(Some(key)), &|s| s == 403, "403");
                        } else {
                            expect(readable(Some(key)), &|s| s != 401 && s != 403, "no 401/403");
                        }
                    }
                }
            }
        }
    }
    assert!(operations > 0, "the document has no operations: {doc}");
    assert!(
        failures.is_empty(),
        "{} of the checks on {operations} operations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn with_query(path: &str, query: &[String]) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Webhooks are a manager's, all of them: subscriptions (their secrets) and the delivery log.
#[test]
fn every_webhook_operation_needs_a_manager() {
    let out = std::process::Command::new(passdesk_tests::passdesk_bin())
        .arg("openapi")
        .output()
        .expect("run passdesk openapi");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("passdesk openapi prints JSON");
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1/webhook-") {
            continue;
        }
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                seen += 1;
                assert_eq!(
                    access_of(operation),
                    Ok(Access::Key(Role::Manager)),
                    "{method} {path}"
                );
            }
        }
    }
    assert_eq!(
        seen, 10,
        "the webhook operations: 7 on subscriptions, 3 on deliveries"
    );
}
