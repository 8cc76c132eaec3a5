//! `GET /health` (no key: for probes) and `GET /api/v1/status` (what the status screen shows).

use crate::server::auth::Caller;
use crate::server::error::ApiResult;
use crate::server::state::AppState;
use axum::extract::State;
use axum::Json;
use passdesk_core::local_day::local_day;
use passdesk_core::scan_log::{self, ScanFilter};
use passdesk_core::webhook::{fanout, subscriptions};
use passdesk_core::{catalog, pass_store, Timestamp};
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
    let upstream_configured = state.config.upstream.passentry.is_some();
    let (passes, pending, readers, today, webhooks, sync, upstream) = state
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
                // Events the webhook fan-out has not reached: the outbox's last seq less its
                // cursor, never a count of the table.
                fanout::waiting(conn)?,
                catalog::list_readers(conn)?,
                scan_log::totals(conn, &today)?,
                // The subscription rows carry their own backlog and health.
                subscriptions::all(conn)?,
                passdesk_core::sync::state::status(conn)?,
                // The PassEntry account's backlog (queue, refused) and last pull.
                passdesk_core::upstream::state::status(conn, upstream_configured)?,
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
                "webhooks": webhooks.iter().map(webhook_line).collect::<Vec<_>>(),
                "readers": readers,
                "devices": state.devices.list(),
                "sync": sync,
                "upstream": super::upstream::status_resource(&upstream, state.upstream.running())["attributes"],
                "wallet": wallet_status(&state),
            }
        }
    })))
}

/// `[wallet]`'s lines, Apple's with the APNs worker's backlog and last failure (as of its
/// last look: counting them here would read every registration per status call).
fn wallet_status(state: &AppState) -> crate::wallet::WalletStatus {
    let mut wallet = state.wallets.status();
    wallet.apple.push_backlog = state.apns.backlog();
    wallet.apple.push_error = state.apns.last_error();
    wallet
}

/// A subscription's line on `/status`: its health, without its URL's path or query (a
/// receiver's URL may carry its own token; a reader's key may read this).
fn webhook_line(s: &subscriptions::Subscription) -> Value {
    let host = reqwest::Url::parse(s.url.as_str())
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_owned();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        })
        .unwrap_or_default();
    json!({
        "id": s.id,
        "host": host,
        "format": s.format,
        "enabled": s.enabled,
        "disabledReason": s.disabled_reason,
        "backlog": s.backlog,
        "lastSuccessAt": s.last_success_at,
        "failingSince": s.failing_since,
        "lastError": s.last_error,
    })
}
