//! `POST /api/v1/scans` (a decision; PassEntry's body is `scans_passentry`'s), `GET /api/v1/scans`
//! (the audit log, with PassEntry's `included`), and `GET /api/v1/scans/stream` (every decision
//! as it happens, as server-sent events).

use super::scans_passentry::{self, AnyScanBody};
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::idempotency::IdempotencyKey;
use crate::server::query::{time_param, QueryParams};
use crate::server::scan_queue::PendingScan;
use crate::server::state::{AppState, StreamEvent};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::loyalty::{self, LoyaltyError, OpResult, Operation, RewardRef};
use passdesk_core::reader::{Direction, Reader};
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::scan_log::{self, ScanFilter, ScanRecord};
use passdesk_core::store::{Store, StoreResult};
use passdesk_core::{catalog, pass_store, passentry, Decision, Timestamp, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanRequest {
    pub value: String,
    #[serde(default)]
    pub reader_id: Option<String>,
    #[serde(default)]
    pub medium: Option<String>,
    /// `entry` or `exit`; only at a reader with `exitEnabled` (elsewhere 422
    /// `direction_not_allowed`, nothing recorded). Without it: the reader's own direction.
    #[serde(default)]
    pub direction: Option<String>,
    /// A loyalty change to make if the scan is accepted (a till: scan and add the purchase).
    #[serde(default)]
    pub loyalty: Option<ScanLoyalty>,
}

/// What to do to an accepted pass's loyalty in the same request. Needs a cashier key, and the
/// reader's permission (`addPointsEnabled` for earn and stamps, `redeemEnabled` for a reward).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanLoyalty {
    pub amount_minor: Option<i64>,
    pub points: Option<i64>,
    pub stamps: Option<i64>,
    pub redeem_tier: Option<String>,
}

#[utoipa::path(post, operation_id = "postScan", summary = "Scan a value: decide, record and answer (Passdesk's body or PassEntry's)", description = "Two bodies, told apart by PassEntry's top-level `scan` key: Passdesk's own (`value`, `readerId`, …) answers the decision as a `scan` resource; PassEntry's (`{\"scan\": {\"readerId\", \"passId\", \"scanType\", \"loyalty\": {\"balance\"}}}`) answers PassEntry's `validationResponse` and `scanInfo`.", path = "/scans", tag = "scans", params(("Idempotency-Key" = Option<String>, Header, description = "With a loyalty change: its operation id (a UUID): the same key and body again answers the first result")), request_body = crate::server::schemas::ScanRequestBody, responses((status = 201, description = "The decision, recorded: a `scan` resource for Passdesk's body, PassEntry's answer for PassEntry's", body = crate::server::schemas::ScanAnswer), crate::server::openapi::Errors))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: AnyScanBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Reader)?;
    match body {
        AnyScanBody::Passdesk(req) => post_passdesk(&state, &caller, &key, req).await,
        AnyScanBody::PassEntry(req) => scans_passentry::post(&state, &caller, &key, req).await,
    }
}

/// Passdesk's own body (the screens send it): the decision, and its loyalty change in `meta`.
async fn post_passdesk(
    state: &AppState,
    caller: &Caller,
    key: &IdempotencyKey,
    req: ScanRequest,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let loyalty_op = match &req.loyalty {
        None => None,
        Some(l) => {
            caller.require(Role::Cashier)?;
            Some(loyalty_operation(l)?)
        }
    };
    let requested = req
        .reader_id
        .as_deref()
        .map(ReaderId::parse)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_reader", e.to_string()).at("/readerId"))?;
    // A key bound to readers scans only as them: refused here, before anything is recorded.
    let reader_id = match caller.act_as_reader(requested)? {
        Some(r) => r,
        None => ReaderId::parse("api").expect("a valid reader id"),
    };
    let medium = match req.medium.as_deref() {
        None => Medium::Manual,
        Some(m) => m
            .parse()
            .map_err(|e: String| ApiError::unprocessable("invalid_medium", e).at("/medium"))?,
    };
    let direction = req
        .direction
        .as_deref()
        .map(str::parse::<Direction>)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_direction", e).at("/direction"))?;
    if let Some(asked) = direction {
        direction_allowed(state, &reader_id, asked).await?;
    }
    let input = ScanInput {
        value: req.value.into_bytes(),
        reader_id,
        medium,
        direction,
        at: Timestamp::now(),
    };
    let decision = decide(state, input).await?;
    let mut doc = json!({ "data": scan_resource(&decision) });
    if let (Some((op, permission)), Some(pass_id), true) =
        (loyalty_op, &decision.pass_id, decision.accepted())
    {
        let after =
            loyalty_after_scan(state, key, &decision.reader_id, pass_id, op, permission).await;
        doc["meta"] = json!({ "loyalty": after.to_meta() });
    }
    Ok((StatusCode::CREATED, Json(doc)))
}

