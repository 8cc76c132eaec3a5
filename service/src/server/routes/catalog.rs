//! Templates (`/api/v1/passTemplates`), events (`/api/v1/events`) and readers
//! (`/api/v1/readers`), in PassEntry's shapes: `{"event": {...}}` / `{"reader": {...}}` in,
//! JSON:API resources out.

use super::doc;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::json::{time_field, JsonBody};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::catalog::ReaderError;
use passdesk_core::local_day::TimeZone;
use passdesk_core::pass::{Event, PassType, Template};
use passdesk_core::reader::{Direction, Reader, ReaderChanges};
use passdesk_core::scan::ReaderId;
use passdesk_core::{catalog, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

fn template_resource(t: &Template) -> Value {
    json!({ "id": t.id, "type": "passTemplate", "attributes": { "name": t.name, "templateType": t.pass_type.as_str() } })
}

fn event_resource(e: &Event) -> Value {
    json!({ "id": e.id, "type": "event", "attributes": {
        "name": e.name, "venueName": e.venue_name, "startTime": e.start_time, "endTime": e.end_time, "timeZone": e.time_zone,
    }})
}

pub(crate) fn reader_resource(r: &Reader) -> Value {
    json!({ "id": r.id, "type": "reader", "attributes": {
        "name": r.name, "readerType": r.reader_type, "eventUuid": r.event_id, "direction": r.direction,
        "scanEnabled": r.scan_enabled, "redeemEnabled": r.redeem_enabled, "addPointsEnabled": r.add_points_enabled,
        "acceptIds": r.accept_ids, "exitEnabled": r.exit_enabled,
    }})
}

#[utoipa::path(get, operation_id = "listTemplates", summary = "List pass templates", path = "/passTemplates", tag = "templates", responses((status = 200, description = "Templates", body = crate::server::schemas::TemplateList), crate::server::openapi::Errors))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let all = state
        .db
        .read(|s| catalog::list_templates(s.conn()))
        .await??;
    Ok(doc(all.iter().map(template_resource).collect()))
}

