//! The routes, as the seed names them, and the gate every request passes first (recording,
//! outage, Bearer auth, rate limit, refused passes, the crash window).
//!
//! The seed spells `GET /api/v1/passes` (its example page's links), `GET /passes/:id` and the
//! loyalty PATCH's body and answer; the other paths (`/api/v1/pass-templates`,
//! `/api/v1/events`, `/api/v1/scans/log`, `/api/v1/scans`,
//! `/api/v1/passes/{id}/loyalty`) follow its naming habits.

use crate::account::{seed_time, ScanRow};
use crate::error::{error_body, json_response, ApiError};
use crate::faults::{CrashMode, Outage, PageChange, RequestKind};
use crate::page::PageRequest;
use crate::record::Recorded;
use crate::Shared;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// Closes the connection a request came on (inserted per connection by the accept loop).
#[derive(Clone)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// The largest body read.
const MAX_BODY: usize = 1 << 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/passes", get(list_passes))
        .route("/api/v1/passes/{id}", get(get_pass))
        .route("/api/v1/passes/{id}/loyalty", patch(patch_loyalty))
        .route("/api/v1/pass-templates", get(list_templates))
        .route("/api/v1/events", get(list_events))
        .route("/api/v1/scans/log", post(log_scan))
        .route("/api/v1/scans", get(list_scans))
        .fallback(|| async { ApiError::not_found("no such path") })
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn classify(method: &Method, path: &str, query: &[(String, String)]) -> RequestKind {
    let page = || {
        query
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1)
    };
    let rest = path.strip_prefix("/api/v1/").unwrap_or("");
    let parts: Vec<&str> = rest.split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["passes"]) => RequestKind::PassesPage(page()),
        ("GET", ["passes", _]) => RequestKind::Pass,
        ("PATCH", ["passes", _, "loyalty"]) => RequestKind::LoyaltyPatch,
        ("GET", ["pass-templates"]) => RequestKind::TemplatesPage(page()),
        ("GET", ["events"]) => RequestKind::EventsPage(page()),
        ("POST", ["scans", "log"]) => RequestKind::ScanLog,
        ("GET", ["scans"]) => RequestKind::Scans,
        _ => RequestKind::Other,
    }
}

fn pass_of(
    kind: &RequestKind,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Option<String> {
    match kind {
        RequestKind::Pass | RequestKind::LoyaltyPatch => path
            .strip_prefix("/api/v1/passes/")
            .and_then(|p| p.split('/').next())
            .map(percent_decoded),
        RequestKind::ScanLog => body?["scan"]["passId"].as_str().map(str::to_owned),
        RequestKind::Scans => query
            .iter()
            .find(|(k, _)| k == "passId")
            .map(|(_, v)| v.clone()),
        _ => None,
    }
}

/// A path segment as the route's `Path` extractor reads it (`%XX` decoded; `+` stays).
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn bearer_ok(req_auth: Option<&HeaderValue>, key: &str) -> bool {
    let Some(value) = req_auth.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match value.split_once(' ') {
        Some((scheme, token)) => scheme.eq_ignore_ascii_case("bearer") && token.trim() == key,
        None => false,
    }
}

/// Every request passes here first: recorded, then answered by the first of: an outage, a
/// missing or wrong key (401), the rate limit (429 + `Retry-After`), a refused pass, or the
/// route; a crash window applies the request and then sends nothing.
async fn gate(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(413, format!("body over {MAX_BODY} bytes")).into_response(),
    };
    let query = query_pairs(parts.uri.query());
    let path = parts.uri.path().to_owned();
    let kind = classify(&parts.method, &path, &query);
    let json_body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let pass_id = pass_of(&kind, &path, &query, json_body.as_ref());
    let n = sh.record(Recorded {
        n: 0,
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.to_string()),
        kind: kind.clone(),
        pass_id: pass_id.clone(),
        body: json_body,
        status: None,
        received_at: Instant::now(),
        answered_at: None,
    });
    let kill = parts.extensions.get::<ConnKill>().cloned();

    let early = {
        let mut faults = sh.faults.lock().expect("faults lock");
        match faults.outage {
            Some(Outage::Refused) => Early::Drop,
            Some(Outage::Unavailable) => Early::Answer(json_response(
                503,
                &error_body(503, "PassEntry is unavailable (a stand-in outage)"),
            )),
            None if !bearer_ok(parts.headers.get(header::AUTHORIZATION), &sh.api_key) => {
                Early::Answer(
                    ApiError::new(
                        401,
                        "a valid API key is required: Authorization: Bearer {API KEY}",
                    )
                    .into_response(),
                )
            }
            None => match faults.over_rate_limit(Instant::now()) {
                Some(wait) => {
                    let mut r = json_response(
                        429,
                        &error_body(429, &format!("rate limit exceeded; retry in {wait} s")),
                    );
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
                    Early::Answer(r)
                }
                None => match pass_id.as_ref().and_then(|p| faults.refusals.get(p)) {
                    Some(refusal) => Early::Answer(json_response(refusal.status, &refusal.body)),
                    None => Early::Go(faults.take_crash(&kind)),
                },
            },
        }
    };
    let crash = match early {
        Early::Answer(resp) => {
            sh.answered(n, resp.status().as_u16());
            return resp;
        }
        Early::Drop => Some(CrashMode::Drop),
        Early::Go(crash) => {
            let resp = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            match crash {
                None => {
                    sh.answered(n, resp.status().as_u16());
                    return resp;
                }
                Some(mode) => Some(mode),
            }
        }
    };
    // No answer: the request was received (and, in a crash window, applied).
    if crash == Some(CrashMode::Drop) {
        if let Some(k) = kill {
            k.0.notify_one();
        }
    }
    std::future::pending::<Response>().await
}

