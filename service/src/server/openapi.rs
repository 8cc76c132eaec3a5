//! The OpenAPI 3.1 document of the API, generated from the router's list of routes
//! ([`super::documented`]: each handler's annotation, and who may call it), the request types
//! and the response shapes in [`super::schemas`] (which name the core types the handlers
//! serialise), served at `/api/v1/openapi.json` and printed by `passdesk openapi`. The UI's
//! TypeScript types are generated from it (`ui/scripts/gen-types.mjs`).

use axum::Json;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `{"errors": [{"id", "status", "code", "title", "detail", "source": {"pointer" | "parameter"}}]}`
#[derive(ToSchema)]
#[allow(dead_code)] // a schema, never built
pub struct ErrorDoc {
    errors: Vec<ErrorObject>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorObject {
    /// The request's id (also its `x-request-id` response header): the log line of a failure
    /// carries it.
    id: Option<String>,
    /// The HTTP status, as text ("422").
    status: String,
    /// What went wrong, for programs: `invalid_request`, `not_found`, `reward_not_available`...
    code: String,
    title: String,
    /// What went wrong, for people.
    detail: String,
    source: Option<ErrorSource>,
}

/// Where the error is: a JSON pointer into the body, or a query parameter.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorSource {
    pointer: Option<String>,
    parameter: Option<String>,
}

/// The errors any API route may answer (each route lists the ones it can).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// Malformed JSON, an unknown field or query parameter: `source` points at it.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorDoc),
    /// No key, or a key that is not (or no longer) valid.
    #[response(status = 401)]
    Unauthorized(ErrorDoc),
    /// The key's role may not do this.
    #[response(status = 403)]
    Forbidden(ErrorDoc),
    #[response(status = 404)]
    NotFound(ErrorDoc),
    /// The operation id was used for another request, or the value belongs to another pass.
    #[response(status = 409)]
    Conflict(ErrorDoc),
    #[response(status = 408)]
    Timeout(ErrorDoc),
    /// The body is larger than the limit.
    #[response(status = 413)]
    TooLarge(ErrorDoc),
    /// Well-formed but not acceptable: a rule says no (the code says which).
    #[response(status = 422)]
    Unprocessable(ErrorDoc),
    /// Too many requests refused for their key from this address (or, on the routes that need
    /// no key, too many requests): wait `Retry-After` seconds.
    #[response(status = 429)]
    TooManyRequests(ErrorDoc),
    /// A failure inside the service: the detail is generic, the error's `id` finds it in the log.
    #[response(status = 500)]
    Internal(ErrorDoc),
    /// The database is busy; try again.
    #[response(status = 503)]
    Busy(ErrorDoc),
}

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A Passdesk API key: pdk_<id>_<secret>"))
                    .build(),
            ),
        );
    }
}

/// What the document says besides its operations (those come from the router's list of
/// routes, [`super::documented`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "Passdesk counter API", description = "Offline wallet-pass check-in, loyalty and issuance, in PassEntry's shapes."),
    // Relative: the counter that serves this document (127.0.0.1:8787 by default, or the
    // address it listens on for the LAN); the paths start at its root.
    servers((url = "/", description = "This counter (the address this document came from)")),
    modifiers(&BearerKeys),
    security(("bearer" = [])),
    components(schemas(ErrorDoc, super::schemas::ScanResource))
)]
pub struct ApiDoc;

/// The document, made once from the router's list of routes.
pub fn api() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| super::documented().split().1)
}

#[utoipa::path(get, operation_id = "getOpenApi", path = "/openapi.json", tag = "status", summary = "This document: the API in OpenAPI 3.1", responses((status = 200, description = "The OpenAPI document", content_type = "application/json"), Errors))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(api())
}