/// A scan may give its direction only at a reader that allows exit scans (`exitEnabled`);
/// elsewhere the request is refused before anything is recorded. (The decision checks the same
/// rule again, in its transaction, should the reader change in between.)
async fn direction_allowed(
    state: &AppState,
    reader_id: &ReaderId,
    asked: Direction,
) -> ApiResult<()> {
    let id = reader_id.as_str().to_owned();
    let reader = state
        .db
        .read(move |s| passdesk_core::catalog::get_reader(s.conn(), &id))
        .await??
        .unwrap_or_else(|| Reader::unconfigured(reader_id.as_str()));
    reader.direction_for(Some(asked)).map(|_| ()).map_err(|e| {
        ApiError::unprocessable("direction_not_allowed", e.to_string()).at("/direction")
    })
}

/// Which reader permission a loyalty change needs.
#[derive(Clone, Copy)]
pub(super) enum Permission {
    AddPoints,
    Redeem,
    /// Points taken off the balance (PassEntry's negative `balance`): `redeemEnabled`, as
    /// PassEntry's readers redeem balance.
    Subtract,
}

fn loyalty_operation(l: &ScanLoyalty) -> ApiResult<(LoyaltyChange, Permission)> {
    let set = [
        l.amount_minor.is_some() || l.points.is_some(),
        l.stamps.is_some(),
        l.redeem_tier.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err(ApiError::unprocessable(
            "invalid_request",
            "give one of amountMinor / points, stamps or redeemTier",
        )
        .at("/loyalty"));
    }
    Ok(if let Some(tier) = &l.redeem_tier {
        (LoyaltyChange::Redeem(tier.clone()), Permission::Redeem)
    } else if let Some(count) = l.stamps {
        (LoyaltyChange::Stamp(count), Permission::AddPoints)
    } else {
        (
            LoyaltyChange::Earn(l.amount_minor, l.points),
            Permission::AddPoints,
        )
    })
}

pub(super) enum LoyaltyChange {
    Earn(Option<i64>, Option<i64>),
    Stamp(i64),
    Redeem(String),
    /// Points off (negative) with the ledger's reason.
    Adjust(i64, String),
}

/// What a scan's loyalty change did. The scan stands either way.
pub(super) enum AfterScan {
    Applied(OpResult),
    /// Not applied: why, as a code and in words.
    Refused {
        code: String,
        message: String,
    },
}

impl AfterScan {
    /// Passdesk's `meta.loyalty`: the operation and the balance, or the error.
    fn to_meta(&self) -> Value {
        match self {
            Self::Applied(r) => json!({ "operation": r, "balance": r.account.points }),
            Self::Refused { code, message } => {
                json!({ "error": { "code": code, "message": message } })
            }
        }
    }
}

/// Applies the change to the pass the scan admitted. The scan stands whatever happens here; the
/// answer says what the loyalty change did or why not.
pub(super) async fn loyalty_after_scan(
    state: &AppState,
    key: &IdempotencyKey,
    reader_id: &str,
    pass_id: &str,
    change: LoyaltyChange,
    permission: Permission,
) -> AfterScan {
    // The key was checked before the scan was decided: a bad one refused the whole request.
    let op_id = key.op_id();
    let pass = pass_id.to_owned();
    let op = match change {
        LoyaltyChange::Earn(amount_minor, points) => Operation::Earn {
            pass,
            amount_minor,
            points,
        },
        LoyaltyChange::Stamp(count) => Operation::Stamp { pass, count },
        LoyaltyChange::Redeem(tier) => Operation::RewardRedeem {
            reward: RewardRef::Tier { pass, tier },
        },
        LoyaltyChange::Adjust(points, reason) => Operation::Adjust {
            pass,
            points,
            reason,
        },
    };
    let (node_id, reader) = (state.node.node_id.clone(), reader_id.to_owned());
    let zone = state.config.time_zone;
    let result = state
        .db
        .write(move |s| -> Result<_, LoyaltyError> {
            // The scan registered its reader; a reader that is not there has no permission.
            let r = passdesk_core::catalog::get_reader(s.conn(), &reader)?;
            let allowed = r.is_some_and(|r| match permission {
                Permission::AddPoints => r.add_points_enabled,
                Permission::Redeem | Permission::Subtract => r.redeem_enabled,
            });
            if !allowed {
                let (what, setting) = match permission {
                    Permission::AddPoints => ("add points or stamps", "addPointsEnabled"),
                    Permission::Redeem => ("redeem rewards", "redeemEnabled"),
                    Permission::Subtract => ("subtract points", "redeemEnabled"),
                };
                return Ok(Err(format!(
                    "reader {reader} may not {what} ({setting} is off; a manager can enable it)"
                )));
            }
            Ok(Ok(loyalty::apply(
                s,
                &node_id,
                &op_id,
                &op,
                Timestamp::now(),
                zone,
            )?))
        })
        .await;
    let refused = |code: &str, message: String| AfterScan::Refused {
        code: code.to_owned(),
        message,
    };
    match result {
        Ok(Ok(Ok(r))) => {
            // The operation's ledger entries go up to the hub.
            state.sync.push();
            AfterScan::Applied(r)
        }
        Ok(Ok(Err(message))) => refused("reader_not_allowed", message),
        Ok(Err(e)) => refused(e.code(), e.to_string()),
        Err(_) => refused(
            "internal",
            "the loyalty change failed; nothing was changed".to_owned(),
        ),
    }
}

