//! `GET /sync/v1/changes?after=SEQ&limit=N&wait=SECONDS`: the log after a cursor, long poll.

use crate::pull::PullAsk;
use crate::server::{Caller, SyncError, SyncResult};
use crate::Hub;
use axum::extract::{Query, State};
use axum::Json;
use passdesk_core::sync::wire::{ErrorBody, PullResponse};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The cursor: changes with a seq above it (0: from the start).
    pub after: Option<i64>,
    /// The most changes to answer (at most 5000, the default).
    pub limit: Option<u64>,
    /// Seconds to wait for a change when there is none yet (at most 30; 0, the default:
    /// answer at once).
    pub wait: Option<u64>,
}

#[utoipa::path(get, path = "/sync/v1/changes", tag = "sync", operation_id = "changes",
    summary = "The log after a cursor (long poll)",
    description = "Answers at once when the log has changes after `after`, else waits up to \
                   `wait` seconds for one, and answers an empty page with `cursor = after` when \
                   none came. The caller's own scans and ledger operations are left out (it has \
                   them) but the cursor moves past them.",
    params(ChangesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PullResponse),
        (status = 400, body = ErrorBody, description = "`bad_request`: a query parameter is malformed (the message names it)"),
        (status = 401, body = ErrorBody, description = "`unauthorized`: no or an unknown credential"),
    ))]
pub async fn changes(
    State(hub): State<Arc<Hub>>,
    Caller(caller): Caller,
    query: Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> SyncResult<Json<PullResponse>> {
    let Query(q) = query.map_err(|e| SyncError::bad_request(e.body_text()))?;
    let ask = PullAsk::new(q.after.unwrap_or(0), q.limit, q.wait);
    Ok(Json(hub.pull(&caller, ask).await?))
}
