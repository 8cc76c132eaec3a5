//! Who may call each route, said once, where the router registers the route
//! ([`super::documented`]): that one statement puts the route's operation in the OpenAPI
//! document with its `x-passdesk-role`, and puts the key check in front of the handler, so a
//! missing key (401) or a role too low (403) is answered before anything else of the request
//! (path, query, body) is read. [`Routes`] is the only way to add a documented route: a route
//! cannot be served without an operation that says who may call it.
//!
//! A handler may still refuse more for what a request asks (an `overrideBalance` needs a
//! manager; a scan with a loyalty change, a cashier): the role here is the least one.

use super::auth::Caller;
use super::error::ApiError;
use super::rate_limit;
use super::state::AppState;
use axum::extract::{Extension, FromRequestParts, Request};
use axum::handler::Handler;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use passdesk_core::api_keys::Role;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// The operation's extension that states its [`Access`]: `public`, or the least role.
pub const ROLE_EXTENSION: &str = "x-passdesk-role";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a key (probes, the holder's page, this document).
    Public,
    /// A valid key whose role is this one or above.
    Key(Role),
}

impl Access {
    /// As the document states it: `public`, `reader`, `cashier`, `manager` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Key(role) => role.as_str(),
        }
    }
}

/// Routes with their operations in the document, each added with who may call it.
pub struct Routes(OpenApiRouter<AppState>);

impl Routes {
    /// No routes yet, over `doc`'s info, servers, security schemes and shared schemas.
    pub fn new(doc: OpenApi) -> Self {
        Self(OpenApiRouter::with_openapi(doc))
    }

    pub fn public(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add(Access::Public, routes)
    }

    pub fn reader(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add(Access::Key(Role::Reader), routes)
    }

    pub fn cashier(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add(Access::Key(Role::Cashier), routes)
    }

    pub fn manager(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add(Access::Key(Role::Manager), routes)
    }

    pub fn admin(self, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add(Access::Key(Role::Admin), routes)
    }

    /// `routes!(...)`'s operations, stated as `access` in the document and checked so.
    pub fn add(self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, mut paths, method_router) = routes;
        for item in paths.paths.values_mut() {
            for operation in operations(item) {
                declare(operation, access);
            }
        }
        let method_router = match access {
            // No key: limited per client address instead (server::rate_limit).
            Access::Public => method_router.route_layer(from_fn(rate_limit::public)),
            Access::Key(role) => method_router.route_layer(from_fn(
                move |state: Extension<AppState>, req: Request, next: Next| {
                    require(role, state, req, next)
                },
            )),
        };
        Self(self.0.routes((schemas, paths, method_router)))
    }

    /// `routes` under `prefix`, in the router and in the document.
    pub fn nest(self, prefix: &str, routes: Routes) -> Self {
        Self(self.0.nest(prefix, routes.0))
    }

    /// What answers a path under these routes that none of them matches.
    pub fn fallback<H, T>(self, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self(self.0.fallback(handler))
    }

    /// The router (it needs an `Extension<AppState>` layer for the key checks: see
    /// [`super::router`]) and the document.
    pub fn split(self) -> (axum::Router<AppState>, OpenApi) {
        self.0.split_for_parts()
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Writes `access` into the operation: the extension, a sentence for people, and for a public
/// route no security requirement and no 401 / 403 answers (it never gives them).
fn declare(operation: &mut Operation, access: Access) {
    operation
        .extensions
        .get_or_insert_with(Default::default)
        .insert(ROLE_EXTENSION.to_owned(), access.as_str().into());
    let who = match access {
        Access::Public => "No key needed.".to_owned(),
        Access::Key(Role::Admin) => "Needs an admin key.".to_owned(),
        Access::Key(role) => format!("Needs a {role} key or one with a higher role."),
    };
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{who}"),
        _ => who,
    });
    if access == Access::Public {
        operation.security = Some(vec![SecurityRequirement::default()]);
        for status in ["401", "403"] {
            operation.responses.responses.remove(status);
        }
    }
}

/// The key check in front of a handler: 401 without a valid key, 403 below `role`. The caller
/// it found goes on in the request, so the handler's [`Caller`] does not look the key up again.
async fn require(
    role: Role,
    Extension(state): Extension<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state).await?;
    caller.require(role)?;
    parts.extensions.insert(caller);
    Ok(next.run(Request::from_parts(parts, body)).await)
}
