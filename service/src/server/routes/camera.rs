//! `GET /api/v1/camera/preview` (the latest camera frame as a JPEG, at most 640 px wide) and
//! `GET /api/v1/camera/preview.json` (its size, time, and the code read in the last 1.5 s
//! with its outline in the picture's pixels): what the status screen's "Show camera" shows.
//! The frame is encoded on request, never per frame; without a camera both answer a JSON:API
//! error (`no_camera`, 404); while it is not connected, or before its first frame,
//! `camera_unavailable` (404 too: there is no picture; not a 5xx, the service is fine) with the
//! camera's status ("no camera", "camera disconnected").

use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use passdesk_core::Timestamp;
use passdesk_hardware::camera::Preview;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// JPEG quality of the preview: small (~20-40 kB at 640x360), good enough to aim a code.
const JPEG_QUALITY: u8 = 70;

fn latest(state: &AppState) -> ApiResult<Arc<Preview>> {
    let slot = state
        .camera_preview
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_camera",
                "no camera: this counter runs without one ([camera] is off or --no-camera)",
            )
        })?;
    // A camera that is not connected shows nothing (not its last picture from before).
    let camera = state
        .devices
        .list()
        .into_iter()
        .find(|d| d.kind == "camera");
    if let Some(c) = camera.filter(|c| !c.connected) {
        let why = c.detail.unwrap_or_else(|| "camera not connected".into());
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "camera_unavailable",
            format!("{why}: no preview"),
        ));
    }
    slot.get().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "camera_unavailable",
            "the camera has not sent a picture yet; try again",
        )
    })
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[utoipa::path(get, operation_id = "getCameraPreview", summary = "The camera's latest picture (JPEG)", path = "/camera/preview", tag = "status", responses((status = 200, description = "The latest camera frame, grey, at most 640 px wide", content_type = "image/jpeg"), crate::server::openapi::Errors))]
pub async fn jpeg(State(state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    let preview = latest(&state)?;
    let at = unix_ms(preview.at);
    let bytes = tokio::task::spawn_blocking(move || preview.to_jpeg(JPEG_QUALITY))
        .await?
        .map_err(|e| ApiError::internal(format!("the preview could not be encoded: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::HeaderName::from_static("x-preview-at"),
                at.to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, operation_id = "getCameraPreviewInfo", summary = "The camera's latest picture: its size, time and the code read in it", path = "/camera/preview.json", tag = "status", responses((status = 200, description = "The latest camera frame's size and time, and the code read in the last 1.5 s with its outline", body = crate::server::schemas::CameraPreviewDoc), crate::server::openapi::Errors))]
pub async fn info(State(state): State<AppState>, _caller: Caller) -> ApiResult<Response> {
    let p = latest(&state)?;
    let at = unix_ms(p.at);
    let outline = p.code.as_ref().and_then(|c| c.outline.as_ref()).map(|o| {
        o.iter()
            .map(|&(x, y)| json!([round1(x), round1(y)]))
            .collect::<Vec<Value>>()
    });
    let body = json!({
        "data": {
            "type": "cameraPreview",
            "id": at.to_string(),
            "attributes": {
                "width": p.image.width(),
                "height": p.image.height(),
                "at": Timestamp::from_unix_ms(at),
                "ageMs": unix_ms(SystemTime::now()).saturating_sub(at).max(0),
                "outline": outline,
                "text": p.code.as_ref().map(|c| c.text.clone()),
            }
        }
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

fn round1(v: f32) -> f64 {
    (f64::from(v) * 10.0).round() / 10.0
}
