//! Every request has an id: the client's own `x-request-id` when it is short and printable,
//! else a new UUIDv7. It is echoed on the response, carried by every JSON:API error object
//! (`id`) and logged with every failure, so an error a person reports is found in the log.
//!
//! The id lives in a task-local for the time the request is handled: an error is turned into
//! its response on the request's own task, wherever in the handlers it was made.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::future::Future;
use std::sync::Arc;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// The longest client-given id kept: it goes into logs and error bodies.
pub const MAX_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A client's id: 1 to [`MAX_LEN`] visible ASCII characters, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty() && s.len() <= MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(s.into()))
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string().into())
    }

    fn of(req: &Request) -> Self {
        req.headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request this task is handling, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(RequestId::clone).ok()
}

/// Runs `f` as the handling of request `id`.
pub async fn with<F: Future>(id: RequestId, f: F) -> F::Output {
    CURRENT.scope(id, f).await
}

/// The outermost layer: names the request, runs it under that name, echoes the name.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = RequestId::of(&req);
    req.extensions_mut().insert(id.clone());
    // No path in the span: a holder page's path is its secret link.
    let span = tracing::info_span!("request", request_id = id.as_str());
    let mut res = with(id.clone(), next.run(req)).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_id_is_kept_only_when_short_and_printable() {
        assert_eq!(RequestId::parse("abc-123").unwrap().as_str(), "abc-123");
        assert!(RequestId::parse(&"x".repeat(MAX_LEN)).is_some());
        for bad in ["", "a b", "tab\there", "é", &"x".repeat(MAX_LEN + 1)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
        let a = RequestId::generate();
        assert_ne!(a, RequestId::generate());
        assert!(RequestId::parse(a.as_str()).is_some());
    }

    #[tokio::test]
    async fn the_id_is_there_while_the_request_runs() {
        assert_eq!(current(), None);
        let id = RequestId::parse("r1").unwrap();
        assert_eq!(with(id.clone(), async { current() }).await, Some(id));
    }
}
