//! `GET /health` (no key: for probes) and `GET /api/v1/status` (what the status screen shows).

use crate::server::auth::Caller;
use crate::server::error::ApiResult;
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use passdesk_core::{catalog, outbox, pass_store, Timestamp};
use serde_json::{json, Value};

#[utoipa::path(get, operation_id = "health", summary = "Is the service up (for probes)", path = "/health", tag = "status", responses((status = 200, description = "The service is up", content_type = "application/json"), crate::server::openapi::Errors))]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, operation_id = "getStatus", summary = "The counter's status: version, readers, devices, backlog", path = "/status", tag = "status", responses((status = 200, description = "Version, uptime, readers and devices, backlog", body = crate::server::schemas::StatusDoc), crate::server::openapi::Errors))]
pub async fn status(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    let day_start =
        Timestamp::from_unix_ms(Timestamp::now().unix_ms().div_euclid(86_400_000) * 86_400_000);
    let (passes, pending, readers, scans_today) = state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            let conn = s.conn();
            let scans_today: i64 = conn.query_row(
                "SELECT count(*) FROM scans WHERE at >= ?1",
                [day_start],
                |r| r.get(0),
            )?;
            Ok((
                pass_store::count_passes(conn)?,
                outbox::count(conn)?,
                catalog::list_readers(conn)?,
                scans_today,
            ))
        })
        .await??;
    Ok(Json(json!({
        "data": {
            "type": "status",
            "id": state.node.node_id,
            "attributes": {
                "version": env!("CARGO_PKG_VERSION"),
                "nodeId": state.node.node_id,
                "nodeName": state.config.node_name,
                "keyId": state.node.key.key_id(),
                "uptimeSeconds": state.started.elapsed().as_secs(),
                "passes": passes,
                "scansToday": scans_today,
                "outboxPending": pending,
                "readers": readers,
                "devices": state.devices.list(),
                "lastSync": Value::Null,
            }
        }
    })))
}
