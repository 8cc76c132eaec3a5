//! `GET /sync/v1/health`: no credential; for probes and for a counter joining.

use crate::Hub;
use axum::extract::State;
use axum::Json;
use passdesk_core::sync::wire::ErrorBody;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub ok: bool,
    /// The protocol's version (`v1`).
    pub protocol: &'static str,
    pub hub_id: String,
}

#[utoipa::path(get, path = "/sync/v1/health", tag = "sync", operation_id = "health",
    summary = "Whether the hub answers, and which hub it is",
    security(()),
    responses((status = 200, body = Health), (status = 429, body = ErrorBody, description = "`rate_limited`: too many requests from this address without a credential; wait `Retry-After` seconds")))]
pub async fn health(State(hub): State<Arc<Hub>>) -> Json<Health> {
    Json(Health {
        ok: true,
        protocol: passdesk_core::sync::wire::VERSION,
        hub_id: hub.hub_id().to_owned(),
    })
}
