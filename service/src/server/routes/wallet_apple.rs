//! Apple's pass update web service, at `{web_service_url}/v1/…` = `/wallet/apple/v1/…`:
//!
//! - `POST /v1/devices/{device}/registrations/{passType}/{serial}` `{"pushToken": "…"}`: 201 a
//!   new registration, 200 already registered (its push token updated).
//! - `DELETE` on the same path: 200 (also when it was not registered: the phone's wish holds).
//! - `GET /v1/devices/{device}/registrations/{passType}?passesUpdatedSince=<tag>`: 200
//!   `{"serialNumbers": [...], "lastUpdated": "<tag>"}`, or 204 when none changed. A tag we
//!   did not hand out lists them all, as Apple's guide allows.
//! - `GET /v1/passes/{passType}/{serial}`: the pass's latest `.pkpass` with `Last-Modified`;
//!   304 for an `If-Modified-Since` at or after its last change.
//! - `POST /v1/log` `{"logs": [...]}`: each line into our log (escaped, capped), 200.
//!
//! No API key: each call that names a serial number carries `Authorization: ApplePass <the
//! pass's authenticationToken>`, checked in constant time before anything is written; a wrong
//! or missing one, a pass type that is not `[wallet.apple] pass_type_id` and an unknown serial
//! are the same 401 (a guesser learns nothing), and count against the address's limit of
//! refused credentials. Apple Wallet not set up (or not loaded): 404 for every call. A
//! malformed device id, body or push token is 400 naming it. Every refusal is logged with its
//! reason (never a token) and changes nothing.

use crate::server::error::{ApiError, ApiResult};
use crate::server::json::JsonBody;
use crate::server::rate_limit::{self, Kind};
use crate::server::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use passdesk_core::wallet::apple::PKPASS_MEDIA_TYPE;
use passdesk_core::wallet::apple_token;
use passdesk_core::wallet::apple_updates::{
    self, DeviceLibraryId, PushToken, Registered, UpdateTag,
};
use passdesk_core::Timestamp;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

/// Where the service mounts Apple's web service: `[wallet.apple] web_service_url` names
/// `<this counter>/wallet/apple`.
pub const BASE: &str = "/wallet/apple";

/// At most this many lines of one `/v1/log` call are logged, each cut to this many characters.
const LOG_LINES: usize = 50;
const LOG_CHARS: usize = 1000;

/// `{"pushToken": "…"}`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    /// The APNs device token Apple gave the phone (hexadecimal).
    push_token: String,
}

/// `{"logs": ["…"]}`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LogBody {
    logs: Vec<String>,
}

/// Apple's `SerialNumbers`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SerialNumbersDoc {
    serial_numbers: Vec<String>,
    /// Our tag: give it back as `passesUpdatedSince`.
    last_updated: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedSinceQuery {
    /// The `lastUpdated` of a previous answer; absent or not ours: every pass.
    passes_updated_since: Option<String>,
}

/// The request's `Authorization: ApplePass <token>` and where it came from.
pub struct ApplePass {
    token: Option<String>,
    peer: Option<IpAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for ApplePass {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("ApplePass")
                    .then(|| rest.trim().to_owned())
            });
        Ok(Self {
            token,
            peer: rate_limit::peer(&parts.extensions),
        })
    }
}

/// Apple Wallet as loaded, or the 404 every call answers without it.
fn pass_type_id(state: &AppState, call: &str) -> ApiResult<String> {
    match state.wallets.apple.ready() {
        Some(apple) => Ok(apple.identity.pass_type_id.clone()),
        None => {
            tracing::info!(
                call,
                "Apple pass web service call refused: Apple Wallet is not set up here (404)"
            );
            Err(ApiError::not_found(
                "Apple Wallet is not set up on this counter",
            ))
        }
    }
}

/// A refusal for bad input: logged with its reason, answered as `e`.
fn refused(call: &str, e: ApiError) -> ApiError {
    tracing::warn!(call, status = e.status.as_u16(), reason = %e.detail, "Apple pass web service call refused");
    e
}

fn device_of(call: &str, text: &str) -> ApiResult<DeviceLibraryId> {
    DeviceLibraryId::parse(text).map_err(|e| {
        refused(
            call,
            ApiError::bad_request(e.to_string()).parameter("deviceLibraryIdentifier"),
        )
    })
}

