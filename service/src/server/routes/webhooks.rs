//! Outbound webhooks over HTTP: subscriptions (`/api/v1/webhook-subscriptions`, in PassEntry's
//! JSON:API shape: `{"webhookSubscription": {...}}` in, a `webhookSubscription` resource out)
//! and the delivery log (`/api/v1/webhook-deliveries`, with retry). The storage is
//! `passdesk_core::webhook`; the delivery worker sends what these routes queue.
//!
//! A subscription's `secretKey` is in two answers only: the one that made it and the one that
//! rotated it. No list or get shows it, and nothing here logs it.

use super::{doc, page_doc};
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::json::JsonBody;
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::webhook::deliveries::{self, Attempt, Delivery};
use passdesk_core::webhook::secret::Secret;
use passdesk_core::webhook::subscriptions::{
    self, Change, EventFilter, NewSubscription, Subscription, WebhookUrl,
};
use passdesk_core::webhook::{EventType, Format};
use passdesk_core::{StoreError, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

/// The collection's path, for the links of its pages.
const SUBSCRIPTIONS: &str = "/api/v1/webhook-subscriptions";
const DELIVERIES: &str = "/api/v1/webhook-deliveries";

/// A subscription as the API shows it; `secret` only in the answers of create and rotate.
pub fn subscription_resource(s: &Subscription, secret: Option<&Secret>) -> Value {
    let mut attributes = json!({
        "url": s.url,
        "enabled": s.enabled,
        "subscribedEvents": s.subscribed_events.names(),
        "format": s.format,
        "disabledReason": s.disabled_reason,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "lastSuccessAt": s.last_success_at,
        "failingSince": s.failing_since,
        "lastError": s.last_error,
        "backlog": s.backlog,
    });
    if let Some(secret) = secret {
        attributes["secretKey"] = json!(secret.expose());
    }
    json!({ "id": s.id, "type": "webhookSubscription", "attributes": attributes })
}

/// A delivery as the API shows it (its attempts, when asked, go in `included`).
pub fn delivery_resource(d: &Delivery) -> Value {
    json!({ "id": d.id, "type": "webhookDelivery", "attributes": {
        "subscriptionId": d.subscription_id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "eventName": d.event_name,
        "eventAt": d.event_at,
        "state": d.state,
        "attempts": d.attempts,
        "nextAttemptAt": d.next_attempt_at,
        "createdAt": d.created_at,
        "doneAt": d.done_at,
        "lastStatus": d.last_status,
        "lastError": d.last_error,
    }})
}

fn attempt_resource(delivery_id: &str, a: &Attempt) -> Value {
    json!({ "id": format!("{delivery_id}.{}", a.n), "type": "webhookAttempt", "attributes": a })
}

fn no_subscription(id: &str) -> ApiError {
    ApiError::not_found(format!("no webhook subscription {id:?}"))
}

fn no_delivery(id: &str) -> ApiError {
    ApiError::not_found(format!("no webhook delivery {id:?}"))
}

/// Tells the delivery worker that a delivery is due now.
fn wake_worker(state: &AppState) {
    state.webhooks.notify_one();
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSubscriptionBody {
    webhook_subscription: WebhookSubscriptionFields,
}

/// A new subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSubscriptionFields {
    /// Where the events are posted: an http or https URL with a host.
    #[schema(max_length = 2048, example = "https://pos.example/hooks/passdesk")]
    url: String,
    /// Off: its deliveries wait, and are sent when it is turned on again (default true).
    enabled: Option<bool>,
    /// PassEntry's event names (`passScanned` is taken as `passTapped`); absent or empty: every
    /// event.
    #[schema(value_type = Option<Vec<crate::server::schemas::WebhookEventName>>)]
    subscribed_events: Option<Vec<String>>,
    /// The body format (default passentry).
    #[schema(value_type = Option<Format>)]
    format: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSubscriptionPatchBody {
    webhook_subscription: WebhookSubscriptionPatch,
}

/// What to change; a field left out stays as it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSubscriptionPatch {
    #[schema(max_length = 2048, example = "https://pos.example/hooks/passdesk")]
    url: Option<String>,
    /// Turning a subscription on sends its waiting deliveries at once.
    enabled: Option<bool>,
    /// An empty list: every event.
    #[schema(value_type = Option<Vec<crate::server::schemas::WebhookEventName>>)]
    subscribed_events: Option<Vec<String>>,
    #[schema(value_type = Option<Format>)]
    format: Option<String>,
}

/// The body's fields parsed, each error pointing at its field.
fn parse_url(v: &str) -> ApiResult<WebhookUrl> {
    WebhookUrl::parse(v)
        .map_err(|e| ApiError::unprocessable("invalid_url", e).at("/webhookSubscription/url"))
}

fn parse_format(v: &str) -> ApiResult<Format> {
    v.parse::<Format>()
        .map_err(|e| ApiError::unprocessable("invalid_format", e).at("/webhookSubscription/format"))
}

fn parse_events(names: &[String]) -> ApiResult<EventFilter> {
    for (i, name) in names.iter().enumerate() {
        EventType::parse_subscribed(name).map_err(|e| {
            ApiError::unprocessable("invalid_event", e)
                .at(format!("/webhookSubscription/subscribedEvents/{i}"))
        })?;
    }
    EventFilter::parse(names).map_err(|e| {
        ApiError::unprocessable("invalid_event", e).at("/webhookSubscription/subscribedEvents")
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageQuery {
    /// From 1.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    per_page: Option<u32>,
}

/// `page` and `perPage`, checked.
fn paging(page: Option<u32>, per_page: Option<u32>) -> ApiResult<(u32, u32)> {
    let per_page = per_page.unwrap_or(100);
    if !(1..=1000).contains(&per_page) {
        return Err(
            ApiError::bad_request("perPage must be between 1 and 1000").parameter("perPage")
        );
    }
    Ok((page.unwrap_or(1).max(1), per_page))
}

#[utoipa::path(post, operation_id = "createWebhookSubscription", summary = "Subscribe a URL to the counter's events", path = "/webhook-subscriptions", tag = "webhooks", request_body = WebhookSubscriptionBody,
    responses((status = 201, description = "The subscription, with its secretKey (shown in this answer and after a rotation only)", body = crate::server::schemas::WebhookSubscriptionDoc), crate::server::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<WebhookSubscriptionBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let f = b.webhook_subscription;
    let new = NewSubscription {
        url: parse_url(&f.url)?,
        format: f
            .format
            .as_deref()
            .map(parse_format)
            .transpose()?
            .unwrap_or(Format::PassEntry),
        events: parse_events(f.subscribed_events.as_deref().unwrap_or_default())?,
        enabled: f.enabled.unwrap_or(true),
        secret: None,
    };
    let (sub, secret) = state
        .db
        .write(move |s| s.write(|tx| subscriptions::create(tx, new, Timestamp::now())))
        .await??;
    // The URL stays out of the log: a receiver's URL may carry its own access token.
    tracing::info!(subscription_id = %sub.id, format = %sub.format, "webhook subscription created");
    Ok((
        StatusCode::CREATED,
        doc(subscription_resource(&sub, Some(&secret))),
    ))
}

#[utoipa::path(get, operation_id = "listWebhookSubscriptions", summary = "List webhook subscriptions", path = "/webhook-subscriptions", tag = "webhooks", params(PageQuery),
    responses((status = 200, description = "A page of subscriptions, oldest first (no secrets)", body = crate::server::schemas::WebhookSubscriptionPage), crate::server::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let (subs, total) = state
        .db
        .read(move |s| subscriptions::page(s.conn(), page, per_page))
        .await??;
    let data = subs
        .iter()
        .map(|s| subscription_resource(s, None))
        .collect();
    Ok(page_doc(data, total, page, per_page, SUBSCRIPTIONS, ""))
}

#[utoipa::path(get, operation_id = "getWebhookSubscription", summary = "Get a webhook subscription", path = "/webhook-subscriptions/{id}", tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, description = "The subscription (no secret)", body = crate::server::schemas::WebhookSubscriptionDoc), crate::server::openapi::Errors))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let sub = state
        .db
        .read(move |s| subscriptions::get(s.conn(), &lookup))
        .await??
        .ok_or_else(|| no_subscription(&id))?;
    Ok(doc(subscription_resource(&sub, None)))
}

#[utoipa::path(patch, operation_id = "updateWebhookSubscription", summary = "Change a webhook subscription (turn it on or off, its URL, events or format)", path = "/webhook-subscriptions/{id}", tag = "webhooks", params(("id" = String, Path, description = "Subscription id")), request_body = WebhookSubscriptionPatchBody,
    responses((status = 200, description = "The subscription (no secret)", body = crate::server::schemas::WebhookSubscriptionDoc), crate::server::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<WebhookSubscriptionPatchBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let f = b.webhook_subscription;
    let change = Change {
        url: f.url.as_deref().map(parse_url).transpose()?,
        format: f.format.as_deref().map(parse_format).transpose()?,
        events: f
            .subscribed_events
            .as_deref()
            .map(parse_events)
            .transpose()?,
        enabled: f.enabled,
    };
    let turning_on = change.enabled == Some(true);
    let lookup = id.clone();
    let sub = state
        .db
        .write(move |s| s.write(|tx| subscriptions::update(tx, &lookup, change, Timestamp::now())))
        .await??
        .ok_or_else(|| no_subscription(&id))?;
    if turning_on {
        // Its waiting deliveries were made due now.
        wake_worker(&state);
    }
    Ok(doc(subscription_resource(&sub, None)))
}

#[utoipa::path(delete, operation_id = "deleteWebhookSubscription", summary = "Delete a webhook subscription and its delivery log", path = "/webhook-subscriptions/{id}", tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted: nothing more is sent to it"), crate::server::openapi::Errors))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let deleted = state
        .db
        .write(move |s| s.write(|tx| subscriptions::delete(tx, &lookup)))
        .await??;
    if !deleted {
        return Err(no_subscription(&id));
    }
    tracing::info!(subscription_id = %id, "webhook subscription deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, operation_id = "rotateWebhookSecret", summary = "Give a webhook subscription a new secret", path = "/webhook-subscriptions/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    description = "The old secret signs nothing from now on, retries of earlier events included.",
    responses((status = 200, description = "The subscription with its new secretKey (shown in this answer only)", body = crate::server::schemas::WebhookSubscriptionDoc), crate::server::openapi::Errors))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let rotated = state
        .db
        .write(move |s| {
            s.write(|tx| -> Result<_, StoreError> {
                let now = Timestamp::now();
                let Some(secret) = subscriptions::rotate_secret(tx, &lookup, now)? else {
                    return Ok(None);
                };
                Ok(subscriptions::get(tx, &lookup)?.map(|sub| (sub, secret)))
            })
        })
        .await??;
    let (sub, secret) = rotated.ok_or_else(|| no_subscription(&id))?;
    tracing::info!(subscription_id = %sub.id, "webhook secret rotated");
    Ok(doc(subscription_resource(&sub, Some(&secret))))
}

#[utoipa::path(post, operation_id = "testWebhookSubscription", summary = "Send a test event to a webhook subscription", path = "/webhook-subscriptions/{id}/test", tag = "webhooks", params(("id" = String, Path, description = "Subscription id")),
    description = "Queues the test event (`webhookTest`) in the subscription's format, due now: it is sent, retried and logged like any other delivery.",
    responses((status = 202, description = "The queued delivery", body = crate::server::schemas::WebhookDeliveryDoc), crate::server::openapi::Errors))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let delivery = state
        .db
        .write(move |s| s.write(|tx| deliveries::enqueue_test(tx, &lookup, Timestamp::now())))
        .await??
        .ok_or_else(|| no_subscription(&id))?;
    wake_worker(&state);
    Ok((StatusCode::ACCEPTED, doc(delivery_resource(&delivery))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only this subscription's deliveries.
    subscription_id: Option<String>,
    /// `failed`: only those given up (kept for `retry`).
    #[param(value_type = Option<crate::server::schemas::DeliveryStateFilter>, inline)]
    state: Option<String>,
    #[param(minimum = 1)]
    page: Option<u32>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    per_page: Option<u32>,
}

#[utoipa::path(get, operation_id = "listWebhookDeliveries", summary = "The webhook delivery log, newest first", path = "/webhook-deliveries", tag = "webhooks", params(DeliveryQuery),
    responses((status = 200, description = "A page of deliveries, newest first", body = crate::server::schemas::WebhookDeliveryPage), crate::server::openapi::Errors))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<DeliveryQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let failed_only = match q.state.as_deref() {
        None => false,
        Some("failed") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state can only be failed (the deliveries given up), not {other:?}"
            ))
            .parameter("state"))
        }
    };
    let mut echo = Vec::new();
    if let Some(sub) = &q.subscription_id {
        echo.push(format!("subscriptionId={}", super::passes::url_encode(sub)));
    }
    if failed_only {
        echo.push("state=failed".to_owned());
    }
    let filter = deliveries::Filter {
        subscription_id: q.subscription_id,
        failed_only,
    };
    let (found, total) = state
        .db
        .read(move |s| deliveries::page(s.conn(), &filter, page, per_page))
        .await??;
    let data = found.iter().map(delivery_resource).collect();
    Ok(page_doc(
        data,
        total,
        page,
        per_page,
        DELIVERIES,
        &echo.join("&"),
    ))
}

