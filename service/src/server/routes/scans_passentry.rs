//! PassEntry's scan API on the counter (issue 15): `POST /api/v1/scans` with PassEntry's body
//! (`{"scan": {…}}`, told apart from Passdesk's own by that one top-level key) and
//! `POST /api/v1/scans/log` (a scan validated elsewhere, recorded here). The shapes are
//! `core::passentry_scan`'s; this file reads bodies, checks who may do what, and calls the same
//! decision and loyalty paths as Passdesk's own body.

use super::scans::{self, AfterScan, LoyaltyChange, Permission, ScanRequest};
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::idempotency::IdempotencyKey;
use crate::server::json::JsonBody;
use crate::server::state::AppState;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::passentry_scan::{
    self, BalanceChange, BodyError, LogBody, LoyaltyOutcome, PassEntryScan,
};
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::scan_log::{self, ElsewhereScan};
use passdesk_core::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// The body of `POST /scans`: Passdesk's own (`{"value", "readerId", …}`, the UI's) or
/// PassEntry's (`{"scan": {…}}`). The top-level `scan` key tells them apart; a body with `scan`
/// and anything else beside it is refused (400), as is any body that is not a JSON object.
pub enum AnyScanBody {
    Passdesk(ScanRequest),
    PassEntry(passentry_scan::ScanBody),
}

impl<S: Send + Sync> FromRequest<S> for AnyScanBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(value) = JsonBody::<Value>::from_request(req, state).await?;
        let Value::Object(fields) = &value else {
            return Err(ApiError::bad_request(
                "the body must be a JSON object: Passdesk's scan ({\"value\": …}) or PassEntry's ({\"scan\": {…}})",
            )
            .at(""));
        };
        if !fields.contains_key("scan") {
            return Ok(Self::Passdesk(strict("", value)?));
        }
        if let Some(other) = fields.keys().find(|k| *k != "scan") {
            return Err(ApiError::bad_request(format!(
                "two shapes at once: `scan` is PassEntry's body and takes nothing beside it; `{other}` belongs to Passdesk's own body (or to none): send one of them"
            ))
            .at(format!("/{other}")));
        }
        objects_where_objects_belong(&value)?;
        Ok(Self::PassEntry(strict("", value)?))
    }
}

/// `scan` and `scan.loyalty` are objects: serde would also read a struct from an array of its
/// fields in order (`{"scan": ["gate-a", "HLF-1", "scan"]}`), which no PassEntry tool sends
/// and no reader of the body would expect to work.
fn objects_where_objects_belong(body: &Value) -> ApiResult<()> {
    let Some(scan) = body.get("scan") else {
        return Ok(()); // serde names the missing field
    };
    let loyalty = &scan["loyalty"];
    for (pointer, v, what) in [
        (
            "/scan",
            scan,
            "an object: {\"readerId\", \"passId\", \"scanType\", …}",
        ),
        ("/scan/loyalty", loyalty, "an object: {\"balance\": ±N}"),
    ] {
        if !(v.is_object() || (pointer == "/scan/loyalty" && v.is_null())) {
            let kind = match v {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            };
            return Err(ApiError::bad_request(format!(
                "invalid JSON body: {} is {kind}; it must be {what}",
                &pointer[1..].replace('/', ".")
            ))
            .at(pointer));
        }
    }
    Ok(())
}

/// Reads `value` as `T`, strictly (unknown fields and wrong types refused): a 400 whose pointer
/// names the field, a missing field included (`/scan/readerId`, not just `/scan`).
pub fn strict<T: DeserializeOwned>(base: &str, value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = base.to_owned();
        for segment in e.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
                Segment::Map { key } => pointer.push_str(&format!("/{key}")),
                Segment::Enum { variant } => pointer.push_str(&format!("/{variant}")),
                Segment::Unknown => {}
            }
        }
        let inner = e.inner().to_string();
        // serde names a missing field in its words only; the pointer names it too.
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer.push('/');
            pointer.push_str(field);
        }
        ApiError::bad_request(format!("invalid JSON body: {inner}")).at(pointer)
    })
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::Shape { pointer, message } => ApiError::bad_request(message).at(pointer),
        BodyError::Invalid {
            code,
            pointer,
            message,
        } => ApiError::unprocessable(code, message).at(pointer),
    }
}

/// A key bound to readers acts only as them; its refusal points into PassEntry's body.
fn as_reader(caller: &Caller, reader: ReaderId) -> ApiResult<ReaderId> {
    let acting = caller.act_as_reader(Some(reader)).map_err(|mut e| {
        e.pointer = Some("/scan/readerId".into());
        e
    })?;
    Ok(acting.expect("a reader was named"))
}

