//! The counter's HTTP service: axum on tokio, PassEntry-shaped JSON:API under `/api/v1`.
//!
//! Layers, outermost first: every request gets an id (`x-request-id`, and `id` in its errors);
//! a panic in a handler becomes a 500 and the service lives on; a request that takes too long
//! is answered 408; bodies over the limit are 413. The routes that answer without a key are
//! rate limited per client address, as are requests refused for their key (`rate_limit`).

pub mod auth;
pub mod db;
pub mod error;
pub mod json;
pub mod key_use;
pub mod openapi;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod scan_queue;
pub mod schemas;
pub mod state;
pub mod ui;

use crate::config::Config;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use passdesk_core::keys::NodeIdentity;
use routes::{camera, catalog, loyalty, me, pass_page, passes, scans, status};
use state::{AppState, Inner};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// The shared state, and the scan batching task (so: call inside the tokio runtime).
pub fn state(
    db: Arc<db::Db>,
    node: NodeIdentity,
    config: Config,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> AppState {
    let (events, _) = broadcast::channel(1024);
    let devices = Arc::new(crate::pipeline::Devices::default());
    let scans = scan_queue::spawn(db.clone(), node.node_id.clone(), events.clone());
    let limits = rate_limit::RateLimits::new(&config.rate_limit);
    let key_use = key_use::KeyUse::spawn(db.clone());
    AppState(Arc::new(Inner {
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
    }))
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let public_limit = axum::middleware::from_fn_with_state(state.clone(), rate_limit::public);
    let api = Router::new()
        .route(
            "/openapi.json",
            get(openapi::document).layer(public_limit.clone()),
        )
        .route("/me", get(me::me))
        .route("/status", get(status::status))
        .route("/camera/preview", get(camera::jpeg))
        .route("/camera/preview.json", get(camera::info))
        .route("/scans", post(scans::post).get(scans::list))
        .route("/scans/stream", get(scans::stream))
        .route("/passes", get(passes::list).post(passes::create))
        .route("/passes/{id}", get(passes::get).patch(passes::update))
        .route("/passes/{id}/qr.svg", get(pass_page::qr_svg))
        .route("/passes/{id}/qr.png", get(pass_page::qr_png))
        .route(
            "/passes/{id}/loyalty",
            get(loyalty::show).patch(loyalty::patch),
        )
        .route("/passes/{id}/loyalty/earn", post(loyalty::earn))
        .route("/passes/{id}/loyalty/stamps", post(loyalty::stamp))
        .route("/passes/{id}/loyalty/rewards", post(loyalty::create_reward))
        .route("/passes/{id}/loyalty/redeem", post(loyalty::redeem_tier))
        .route(
            "/passes/{id}/loyalty/rewards/{reward}/redeem",
            post(loyalty::redeem_reward),
        )
        .route(
            "/passes/{id}/loyalty/rewards/{reward}",
            axum::routing::delete(loyalty::delete_reward),
        )
        .route("/loyalty/entries/{entry}/reverse", post(loyalty::reverse))
        .route(
            "/passTemplates",
            get(catalog::list_templates).post(catalog::create_template),
        )
        .route(
            "/passTemplates/{id}",
            get(catalog::get_template).patch(catalog::update_template),
        )
        .route(
            "/events",
            get(catalog::list_events).post(catalog::create_event),
        )
        .route(
            "/events/{id}",
            get(catalog::get_event).patch(catalog::update_event),
        )
        .route(
            "/readers",
            get(catalog::list_readers).post(catalog::create_reader),
        )
        .route(
            "/readers/{id}",
            get(catalog::get_reader).patch(catalog::update_reader),
        )
        .fallback(|| async { ApiError::not_found("no such API route") });
    // What answers without a key: rate limited per address (the layer covers these routes and
    // the UI's fallback, not the API nested after it).
    Router::new()
        .route("/", get(ui::serve))
        .route("/health", get(status::health))
        .route("/p/{token}", get(pass_page::page))
        .fallback(ui::serve)
        .layer(public_limit)
        .nest("/api/v1", api)
        .with_state(state)
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

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish and
/// closes the store (a last WAL checkpoint).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    // The peer's address (`ConnectInfo`) keys the rate limits.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tokio::task::spawn_blocking(move || db.close()).await?;
    Ok(())
}
