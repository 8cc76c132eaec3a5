//! The `Idempotency-Key` header, read one way for every route that takes it (loyalty
//! operations, a scan with a loyalty change, issuing a pass): a UUID, any of the forms the
//! `uuid` crate reads, kept in its canonical lowercase hyphenated form so that one key written
//! two ways is one key. Anything else, or the header sent twice, is 400 with
//! `source.parameter` naming the header, before anything is read or written.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use passdesk_core::issue_requests::IssueKeyError;
use passdesk_core::loyalty;

/// The header's name, as errors and the API document spell it.
pub const HEADER: &str = "Idempotency-Key";

/// The key a request carried, if it carried one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(Option<String>);

impl IdempotencyKey {
    /// Reads the header: absent is `None`; present, it must be one valid key.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(Self(None));
        };
        if values.next().is_some() {
            return Err(invalid("send one Idempotency-Key header, not several"));
        }
        let text = value
            .to_str()
            .map_err(|_| invalid("Idempotency-Key must be a UUID (it is not even ASCII text)"))?;
        let key = loyalty::parse_op_id(text).map_err(|_| {
            invalid(format!(
                "Idempotency-Key must be a UUID, not {:?}",
                cut(text)
            ))
        })?;
        Ok(Self(Some(key)))
    }

    /// The key, canonical; `None` when the client sent none.
    pub fn key(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The operation id of a loyalty change: the key, or a fresh id when the client sent none
    /// (the change is then made once, and a retry is a new change).
    pub fn op_id(&self) -> String {
        self.0
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::from_headers(&parts.headers)
    }
}

/// A key reused for another request is 409, as a loyalty operation id reused is.
impl From<IssueKeyError> for ApiError {
    fn from(e: IssueKeyError) -> Self {
        match e {
            IssueKeyError::Conflict(_) => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "op_conflict",
                e.to_string(),
            )
            .parameter(HEADER),
            IssueKeyError::Store(s) => s.into(),
        }
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "invalid_idempotency_key",
        detail,
    )
    .parameter(HEADER)
}

/// What of a bad value an error repeats: enough to recognise it, never a whole header.
fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    #[test]
    fn one_uuid_in_any_form_is_one_canonical_key() {
        let canonical = "0190e5a0-2222-7000-8000-00000000000a";
        for form in [
            canonical,
            "0190E5A0-2222-7000-8000-00000000000A",
            "0190e5a022227000800000000000000a",
            "{0190e5a0-2222-7000-8000-00000000000a}",
            "urn:uuid:0190e5a0-2222-7000-8000-00000000000a",
            " 0190e5a0-2222-7000-8000-00000000000a ",
        ] {
            let key = IdempotencyKey::from_headers(&headers(&[form.as_bytes()])).unwrap();
            assert_eq!(key.key(), Some(canonical), "{form}");
            assert_eq!(key.op_id(), canonical);
        }
        let none = IdempotencyKey::from_headers(&HeaderMap::new()).unwrap();
        assert_eq!(none.key(), None);
        assert_ne!(none.op_id(), none.op_id(), "a fresh id each time");
    }

    #[test]
    fn anything_else_is_a_400_naming_the_header() {
        let uuid = b"0190e5a0-2222-7000-8000-00000000000a".as_slice();
        for bad in [
            headers(&[b"retry-1"]),
            headers(&[b""]),
            headers(&[b"\xff\xfe"]),
            headers(&[uuid, uuid]),
        ] {
            let e = IdempotencyKey::from_headers(&bad).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code, e.parameter.as_deref()),
                (400, "invalid_idempotency_key", Some(HEADER)),
                "{bad:?}"
            );
        }
    }
}