enum Early {
    Answer(Response),
    /// Close the connection without answering.
    Drop,
    /// To the route; then the crash window's mode if it applies.
    Go(Option<CrashMode>),
}

fn ok(body: Value) -> Response {
    json_response(200, &body)
}

/// Filters of the seed's passes list.
struct PassFilter {
    status: Option<String>,
    device_type: Option<String>,
    group_tag: Option<String>,
    template: Option<String>,
    template_name: Option<String>,
    events: Option<Vec<String>>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
}

fn time_param(r: &PageRequest, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    r.param(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::bad_request(format!("{name}: not an ISO 8601 time ({e}): {v:?}"))
                })
        })
        .transpose()
}

impl PassFilter {
    fn parse(r: &PageRequest, events: &[Value]) -> Result<Self, ApiError> {
        let s = |n: &str| r.param(n).map(str::to_owned);
        let mut wanted_events: Option<Vec<String>> = s("eventUuid").map(|e| vec![e]);
        if let Some(name) = r.param("eventName") {
            let ids: Vec<String> = events
                .iter()
                .filter(|e| e["attributes"]["name"] == name)
                .filter_map(|e| e["id"].as_str().map(str::to_owned))
                .filter(|id| wanted_events.as_ref().is_none_or(|w| w.contains(id)))
                .collect();
            wanted_events = Some(ids);
        }
        Ok(Self {
            status: s("status"),
            device_type: s("deviceType"),
            group_tag: s("groupTag"),
            template: s("passTemplateUuid"),
            template_name: s("passTemplateName"),
            events: wanted_events,
            created_after: time_param(r, "createdAfter")?,
            created_before: time_param(r, "createdBefore")?,
        })
    }

    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.device_type.is_none()
            && self.group_tag.is_none()
            && self.template.is_none()
            && self.template_name.is_none()
            && self.events.is_none()
            && self.created_after.is_none()
            && self.created_before.is_none()
    }

    fn matches(&self, p: &crate::account::PassRow) -> bool {
        let attr = |k: &str| p.attributes.get(k).and_then(Value::as_str);
        let eq =
            |want: &Option<String>, k: &str| want.as_deref().is_none_or(|w| attr(k) == Some(w));
        eq(&self.status, "status")
            && eq(&self.device_type, "deviceType")
            && eq(&self.group_tag, "groupTag")
            && eq(&self.template, "passTemplateUuid")
            && eq(&self.template_name, "passTemplateName")
            && self
                .events
                .as_ref()
                .is_none_or(|e| attr("eventUuid").is_some_and(|id| e.iter().any(|x| x == id)))
            && self.created_after.is_none_or(|t| p.created_at > t)
            && self.created_before.is_none_or(|t| p.created_at < t)
    }
}

