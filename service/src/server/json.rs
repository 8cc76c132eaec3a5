//! A strict JSON body extractor: unknown fields and wrong types are 400 with a JSON pointer to
//! the field; a body over the limit is 413. And a body's time fields, parsed alike everywhere.

use super::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use passdesk_core::Timestamp;
use serde::de::DeserializeOwned;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request body is too large",
                )
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(de).map_err(|e| {
            let pointer = passdesk_core::json_pointer::of(e.path());
            ApiError::bad_request(format!("invalid JSON body: {}", e.inner())).at(pointer)
        })?;
        Ok(Self(value))
    }
}

/// A time given in the body field at `pointer`, if any: RFC 3339, else 422 `invalid_time`.
pub fn time_field(pointer: &str, v: Option<&str>) -> ApiResult<Option<Timestamp>> {
    v.map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_time", e.to_string()).at(pointer))
}
