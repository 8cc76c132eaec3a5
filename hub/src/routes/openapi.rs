//! `GET /sync/v1/openapi.json`: the protocol, documented (no credential).

use axum::Json;

#[utoipa::path(get, path = "/sync/v1/openapi.json", tag = "sync", operation_id = "openapi",
    summary = "This document: the sync API in OpenAPI 3.1",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(crate::server::openapi())
}