async fn list_passes(State(sh): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let r = match PageRequest::parse(query_pairs(q.as_deref()), sh.max_per_page) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let doc = {
        let account = sh.account.lock().expect("account lock");
        let filter = match PassFilter::parse(&r, &account.events) {
            Ok(f) => f,
            Err(e) => return e.into_response(),
        };
        let (offset, per) = (r.offset(), r.per_page as usize);
        if filter.is_empty() {
            // Newest first by index: a page of 100,000 passes costs its own 100 only.
            let data = (offset..offset.saturating_add(per))
                .map_while(|i| account.newest(i))
                .map(|p| p.resource())
                .collect();
            r.document("/api/v1/passes", account.len(), data)
        } else {
            let mut total = 0;
            let mut data = Vec::new();
            for p in account.newest_first().filter(|p| filter.matches(p)) {
                if total >= offset && data.len() < per {
                    data.push(p.resource());
                }
                total += 1;
            }
            r.document("/api/v1/passes", total, data)
        }
    };
    let changes = sh
        .faults
        .lock()
        .expect("faults lock")
        .page_changes
        .remove(&r.page)
        .unwrap_or_default();
    for change in changes {
        match change {
            PageChange::DeletePass(id) => {
                sh.account.lock().expect("account lock").delete(&id);
            }
            PageChange::AddPass(id, attrs) => {
                sh.account.lock().expect("account lock").insert(id, attrs);
            }
            PageChange::Outage(o) => sh.set_outage(Some(o)),
        }
    }
    ok(doc)
}

async fn get_pass(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let account = sh.account.lock().expect("account lock");
    match account.pass(&id) {
        Some(p) => ok(p.document()),
        None => ApiError::not_found(format!("pass {id} not found")).into_response(),
    }
}

fn list_of(
    sh: &Shared,
    q: Option<String>,
    path: &str,
    items: impl Fn(&crate::account::Account) -> Vec<Value>,
) -> Response {
    let r = match PageRequest::parse(query_pairs(q.as_deref()), sh.max_per_page) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let all = items(&sh.account.lock().expect("account lock"));
    let data = all
        .iter()
        .skip(r.offset())
        .take(r.per_page as usize)
        .cloned()
        .collect();
    ok(r.document(path, all.len(), data))
}

async fn list_templates(State(sh): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    list_of(&sh, q, "/api/v1/pass-templates", |a| a.templates.clone())
}

async fn list_events(State(sh): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    list_of(&sh, q, "/api/v1/events", |a| {
        a.events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                let id = e["id"].as_str().unwrap_or_default().to_owned();
                e["meta"] = json!({"passesCount": a.passes_of_event(&id)});
                e
            })
            .collect()
    })
}

async fn list_scans(State(sh): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let find = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (pass, reader) = (find("passId"), find("readerId"));
    list_of(&sh, q, "/api/v1/scans", |a| {
        a.scans
            .iter()
            .rev()
            .filter(|s| pass.as_deref().is_none_or(|p| s.pass_id == p))
            .filter(|s| {
                reader
                    .as_deref()
                    .is_none_or(|r| s.attributes.get("readerId").and_then(Value::as_str) == Some(r))
            })
            .map(ScanRow::resource)
            .collect()
    })
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("body: expected a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("body is not JSON: {e}"))),
    }
}

