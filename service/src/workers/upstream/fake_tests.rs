//! The pull and the push against a small PassEntry fake on loopback (real HTTP, a real SQLite
//! file): pages, the sweep's void, requests in order, a refusal passed, a crash between send
//! and answer read back without a second send. The PassEntry stand-in (`passentry-standin`)
//! and `tests/tests/upstream_e2e.rs` test the running counter; this tests the functions.

use super::client::PassEntryClient;
use super::push::{self, PushSummary};
use super::{attach, pull_now};
use crate::config::{ConfigSecret, PassEntryUpstream};
use crate::context::Context;
use crate::server::db::Db;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use passdesk_core::local_day::TimeZone;
use passdesk_core::loyalty::{self, Operation};
use passdesk_core::pass::PassStatus;
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::upstream::queue::{self, RequestState};
use passdesk_core::{checkin, pass_store, Timestamp};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const KEY: &str = "pk_test_key";

#[derive(Default)]
struct Account {
    /// Newest first, as PassEntry lists them.
    passes: Vec<String>,
    balances: HashMap<String, i64>,
    scans: Vec<Value>,
    patches: Vec<(String, Value)>,
    /// Scan logs of this pass are refused (422).
    refuse: Option<String>,
    /// This page of passes is answered with this body instead.
    broken_page: Option<(usize, String)>,
}

type Fake = Arc<Mutex<Account>>;

fn resource(id: &str) -> Value {
    json!({"id": id, "type": "pass", "attributes": {
        "passType": "storeCard", "createdAt": "2022-01-08T00:00:00Z", "status": "active",
        "passTemplateUuid": "tpl-coffee", "passTemplateName": "PassEntry Coffee",
        "barcode": {"type": "qrCode", "value": format!("QR-{id}"), "displayText": true},
        "passContent": {"fullName": format!("Holder {id}")}}})
}

fn authorized(h: &HeaderMap) -> Result<(), (StatusCode, Json<Value>)> {
    match h.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == format!("Bearer {KEY}") => Ok(()),
        _ => Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Unauthorized"})),
        )),
    }
}

type Answer = Result<(StatusCode, Json<Value>), (StatusCode, Json<Value>)>;

fn page(items: Vec<Value>, total: usize, page: usize, per: usize) -> Value {
    json!({"data": items, "meta": {"totalCount": total, "resultsPerPage": per, "currentPage": page,
        "totalPages": total.div_ceil(per)}, "links": {}})
}

async fn list(
    State(f): State<Fake>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authorized(&h)?;
    let n = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (p, per) = (n("page", 1), n("perPage", 100));
    let a = f.lock().unwrap();
    if let Some((n, body)) = &a.broken_page {
        if *n == p {
            return Ok((
                StatusCode::OK,
                Json(serde_json::from_str(body).unwrap_or(json!(body))),
            ));
        }
    }
    let items = a
        .passes
        .iter()
        .skip((p - 1) * per)
        .take(per)
        .map(|id| resource(id))
        .collect();
    Ok((StatusCode::OK, Json(page(items, a.passes.len(), p, per))))
}

async fn empty(h: HeaderMap) -> Answer {
    authorized(&h)?;
    Ok((StatusCode::OK, Json(page(vec![], 0, 1, 100))))
}

async fn one(State(f): State<Fake>, h: HeaderMap, Path(id): Path<String>) -> Answer {
    authorized(&h)?;
    let a = f.lock().unwrap();
    if !a.passes.contains(&id) {
        return Err((StatusCode::NOT_FOUND, Json(json!({"error": "Not Found"}))));
    }
    let balance = a.balances.get(&id).copied().unwrap_or(0);
    Ok((
        StatusCode::OK,
        Json(json!({"data": resource(&id), "meta": {"loyalty": {"balance": balance}}})),
    ))
}

async fn log_scan(State(f): State<Fake>, h: HeaderMap, Json(body): Json<Value>) -> Answer {
    authorized(&h)?;
    let mut a = f.lock().unwrap();
    let scan = body["scan"].clone();
    if a.refuse.as_deref() == scan["passId"].as_str() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"errors": ["pass is not valid for scanning"]})),
        ));
    }
    a.scans.push(scan.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"type": "scan", "attributes": scan}})),
    ))
}

