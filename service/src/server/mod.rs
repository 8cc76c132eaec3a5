//! The counter's HTTP service: axum on tokio, PassEntry-shaped JSON:API under `/api/v1`.
//!
//! Layers, outermost first: every request gets an id (`x-request-id`, and `id` in its errors);
//! a panic in a handler becomes a 500 and the service lives on; a request that takes too long
//! is answered 408; bodies over the limit are 413. Every route that answers without a key (the
//! public ones of [`documented`], and the screens) is rate limited per client address, as are
//! requests refused for their key ([`rate_limit`]).

pub mod access;
pub mod auth;
pub mod db;
pub mod error;
pub mod idempotency;
pub mod json;
pub mod key_use;
pub mod openapi;
pub mod query;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod scan_queue;
pub mod schemas;
pub mod state;
pub mod ui;

use crate::config::Config;
use access::Routes;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use error::ApiError;
use passdesk_core::keys::NodeIdentity;
use routes::{
    camera, catalog, hooks, loyalty, me, pass_page, passes, scans, scans_passentry, status, sync,
    upstream, wallet, wallet_apple, webhooks,
};
use state::{AppState, Inner};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::routes;

/// The shared state, and the scan batching task (so: call inside the tokio runtime), which
/// the shutdown closes.
pub fn state(
    db: Arc<db::Db>,
    node: NodeIdentity,
    config: Config,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> (AppState, scan_queue::ScanQueue) {
    let (events, _) = broadcast::channel(1024);
    let devices = Arc::new(crate::pipeline::Devices::default());
    let (scans, queue) = scan_queue::spawn(db.clone(), node.node_id.clone(), events.clone());
    let limits = rate_limit::RateLimits::new(&config.rate_limit);
    let key_use = key_use::KeyUse::spawn(db.clone());
    let wallets = Arc::new(crate::wallet::Wallets::load(&config));
    let state = AppState(Arc::new(Inner {
        db,
        node,
        config,
        started: Instant::now(),
        events,
        devices,
        scans,
        camera_preview: std::sync::RwLock::new(None),
        shutdown,
        limits,
        key_use,
        webhooks: Arc::new(tokio::sync::Notify::new()),
        sync: Arc::default(),
        upstream: Arc::default(),
        wallets,
        apns: Arc::default(),
    }));
    (state, queue)
}

/// The API under `/api/v1`, one line per route: `routes!` names the handler (its path, method
/// and operation come from its `#[utoipa::path]`), the method before it the least role a key
/// needs (`public`: no key). The document is made from this list, so every route is in it.
fn api_routes() -> Routes {
    Routes::new(Default::default())
        .public(routes!(openapi::document))
        .reader(routes!(me::me))
        .reader(routes!(status::status))
        .reader(routes!(camera::jpeg))
        .reader(routes!(camera::info))
        .reader(routes!(scans::post))
        .reader(routes!(scans_passentry::log))
        .cashier(routes!(scans::list))
        .reader(routes!(scans::stream))
        .reader(routes!(scans::today))
        .cashier(routes!(passes::list))
        .manager(routes!(passes::create))
        .cashier(routes!(passes::get))
        .manager(routes!(passes::update))
        .cashier(routes!(pass_page::qr_svg))
        .cashier(routes!(pass_page::qr_png))
        .cashier(routes!(loyalty::show))
        .cashier(routes!(loyalty::patch))
        .cashier(routes!(loyalty::earn))
        .cashier(routes!(loyalty::stamp))
        .cashier(routes!(loyalty::create_reward))
        .cashier(routes!(loyalty::redeem_tier))
        .cashier(routes!(loyalty::redeem_reward))
        .cashier(routes!(loyalty::delete_reward))
        .manager(routes!(loyalty::reverse))
        .cashier(routes!(catalog::list_templates))
        .manager(routes!(catalog::create_template))
        .cashier(routes!(catalog::get_template))
        .manager(routes!(catalog::update_template))
        .cashier(routes!(catalog::list_events))
        .manager(routes!(catalog::create_event))
        .cashier(routes!(catalog::get_event))
        .manager(routes!(catalog::update_event))
        .cashier(routes!(catalog::list_readers))
        .manager(routes!(catalog::create_reader))
        .cashier(routes!(catalog::get_reader))
        .manager(routes!(catalog::update_reader))
        .manager(routes!(webhooks::create))
        .manager(routes!(webhooks::list))
        .manager(routes!(webhooks::get))
        .manager(routes!(webhooks::update))
        .manager(routes!(webhooks::delete))
        .manager(routes!(webhooks::rotate_secret))
        .manager(routes!(webhooks::test))
        .manager(routes!(webhooks::list_deliveries))
        .manager(routes!(webhooks::get_delivery))
        .manager(routes!(webhooks::retry))
        .reader(routes!(sync::get))
        .manager(routes!(sync::list_conflicts))
        .manager(routes!(sync::now))
        .manager(routes!(upstream::get))
        .manager(routes!(upstream::pull))
        .manager(routes!(upstream::send_again))
        .manager(routes!(upstream::mark_handled))
        .fallback(|| async { ApiError::not_found("no such API route") })
}

/// Every route but the screens, with the OpenAPI document made from the same list
/// (`GET /api/v1/openapi.json` and `passdesk openapi` print that document).
pub fn documented() -> Routes {
    Routes::new(openapi::ApiDoc::openapi())
        .public(routes!(status::health))
        .public(routes!(pass_page::page))
        // The holder's wallet files: the holder link's token is the capability, as for its page.
        .public(routes!(wallet::holder_pkpass))
        .public(routes!(wallet::holder_google))
        // Provider webhooks in: no key, each provider known by its own secret (routes::hooks).
        .public(routes!(hooks::passentry))
        .public(routes!(hooks::passcreator))
        .public(routes!(hooks::skycore))
        // Apple's pass update web service: no key, each pass's authenticationToken
        // (routes::wallet_apple).
        .public(routes!(wallet_apple::register))
        .public(routes!(wallet_apple::unregister))
        .public(routes!(wallet_apple::updated))
        .public(routes!(wallet_apple::latest))
        .public(routes!(wallet_apple::log))
        .nest("/api/v1", api_routes())
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let (documented, _) = documented().split();
    documented
        .route("/", get(screens))
        .fallback(screens)
        .with_state(state.clone())
        // The key checks in front of the handlers (server::access) find the state here.
        .layer(Extension(state))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            refuse_oversized(limit, req, next)
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| -> Response {
                tracing::error!("a request handler panicked; the service goes on");
                ApiError::internal("the service failed on this request; nothing was changed")
                    .into_response()
            },
        ))
        .layer(axum::middleware::from_fn(request_id::layer))
}

