//! `POST /sync/v1/enroll`: a counter trades its one-time token for a node credential.

use crate::enroll::EnrollError;
use crate::server::{SyncError, SyncJson, SyncResult};
use crate::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::sync::wire::{EnrollRequest, EnrollResponse, ErrorBody};
use passdesk_core::Timestamp;
use std::sync::Arc;

#[utoipa::path(post, path = "/sync/v1/enroll", tag = "sync", operation_id = "enroll",
    summary = "Enroll a counter with a one-time token (from `passdesk hub enroll`)",
    description = "No credential: the token is the credential. Registers the node's PD1 public \
                   key (written in the log as a `nodeKey` change) and answers the node's \
                   credential, shown once.",
    request_body = EnrollRequest,
    security(()),
    responses(
        (status = 201, body = EnrollResponse, description = "Enrolled"),
        (status = 400, body = ErrorBody, description = "`bad_request`: a field is malformed (the message names it)"),
        (status = 401, body = ErrorBody, description = "`bad_token`: the token is unknown, used or expired"),
        (status = 409, body = ErrorBody, description = "`node_taken`: this node id is enrolled already"),
        (status = 429, body = ErrorBody, description = "`rate_limited`: too many requests from this address without a credential; wait `Retry-After` seconds"),
    ))]
pub async fn enroll(
    State(hub): State<Arc<Hub>>,
    SyncJson(req): SyncJson<EnrollRequest>,
) -> SyncResult<(StatusCode, Json<EnrollResponse>)> {
    match hub.enroll(req, Timestamp::now()).await {
        Ok(enrolled) => Ok((StatusCode::CREATED, Json(enrolled))),
        Err(e @ EnrollError::Invalid { .. }) => Err(SyncError::bad_request(e.to_string())),
        Err(EnrollError::BadToken(why)) => {
            Err(SyncError::new(StatusCode::UNAUTHORIZED, "bad_token", why))
        }
        Err(e @ EnrollError::NodeTaken(_)) => Err(SyncError::new(
            StatusCode::CONFLICT,
            "node_taken",
            e.to_string(),
        )),
        Err(EnrollError::Hub(e)) => Err(e.into()),
    }
}
