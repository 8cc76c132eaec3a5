//! This counter's PassEntry account over HTTP, a manager's: the state with the requests that
//! need a person (`GET /api/v1/upstream`: refused and uncertain, with PassEntry's answers) and
//! a pull now (`POST /api/v1/upstream/pull`: it wakes the worker). The worker itself is
//! `workers::upstream`; `passdesk upstream …` does the same from a shell.

use super::doc;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::upstream::queue::{self, Request};
use passdesk_core::upstream::state::{self as upstream_state, UpstreamStatus};
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