/// The fields of a logged scan, checked: strings where strings, `scannedAt` ISO 8601,
/// `status` successful / failed, `loyalty` an object.
fn checked_scan(body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let scan = match body.get("scan") {
        Some(Value::Object(s)) => s.clone(),
        Some(_) => return Err(ApiError::unprocessable("scan: expected an object")),
        None => return Err(ApiError::unprocessable("scan: missing")),
    };
    match scan.get("passId") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => {
            return Err(ApiError::unprocessable(
                "scan.passId: expected a non-empty string",
            ))
        }
        None => return Err(ApiError::unprocessable("scan.passId: missing")),
    }
    for k in [
        "readerId",
        "scanValue",
        "scanType",
        "statusDetail",
        "scannedAt",
        "status",
    ] {
        if let Some(v) = scan.get(k) {
            if !v.is_string() && !v.is_null() {
                return Err(ApiError::unprocessable(format!(
                    "scan.{k}: expected a string"
                )));
            }
        }
    }
    if let Some(s) = scan.get("status").and_then(Value::as_str) {
        if s != "successful" && s != "failed" {
            return Err(ApiError::unprocessable(format!(
                "scan.status: expected \"successful\" or \"failed\", got {s:?}"
            )));
        }
    }
    if let Some(t) = scan.get("scannedAt").and_then(Value::as_str) {
        DateTime::parse_from_rfc3339(t)
            .map_err(|e| ApiError::unprocessable(format!("scan.scannedAt: not ISO 8601 ({e})")))?;
    }
    if let Some(l) = scan.get("loyalty") {
        if !l.is_object() && !l.is_null() {
            return Err(ApiError::unprocessable("scan.loyalty: expected an object"));
        }
    }
    Ok(scan)
}

/// `POST /api/v1/scans/log`: a scan validated elsewhere, recorded (201 with the scan
/// resource). A pass the account does not hold is refused (422): PassEntry logs scans of its
/// own passes.
async fn log_scan(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let scan = match json_object(&body).and_then(|b| checked_scan(&b)) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let pass_id = scan["passId"].as_str().unwrap_or_default().to_owned();
    let mut account = sh.account.lock().expect("account lock");
    if account.pass(&pass_id).is_none() {
        return ApiError::unprocessable(format!("scan.passId: pass {pass_id} not found"))
            .into_response();
    }
    let id = uuid::Uuid::now_v7().to_string();
    let mut attributes = scan;
    attributes.insert("createdAt".into(), seed_time(Utc::now()).into());
    let row = ScanRow {
        id,
        pass_id,
        attributes,
    };
    let doc = json!({"data": row.resource()});
    account.scans.push(row);
    json_response(201, &doc)
}

fn integer(body: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable(format!("{key}: expected an integer, got {v}"))),
    }
}

/// `PATCH /api/v1/passes/{id}/loyalty`: `balance` adds (negative subtracts),
/// `overrideBalance` sets; the two cannot be used together (the seed). Answers the pass with
/// `meta.loyalty.balance`, and its `passContent.points` follows the balance where the pass
/// shows points (as the seed's before and after).
async fn patch_loyalty(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_object(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let (add, set) = match (integer(&body, "balance"), integer(&body, "overrideBalance")) {
        (Ok(a), Ok(s)) => (a, s),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    if let Some(m) = body.get("message") {
        if !m.is_string() && !m.is_null() {
            return ApiError::unprocessable("message: expected a string").into_response();
        }
    }
    let mut account = sh.account.lock().expect("account lock");
    let Some(pass) = account.pass_mut(&id) else {
        return ApiError::not_found(format!("pass {id} not found")).into_response();
    };
    let Some(balance) = pass.balance else {
        return ApiError::unprocessable(format!(
            "pass {id}: loyalty balance is not enabled on its template"
        ))
        .into_response();
    };
    let new = match (add, set) {
        (Some(_), Some(_)) => {
            return ApiError::unprocessable("balance cannot be used with overrideBalance")
                .into_response()
        }
        (None, None) => {
            return ApiError::unprocessable("balance or overrideBalance: one is required")
                .into_response()
        }
        (Some(d), None) => match balance.checked_add(d) {
            Some(n) => n,
            None => return ApiError::unprocessable("balance: out of range").into_response(),
        },
        (None, Some(n)) => n,
    };
    pass.balance = Some(new);
    if let Some(Value::Object(content)) = pass.attributes.get_mut("passContent") {
        if content.contains_key("points") {
            content.insert("points".into(), new.to_string().into());
        }
    }
    let doc = pass.document();
    drop(account);
    sh.patches
        .lock()
        .expect("patches lock")
        .push((id, Value::Object(body)));
    ok(doc)
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn path_segments_decode_as_the_router_does() {
        assert_eq!(percent_decoded("a%2Fb%20c+d"), "a/b c+d");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz"), "%zz");
    }
}
