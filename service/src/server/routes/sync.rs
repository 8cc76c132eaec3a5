//! This counter's sync with its hub, over HTTP: the state every screen's banner shows
//! (`GET /api/v1/sync`, any key), the conflicts the hub reported (`GET /api/v1/sync/conflicts`,
//! a manager's), and a round now (`POST /api/v1/sync/now`, a manager's: it wakes the worker).
//! The worker itself is `workers::sync`; joining is `passdesk sync join`.

use super::doc;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::sync::wire::ConflictRecord;
use passdesk_core::sync::{conflicts, state as sync_state};
use serde::Deserialize;
use serde_json::{json, Value};

/// `{"type": "sync", "id": nodeId, "attributes": SyncStatus}`, as `/status` carries it too.
pub fn status_resource(node_id: &str, status: &sync_state::SyncStatus) -> Value {
    json!({ "type": "sync", "id": node_id, "attributes": status })
}

fn conflict_resource(c: &ConflictRecord) -> Value {
    json!({ "type": "syncConflict", "id": c.id, "attributes": c })
}

#[utoipa::path(get, operation_id = "getSync", summary = "This counter's sync with its hub: online, pending, conflicts", path = "/sync", tag = "sync",
    description = "What the banner on every screen shows: whether the counter joined a hub, whether the hub answered the last round (else since when it has not), the last pull and push, the changes waiting to go up and the conflicts known here.",
    responses((status = 200, description = "The sync state", body = crate::server::schemas::SyncDoc), crate::server::openapi::Errors))]
pub async fn get(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    let status = state.db.read(|s| sync_state::status(s.conn())).await??;
    Ok(doc(status_resource(&state.node.node_id, &status)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConflictQuery {
    /// How many, the newest first (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[utoipa::path(get, operation_id = "listSyncConflicts", summary = "Conflicts the hub found, newest first", path = "/sync/conflicts", tag = "sync", params(ConflictQuery),
    description = "Each conflict with both sides (node, time, offline or not, reader) and the words a screen shows: the same single-entry ticket admitted at two counters that could not know of each other, a reward redeemed twice, offline redemptions past the cap, a balance below zero.",
    responses((status = 200, description = "The conflicts, newest first", body = crate::server::schemas::SyncConflictList), crate::server::openapi::Errors))]
pub async fn list_conflicts(
    State(state): State<AppState>,
    _caller: Caller,
    QueryParams(q): QueryParams<ConflictQuery>,
) -> ApiResult<Json<Value>> {
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => {
            return Err(
                ApiError::bad_request(format!("limit {n}: give 1 to 1000")).parameter("limit")
            )
        }
    };
    let (list, total) = state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            Ok((
                conflicts::list(s.conn(), limit)?,
                conflicts::count(s.conn())?,
            ))
        })
        .await??;
    let data: Vec<Value> = list.iter().map(conflict_resource).collect();
    Ok(Json(
        json!({ "data": data, "meta": { "count": data.len(), "totalCount": total } }),
    ))
}

#[utoipa::path(post, operation_id = "syncNow", summary = "A sync round now", path = "/sync/now", tag = "sync",
    description = "Wakes the sync worker: it pushes what waits and, if a failure made it wait, tries the hub again at once. Answers at once with the state as it is; the round's outcome shows in `GET /sync` (and a `sync` event on the stream when it changed something).",
    responses((status = 202, description = "The worker is woken; the state as it is now", body = crate::server::schemas::SyncDoc), crate::server::openapi::Errors))]
pub async fn now(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let status = state.db.read(|s| sync_state::status(s.conn())).await??;
    if !status.joined {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_joined",
            "this counter has not joined a hub: run `passdesk sync join HUB_URL TOKEN`",
        ));
    }
    if !state.sync.running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "sync_off",
            "the sync worker is not running here (`[sync] enabled = false`, or it has not \
             seen the join yet: it looks every 2 s); `passdesk sync now` runs a round",
        ));
    }
    state.sync.now();
    Ok((
        StatusCode::ACCEPTED,
        doc(status_resource(&state.node.node_id, &status)),
    ))
}
