//! Errors as the stand-in answers them. The seed names each error by its reason phrase
//! ("Error: Unauthorized", "Error: Not Found", "Error: Unprocessable Entity") and says "some
//! 4xx errors include text that briefly explains the error"; it shows no error body. As its
//! other answers are JSON:API, an error is a JSON:API error document: `{"errors": [{"status":
//! "401", "title": "Unauthorized", "detail": "…"}]}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(422, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    pub fn body(&self) -> Value {
        error_body(self.status, &self.detail)
    }
}

/// The JSON:API error document for `status` with `detail`.
pub fn error_body(status: u16, detail: &str) -> Value {
    let title = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    json!({"errors": [{"status": status.to_string(), "title": title, "detail": detail}]})
}

/// A JSON answer with this status.
pub fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}
