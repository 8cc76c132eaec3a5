//! `POST /sync/v1/push`: a counter's own changes, appended with their conflicts.

use crate::push::PushError;
use crate::server::{Caller, SyncError, SyncJson, SyncResult};
use crate::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::sync::wire::{ErrorBody, PushRequest, PushResponse};
use passdesk_core::Timestamp;
use std::sync::Arc;

#[utoipa::path(post, path = "/sync/v1/push", tag = "sync", operation_id = "push",
    summary = "Push this node's changes (at most 1000)",
    description = "Each change must be the caller's (`nodeId`) and of a pushable kind (pass, \
                   scan, ledger), else it is `rejected` with the reason and the rest go on. An \
                   id already in the log is a duplicate (a replay is a no-op). The accepted \
                   changes and the conflicts they cause commit in one transaction.",
    request_body = PushRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = PushResponse),
        (status = 400, body = ErrorBody, description = "`bad_request`: not a push document (the message names the field)"),
        (status = 401, body = ErrorBody, description = "`unauthorized`: no or an unknown credential"),
        (status = 413, body = ErrorBody, description = "`too_large`: more than 1000 changes, or a body over the limit"),
    ))]
pub async fn push(
    State(hub): State<Arc<Hub>>,
    Caller(caller): Caller,
    SyncJson(req): SyncJson<PushRequest>,
) -> SyncResult<Json<PushResponse>> {
    match hub.push(&caller, req.changes, Timestamp::now()).await {
        Ok(answer) => Ok(Json(answer)),
        Err(e @ PushError::TooLarge(_)) => Err(SyncError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            e.to_string(),
        )),
        Err(PushError::Hub(e)) => Err(e.into()),
    }
}
