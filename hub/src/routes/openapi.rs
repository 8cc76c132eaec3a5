//! `GET /sync/v1/openapi.json`: the protocol, documented (no credential).

use axum::Json;
use passdesk_core::sync::wire::ErrorBody;

#[utoipa::path(get, path = "/sync/v1/openapi.json", tag = "sync", operation_id = "openapi",
    summary = "This document: the sync API in OpenAPI 3.1",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"),
        (status = 429, body = ErrorBody, description = "`rate_limited`: too many requests from this address without a credential; wait `Retry-After` seconds")))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(crate::server::openapi())
}