/// The one check of a call that names a pass: our pass type, a pass of ours, its token. Any
/// failure is the same 401 (or 429 past the address's limit of refused credentials).
async fn authorize(
    state: &AppState,
    call: &str,
    pass: &ApplePass,
    ours: &str,
    pass_type: &str,
    serial: &str,
) -> ApiResult<()> {
    let why = if pass_type != ours {
        Some("another pass type id")
    } else if let Some(token) = pass.token.clone() {
        let serial = serial.to_owned();
        let matches = state
            .db
            .read(move |s| apple_token::token_matches(s.conn(), &serial, &token))
            .await??;
        (!matches).then_some("a token that is not the pass's (or no such pass)")
    } else {
        Some("no `Authorization: ApplePass <token>` header")
    };
    let Some(why) = why else {
        return Ok(());
    };
    tracing::warn!(
        call,
        reason = why,
        "Apple pass web service call refused (401)"
    );
    if let Some(limited) = state.limits.refuse(Kind::Refused, pass.peer) {
        return Err(limited);
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "the request is not authorized for this pass",
    ))
}

fn path_of<T>(call: &str, path: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    path.map(|Path(p)| p).map_err(|e| {
        refused(
            call,
            ApiError::bad_request(format!("the path does not parse: {e}")),
        )
    })
}

/// The body through the API's strict JSON reader (a 400 with a pointer to the field).
async fn json_of<T: serde::de::DeserializeOwned>(call: &str, body: Bytes) -> ApiResult<T> {
    JsonBody::<T>::from_request(axum::extract::Request::new(Body::from(body)), &())
        .await
        .map(|JsonBody(v)| v)
        .map_err(|e| refused(call, e))
}

#[utoipa::path(post, operation_id = "registerApplePassDevice", summary = "Apple Wallet: a phone registers a pass for update pushes", path = "/wallet/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", tag = "wallet",
    description = "Apple's pass update web service. `Authorization: ApplePass <authenticationToken>` (the pass's): without it, or wrong, 401. 404 while Apple Wallet is not set up.",
    params(("deviceLibraryIdentifier" = String, Path), ("passTypeIdentifier" = String, Path), ("serialNumber" = String, Path, description = "The pass id"),
           ("Authorization" = String, Header, description = "ApplePass <authenticationToken>")),
    request_body(content = RegisterBody, content_type = "application/json"),
    responses((status = 201, description = "Registered"), (status = 200, description = "Already registered (the push token is updated)"), crate::server::openapi::Errors))]
pub async fn register(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    pass: ApplePass,
    body: Bytes,
) -> ApiResult<StatusCode> {
    const CALL: &str = "register";
    let ours = pass_type_id(&state, CALL)?;
    let (device, pass_type, serial) = path_of(CALL, path)?;
    authorize(&state, CALL, &pass, &ours, &pass_type, &serial).await?;
    let device = device_of(CALL, &device)?;
    let RegisterBody { push_token } = json_of(CALL, body).await?;
    let push_token = PushToken::parse(&push_token)
        .map_err(|e| refused(CALL, ApiError::bad_request(e.to_string()).at("/pushToken")))?;
    let (log_serial, log_device) = (serial.clone(), device.as_str().to_owned());
    let done = state
        .db
        .write(move |s| {
            s.write(|tx| {
                apple_updates::register(
                    tx,
                    &device,
                    &pass_type,
                    &serial,
                    &push_token,
                    Timestamp::now(),
                )
            })
        })
        .await??;
    tracing::info!(pass_id = %log_serial, device = %log_device, new = done == Registered::New, "Apple Wallet device registered a pass");
    Ok(match done {
        Registered::New => StatusCode::CREATED,
        Registered::Already => StatusCode::OK,
    })
}

#[utoipa::path(delete, operation_id = "unregisterApplePassDevice", summary = "Apple Wallet: a phone unregisters a pass", path = "/wallet/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}/{serialNumber}", tag = "wallet",
    description = "Apple's pass update web service. `Authorization: ApplePass <authenticationToken>`: without it, or wrong, 401. 404 while Apple Wallet is not set up.",
    params(("deviceLibraryIdentifier" = String, Path), ("passTypeIdentifier" = String, Path), ("serialNumber" = String, Path, description = "The pass id"),
           ("Authorization" = String, Header, description = "ApplePass <authenticationToken>")),
    responses((status = 200, description = "Unregistered (or it was not registered)"), crate::server::openapi::Errors))]