#[utoipa::path(get, operation_id = "getTemplate", summary = "Get a pass template", path = "/passTemplates/{id}", tag = "templates", params(("id" = String, Path)), responses((status = 200, description = "A template", body = crate::server::schemas::TemplateDoc), crate::server::openapi::Errors))]
pub async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let lookup = id.clone();
    let t = state
        .db
        .read(move |s| catalog::get_template(s.conn(), &lookup))
        .await??;
    Ok(doc(template_resource(&t.ok_or_else(|| {
        ApiError::not_found(format!("no template {id:?}"))
    })?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateBody {
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$")]
    id: Option<String>,
    name: String,
    #[serde(default)]
    template_type: Option<String>,
}

#[utoipa::path(post, operation_id = "createTemplate", summary = "Create a pass template", path = "/passTemplates", tag = "templates", request_body = TemplateBody, responses((status = 201, description = "The template", body = crate::server::schemas::TemplateDoc), crate::server::openapi::Errors))]
pub async fn create_template(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<TemplateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let name = non_empty("/name", &b.name)?;
    let t = Template {
        id: resource_id("/id", b.id)?,
        name,
        pass_type: PassType::new(b.template_type.unwrap_or_else(|| PassType::GENERIC.into())),
    };
    let saved = t.clone();
    state
        .db
        .write(move |s| catalog::upsert_template(s.conn(), &saved, Timestamp::now()))
        .await??;
    Ok((StatusCode::CREATED, doc(template_resource(&t))))
}

/// Ids a client chooses: 1 to 128 letters, digits, `_ - . :` (PassEntry's hex ids fit).
fn resource_id(pointer: &str, id: Option<String>) -> ApiResult<String> {
    let Some(id) = id else {
        return Ok(uuid::Uuid::now_v7().to_string());
    };
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if !ok {
        return Err(ApiError::unprocessable(
            "invalid_id",
            "an id is 1 to 128 letters, digits, '_', '-', '.' or ':'",
        )
        .at(pointer));
    }
    Ok(id)
}

fn non_empty(pointer: &str, v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 200 {
        return Err(
            ApiError::unprocessable("invalid_value", "must be 1 to 200 characters").at(pointer),
        );
    }
    Ok(v.to_owned())
}

#[utoipa::path(get, operation_id = "listEvents", summary = "List events", path = "/events", tag = "events", responses((status = 200, description = "Events", body = crate::server::schemas::EventList), crate::server::openapi::Errors))]
pub async fn list_events(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let all = state.db.read(|s| catalog::list_events(s.conn())).await??;
    Ok(doc(all.iter().map(event_resource).collect()))
}

#[utoipa::path(get, operation_id = "getEvent", summary = "Get an event", path = "/events/{id}", tag = "events", params(("id" = String, Path)), responses((status = 200, description = "An event", body = crate::server::schemas::EventDoc), crate::server::openapi::Errors))]
pub async fn get_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let lookup = id.clone();
    let e = state
        .db
        .read(move |s| catalog::get_event(s.conn(), &lookup))
        .await??;
    Ok(doc(event_resource(&e.ok_or_else(|| {
        ApiError::not_found(format!("no event {id:?}"))
    })?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventBody {
    event: EventFields,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventFields {
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,128}$")]
    id: Option<String>,
    name: String,
    venue_name: Option<String>,
    start_datetime: Option<String>,
    end_datetime: Option<String>,
    time_zone: Option<String>,
}

/// An event's `timeZone`: an IANA name (its gates count their day there), or 422.
fn time_zone(pointer: &str, name: Option<&str>) -> ApiResult<Option<TimeZone>> {
    name.map(str::parse::<TimeZone>)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_time_zone", e.to_string()).at(pointer))
}

#[utoipa::path(post, operation_id = "createEvent", summary = "Create an event", path = "/events", tag = "events", request_body = EventBody, responses((status = 201, description = "The event", body = crate::server::schemas::EventDoc), crate::server::openapi::Errors))]
pub async fn create_event(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<EventBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let f = b.event;
    let e = Event {
        id: resource_id("/event/id", f.id)?,
        name: non_empty("/event/name", &f.name)?,
        venue_name: f.venue_name,
        start_time: time_field("/event/startDatetime", f.start_datetime.as_deref())?,
        end_time: time_field("/event/endDatetime", f.end_datetime.as_deref())?,
        time_zone: time_zone("/event/timeZone", f.time_zone.as_deref())?
            .unwrap_or(TimeZone::UTC)
            .name()
            .to_owned(),
    };
    let saved = e.clone();
    state
        .db
        .write(move |s| catalog::upsert_event(s.conn(), &saved, Timestamp::now()))
        .await??;
    Ok((StatusCode::CREATED, doc(event_resource(&e))))
}

#[utoipa::path(get, operation_id = "listReaders", summary = "List readers", path = "/readers", tag = "readers", responses((status = 200, description = "Readers", body = crate::server::schemas::ReaderList), crate::server::openapi::Errors))]
pub async fn list_readers(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let all = state.db.read(|s| catalog::list_readers(s.conn())).await??;
    Ok(doc(all.iter().map(reader_resource).collect()))
}

#[utoipa::path(get, operation_id = "getReader", summary = "Get a reader", path = "/readers/{id}", tag = "readers", params(("id" = String, Path)), responses((status = 200, description = "A reader", body = crate::server::schemas::ReaderDoc), crate::server::openapi::Errors))]
pub async fn get_reader(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let lookup = id.clone();
    let r = state
        .db
        .read(move |s| catalog::get_reader(s.conn(), &lookup))
        .await??;
    Ok(doc(reader_resource(&r.ok_or_else(|| {
        ApiError::not_found(format!("no reader {id:?}"))
    })?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderBody {
    reader: ReaderFields,
}

/// PassEntry's reader fields (`password`, `qrEnabled`, ... accepted and ignored where they
/// mean nothing to a counter) plus Passdesk's `eventUuid`, `direction`, `acceptIds` and
/// `exitEnabled`. A new reader has only what the body enables (scan is on unless turned off).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderFields {
    #[schema(pattern = "^[A-Za-z0-9_.:-]{1,64}$")]
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type", alias = "readerType")]
    reader_type: Option<String>,
    event_uuid: Option<String>,
    direction: Option<String>,
    scan_enabled: Option<bool>,
    redeem_enabled: Option<bool>,
    add_points_enabled: Option<bool>,
    /// A typed pass id or extId admits here, flagged `typed_id` (default false).
    accept_ids: Option<bool>,
    /// A scan may give its `direction` here (default: true for an exit reader, else false).
    exit_enabled: Option<bool>,
    password: Option<String>,
    qr_enabled: Option<bool>,
    mifare_classic_nfc_enabled: Option<bool>,
    ndef_tag_scanning_enabled: Option<bool>,
}

async fn save_reader(
    state: &AppState,
    id: String,
    f: ReaderFields,
    mode: catalog::SaveMode,
) -> ApiResult<Reader> {
    ReaderId::parse(&id)
        .map_err(|e| ApiError::unprocessable("invalid_reader", e.to_string()).at("/reader/id"))?;
    let direction = f
        .direction
        .as_deref()
        .map(str::parse::<Direction>)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_direction", e).at("/reader/direction"))?;
    let _ = (
        &f.password,
        f.qr_enabled,
        f.mifare_classic_nfc_enabled,
        f.ndef_tag_scanning_enabled,
    );
    let changes = ReaderChanges {
        name: f.name,
        reader_type: f.reader_type,
        event_id: f.event_uuid,
        direction,
        scan_enabled: f.scan_enabled,
        redeem_enabled: f.redeem_enabled,
        add_points_enabled: f.add_points_enabled,
        accept_ids: f.accept_ids,
        exit_enabled: f.exit_enabled,
    };
    let saved = state
        .db
        .write(move |s| {
            s.write(|tx| catalog::save_reader(tx, &id, changes, mode, Timestamp::now()))
        })
        .await?;
    saved.map_err(|e| match e {
        ReaderError::NotFound(_) => ApiError::not_found(e.to_string()),
        // The API upserts: a reader that exists is changed, never refused.
        ReaderError::Exists(_) => ApiError::internal(e.to_string()),
        ReaderError::UnknownEvent(_) => {
            ApiError::unprocessable("unknown_event", e.to_string()).at("/reader/eventUuid")
        }
        ReaderError::Setting(s) => ApiError::unprocessable("invalid_value", s.to_string())
            .at(format!("/reader/{}", s.field())),
        ReaderError::Store(e) => e.into(),
    })
}

#[utoipa::path(post, operation_id = "createReader", summary = "Register a reader", path = "/readers", tag = "readers", request_body = ReaderBody, responses((status = 201, description = "The reader", body = crate::server::schemas::ReaderDoc), crate::server::openapi::Errors))]
pub async fn create_reader(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<ReaderBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Manager)?;
    let id = b.reader.id.clone().ok_or_else(|| {
        ApiError::unprocessable("missing_id", "a reader needs an id").at("/reader/id")
    })?;
    let r = save_reader(&state, id, b.reader, catalog::SaveMode::Upsert).await?;
    Ok((StatusCode::CREATED, doc(reader_resource(&r))))
}

#[utoipa::path(patch, operation_id = "updateReader", summary = "Change a reader's settings", path = "/readers/{id}", tag = "readers", params(("id" = String, Path)), request_body = ReaderBody, responses((status = 200, description = "The reader", body = crate::server::schemas::ReaderDoc), crate::server::openapi::Errors))]
pub async fn update_reader(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ReaderBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let r = save_reader(&state, id, b.reader, catalog::SaveMode::Update).await?;
    Ok(doc(reader_resource(&r)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplatePatch {
    name: Option<String>,
    template_type: Option<String>,
}

#[utoipa::path(patch, operation_id = "updateTemplate", summary = "Change a pass template", path = "/passTemplates/{id}", tag = "templates", params(("id" = String, Path)), request_body = TemplatePatch,
    responses((status = 200, description = "The template", body = crate::server::schemas::TemplateDoc), crate::server::openapi::Errors))]
pub async fn update_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TemplatePatch>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let name = b
        .name
        .as_deref()
        .map(|n| non_empty("/name", n))
        .transpose()?;
    let saved = state
        .db
        .write(move |s| -> ApiResult<Template> {
            let mut t = catalog::get_template(s.conn(), &id)?
                .ok_or_else(|| ApiError::not_found(format!("no template {id:?}")))?;
            if let Some(n) = name {
                t.name = n;
            }
            if let Some(kind) = b.template_type {
                t.pass_type = PassType::new(kind);
            }
            catalog::upsert_template(s.conn(), &t, Timestamp::now())?;
            Ok(t)
        })
        .await??;
    Ok(doc(template_resource(&saved)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventPatchBody {
    event: EventPatch,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventPatch {
    name: Option<String>,
    venue_name: Option<String>,
    start_datetime: Option<String>,
    end_datetime: Option<String>,
    time_zone: Option<String>,
}

#[utoipa::path(patch, operation_id = "updateEvent", summary = "Change an event", path = "/events/{id}", tag = "events", params(("id" = String, Path)), request_body = EventPatchBody,
    responses((status = 200, description = "The event", body = crate::server::schemas::EventDoc), crate::server::openapi::Errors))]
pub async fn update_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<EventPatchBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let f = b.event;
    let start = time_field("/event/startDatetime", f.start_datetime.as_deref())?;
    let end = time_field("/event/endDatetime", f.end_datetime.as_deref())?;
    let zone = time_zone("/event/timeZone", f.time_zone.as_deref())?;
    let name = f
        .name
        .as_deref()
        .map(|n| non_empty("/event/name", n))
        .transpose()?;
    let saved = state
        .db
        .write(move |s| -> ApiResult<Event> {
            let mut e = catalog::get_event(s.conn(), &id)?
                .ok_or_else(|| ApiError::not_found(format!("no event {id:?}")))?;
            if let Some(n) = name {
                e.name = n;
            }
            if f.venue_name.is_some() {
                e.venue_name = f.venue_name;
            }
            e.start_time = start.or(e.start_time);
            e.end_time = end.or(e.end_time);
            if let Some(tz) = zone {
                e.time_zone = tz.name().to_owned();
            }
            catalog::upsert_event(s.conn(), &e, Timestamp::now())?;
            Ok(e)
        })
        .await??;
    Ok(doc(event_resource(&saved)))
}