async fn scans(
    State(f): State<Fake>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    authorized(&h)?;
    let a = f.lock().unwrap();
    let items: Vec<Value> = a
        .scans
        .iter()
        .filter(|s| s["passId"].as_str() == q.get("passId").map(String::as_str))
        .map(|s| json!({"id": "s", "type": "scan", "attributes": s}))
        .collect();
    let n = items.len();
    Ok((StatusCode::OK, Json(page(items, n, 1, n.max(1)))))
}

async fn loyalty_patch(
    State(f): State<Fake>,
    h: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Answer {
    authorized(&h)?;
    let mut a = f.lock().unwrap();
    let b = a.balances.entry(id.clone()).or_insert(0);
    if let Some(n) = body["overrideBalance"].as_i64() {
        *b = n;
    } else if let Some(d) = body["balance"].as_i64() {
        *b += d;
    }
    let balance = *b;
    a.patches.push((id.clone(), body));
    Ok((
        StatusCode::OK,
        Json(json!({"data": resource(&id), "meta": {"loyalty": {"balance": balance}}})),
    ))
}

async fn fake(account: Account) -> (String, Fake) {
    let f: Fake = Arc::new(Mutex::new(account));
    let app = Router::new()
        .route("/api/v1/passes", get(list))
        .route("/api/v1/passes/{id}", get(one))
        .route("/api/v1/passes/{id}/loyalty", patch(loyalty_patch))
        .route("/api/v1/pass-templates", get(empty))
        .route("/api/v1/events", get(empty))
        .route("/api/v1/scans/log", post(log_scan))
        .route("/api/v1/scans", get(scans))
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, f)
}

fn config(url: &str, key: &str) -> PassEntryUpstream {
    PassEntryUpstream {
        base_url: url.into(),
        api_key: ConfigSecret::new(key),
        webhook_secret: None,
        pull_every_seconds: 0,
        enabled: true,
        per_page: std::num::NonZeroU32::new(3).unwrap(),
    }
}

struct Counter {
    db: Arc<Db>,
    node_id: String,
    _dir: tempfile::TempDir,
}

fn counter() -> Counter {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new(Some(dir.path().to_owned())).unwrap();
    let (_, node, _) = ctx.init_store().unwrap();
    let db = Db::open(&ctx.db_path(), 1).unwrap();
    Counter {
        db,
        node_id: node.node_id,
        _dir: dir,
    }
}

impl Counter {
    async fn scan(&self, value: &str, ms: i64) {
        let node = self.node_id.clone();
        let input = ScanInput {
            value: value.as_bytes().to_vec(),
            reader_id: ReaderId::parse("till-1").unwrap(),
            medium: Medium::Qr,
            direction: None,
            at: Timestamp::from_unix_ms(ms),
        };
        self.db
            .write(move |s| checkin(s, &node, &input))
            .await
            .unwrap()
            .unwrap();
    }

    async fn earn(&self, pass: &str, points: i64) {
        let node = self.node_id.clone();
        let op = Operation::Earn {
            pass: pass.into(),
            amount_minor: None,
            points: Some(points),
        };
        self.db
            .write(move |s| {
                loyalty::apply(
                    s,
                    &node,
                    &uuid::Uuid::now_v7().to_string(),
                    &op,
                    Timestamp::now(),
                    TimeZone::UTC,
                )
            })
            .await
            .unwrap()
            .unwrap();
    }

    async fn cached(&self) -> u64 {
        self.db
            .read(|s| pass_store::count_passes(s.conn()))
            .await
            .unwrap()
            .unwrap()
    }

    async fn status(&self) -> passdesk_core::upstream::state::UpstreamStatus {
        self.db
            .read(|s| passdesk_core::upstream::state::status(s.conn(), true))
            .await
            .unwrap()
            .unwrap()
    }

