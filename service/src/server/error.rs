//! API errors as JSON:API error documents:
//! `{"errors": [{"id", "status", "code", "title", "detail", "source"}]}`.
//!
//! `id` is the request's id (also the `x-request-id` response header and a field of the log
//! line), so that an error a person reports can be found in the log. A failure inside the
//! service (storage, a task that died) answers a generic detail: what SQLite said goes to the
//! log with the request id, never to the client.

use super::request_id;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use passdesk_core::loyalty::LoyaltyError;
use passdesk_core::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// JSON pointer to the offending field of the request body, or the query parameter.
    pub pointer: Option<String>,
    pub parameter: Option<String>,
    /// What really failed, for the log only (a storage error's words): never sent. (Boxed, as
    /// is the next field small: every handler returns this type, so it stays lean.)
    cause: Option<Box<str>>,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    retry_after_secs: Option<u32>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            pointer: None,
            parameter: None,
            cause: None,
            retry_after_secs: None,
        }
    }

    /// Keeps `cause` for the log line of this error; the client sees only `detail`.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string().into());
        self
    }

    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn parameter(mut self, name: impl Into<String>) -> Self {
        self.parameter = Some(name.into());
        self
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id::current();
        let id = request_id.as_ref().map(request_id::RequestId::as_str);
        // The one place a failure's own words go: the log, with the request id the client was
        // given.
        let cause = self.cause.as_deref().unwrap_or(&self.detail);
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(request_id = id, status = self.status.as_u16(), code = self.code, %cause, "request failed");
        } else if self.status.is_server_error() {
            tracing::warn!(request_id = id, status = self.status.as_u16(), code = self.code, %cause, "request not served");
        }
        let mut error = json!({
            "status": self.status.as_u16().to_string(),
            "code": self.code,
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "detail": self.detail,
        });
        if let Some(id) = id {
            error["id"] = json!(id);
        }
        if let Some(p) = self.pointer {
            error["source"] = json!({ "pointer": p });
        } else if let Some(p) = self.parameter {
            error["source"] = json!({ "parameter": p });
        }
        let mut res = (self.status, axum::Json(json!({ "errors": [error] }))).into_response();
        if let Some(secs) = self.retry_after_secs {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(rusqlite_err) if is_busy(&rusqlite_err) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the database is busy; try again",
            )
            .retry_after(1)
            .caused_by(rusqlite_err),
            other => Self::internal(
                "the request failed inside the service's storage; the error id names it in the log",
            )
            .caused_by(format!("storage failure: {other}")),
        }
    }
}

fn is_busy(e: &passdesk_core::rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            passdesk_core::rusqlite::ErrorCode::DatabaseBusy
                | passdesk_core::rusqlite::ErrorCode::DatabaseLocked
        )
    )
}

impl From<passdesk_core::rusqlite::Error> for ApiError {
    fn from(e: passdesk_core::rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<LoyaltyError> for ApiError {
    fn from(e: LoyaltyError) -> Self {
        let e = match e {
            LoyaltyError::Store(s) => return s.into(),
            other => other,
        };
        let status = match &e {
            LoyaltyError::UnknownPass(_)
            | LoyaltyError::UnknownReward(_)
            | LoyaltyError::UnknownEntry(_) => StatusCode::NOT_FOUND,
            LoyaltyError::OpConflict(_) => StatusCode::CONFLICT,
            LoyaltyError::InvalidOpId(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal("the request failed inside the service; it was not applied")
            .caused_by(format!("a blocking task failed: {e}"))
    }
}

impl From<super::db::DbError> for ApiError {
    fn from(e: super::db::DbError) -> Self {
        match e {
            super::db::DbError::Closed => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the service is shutting down; nothing was changed",
            ),
            super::db::DbError::Task(join) => join.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(e: ApiError) -> (Response<()>, serde_json::Value) {
        let res = e.into_response();
        let (parts, body) = res.into_parts();
        let bytes = to_bytes(body, 1 << 16).await.unwrap();
        (
            Response::from_parts(parts, ()),
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    /// SQLite's words stay in the log; the client gets a generic 500 with the request's id.
    #[tokio::test]
    async fn a_storage_failure_says_nothing_of_sqlite() {
        let sqlite = passdesk_core::rusqlite::Connection::open_in_memory()
            .unwrap()
            .execute("SELECT * FROM no_such_table", [])
            .unwrap_err();
        let id = request_id::RequestId::parse("req-42").unwrap();
        let (res, body) =
            request_id::with(id, body_of(ApiError::from(StoreError::from(sqlite)))).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = body.to_string();
        assert!(
            !text.contains("no_such_table") && !text.to_lowercase().contains("sqlite"),
            "{text}"
        );
        assert_eq!(body["errors"][0]["id"], "req-42");
        assert_eq!(body["errors"][0]["code"], "internal");
    }

    #[tokio::test]
    async fn busy_stays_a_503_to_retry() {
        let busy = passdesk_core::rusqlite::Error::SqliteFailure(
            passdesk_core::rusqlite::ffi::Error::new(5),
            Some("database is locked".into()),
        );
        let (res, body) = body_of(ApiError::from(StoreError::from(busy))).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(body["errors"][0]["code"], "busy");
        assert!(body["errors"][0].get("id").is_none());
    }
}