/// The screens (`ui`), rate limited per address like every route that needs no key.
async fn screens(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> Response {
    let peer = rate_limit::peer(req.extensions());
    if let Some(limited) = state.limits.refuse(rate_limit::Kind::Public, peer) {
        return limited.into_response();
    }
    if is_machine_path(req.uri().path()) {
        return ApiError::not_found("no such route").into_response();
    }
    ui::serve(req.method().clone(), req.uri().clone()).await
}

/// The paths only machines call, outside `/api/v1` (which has its own fallback): providers'
/// webhooks (`/hooks/…`) and Apple's pass update service (`/wallet/…`). A wrong URL there is
/// the same JSON 404 as a provider not set up (`routes::hooks`), whatever the method: not the
/// screens' "405" (a provider would read it as the right URL with the wrong method), and
/// nothing that tells a guesser which providers this counter takes.
fn is_machine_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next();
    matches!(first, Some("hooks" | "wallet"))
}

/// A body announced larger than the limit is refused before a byte of it is read (chunked
/// bodies are cut at the limit by `DefaultBodyLimit` as they are read).
async fn refuse_oversized(
    limit: usize,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Serves until `stop_accepting` resolves, then takes no new connections, closes idle ones and
/// returns once the requests in flight have been answered (an event stream counts as one until
/// `routes::scans::end_streams`). The store stays open: the shutdown in `launch` closes it
/// after the scan queue has drained.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop_accepting: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The peer's address (`ConnectInfo`) keys the rate limits.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_accepting)
        .await?;
    Ok(())
}
