//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations, the request
//! types and the response shapes in [`super::schemas`] (which name the core types the handlers
//! serialise), served at `/api/v1/openapi.json` and printed by `passdesk openapi`. The UI's
//! TypeScript types are generated from it (`ui/scripts/gen-types.mjs`).

use axum::Json;
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
    /// What went wrong, for programs: `invalid_request`, `not_found`, `already_redeemed`...
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

#[derive(OpenApi)]
#[openapi(
    info(title = "Passdesk counter API", description = "Offline wallet-pass check-in, loyalty and issuance, in PassEntry's shapes."),
    modifiers(&BearerKeys),
    security(("bearer" = [])),
    paths(
        super::routes::status::health,
        super::routes::status::status,
        super::routes::me::me,
        super::routes::camera::jpeg,
        super::routes::camera::info,
        super::routes::scans::post,
        super::routes::scans::list,
        super::routes::scans::stream,
        super::routes::passes::list,
        super::routes::passes::get,
        super::routes::passes::create,
        super::routes::passes::update,
        super::routes::pass_page::qr_svg,
        super::routes::pass_page::qr_png,
        super::routes::pass_page::page,
        super::routes::loyalty::show,
        super::routes::loyalty::patch,
        super::routes::loyalty::earn,
        super::routes::loyalty::stamp,
        super::routes::loyalty::create_reward,
        super::routes::loyalty::redeem_tier,
        super::routes::loyalty::redeem_reward,
        super::routes::loyalty::delete_reward,
        super::routes::loyalty::reverse,
        super::routes::catalog::list_templates,
        super::routes::catalog::get_template,
        super::routes::catalog::create_template,
        super::routes::catalog::update_template,
        super::routes::catalog::list_events,
        super::routes::catalog::get_event,
        super::routes::catalog::create_event,
        super::routes::catalog::update_event,
        super::routes::catalog::list_readers,
        super::routes::catalog::get_reader,
        super::routes::catalog::create_reader,
        super::routes::catalog::update_reader,
    ),
    components(schemas(ErrorDoc, super::schemas::ScanResource))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