    async fn drain(&self, client: &PassEntryClient) -> PushSummary {
        let mut summary = PushSummary::default();
        push::drain(&self.db, client, &self.node_id, true, &mut summary)
            .await
            .unwrap();
        summary
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_brings_every_page_and_the_next_voids_what_passentry_no_longer_has() {
    let ids: Vec<String> = (1..=8).map(|i| format!("p{i}")).collect();
    let (url, f) = fake(Account {
        passes: ids.clone(),
        ..Account::default()
    })
    .await;
    let c = counter();
    let summary = pull_now(&c.db, &config(&url, KEY)).await.unwrap();
    assert_eq!(
        (summary.passes, summary.pages, summary.voided),
        (8, 5, 0),
        "{summary:?}"
    );
    let found =
        c.db.read(|s| pass_store::find(s.conn(), "QR-p8"))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    assert_eq!(found.pass.id, "p8");

    f.lock().unwrap().passes.retain(|id| id != "p2");
    let summary = pull_now(&c.db, &config(&url, KEY)).await.unwrap();
    assert_eq!((summary.passes, summary.voided), (7, 1));
    let p2 =
        c.db.read(|s| pass_store::get_pass(s.conn(), "p2"))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    assert_eq!(p2.status, PassStatus::Voided);

    // A refused key: an error that says so, recorded for status.
    let err = pull_now(&c.db, &config(&url, "wrong"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("401") && err.contains("api_key"), "{err}");
    assert!(!err.contains("wrong"), "the key is never shown: {err}");
    let status =
        c.db.read(|s| passdesk_core::upstream::state::status(s.conn(), true))
            .await
            .unwrap()
            .unwrap();
    assert!(status.last_error.unwrap().contains("401"));
    assert_eq!(status.last_pull_passes, Some(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_and_points_go_in_order_once_and_a_refusal_is_kept_and_passed() {
    let (url, f) = fake(Account {
        passes: vec!["card".into(), "bad".into(), "other".into()],
        balances: HashMap::from([("card".into(), 10)]),
        refuse: Some("bad".into()),
        ..Account::default()
    })
    .await;
    let c = counter();
    let cfg = config(&url, KEY);
    pull_now(&c.db, &cfg).await.unwrap();
    let client = PassEntryClient::new(&cfg).unwrap();
    c.scan("QR-card", 1_800_000_000_000).await;
    c.scan("QR-bad", 1_800_000_001_000).await;
    c.earn("card", 5).await;
    c.scan("QR-other", 1_800_000_002_000).await;
    let summary = c.drain(&client).await;
    assert_eq!(
        summary,
        PushSummary {
            sent: 3,
            refused: 1,
            uncertain: 0,
            pending: 0
        }
    );
    {
        let a = f.lock().unwrap();
        let logged: Vec<&str> = a
            .scans
            .iter()
            .map(|s| s["passId"].as_str().unwrap())
            .collect();
        assert_eq!(logged, ["card", "other"]);
        assert_eq!(a.patches, [("card".to_owned(), json!({"balance": 5}))]);
        assert_eq!(a.balances["card"], 15);
    }
    let shown =
        c.db.read(|s| queue::needing_attention(s.conn(), 10))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].status, Some(422));
    assert!(shown[0]
        .answer
        .as_deref()
        .unwrap()
        .contains("not valid for scanning"));
    // Nothing is sent twice.
    assert_eq!(c.drain(&client).await, PushSummary::default());
    assert_eq!(f.lock().unwrap().scans.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_found_sending_is_read_back_and_never_sent_twice() {
    let (url, f) = fake(Account {
        passes: vec!["card".into()],
        balances: HashMap::from([("card".into(), 10)]),
        ..Account::default()
    })
    .await;
    let c = counter();
    let cfg = config(&url, KEY);
    pull_now(&c.db, &cfg).await.unwrap();
    attach(&c.db, &cfg).await.unwrap();
    let client = PassEntryClient::new(&cfg).unwrap();
    c.scan("QR-card", 1_800_000_000_000).await;
    c.earn("card", 5).await;
    c.earn("card", 2).await;
    let node = c.node_id.clone();
    c.db.write(move |s| s.write(|tx| queue::enqueue(tx, &node, 100, Timestamp::now())))
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<queue::Request> =
        c.db.read(|s| {
            let mut out = Vec::new();
            for id in 1..=3 {
                out.push(queue::get(s.conn(), id).unwrap().unwrap());
            }
            out
        })
        .await
        .unwrap();
    // The crash: the scan log and the first loyalty change reached PassEntry, their answers
    // never recorded; the second loyalty change was marked sending and never arrived.
    f.lock()
        .unwrap()
        .scans
        .push(serde_json::from_str::<Value>(&rows[0].body).unwrap()["scan"].clone());
    f.lock().unwrap().balances.insert("card".into(), 15);
    let (a, b, cc) = (rows[0].id, rows[1].id, rows[2].id);
    c.db.write(move |s| {
        s.write(|tx| {
            queue::mark_sending(tx, a, None, None, Timestamp::now())?;
            queue::mark_sending(tx, b, Some(10), Some(15), Timestamp::now())?;
            queue::mark_sending(tx, cc, Some(15), Some(17), Timestamp::now())
        })
    })
    .await
    .unwrap()
    .unwrap();
    let summary = c.drain(&client).await;
    assert_eq!(
        summary,
        PushSummary {
            sent: 3,
            refused: 0,
            uncertain: 0,
            pending: 0
        }
    );
    {
        let a_ = f.lock().unwrap();
        assert_eq!(a_.scans.len(), 1, "the scan log was found, not sent again");
        assert_eq!(
            a_.patches,
            [("card".to_owned(), json!({"balance": 2}))],
            "only the one that never arrived"
        );
        assert_eq!(a_.balances["card"], 17);
    }
    let states =
        c.db.read(move |s| [a, b, cc].map(|id| queue::get(s.conn(), id).unwrap().unwrap().state))
            .await
            .unwrap();
    assert_eq!(states, [RequestState::Acknowledged; 3]);

    // A balance that moved otherwise meanwhile: uncertain, shown, never resent.
    c.earn("card", 1).await;
    let node = c.node_id.clone();
    c.db.write(move |s| s.write(|tx| queue::enqueue(tx, &node, 100, Timestamp::now())))
        .await
        .unwrap()
        .unwrap();
    let next =
        c.db.read(|s| queue::next(s.conn()))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    let id = next.id;
    c.db.write(move |s| {
        s.write(|tx| queue::mark_sending(tx, id, Some(17), Some(18), Timestamp::now()))
    })
    .await
    .unwrap()
    .unwrap();
    f.lock().unwrap().balances.insert("card".into(), 30);
    let summary = c.drain(&client).await;
    assert_eq!(summary.uncertain, 1);
    let row =
        c.db.read(move |s| queue::get(s.conn(), id))
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    assert_eq!(
        (row.state, row.balance_found),
        (RequestState::Uncertain, Some(30))
    );
    assert_eq!(f.lock().unwrap().patches.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_page_is_refused_whole_and_the_pull_resumes_there_once_it_is_good() {
    let ids: Vec<String> = (1..=8).map(|i| format!("p{i}")).collect();
    let (url, f) = fake(Account {
        passes: ids,
        ..Account::default()
    })
    .await;
    let c = counter();
    let cfg = config(&url, KEY);
    // Page 2 (p4..p6): one pass without its id, a meta that lies, not JSON:API.
    let p5_without_id = serde_json::to_string(&json!({"data": [resource("p4"), {"type": "pass", "attributes": resource("p5")["attributes"]}, resource("p6")],
        "meta": {"totalCount": 8, "resultsPerPage": 3, "currentPage": 2, "totalPages": 3}})).unwrap();
    let lying = serde_json::to_string(&json!({"data": [resource("p4")],
        "meta": {"totalCount": 8, "resultsPerPage": 3, "currentPage": 2, "totalPages": 3}}))
    .unwrap();
    for (body, says) in [
        (p5_without_id, "data[1]: id: missing"),
        (lying, "page 2 of 3 holds 1 items, not 3"),
        (r#"{"items": []}"#.to_owned(), "data: missing"),
        // The fake sends it as a JSON string.
        ("<html>maintenance</html>".to_owned(), "not a JSON:API list"),
    ] {
        f.lock().unwrap().broken_page = Some((2, body));
        let err = pull_now(&c.db, &cfg).await.unwrap_err().to_string();
        assert!(
            err.contains("/api/v1/passes page 2") && err.contains(says),
            "{says:?} not in {err}"
        );
        // Page 1's passes are in; nothing of page 2; the pull waits at page 2.
        assert_eq!(c.cached().await, 3, "{says}");
        let st = c.status().await;
        let progress = st.pull_in_progress.unwrap();
        assert_eq!((progress.stage.as_str(), progress.page), ("passes", 2));
        assert!(st.last_error.unwrap().contains(says));
    }
    f.lock().unwrap().broken_page = None;
    let summary = pull_now(&c.db, &cfg).await.unwrap();
    assert_eq!(
        summary.passes, 8,
        "the cycle's count includes its first page: {summary:?}"
    );
    assert_eq!(c.cached().await, 8);
    assert!(c.status().await.last_error.is_none());
}