/// Decides and records durably (group commit with whatever else is waiting); the decision is
/// on every stream before this returns. Used by the API and by the readers.
pub async fn decide(state: &AppState, input: ScanInput) -> ApiResult<Decision> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    state
        .scans
        .send(PendingScan { input, reply })
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the service is shutting down; nothing was recorded: scan again in a moment",
            )
        })?;
    answer
        .await
        .map_err(|_| ApiError::internal("the scan was not recorded; scan again"))?
}

/// Sends a named event to every stream listener (none listening is fine).
pub fn publish(state: &AppState, name: &'static str, data: &Value) {
    let data: Arc<str> = data.to_string().into();
    let _ = state.events.send(StreamEvent { name, data });
}

pub fn scan_resource(d: &Decision) -> Value {
    json!({ "type": "scan", "id": d.scan_id, "attributes": d })
}

/// A row of the audit log, as `GET /scans` and `GET /scans/today` list it and `POST /scans/log`
/// answers it, related to its pass (none for a value no pass has) and its reader, as
/// PassEntry's documents relate theirs.
pub(super) fn scan_record_resource(s: &ScanRecord) -> Value {
    json!({
        "type": "scanRecord",
        "id": s.id,
        "attributes": s,
        "relationships": {
            "pass": { "data": s.pass_id.as_ref().map(|id| json!({ "id": id, "type": "pass" })) },
            "reader": { "data": { "id": s.reader_id, "type": "reader" } },
        },
    })
}

