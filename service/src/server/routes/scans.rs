//! `POST /api/v1/scans` (a decision), `GET /api/v1/scans` (the audit log), and
//! `GET /api/v1/scans/stream` (every decision as it happens, as server-sent events).

use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::json::JsonBody;
use crate::server::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::reader::Direction;
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::scan_log::{self, ScanFilter};
use passdesk_core::{checkin, Decision, Timestamp, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScanRequest {
    pub value: String,
    #[serde(default)]
    pub reader_id: Option<String>,
    #[serde(default)]
    pub medium: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
}

pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(req): JsonBody<ScanRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Reader)?;
    let reader_id = ReaderId::parse(req.reader_id.as_deref().unwrap_or("api"))
        .map_err(|e| ApiError::unprocessable("invalid_reader", e.to_string()).at("/readerId"))?;
    let medium = match req.medium.as_deref() {
        None => Medium::Manual,
        Some(m) => m
            .parse()
            .map_err(|e: String| ApiError::unprocessable("invalid_medium", e).at("/medium"))?,
    };
    let direction = req
        .direction
        .as_deref()
        .map(str::parse::<Direction>)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_direction", e).at("/direction"))?;
    let input = ScanInput {
        value: req.value.into_bytes(),
        reader_id,
        medium,
        direction,
        at: Timestamp::now(),
    };
    let decision = decide(&state, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": scan_resource(&decision) })),
    ))
}

/// Decides, records durably, then tells every listener. Used by the API and by the readers.
pub async fn decide(state: &AppState, input: ScanInput) -> ApiResult<Decision> {
    let node_id = state.node.node_id.clone();
    let decision = state
        .db
        .write(move |s| checkin(s, &node_id, &input))
        .await??;
    tracing::info!(scan_id = %decision.scan_id, reader_id = %decision.reader_id,
        verdict = decision.verdict.as_str(), reason = ?decision.reason, "scan decided");
    let json: Arc<str> = serde_json::to_string(&scan_resource(&decision))
        .expect("decisions serialise")
        .into();
    let _ = state.decisions.send(json); // no listener is fine
    Ok(decision)
}

pub fn scan_resource(d: &Decision) -> Value {
    json!({ "type": "scan", "id": d.scan_id, "attributes": d })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    pass_id: Option<String>,
    reader_id: Option<String>,
    verdict: Option<String>,
    since: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let verdict = q
        .verdict
        .as_deref()
        .map(str::parse::<Verdict>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e).parameter("verdict"))?;
    let since = q
        .since
        .as_deref()
        .map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()).parameter("since"))?;
    let filter = ScanFilter {
        pass_id: q.pass_id,
        reader_id: q.reader_id,
        verdict,
        since,
        limit: q.limit.unwrap_or(100).min(1000),
    };
    let scans = state
        .db
        .read(move |s| scan_log::list(s.conn(), &filter))
        .await??;
    let data: Vec<Value> = scans
        .iter()
        .map(|s| json!({ "type": "scanRecord", "id": s.id, "attributes": s }))
        .collect();
    Ok(Json(
        json!({ "data": data, "meta": { "count": data.len() } }),
    ))
}

pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Role::Reader)?;
    let events = BroadcastStream::new(state.decisions.subscribe()).map(|item| {
        Some(Ok(match item {
            Ok(json) => Event::default().event("decision").data(&*json),
            // A listener too slow to keep up is told how much it missed, and goes on.
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                Event::default().event("lagged").data(n.to_string())
            }
        }))
    });
    // The stream ends when the service shuts down (else graceful shutdown waits for it forever).
    let closing = WatchStream::new(state.closing.subscribe())
        .filter(|closing| *closing)
        .map(|_| None);
    let events = events.merge(closing).map_while(|e| e);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
