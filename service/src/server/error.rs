//! API errors as JSON:API error documents: `{"errors": [{"status", "title", "detail", "source"}]}`.

use axum::http::StatusCode;
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
        }
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
        let mut error = json!({
            "status": self.status.as_u16().to_string(),
            "code": self.code,
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "detail": self.detail,
        });
        if let Some(p) = self.pointer {
            error["source"] = json!({ "pointer": p });
        } else if let Some(p) = self.parameter {
            error["source"] = json!({ "parameter": p });
        }
        (self.status, axum::Json(json!({ "errors": [error] }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        match e {
            StoreError::Sqlite(rusqlite_err) if is_busy(&rusqlite_err) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the database is busy; try again",
            ),
            other => Self::internal(format!("storage failure: {other}")),
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
        tracing::error!(error = %e, "a blocking task failed");
        Self::internal("the request failed inside the service; it was not applied")
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