/// PassEntry's scan: decided like any scan, then its loyalty change on the same path as
/// Passdesk's own body (a cashier key, the reader's permission, the `Idempotency-Key`).
pub async fn post(
    state: &AppState,
    caller: &Caller,
    key: &IdempotencyKey,
    body: passentry_scan::ScanBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let PassEntryScan {
        reader_id,
        value,
        scan_type,
        change,
    } = body.parse().map_err(body_error)?;
    if change.is_some() {
        caller.require(Role::Cashier)?;
    }
    let reader_id = as_reader(caller, reader_id)?;
    // A PassEntry reader reads the pass's NFC value or its code; the body does not say which.
    // As `nfc`, a barcode or NFC-value match is a read, and a match by pass id or extId alone
    // is a typed number that only a reader with `acceptIds` admits.
    let input = ScanInput {
        value: value.clone().into_bytes(),
        reader_id,
        medium: Medium::Nfc,
        direction: None,
        at: Timestamp::now(),
    };
    let decision = scans::decide(state, input).await?;
    let outcome = match (change, &decision.pass_id, decision.accepted()) {
        (Some(change), Some(pass_id), true) => {
            let (op, permission) = match change {
                BalanceChange::Add(n) => {
                    (LoyaltyChange::Earn(None, Some(n)), Permission::AddPoints)
                }
                BalanceChange::Subtract(n) => (
                    LoyaltyChange::Adjust(
                        -n,
                        format!(
                            "subtracted at reader {} (PassEntry scan)",
                            decision.reader_id
                        ),
                    ),
                    Permission::Subtract,
                ),
            };
            let after =
                scans::loyalty_after_scan(state, key, &decision.reader_id, pass_id, op, permission)
                    .await;
            Some(match after {
                AfterScan::Applied(r) => {
                    // What the ledger did (the same as asked; a replay answers the first result).
                    let done: i64 = r.entries.iter().map(|e| e.points).sum();
                    LoyaltyOutcome::Applied {
                        change: BalanceChange::of(done).unwrap_or(change),
                        balance: r.account.points,
                    }
                }
                AfterScan::Refused { code, message } => LoyaltyOutcome::Refused { code, message },
            })
        }
        _ => None,
    };
    let answer = passentry_scan::scan_answer(&decision, scan_type, &value, outcome.as_ref());
    Ok((StatusCode::CREATED, Json(json!({ "data": answer }))))
}

/// Reads PassEntry's scan log body (`{"scan": {…}}`), strictly.
pub struct LogJson(pub LogBody);

impl<S: Send + Sync> FromRequest<S> for LogJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(value) = JsonBody::<Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "the body must be a JSON object: {\"scan\": {\"readerId\", \"passId\", \"scanValue\", \"scanType\", \"status\", \"scannedAt\", …}}",
            )
            .at(""));
        }
        objects_where_objects_belong(&value)?;
        Ok(Self(strict("", value)?))
    }
}

/// A scan validated elsewhere (a PassEntry reader offline, another system), recorded here with
/// its verdict: one scan row marked `validatedElsewhere` and its outbox event, in one
/// transaction. A successful one counts in the entry rules (a single-entry ticket logged here
/// is then "Already used … at <reader>"). A pass this counter does not know is still recorded,
/// under the id given (`meta.knownPass: false`): the scan happened, and when the pass arrives
/// its entry has been counted. The same log again (a retry) answers the first row
/// (`meta.replayed: true`) and records nothing.
#[utoipa::path(post, operation_id = "logScan", summary = "Record a scan validated elsewhere (PassEntry's scan log)", path = "/scans/log", tag = "scans", request_body = passdesk_core::passentry_scan::LogBody, responses((status = 201, description = "The scan as recorded", body = crate::server::schemas::LoggedScanDoc), crate::server::openapi::Errors))]
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    LogJson(body): LogJson,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Reader)?;
    let now = Timestamp::now();
    let logged = body.parse(now).map_err(body_error)?;
    let reader_id = as_reader(&caller, logged.reader_id.clone())?;
    let node_id = state.node.node_id.clone();
    let result = state
        .db
        .write(move |s| {
            s.write(|tx| {
                let scan = ElsewhereScan {
                    reader_id: reader_id.as_str(),
                    pass_ref: logged.pass_id.as_deref(),
                    value: logged.scan_value.as_deref(),
                    verdict: logged.status.verdict(),
                    reason: logged.reason,
                    detail: logged.status_detail.as_deref(),
                    at: logged.at,
                    kind: logged.scan_type.as_str(),
                    balance_change: logged.balance_change,
                    logged_at: now,
                };
                scan_log::record_elsewhere(tx, &node_id, &scan)
            })
        })
        .await??;
    let r = &result.record;
    if !result.replayed {
        tracing::info!(scan_id = %r.id, reader_id = %r.reader_id, verdict = r.verdict.as_str(),
            known_pass = result.known_pass, "scan validated elsewhere recorded");
        // The scan goes up to the hub like one decided here; screens hear of it.
        state.sync.push();
        scans::publish(&state, "scanLogged", &scans::scan_record_resource(r));
    }
    let data = scans::scan_record_resource(r);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "data": data,
            "meta": { "replayed": result.replayed, "knownPass": result.known_pass },
        })),
    ))
}
