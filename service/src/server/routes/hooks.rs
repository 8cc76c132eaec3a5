//! Provider webhooks in (no API key: each provider is known by its own secret):
//!
//! - `POST /hooks/passentry`: PassEntry's webhooks, `X-Webhook-Signature` checked (hex
//!   HMAC-SHA256 of the raw body with `[upstream.passentry] webhook_secret`, constant time);
//!   404 while that secret is not set.
//! - `POST /hooks/passcreator/{secret}/{event}`: Passcreator's pass hooks, one URL per event;
//!   `POST /hooks/skycore/{secret}`: Skycore's XML or JSON postbacks. The path's secret is
//!   `[hooks.passcreator|skycore] secret`, compared in constant time; a wrong one, or a provider
//!   not configured, is 404 with the same answer.
//!
//! The body is read as bytes (a signature is over the raw bytes) under the service's body
//! limit, parsed by `passdesk_core::hooks`, judged by its time (`[hooks] max_age_seconds` back,
//! 5 minutes ahead), then applied through the writer in one transaction. Answers: 200
//! `{"status":"ok"}` (the seed's) when applied or applied before; 400 for a body that is not
//! what the provider sends (the error names the field); 401 for a missing or wrong signature;
//! 409 for a barcode another pass has; 422 for an unknown pass or a time out of the window.
//! Every refusal changes nothing and is logged with its reason, never with a secret.

use crate::server::error::ApiError;
use crate::server::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use passdesk_core::hooks::apply::{self, Applied, ApplyError};
use passdesk_core::hooks::{self, passcreator, passentry, HookError, HookEvent, Provider};
use passdesk_core::Timestamp;
use serde_json::json;

/// Says what became of an accepted event: its outcome (`created`, `voided`, …) or `repeat`.
pub const OUTCOME_HEADER: HeaderName = HeaderName::from_static("x-passdesk-hook-outcome");

#[utoipa::path(post, operation_id = "receivePassEntryWebhook", summary = "PassEntry's webhooks in (passInstalled, passRemoved, passTapped, passCreated, …)", path = "/hooks/passentry", tag = "hooks",
    description = "Signed with `X-Webhook-Signature`: the hex HMAC-SHA256 of the raw body keyed by `[upstream.passentry] webhook_secret`. 404 while that secret is not set.",
    params(("X-Webhook-Signature" = String, Header, description = "Hex HMAC-SHA256 of the raw body")),
    request_body(content = Object, content_type = "application/json", description = "PassEntry's webhook: a JSON:API document whose `data` is the webhook and whose `included` holds its pass"),
    responses((status = 200, description = "Applied, or applied before: `{\"status\": \"ok\"}`", content_type = "application/json"), crate::server::openapi::Errors))]
pub async fn passentry(State(state): State<AppState>, req: Request) -> Response {
    let Some(secret) = state
        .config
        .upstream
        .passentry
        .as_ref()
        .and_then(|p| p.webhook_secret.clone())
    else {
        return not_configured(
            Provider::PassEntry,
            "no [upstream.passentry] webhook_secret",
        );
    };
    let signature = req
        .headers()
        .get(passentry::SIGNATURE_HEADER)
        .map(|v| v.as_bytes().to_vec());
    let body = match read_body(req, &state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let event =
        passentry::verify_signature(secret.expose().as_bytes(), &body, signature.as_deref())
            .and_then(|()| passentry::parse(&body));
    receive(&state, Provider::PassEntry, event).await
}

#[utoipa::path(post, operation_id = "receivePasscreatorHook", summary = "Passcreator's pass hooks in, one URL per event", path = "/hooks/passcreator/{secret}/{event}", tag = "hooks",
    description = "Subscribe one target URL per event. `secret` is `[hooks.passcreator] secret`; a wrong one, or none configured, is 404.",
    params(("secret" = String, Path, description = "`[hooks.passcreator] secret`"),
           ("event" = String, Path, description = "pass_created, pass_updated, pass_voided, first_pushnotification_registered, pushnotification_registered or pushnotification_unregistered")),
    request_body(content = Object, content_type = "application/json", description = "Passcreator's flat pass hook body"),
    responses((status = 200, description = "Applied, or applied before: `{\"status\": \"ok\"}`", content_type = "application/json"), crate::server::openapi::Errors))]