pub async fn unregister(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    pass: ApplePass,
) -> ApiResult<StatusCode> {
    const CALL: &str = "unregister";
    let ours = pass_type_id(&state, CALL)?;
    let (device, pass_type, serial) = path_of(CALL, path)?;
    authorize(&state, CALL, &pass, &ours, &pass_type, &serial).await?;
    let device = device_of(CALL, &device)?;
    let (log_serial, log_device) = (serial.clone(), device.as_str().to_owned());
    let removed = state
        .db
        .write(move |s| s.write(|tx| apple_updates::unregister(tx, &device, &pass_type, &serial)))
        .await??;
    tracing::info!(pass_id = %log_serial, device = %log_device, removed, "Apple Wallet device unregistered a pass");
    Ok(StatusCode::OK)
}

#[utoipa::path(get, operation_id = "listUpdatedApplePasses", summary = "Apple Wallet: the serial numbers of a phone's passes changed since a tag", path = "/wallet/apple/v1/devices/{deviceLibraryIdentifier}/registrations/{passTypeIdentifier}", tag = "wallet",
    description = "Apple's pass update web service. 204 when none changed (or the device has none of that type). 404 while Apple Wallet is not set up.",
    params(("deviceLibraryIdentifier" = String, Path), ("passTypeIdentifier" = String, Path), UpdatedSinceQuery),
    responses((status = 200, description = "The changed passes and the tag to ask with next", body = SerialNumbersDoc), (status = 204, description = "No pass changed"), crate::server::openapi::Errors))]
pub async fn updated(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<UpdatedSinceQuery>, QueryRejection>,
) -> ApiResult<Response> {
    const CALL: &str = "passesUpdatedSince";
    let ours = pass_type_id(&state, CALL)?;
    let (device, pass_type) = path_of(CALL, path)?;
    let device = device_of(CALL, &device)?;
    // Unknown parameters are ignored: this is Apple's call, and a tag that is not ours lists
    // every pass rather than none.
    let since_text = match query {
        Ok(Query(q)) => q.passes_updated_since,
        Err(e) => Some(e.body_text()),
    };
    let since = since_text.as_deref().and_then(UpdateTag::parse);
    if since_text.is_some() && since.is_none() {
        tracing::info!(
            call = CALL,
            "a passesUpdatedSince tag that is not ours: listing every pass"
        );
    }
    if pass_type != ours {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let found = state
        .db
        .read(move |s| apple_updates::updated_since(s.conn(), &device, &pass_type, since))
        .await??;
    Ok(match found {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(found) => Json(SerialNumbersDoc {
            serial_numbers: found.serial_numbers,
            last_updated: found.last_updated.to_string(),
        })
        .into_response(),
    })
}

#[utoipa::path(get, operation_id = "getLatestApplePass", summary = "Apple Wallet: the latest version of a pass", path = "/wallet/apple/v1/passes/{passTypeIdentifier}/{serialNumber}", tag = "wallet",
    description = "Apple's pass update web service. `Authorization: ApplePass <authenticationToken>`: without it, or wrong, 401. `If-Modified-Since` at or after the pass's last change: 304. 404 while Apple Wallet is not set up.",
    params(("passTypeIdentifier" = String, Path), ("serialNumber" = String, Path, description = "The pass id"),
           ("Authorization" = String, Header, description = "ApplePass <authenticationToken>"),
           ("If-Modified-Since" = Option<String>, Header, description = "An HTTP date: the `Last-Modified` of the copy the phone has")),
    responses((status = 200, description = "The signed pass", content_type = "application/vnd.apple.pkpass"), (status = 304, description = "Not modified since"), crate::server::openapi::Errors))]
