//! This counter's PassEntry account over HTTP, a manager's: the state with the requests that
//! need a person (`GET /api/v1/upstream`: refused and uncertain, with PassEntry's answers), a
//! pull now (`POST /api/v1/upstream/pull`: it wakes the worker), and a person's word on one of
//! those requests (`POST /api/v1/upstream/requests/{id}/send-again` for a refused one whose
//! cause is fixed, `…/handled` for one seen to by hand). The worker itself is
//! `workers::upstream`; `passdesk upstream …` does the same from a shell.

use super::doc;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::rusqlite::Connection;
use passdesk_core::store::StoreResult;
use passdesk_core::upstream::queue::{self, Request, Settled};
use passdesk_core::upstream::state::{self as upstream_state, UpstreamStatus};
use passdesk_core::Timestamp;
use serde_json::{json, Value};

/// The most refused and uncertain requests shown, the newest first.
const SHOWN: u32 = 50;

/// `{"type": "upstream", "id": "passentry", "attributes": UpstreamStatus + running}`, as
/// `/status` carries it too.
pub fn status_resource(status: &UpstreamStatus, running: bool) -> Value {
    let mut attributes = serde_json::to_value(status).unwrap_or_else(|_| json!({}));
    if let Some(a) = attributes.as_object_mut() {
        a.insert("running".into(), json!(running));
    }
    json!({ "type": "upstream", "id": "passentry", "attributes": attributes })
}

fn request_resource(r: &Request) -> Value {
    json!({ "type": "upstreamRequest", "id": r.id.to_string(), "attributes": r })
}

async fn read_status(state: &AppState) -> ApiResult<(UpstreamStatus, Vec<Request>)> {
    let configured = state.config.upstream.passentry.is_some();
    Ok(state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            Ok((
                upstream_state::status(s.conn(), configured)?,
                queue::needing_attention(s.conn(), SHOWN)?,
            ))
        })
        .await??)
}

#[utoipa::path(get, operation_id = "getUpstream", summary = "This counter's PassEntry account: last pull, queue, refused requests", path = "/upstream", tag = "upstream",
    description = "Whether `[upstream.passentry]` is configured and its worker runs, the last complete pull (when, how many passes), a pull in progress (cycle, stage, page), the passes from PassEntry in the cache, the requests waiting to go, the last error; and `included`: the requests PassEntry refused (with its status and answer) and those a read-back after a crash could not settle (`uncertain`, with the balance before, expected and found), the newest first (at most 50). Neither is ever sent again.",
    responses((status = 200, description = "The state and the requests that need a person", body = crate::server::schemas::UpstreamDoc), crate::server::openapi::Errors))]
pub async fn get(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    let (status, attention) = read_status(&state).await?;
    let mut out = doc(status_resource(&status, state.upstream.running()));
    out["included"] = Value::Array(attention.iter().map(request_resource).collect());
    Ok(out)
}

#[utoipa::path(post, operation_id = "upstreamPull", summary = "A pull from PassEntry now", path = "/upstream/pull", tag = "upstream",
    description = "Wakes the upstream worker: it pulls every template, event and pass of the account now (resuming a pull left unfinished) and sends what waits. Answers at once with the state as it is; the pull's progress shows in `GET /upstream`.",
    responses((status = 202, description = "The worker is woken; the state as it is now", body = crate::server::schemas::UpstreamDoc), crate::server::openapi::Errors))]
pub async fn pull(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if state.config.upstream.passentry.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_configured",
            "no PassEntry account is configured: add [upstream.passentry] with base_url and \
             api_key to passdesk.toml and restart the counter",
        ));
    }
    if !state.upstream.running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "upstream_off",
            "the upstream worker is not running here ([upstream.passentry] enabled = false); \
             `passdesk upstream pull` runs a pull",
        ));
    }
    state.upstream.pull();
    let (status, _) = read_status(&state).await?;
    Ok((StatusCode::ACCEPTED, doc(status_resource(&status, true))))
}

#[utoipa::path(post, operation_id = "sendUpstreamRequestAgain", summary = "Send a refused PassEntry request again", path = "/upstream/requests/{id}/send-again", tag = "upstream", params(("id" = String, Path, description = "Request id (`included[].id` of `GET /upstream`)")),
    description = "A request PassEntry refused, its cause since fixed in PassEntry (a pass restored, a permission given), goes back in the queue: due now, before any request that came after it, and the worker is woken. Only a refused request not marked handled (409 `not_refused` otherwise): an uncertain one may be in PassEntry already, so it is checked there and marked handled, never sent again.",
    responses((status = 202, description = "The request, waiting to go", body = crate::server::schemas::UpstreamRequestDoc), crate::server::openapi::Errors))]
pub async fn send_again(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = settle(&state, &id, queue::send_again, |r| {
        ApiError::new(
            StatusCode::CONFLICT,
            "not_refused",
            format!("request {id} is not sent again: {}", r.why_not_sent_again()),
        )
    })
    .await?;
    state.upstream.pull();
    Ok((StatusCode::ACCEPTED, doc(request_resource(&request))))
}

#[utoipa::path(post, operation_id = "markUpstreamRequestHandled", summary = "Mark a refused or uncertain PassEntry request handled", path = "/upstream/requests/{id}/handled", tag = "upstream", params(("id" = String, Path, description = "Request id (`included[].id` of `GET /upstream`)")),
    description = "A person has seen to a refused or uncertain request (made the change in PassEntry by hand, or found it there): it is kept, no longer listed in `GET /upstream` nor counted, and never sent. Only a refused or uncertain request not marked handled yet (409 `not_open` otherwise).",
    responses((status = 200, description = "The request, marked handled", body = crate::server::schemas::UpstreamRequestDoc), crate::server::openapi::Errors))]
pub async fn mark_handled(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let request = settle(
        &state,
        &id,
        |tx, n| queue::mark_handled(tx, n, Timestamp::now()),
        |r| {
            ApiError::new(
                StatusCode::CONFLICT,
                "not_open",
                format!("request {id} needs no person: {}", r.why_not_handled()),
            )
        },
    )
    .await?;
    Ok(doc(request_resource(&request)))
}

/// A person's word on request `id` from the path: `word` in one write; the request as it left
/// it. A request that is not there is a 404, one `word` leaves as it is the error `refused`
/// makes of it.
async fn settle(
    state: &AppState,
    id: &str,
    word: fn(&Connection, i64) -> StoreResult<Settled>,
    refused: impl FnOnce(&Request) -> ApiError,
) -> ApiResult<Request> {
    let request_id = parse_id(id)?;
    let settled = state
        .db
        .write(move |s| s.write(|tx| word(tx, request_id)))
        .await??;
    match settled {
        Settled::Done(r) => Ok(r),
        Settled::NotFound => Err(no_request(id)),
        Settled::NotAllowed(r) => Err(refused(&r)),
    }
}

/// A request id from the path: the row's number; anything else names no request.
fn parse_id(id: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && n.to_string() == id)
        .ok_or_else(|| no_request(id))
}

fn no_request(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no PassEntry request {:?} on this counter",
        id.chars().take(40).collect::<String>()
    ))
}