pub async fn passcreator(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    let configured = state.config.hooks.passcreator.as_ref();
    let Some(configured) = configured else {
        return not_configured(Provider::Passcreator, "no [hooks.passcreator] secret");
    };
    let Ok(Path((secret, event))) = path else {
        return not_configured(Provider::Passcreator, "a path that does not parse");
    };
    if !hooks::path_secret_matches(configured.secret.expose(), &secret) {
        return not_configured(Provider::Passcreator, "a wrong path secret");
    }
    let body = match read_body(req, &state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let parsed = passcreator::parse(&event, &body);
    receive(&state, Provider::Passcreator, parsed).await
}

#[utoipa::path(post, operation_id = "receiveSkycorePostback", summary = "Skycore's postbacks in: the XML pass postback (both forms) and the wallet JSON postback", path = "/hooks/skycore/{secret}", tag = "hooks",
    description = "XML or JSON by content. `secret` is `[hooks.skycore] secret`; a wrong one, or none configured, is 404.",
    params(("secret" = String, Path, description = "`[hooks.skycore] secret`")),
    request_body(content = String, content_type = "application/xml", description = "`<POSTBACK>` (GENERATE_PASS), or the wallet JSON postback (`status-code` N801 … N807)"),
    responses((status = 200, description = "Applied, or applied before: `{\"status\": \"ok\"}`", content_type = "application/json"), crate::server::openapi::Errors))]
pub async fn skycore(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let Some(configured) = state.config.hooks.skycore.as_ref() else {
        return not_configured(Provider::Skycore, "no [hooks.skycore] secret");
    };
    let Ok(Path(secret)) = path else {
        return not_configured(Provider::Skycore, "a path that does not parse");
    };
    if !hooks::path_secret_matches(configured.secret.expose(), &secret) {
        return not_configured(Provider::Skycore, "a wrong path secret");
    }
    let body = match read_body(req, &state).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    receive(&state, Provider::Skycore, hooks::skycore(&body)).await
}

/// The same 404 for a provider not configured and a wrong secret: nothing tells a guesser
/// which it was (the log does, for whoever runs the counter).
fn not_configured(provider: Provider, why: &str) -> Response {
    tracing::warn!(%provider, reason = why, "provider webhook refused: 404");
    ApiError::not_found("no such route").into_response()
}

/// The raw body, under the service's limit.
async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {e}"))
        }
    })
}

/// A parsed (or refused) event: judged by its time, applied through the writer, answered.
async fn receive(
    state: &AppState,
    provider: Provider,
    parsed: Result<HookEvent, HookError>,
) -> Response {
    let now = Timestamp::now();
    let event = match parsed
        .and_then(|e| hooks::check_fresh(e.at, now, state.config.hooks.max_age_seconds).map(|()| e))
    {
        Ok(e) => e,
        Err(e) => return refused(provider, None, hook_error(&e)),
    };
    let name = event.event_name.clone();
    let applied = state.db.write(move |s| apply::apply(s, &event, now)).await;
    let applied = match applied {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return refused(provider, Some(&name), apply_error(e)),
        Err(e) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            )
            .into_response()
        }
    };
    let outcome = match &applied {
        Applied::Done {
            outcome,
            pass_id,
            changed,
        } => {
            tracing::info!(%provider, event = %name, outcome, pass_id = pass_id.as_deref(), "provider webhook applied");
            if *changed {
                // The changed pass goes up to the hub (webhooks out find it in the outbox).
                state.sync.push();
            }
            *outcome
        }
        Applied::Repeat {
            outcome, pass_id, ..
        } => {
            tracing::info!(%provider, event = %name, outcome, pass_id = pass_id.as_deref(), "provider webhook repeated: already applied, nothing changed");
            "repeat"
        }
    };
    let mut res = (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response();
    res.headers_mut()
        .insert(OUTCOME_HEADER, HeaderValue::from_static(outcome));
    res
}

/// A refusal, logged with its reason.
fn refused(provider: Provider, event: Option<&str>, e: ApiError) -> Response {
    if e.status.is_client_error() {
        tracing::warn!(%provider, event, status = e.status.as_u16(), code = e.code, pointer = e.pointer.as_deref(), reason = %e.detail, "provider webhook refused");
    }
    e.into_response()
}

fn hook_error(e: &HookError) -> ApiError {
    let status = match e {
        HookError::NotJson(_)
        | HookError::NotXml(_)
        | HookError::Field { .. }
        | HookError::UnknownEvent(_) => StatusCode::BAD_REQUEST,
        HookError::MissingSignature | HookError::BadSignature => StatusCode::UNAUTHORIZED,
        HookError::TooOld { .. } | HookError::InFuture { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let out = ApiError::new(status, e.code(), e.to_string());
    match e.pointer() {
        Some(p) => out.at(p),
        None => out,
    }
}

fn apply_error(e: ApplyError) -> ApiError {
    match e {
        ApplyError::UnknownPass(_) => ApiError::unprocessable(e.code(), e.to_string()),
        ApplyError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string()),
        ApplyError::Store(s) => s.into(),
    }
}
