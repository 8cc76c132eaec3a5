//! Bearer API keys. Every `/api` route takes a [`Caller`]; a missing or bad key is 401, a role
//! that may not is 403. Keys never reach a log.

use super::error::{ApiError, ApiResult};
use super::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use passdesk_core::api_keys::{self, Role};

/// Who is calling: the id of their key (never the key) and its role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "a {} key may not do this; it needs the {role} role",
                    self.role
                ),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The route's key check (server::access) found it already: one lookup per request.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let unauthorized =
            |detail: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("an Authorization: Bearer <API key> header is required"))?;
        let key = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header must be: Bearer <API key>"))?
            .to_owned();
        let found = state
            .db
            .read(move |s| api_keys::authenticate(s.conn(), &key))
            .await??;
        let (key_id, role) =
            found.ok_or_else(|| unauthorized("this API key is not valid (unknown or revoked)"))?;
        Ok(Caller { key_id, role })
    }
}