/// PassEntry's `included` for a page of scans: each pass and reader the page refers to, once,
/// in order of first mention (passes, then readers). A pass this counter does not hold (a
/// logged scan's unknown pass) and another node's reader (its id names a reader there) are
/// related but not included.
fn included_of(store: &Store, own_node: &str, scans: &[ScanRecord]) -> StoreResult<Vec<Value>> {
    let conn = store.conn();
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut name_of = |kind: &str, id: &str| -> StoreResult<Option<String>> {
        let key = format!("{kind}/{id}");
        if let Some(n) = names.get(&key) {
            return Ok(n.clone());
        }
        let name = match kind {
            "template" => catalog::get_template(conn, id)?.map(|t| t.name),
            _ => catalog::get_event(conn, id)?.map(|e| e.name),
        };
        names.insert(key, name.clone());
        Ok(name)
    };
    let (mut passes, mut readers) = (Vec::new(), Vec::new());
    let (mut seen_passes, mut seen_readers) = (HashSet::new(), HashSet::new());
    for scan in scans {
        if let Some(id) = scan.pass_id.as_deref().filter(|id| seen_passes.insert(*id)) {
            if let Some(p) = pass_store::get_pass(conn, id)? {
                let template = name_of("template", &p.template_id)?;
                let event = match &p.event_id {
                    Some(e) => name_of("event", e)?,
                    None => None,
                };
                passes.push(passentry::pass_resource(
                    &p,
                    template.as_deref(),
                    event.as_deref(),
                ));
            }
        }
        if scan.node_id == own_node && seen_readers.insert(scan.reader_id.as_str()) {
            if let Some(r) = catalog::get_reader(conn, &scan.reader_id)? {
                readers.push(super::catalog::reader_resource(&r));
            }
        }
    }
    passes.extend(readers);
    Ok(passes)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    pass_id: Option<String>,
    reader_id: Option<String>,
    verdict: Option<String>,
    since: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, operation_id = "listScans", summary = "The scan log, newest first, with totals", path = "/scans", tag = "scans", params(ListQuery), responses((status = 200, description = "The audit log, newest first; each scan related to its pass and reader, which `included` holds once each", body = crate::server::schemas::ScanRecordList), crate::server::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let verdict = q
        .verdict
        .as_deref()
        .map(str::parse::<Verdict>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e).parameter("verdict"))?;
    let since = time_param("since", q.since.as_deref())?;
    let filter = ScanFilter {
        pass_id: q.pass_id,
        reader_id: q.reader_id,
        verdict,
        since,
        until: None,
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let own_node = state.node.node_id.clone();
    let (scans, totals, included) = state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            let scans = scan_log::list(s.conn(), &filter)?;
            let included = included_of(s, &own_node, &scans)?;
            Ok((scans, scan_log::totals(s.conn(), &filter)?, included))
        })
        .await??;
    let data: Vec<Value> = scans.iter().map(scan_record_resource).collect();
    Ok(Json(json!({
        "data": data,
        "included": included,
        "meta": { "count": data.len(), "totals": totals },
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TodayQuery {
    /// The gate whose day to show; without it (cashier and up), every reader's. A reader key
    /// must name its reader (a key bound to one reader may leave it out).
    #[param(example = "gate-a")]
    reader_id: Option<String>,
    /// How many of the latest scans (default 10, at most 100).
    limit: Option<u32>,
}

/// A gate's screen: today's totals and latest scans at one reader, today being the local day
/// in the zone of the reader's event (a gate bound to one), else the counter's `time_zone`.
#[utoipa::path(get, operation_id = "scansToday", summary = "A reader's day: totals and latest scans", path = "/scans/today", tag = "scans", params(TodayQuery), responses((status = 200, description = "The day's totals and latest scans, newest first; meta.day says when the day ends", body = crate::server::schemas::ScanDay), crate::server::openapi::Errors))]
pub async fn today(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<TodayQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Reader)?;
    let requested = q
        .reader_id
        .as_deref()
        .map(ReaderId::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()).parameter("readerId"))?;
    // A key bound to readers sees only their days (its only reader's when it names none).
    let reader_id = caller
        .act_as_reader(requested)?
        .map(|r| r.as_str().to_owned());
    if reader_id.is_none() && caller.role < Role::Cashier {
        // A reader key sees one gate's day, never the whole counter's.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a reader key sees one reader's day: give readerId",
        )
        .parameter("readerId"));
    }
    let limit = q.limit.unwrap_or(10).min(100);
    let zone = state.config.time_zone;
    let (reader_id, day) = state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            let reader = reader_id.as_deref();
            let day = scan_log::day_at_reader(s.conn(), reader, Timestamp::now(), zone)?;
            let day = scan_log::day_scans(s.conn(), reader, day, limit)?;
            Ok((reader_id, day))
        })
        .await??;
    let data: Vec<Value> = day.scans.iter().map(scan_record_resource).collect();
    Ok(Json(json!({
        "data": data,
        "meta": { "count": data.len(), "totals": day.totals, "readerId": reader_id, "day": day.day },
    })))
}

#[utoipa::path(get, operation_id = "streamScans", summary = "Every decision as it happens (server-sent events)", path = "/scans/stream", tag = "scans", responses((status = 200, description = "Server-sent events: decision, scanLogged (a scan validated elsewhere, recorded: its scanRecord), tapFailed, device", content_type = "text/event-stream"), crate::server::openapi::Errors))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Role::Reader)?;
    // Subscribed before the flag is read: a stream that sees the flag down will see the end
    // event, which `end_streams` sends after raising it.
    let receiver = state.events.subscribe();
    let ended = *state.shutdown.borrow();
    let events = BroadcastStream::new(receiver)
        .take_while(move |item| !ended && !matches!(item, Ok(e) if e.name == STREAM_END))
        .map(|item| {
            Ok(match item {
                Ok(e) => Event::default().event(e.name).data(&*e.data),
                // A listener too slow to keep up is told how much it missed, and goes on.
                Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                    Event::default().event("lagged").data(n.to_string())
                }
            })
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The event that ends every stream; never sent to a client.
const STREAM_END: &str = "end";

/// Ends every event stream after the events already sent (the shutdown calls it once the scan
/// queue has drained, so every decision reaches the screens), so that a graceful shutdown does
/// not wait on them. `stop_streams` raises the flag a stream opened later sees.
pub fn end_streams(state: &AppState, stop_streams: &tokio::sync::watch::Sender<bool>) {
    let _ = stop_streams.send(true);
    let _ = state.events.send(StreamEvent {
        name: STREAM_END,
        data: Arc::from(""),
    });
}
