//! The hub's HTTP service: axum, the routes of [`crate::routes`] (one file each), every error
//! as an `ErrorBody`, a body limit, a panic in a handler answered 500 (the hub lives on), and
//! the OpenAPI document made from the same list of routes as the router.

use crate::rate_limit::PublicLimit;
use crate::storage::NodeRef;
use crate::{Hub, HubError, StorageError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use passdesk_core::sync::wire::{ErrorBody, ErrorDetail};
use passdesk_core::Timestamp;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest request body: a full push of passes with their content.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Every refusal and failure: a status and `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct SyncError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type SyncResult<T> = Result<T, SyncError>;

impl SyncError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a node credential is needed: Authorization: Bearer <credential from enrollment>",
        )
    }
}

/// A failure inside the hub: the words go to the log, the client gets a generic message.
impl From<HubError> for SyncError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::BadName => Self::bad_request(e.to_string()),
            HubError::Storage(StorageError::Pool(_)) => {
                tracing::error!(error = %e, "the hub's database is unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the hub's database is unavailable; try again",
                )
            }
            HubError::Storage(_) => {
                tracing::error!(error = %e, "a hub request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the hub failed on this request; nothing was changed",
                )
            }
        }
    }
}

impl IntoResponse for SyncError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// A JSON body, strictly: a field that is missing or of the wrong type is a 400 that names it
/// (a JSON pointer), a body over the limit a 413.
pub struct SyncJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for SyncJson<T> {
    type Rejection = SyncError;

    async fn from_request(req: Request, state: &S) -> Result<Self, SyncError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                SyncError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the request body is larger than {BODY_LIMIT} bytes"),
                )
            } else {
                SyncError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(Self).map_err(|e| {
            let at = passdesk_core::json_pointer::of(e.path());
            let at = if at.is_empty() {
                "the body".to_owned()
            } else {
                at
            };
            SyncError::bad_request(format!("invalid JSON at {at}: {}", e.inner()))
        })
    }
}

/// The calling node, from `Authorization: Bearer <credential>`; its last contact is now.
/// Read before the body, so a call without a credential is refused unread.
pub struct Caller(pub NodeRef);

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = SyncError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, SyncError> {
        let credential = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(SyncError::unauthorized)?;
        match hub.authenticate(credential, Timestamp::now()).await? {
            Some(node) => Ok(Self(node)),
            None => Err(SyncError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this credential belongs to no enrolled node",
            )),
        }
    }
}

struct BearerCredential;

impl Modify for BearerCredential {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A node credential (pdhn_…), given once by POST /sync/v1/enroll",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the document says besides its operations (those come from [`documented`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passdesk hub sync API",
        description = "The protocol between Passdesk counters and their hub: enrollment, \
                       pushing a counter's changes, pulling everyone's (long poll). The hub's \
                       seq is the only cursor; a change's UUIDv7 makes a replay a no-op."
    ),
    servers((url = "/", description = "This hub")),
    modifiers(&BearerCredential),
    security(("bearer" = [])),
    components(schemas(ErrorBody))
)]
pub struct HubDoc;

/// Every route, each with its operation in the document: the router and the document come
/// from this one list. The routes without a credential are rate limited per address.
pub fn documented() -> OpenApiRouter<Arc<Hub>> {
    use crate::routes::{changes, enroll, health, openapi, push};
    let limit = Arc::new(PublicLimit::default());
    let public = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(openapi::document))
        .routes(routes!(enroll::enroll))
        .layer(axum::middleware::from_fn(move |req, next| {
            crate::rate_limit::public(limit.clone(), req, next)
        }));
    OpenApiRouter::with_openapi(HubDoc::openapi())
        .merge(public)
        .routes(routes!(push::push))
        .routes(routes!(changes::changes))
}

/// The hub's OpenAPI document, made once.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| documented().split_for_parts().1)
}

pub fn router(hub: Arc<Hub>) -> Router {
    let (routes, _) = documented().split_for_parts();
    routes
        .fallback(|| async { SyncError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .with_state(hub)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                tracing::error!("a hub request handler panicked; the hub goes on");
                SyncError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the hub failed on this request",
                )
                .into_response()
            },
        ))
}

/// Serves until `shutdown` resolves, then ends gracefully: waiting pulls answer at once,
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(hub.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            hub.stop_waiting();
        })
        .await
}