#[utoipa::path(get, operation_id = "getWebhookDelivery", summary = "A webhook delivery and its attempts", path = "/webhook-deliveries/{id}", tag = "webhooks", params(("id" = String, Path, description = "Delivery id")),
    responses((status = 200, description = "The delivery, its attempts oldest first in `included`", body = crate::server::schemas::WebhookDeliveryDetailDoc), crate::server::openapi::Errors))]
pub async fn get_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let (delivery, attempts) = state
        .db
        .read(move |s| deliveries::get(s.conn(), &lookup))
        .await??
        .ok_or_else(|| no_delivery(&id))?;
    let included: Vec<Value> = attempts
        .iter()
        .map(|a| attempt_resource(&delivery.id, a))
        .collect();
    Ok(Json(
        json!({ "data": delivery_resource(&delivery), "included": included }),
    ))
}

#[utoipa::path(post, operation_id = "retryWebhookDelivery", summary = "Send a webhook delivery again", path = "/webhook-deliveries/{id}/retry", tag = "webhooks", params(("id" = String, Path, description = "Delivery id")),
    description = "A failed (or pending) delivery becomes due now, its attempts counted afresh. A delivered one is never sent again (409).",
    responses((status = 202, description = "The delivery, due now", body = crate::server::schemas::WebhookDeliveryDoc), crate::server::openapi::Errors))]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let lookup = id.clone();
    let delivery = state
        .db
        .write(move |s| s.write(|tx| deliveries::retry(tx, &lookup, Timestamp::now())))
        .await??
        .ok_or_else(|| no_delivery(&id))?;
    if delivery.state == deliveries::State::Delivered {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_delivered",
            format!(
                "delivery {id:?} was answered with a 2xx already: it is never sent again (a test event or a new event can be)"
            ),
        ));
    }
    wake_worker(&state);
    Ok((StatusCode::ACCEPTED, doc(delivery_resource(&delivery))))
}
