//! Bearer API keys. Every `/api` route takes a [`Caller`]; a missing or bad key is 401, a role
//! that may not is 403. Keys never reach a log.
//!
//! Requests refused for their key count against the client address's limit (key guessing):
//! past it they are answered 429. A valid key is never limited.

use super::error::{ApiError, ApiResult};
use super::rate_limit::{self, Kind};
use super::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use passdesk_core::api_keys::{self, Role};
use passdesk_core::scan::ReaderId;
use passdesk_core::Timestamp;

/// Who is calling: their key's id (never the key), name, role and the readers it is bound to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub role: Role,
    /// The readers this key may scan as; empty: any reader.
    pub readers: Vec<ReaderId>,
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

    /// The reader this caller acts as when it asks to act as `requested` (`None`: it named
    /// none). A key bound to readers acts only as one of them: the one it names, or its only
    /// reader when it names none. An unbound key acts as whatever it names.
    ///
    /// 403 `reader_not_allowed` for a reader the key is not bound to; 422 `reader_required`
    /// when a key bound to several readers names none.
    pub fn act_as_reader(&self, requested: Option<ReaderId>) -> ApiResult<Option<ReaderId>> {
        match (requested, self.readers.as_slice()) {
            (requested, []) => Ok(requested),
            (Some(r), bound) if bound.contains(&r) => Ok(Some(r)),
            (Some(r), bound) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "reader_not_allowed",
                format!(
                    "this key is bound to reader {}; it may not act as {:?}",
                    names(bound),
                    r.as_str()
                ),
            )
            .at("/readerId")),
            (None, [only]) => Ok(Some(only.clone())),
            (None, bound) => Err(ApiError::unprocessable(
                "reader_required",
                format!(
                    "this key is bound to readers {}: say which one (readerId)",
                    names(bound)
                ),
            )
            .at("/readerId")),
        }
    }
}

fn names(readers: &[ReaderId]) -> String {
    readers
        .iter()
        .map(ReaderId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The credentials of an `Authorization: Bearer <key>` header. The scheme is matched in any
/// case (RFC 7235 §2.1: `bearer`, `BEARER`), and spaces around and between are tolerated.
fn bearer_credentials(header: &str) -> Option<&str> {
    const SPACE: [char; 2] = [' ', '\t'];
    let (scheme, rest) = header.trim_matches(SPACE).split_once(SPACE)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let credentials = rest.trim_matches(SPACE);
    (!credentials.is_empty() && !credentials.contains(SPACE)).then_some(credentials)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The route's key check (server::access) found it already: one lookup per request.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let peer = rate_limit::peer(&parts.extensions);
        // A refused key is a 401, or a 429 once its address has been refused too often.
        let refused = |detail: &str| {
            state
                .limits
                .refuse(Kind::Refused, peer)
                .unwrap_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail))
        };
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Err(refused(
                "an Authorization: Bearer <API key> header is required",
            ));
        };
        let Some(key) = header.to_str().ok().and_then(bearer_credentials) else {
            return Err(refused(
                "the Authorization header must be: Bearer <API key>",
            ));
        };
        let key = key.to_owned();
        let found = state
            .db
            .read(move |s| api_keys::identify(s.conn(), &key))
            .await??;
        let Some(key) = found else {
            return Err(refused("this API key is not valid (unknown or revoked)"));
        };
        state
            .key_use
            .touch(&key.id, key.last_used_at, Timestamp::now());
        Ok(Caller {
            key_id: key.id,
            name: key.name,
            role: key.role,
            readers: key.readers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for (header, want) in [
            ("Bearer pdk_a_b", Some("pdk_a_b")),
            ("bearer pdk_a_b", Some("pdk_a_b")),
            ("BEARER pdk_a_b", Some("pdk_a_b")),
            ("  Bearer    pdk_a_b  ", Some("pdk_a_b")),
            ("Bearer\tpdk_a_b", Some("pdk_a_b")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Basic pdk_a_b", None),
            ("Bearerpdk_a_b", None),
            ("Bearer pdk_a b", None),
            ("pdk_a_b", None),
            ("", None),
        ] {
            assert_eq!(bearer_credentials(header), want, "{header:?}");
        }
    }

    fn caller(readers: &[&str]) -> Caller {
        Caller {
            key_id: "k".into(),
            name: "gate".into(),
            role: Role::Reader,
            readers: readers
                .iter()
                .map(|r| ReaderId::parse(r).unwrap())
                .collect(),
        }
    }

    fn reader(id: &str) -> Option<ReaderId> {
        Some(ReaderId::parse(id).unwrap())
    }

    #[test]
    fn a_bound_key_acts_only_as_its_readers() {
        let free = caller(&[]);
        assert_eq!(free.act_as_reader(None).unwrap(), None);
        assert_eq!(free.act_as_reader(reader("x")).unwrap(), reader("x"));

        let one = caller(&["gate-a"]);
        assert_eq!(one.act_as_reader(None).unwrap(), reader("gate-a"));
        assert_eq!(
            one.act_as_reader(reader("gate-a")).unwrap(),
            reader("gate-a")
        );
        let e = one.act_as_reader(reader("gate-b")).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::FORBIDDEN, "reader_not_allowed")
        );

        let two = caller(&["gate-a", "gate-b"]);
        assert_eq!(
            two.act_as_reader(reader("gate-b")).unwrap(),
            reader("gate-b")
        );
        let e = two.act_as_reader(None).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "reader_required")
        );
        assert!(e.detail.contains("gate-a, gate-b"), "{}", e.detail);
    }
}