pub async fn latest(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    pass: ApplePass,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    const CALL: &str = "latestPass";
    let ours = pass_type_id(&state, CALL)?;
    let (pass_type, serial) = path_of(CALL, path)?;
    authorize(&state, CALL, &pass, &ours, &pass_type, &serial).await?;
    // The change time first, the file after: a change in between makes the file newer than
    // its `Last-Modified`, and the phone fetches it again; never the other way round.
    let id = serial.clone();
    let changed = state
        .db
        .read(move |s| apple_updates::last_modified(s.conn(), &id))
        .await??
        .ok_or_else(|| ApiError::not_found(format!("no pass {serial:?}")))?;
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let parsed = httpdate::parse_http_date(v).ok();
            if parsed.is_none() {
                tracing::info!(
                    call = CALL,
                    "an If-Modified-Since that is not an HTTP date: ignored"
                );
            }
            parsed
        });
    if since.is_some_and(|since| not_modified_since(changed, since)) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let file = state
        .wallets
        .apple_pkpass(&state.db, &serial)
        .await
        .map_err(|e| serve_error(&serial, e))?;
    let mut res = Response::new(Body::from(file));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PKPASS_MEDIA_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(last_modified_header(
        changed,
        Timestamp::now(),
    ))) {
        h.insert(header::LAST_MODIFIED, v);
    }
    tracing::info!(pass_id = %serial, "Apple Wallet fetched the latest pass");
    Ok(res)
}

fn serve_error(serial: &str, e: crate::wallet::WalletServeError) -> ApiError {
    use crate::wallet::WalletServeError as E;
    match e {
        E::NotSetUp(why) => ApiError::not_found(why),
        E::NoSuchPass(_) => ApiError::not_found(format!("no pass {serial:?}")),
        E::Store(s) => s.into(),
        E::Db(d) => d.into(),
        other => {
            ApiError::internal("the pass could not be built; the error id names it in the log")
                .caused_by(other)
        }
    }
}

/// `Last-Modified` has whole seconds; a change at 10.2 s is named 11 s (the first whole second
/// after it) once that second has passed, so a phone that sends it back gets 304 until a later
/// change. Served within the change's own second, it is named 10 s, and the phone's next ask
/// is answered in full (never a 304 that hides a change).
fn last_modified_header(changed: Timestamp, now: Timestamp) -> std::time::SystemTime {
    let secs = changed.unix_ms().div_euclid(1000);
    let after = secs + 1;
    let named = if after * 1000 <= now.unix_ms() {
        after
    } else {
        secs
    };
    UNIX_EPOCH + Duration::from_secs(u64::try_from(named).unwrap_or(0))
}

/// 304 only when the pass's last change came strictly before the instant the phone names.
fn not_modified_since(changed: Timestamp, since: std::time::SystemTime) -> bool {
    let since_ms = since
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    changed.unix_ms() < since_ms
}

#[utoipa::path(post, operation_id = "logApplePassMessages", summary = "Apple Wallet: a phone reports problems with our web service", path = "/wallet/apple/v1/log", tag = "wallet",
    description = "Apple's pass update web service. Each line goes into the counter's log. 404 while Apple Wallet is not set up.",
    request_body(content = LogBody, content_type = "application/json"),
    responses((status = 200, description = "Logged"), crate::server::openapi::Errors))]
pub async fn log(State(state): State<AppState>, body: Bytes) -> ApiResult<StatusCode> {
    const CALL: &str = "log";
    pass_type_id(&state, CALL)?;
    let LogBody { logs } = json_of(CALL, body).await?;
    let total = logs.len();
    for line in logs.iter().take(LOG_LINES) {
        let line: String = line.chars().take(LOG_CHARS).collect();
        // Debug formatting escapes newlines and control characters: a phone cannot forge lines.
        tracing::warn!(message = ?line, "Apple Wallet reports a problem with the pass web service");
    }
    if total > LOG_LINES {
        tracing::warn!(
            left_out = total - LOG_LINES,
            "Apple Wallet log lines left out"
        );
    }
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(ms)
    }

    fn secs(s: u64) -> std::time::SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn last_modified_never_hides_a_change() {
        // Served a second later: named the next whole second, and that answers 304.
        let named = last_modified_header(at(10_200), at(11_500));
        assert_eq!(named, secs(11));
        assert!(not_modified_since(at(10_200), named));
        // A later change in that same second is not hidden by it.
        assert!(!not_modified_since(at(10_700), secs(10)));
        assert!(!not_modified_since(at(11_000), named));
        // Served within the change's second: named that second, and asked again in full.
        let named = last_modified_header(at(10_200), at(10_900));
        assert_eq!(named, secs(10));
        assert!(!not_modified_since(at(10_200), named));
        assert!(!not_modified_since(at(10_000), secs(10)));
    }
}
