//! The query string, parsed the same way on every route: a query that does not parse is a
//! JSON:API 400 like every other error (axum's own answer is plain text, which the API
//! document does not promise), and a time parameter is RFC 3339 wherever it is given.

use super::error::{ApiError, ApiResult};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use passdesk_core::Timestamp;
use serde::de::DeserializeOwned;

/// The query string as `T` (whose `deny_unknown_fields` refuses a parameter it does not know).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A time given in the query parameter `name`, if any.
pub fn time_param(name: &str, v: Option<&str>) -> ApiResult<Option<Timestamp>> {
    v.map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()).parameter(name))
}
