//! `GET /health` (no key: for probes) and `GET /api/v1/status` (what the status screen shows).

use crate::server::auth::Caller;
use crate::server::error::ApiResult;
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use passdesk_core::local_day::local_day;
use passdesk_core::scan_log::{self, ScanFilter};
use passdesk_core::{catalog, outbox, pass_store, Timestamp};
use serde_json::{json, Value};

#[utoipa::path(get, operation_id = "health", summary = "Is the service up (for probes)", path = "/health", tag = "status", responses((status = 200, description = "The service is up", content_type = "application/json"), crate::server::openapi::Errors))]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, operation_id = "getStatus", summary = "The counter's status: version, readers, devices, backlog", path = "/status", tag = "status", responses((status = 200, description = "Version, uptime, readers and devices, backlog", body = crate::server::schemas::StatusDoc), crate::server::openapi::Errors))]
pub async fn status(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<Value>> {
    // The counter's day, in its configured zone: the same "today" as the gates and the
    // redemption cap (a gate bound to an event counts in the event's zone instead).
    let day = local_day(Timestamp::now(), state.config.time_zone);
    let (passes, pending, readers, today) = state
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            let conn = s.conn();
            let today = ScanFilter {
                since: Some(day.start),
                until: Some(day.end),
                ..ScanFilter::default()
            };
            Ok((
                pass_store::count_passes(conn)?,
                outbox::count(conn)?,
                catalog::list_readers(conn)?,
                scan_log::totals(conn, &today)?,
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
                "scansToday": today.accepted + today.rejected,
                "day": day,
                "outboxPending": pending,
                "readers": readers,
                "devices": state.devices.list(),
                "lastSync": Value::Null,
            }
        }
    })))
}
