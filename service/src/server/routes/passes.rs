//! `/api/v1/passes`: list with PassEntry's filters and pagination, get (by id or extId), issue
//! in store (the barcode defaults to a signed PD1 token), update and void.

use super::wallet::{self, PassSource};
use super::{doc, page_doc};
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::idempotency::IdempotencyKey;
use crate::server::json::{time_field, JsonBody};
use crate::server::query::{time_param, QueryParams};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::holder_link;
use passdesk_core::issue_requests::{self, RequestHash};
use passdesk_core::loyalty;
use passdesk_core::pass::{Barcode, Pass, PassStatus};
use passdesk_core::pass_store::{self, PassFilter};
use passdesk_core::scan::ScanValue;
use passdesk_core::token::TokenClaims;
use passdesk_core::{catalog, outbox, passentry, Store, StoreError, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    status: Option<String>,
    device_type: Option<String>,
    group_tag: Option<String>,
    pass_template_uuid: Option<String>,
    pass_template_name: Option<String>,
    event_uuid: Option<String>,
    event_name: Option<String>,
    created_after: Option<String>,
    created_before: Option<String>,
    /// Passdesk: holder name, email, extId, barcode or NFC value contains this.
    search: Option<String>,
    fields: Option<String>,
    include_pass_design: Option<bool>,
    include_locations: Option<bool>,
    include_beacons: Option<bool>,
}

#[utoipa::path(get, operation_id = "listPasses", summary = "List and search passes", path = "/passes", tag = "passes", params(ListQuery), responses((status = 200, description = "A page of passes", body = crate::server::schemas::PassPage), crate::server::openapi::Errors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(100);
    if !(1..=1000).contains(&per_page) {
        return Err(
            ApiError::bad_request("perPage must be between 1 and 1000").parameter("perPage")
        );
    }
    let status = q
        .status
        .as_deref()
        .map(str::parse::<PassStatus>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()).parameter("status"))?;
    let created_after = time_param("createdAfter", q.created_after.as_deref())?;
    let created_before = time_param("createdBefore", q.created_before.as_deref())?;
    let fields: Option<Vec<String>> = q.fields.as_deref().map(|f| {
        f.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let query_string = echo_query(&q);
    let (template_name, event_name) = (q.pass_template_name.clone(), q.event_name.clone());
    let mut filter = PassFilter {
        status,
        template_id: q.pass_template_uuid,
        event_id: q.event_uuid,
        group_tag: q.group_tag,
        device_type: q.device_type,
        created_after,
        created_before,
        text: q.search,
        limit: per_page,
        offset: (page - 1).saturating_mul(per_page),
    };
    let (passes, total) = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let conn = s.conn();
            // Names filter through the ids they name; an unknown name matches nothing.
            if let Some(name) = template_name {
                let id = catalog::list_templates(conn)?
                    .into_iter()
                    .find(|t| t.name == name)
                    .map(|t| t.id);
                filter.template_id = Some(id.unwrap_or_else(|| "\u{0}none".into()));
            }
            if let Some(name) = event_name {
                let id = catalog::list_events(conn)?
                    .into_iter()
                    .find(|e| e.name == name)
                    .map(|e| e.id);
                filter.event_id = Some(id.unwrap_or_else(|| "\u{0}none".into()));
            }
            let passes = pass_store::list_passes(conn, &filter)?;
            let total = pass_store::count_matching(conn, &filter)?;
            let resources = passes
                .iter()
                .map(|p| resource(s, p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((resources, total))
        })
        .await??;
    let data = passes
        .into_iter()
        .map(|r| sparse(r, fields.as_deref()))
        .collect();
    Ok(page_doc(
        data,
        total,
        page,
        per_page,
        "/api/v1/passes",
        &query_string,
    ))
}

/// The filters of a list request, to repeat in its links.
fn echo_query(q: &ListQuery) -> String {
    let pairs = [
        ("status", &q.status),
        ("deviceType", &q.device_type),
        ("groupTag", &q.group_tag),
        ("passTemplateUuid", &q.pass_template_uuid),
        ("passTemplateName", &q.pass_template_name),
        ("eventUuid", &q.event_uuid),
        ("eventName", &q.event_name),
        ("createdAfter", &q.created_after),
        ("createdBefore", &q.created_before),
        ("search", &q.search),
        ("fields", &q.fields),
    ];
    let _ = (
        q.include_pass_design,
        q.include_locations,
        q.include_beacons,
    );
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", url_encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// A query value for a link (the collections repeat their filters in `links`).
pub(super) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Keeps only the requested attributes (PassEntry's sparse `fields`).
fn sparse(mut resource: Value, fields: Option<&[String]>) -> Value {
    if let (Some(fields), Some(Value::Object(attrs))) = (fields, resource.get_mut("attributes")) {
        attrs.retain(|k, _| fields.iter().any(|f| f == k));
    }
    resource
}

/// A pass resource with its template and event names and this node's download page.
fn resource(s: &Store, p: &Pass) -> Result<Value, StoreError> {
    let conn = s.conn();
    let template = catalog::get_template(conn, &p.template_id)?.map(|t| t.name);
    let event = match &p.event_id {
        Some(id) => catalog::get_event(conn, id)?.map(|e| e.name),
        None => None,
    };
    let mut r = passentry::pass_resource(p, template.as_deref(), event.as_deref());
    // The holder's page, by its unguessable link (never by id or extId).
    let page = holder_link::token_of(conn, &p.id)?.map(|t| t.path());
    r["attributes"]["downloadUrl"] = json!(page);
    Ok(r)
}

/// The pass a path names (id, extId, barcode or NFC value: `pass_store::find`).
fn find(s: &Store, id: &str) -> Result<Option<Pass>, StoreError> {
    Ok(pass_store::find(s.conn(), id)?.map(|found| found.pass))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetQuery {
    /// `apple` or `google`: the pass's wallet file in `data.attributes.passSource`
    /// (`appleBase64`: the signed .pkpass in base64; `googleDownloadUrl`: the Add to Google
    /// Wallet link), unless the pass is `active` on a device (`meta.passSource` says so). 409
    /// `appleWalletNotSetUp` / `googleWalletNotSetUp` when this counter cannot make it.
    include_pass_source: Option<String>,
    include_pass_design: Option<bool>,
    include_locations: Option<bool>,
    include_beacons: Option<bool>,
}

#[utoipa::path(get, operation_id = "getPass", summary = "Get a pass by id or extId", path = "/passes/{id}", tag = "passes", params(("id" = String, Path, description = "Pass id, or its extId"), GetQuery), responses((status = 200, description = "The pass, with meta.loyalty when it has some", body = crate::server::schemas::PassDoc), crate::server::openapi::Errors))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<GetQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let source = PassSource::parse(q.include_pass_source.as_deref())?;
    if let Some(source) = source {
        source.require_ready(&state)?;
    }
    let lookup = id.clone();
    let found = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let Some(p) = find(s, &lookup)? else {
                return Ok(None);
            };
            let view = loyalty::view(s.conn(), &p.id, &p.template_id)?;
            Ok(Some((resource(s, &p)?, view, p.id, p.status)))
        })
        .await??;
    let (resource, view, pass_id, status) =
        found.ok_or_else(|| ApiError::not_found(format!("no pass with id or extId {id:?}")))?;
    let _ = (
        q.include_pass_design,
        q.include_locations,
        q.include_beacons,
    );
    let mut body = json!({ "data": resource });
    if let Some(v) = view {
        body["meta"] = json!({ "loyalty": v });
    }
    if let Some(source) = source {
        wallet::attach(&state, &mut body, source, &pass_id, status).await?;
    }
    Ok(Json(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuery {
    pass_template: Option<String>,
    ext_id: Option<String>,
    /// `apple` or `google`: the pass's wallet file in `data.attributes.passSource`
    /// (`appleBase64`: the signed .pkpass in base64; `googleDownloadUrl`: the Add to Google
    /// Wallet link), unless the pass is `active` on a device (`meta.passSource` says so). 409
    /// `appleWalletNotSetUp` / `googleWalletNotSetUp` when this counter cannot make it.
    include_pass_source: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBody {
    /// The template (also accepted as the `passTemplate` query parameter, as PassEntry takes it).
    pass_template: Option<String>,
    ext_id: Option<String>,
    group_tag: Option<String>,
    /// Passdesk: the event a ticket is for.
    event_uuid: Option<String>,
    /// Template values (`fullName`, ...) plus the `qr` and `nfc` options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pass: Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    locations: Vec<Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    beacons: Vec<Value>,
    expires_at: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    /// Passdesk: an initial loyalty balance.
    initial_balance: Option<i64>,
}

/// What a `POST /passes` asks for, however it was sent (template and extId in the body or the
/// query, times with any offset, keys in any order): what a retry under the same
/// `Idempotency-Key` must match. `includePassSource` is left out: it changes the answer, not
/// the pass.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueRequest<'a> {
    pass_template: &'a str,
    ext_id: Option<&'a str>,
    group_tag: Option<&'a str>,
    event_uuid: Option<&'a str>,
    pass: &'a Map<String, Value>,
    locations: &'a [Value],
    beacons: &'a [Value],
    expires_at: Option<Timestamp>,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    initial_balance: Option<i64>,
}

/// The header on a 201 that answers a retry with the pass the first request made.
const REPLAYED: &str = "Idempotent-Replayed";

/// Issues a pass: the pass, its `passCreated` event, its initial balance (an override in the
/// loyalty ledger, with its own event) and its `Idempotency-Key` commit in one transaction, or
/// none of them does. A retry under the same key with the same request answers 201 with the
/// pass the first one made, as it is now, and `Idempotent-Replayed: true`; nothing is made.
#[utoipa::path(post, operation_id = "createPass", summary = "Issue a pass", path = "/passes", tag = "passes", params(CreateQuery, ("Idempotency-Key" = Option<String>, Header, description = "A UUID: a retry of the same request under the same key answers the pass the first one made (201, with Idempotent-Replayed: true) and makes nothing; another request under the same key is 409")), request_body = CreateBody, responses((status = 201, description = "The new pass (or, for a retry under the same Idempotency-Key, the pass the first request made)", body = crate::server::schemas::PassDoc, headers(("Idempotent-Replayed" = String, description = "true when this answers a retry with the pass made earlier"))), crate::server::openapi::Errors))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    QueryParams(q): QueryParams<CreateQuery>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, HeaderMap, Json<Value>)> {
    caller.require(Role::Manager)?;
    // Checked before anything is written: a bad parameter, or a wallet that cannot make the
    // file asked for, must not leave a pass behind.
    let source = PassSource::parse(q.include_pass_source.as_deref())?;
    if let Some(source) = source {
        source.require_ready(&state)?;
    }
    let mut out = json!({});
    let template_id = body
        .pass_template
        .clone()
        .or(q.pass_template)
        .ok_or_else(|| {
            ApiError::unprocessable(
                "missing_template",
                "say which template: passTemplate in the body or the query",
            )
            .at("/passTemplate")
        })?;
    if body.locations.len() > 10 || body.beacons.len() > 10 {
        return Err(
            ApiError::unprocessable("too_many", "at most 10 locations and 10 beacons")
                .at("/locations"),
        );
    }
    let expires_at = time_field("/expiresAt", body.expires_at.as_deref())?;
    let valid_from = time_field("/validFrom", body.valid_from.as_deref())?;
    let valid_until = time_field("/validUntil", body.valid_until.as_deref())?;
    let mut content = body.pass.clone();
    let qr = content.remove("qr");
    let nfc = content.remove("nfc");
    let (qr_value, display_text) = match &qr {
        None | Some(Value::Null) => (None, true),
        Some(Value::Object(o)) => {
            let value = match o.get("value") {
                None | Some(Value::Null) => None,
                Some(Value::String(v)) => {
                    let ok = ScanValue::parse(v.as_bytes())
                        .map(|s| s.as_str() == v)
                        .unwrap_or(false);
                    if !ok {
                        return Err(ApiError::unprocessable("invalid_value", "qr.value must be 1 to 4096 bytes of text without control characters or surrounding spaces").at("/pass/qr/value"));
                    }
                    Some(v.clone())
                }
                Some(_) => {
                    return Err(
                        ApiError::bad_request("qr.value must be a string").at("/pass/qr/value")
                    )
                }
            };
            (
                value,
                o.get("displayText")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
            )
        }
        Some(_) => return Err(ApiError::bad_request("qr must be an object").at("/pass/qr")),
    };
    let nfc_enabled = match &nfc {
        None | Some(Value::Null) => true,
        Some(Value::Object(o)) => o.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        Some(_) => return Err(ApiError::bad_request("nfc must be an object").at("/pass/nfc")),
    };
    let ext_id = body.ext_id.clone().or(q.ext_id);
    let claim = match key.key() {
        None => None,
        Some(k) => {
            let request = IssueRequest {
                pass_template: &template_id,
                ext_id: ext_id.as_deref(),
                group_tag: body.group_tag.as_deref(),
                event_uuid: body.event_uuid.as_deref(),
                pass: &body.pass,
                locations: &body.locations,
                beacons: &body.beacons,
                expires_at,
                valid_from,
                valid_until,
                initial_balance: body.initial_balance,
            };
            let hash = RequestHash::of(&request)
                .map_err(|e| ApiError::internal(format!("cannot hash the request: {e}")))?;
            Some((k.to_owned(), hash))
        }
    };
    let node = state.node.clone();
    let zone = state.config.time_zone;
    let event_id = body.event_uuid.clone();
    let group_tag = body.group_tag.clone();
    let initial_balance = body.initial_balance;
    let created = state
        .db
        .write(move |s| -> ApiResult<(Value, bool, String, PassStatus)> {
            let now = Timestamp::now();
            let id = uuid::Uuid::now_v7().to_string();
            let (result, replayed) = s.write(|tx| -> ApiResult<(Pass, bool)> {
                // One probe of the key, inside the write lock: two retries racing each other
                // are serialised, and the second finds the first's pass.
                if let Some((key, hash)) = &claim {
                    if let Some(pass_id) = issue_requests::recall(tx, key, hash)? {
                        let pass = pass_store::get_pass(tx, &pass_id)?.ok_or_else(|| {
                            ApiError::internal(format!(
                                "the pass {pass_id} issued under this Idempotency-Key is missing"
                            ))
                        })?;
                        return Ok((pass, true));
                    }
                }
                let template = catalog::get_template(tx, &template_id)?.ok_or_else(|| {
                    ApiError::unprocessable(
                        "unknown_template",
                        format!("no template {template_id:?}"),
                    )
                    .at("/passTemplate")
                })?;
                if let Some(e) = &event_id {
                    if catalog::get_event(tx, e)?.is_none() {
                        return Err(ApiError::unprocessable(
                            "unknown_event",
                            format!("no event {e:?}"),
                        )
                        .at("/eventUuid"));
                    }
                }
                // By default the barcode is a PD1 token: every counter trusting this node admits
                // the pass offline, even before it reaches their cache.
                let barcode_value = qr_value.unwrap_or_else(|| {
                    let secs = |t: Timestamp| t.unix_ms().div_euclid(1000);
                    node.key.sign(TokenClaims {
                        tid: uuid::Uuid::now_v7().to_string(),
                        pid: id.clone(),
                        tpl: template.id.clone(),
                        evt: event_id.clone(),
                        nbf: valid_from.map(secs),
                        exp: valid_until.or(expires_at).map(secs),
                        iat: secs(now),
                        kid: String::new(),
                    })
                });
                let pass = Pass {
                    ext_id: ext_id.clone(),
                    event_id: event_id.clone(),
                    barcode: Some(Barcode {
                        kind: "qrCode".into(),
                        value: barcode_value,
                        display_text,
                    }),
                    nfc: nfc_enabled.then(|| id.clone()),
                    group_tag: group_tag.clone(),
                    pass_content: content.clone(),
                    expires_at,
                    valid_from,
                    valid_until,
                    ..Pass::new(
                        id.clone(),
                        template.id.clone(),
                        template.pass_type.clone(),
                        now,
                    )
                };
                pass_store::upsert_pass(tx, &pass).map_err(|e| {
                    if pass_store::is_constraint_violation(&e) {
                        ApiError::new(
                            StatusCode::CONFLICT,
                            "duplicate_value",
                            "that qr value already belongs to another pass",
                        )
                        .at("/pass/qr/value")
                    } else {
                        e.into()
                    }
                })?;
                outbox::append(
                    tx,
                    outbox::topic::PASS_CREATED,
                    &pass.id,
                    &passentry::pass_resource(&pass, Some(&template.name), None),
                    now,
                )?;
                if let Some(balance) = initial_balance {
                    let op = loyalty::Operation::Override {
                        pass: pass.id.clone(),
                        balance,
                    };
                    let op_id = uuid::Uuid::now_v7().to_string();
                    // Refused (a negative balance): the error unwinds the whole transaction,
                    // the pass with it.
                    loyalty::apply_in(tx, &node.node_id, &op_id, &op, now, zone).map_err(|e| {
                        let e = ApiError::from(e);
                        if e.status.is_client_error() {
                            e.at("/initialBalance")
                        } else {
                            e
                        }
                    })?;
                }
                if let Some((key, hash)) = &claim {
                    issue_requests::remember(tx, key, hash, &pass.id, now)?;
                }
                Ok((pass, false))
            })?;
            Ok((resource(s, &result)?, replayed, result.id, result.status))
        })
        .await??;
    let (created, replayed, pass_id, status) = created;
    // The new pass goes up to the hub.
    state.sync.push();
    out["data"] = created;
    if let Some(source) = source {
        // The pass is issued whatever happens now: a file that cannot be made is said in
        // `meta`, not as an error a client would retry into a second pass.
        if let Err(e) = wallet::attach(&state, &mut out, source, &pass_id, status).await {
            tracing::warn!(pass_id = %pass_id, error = %e.detail, "the new pass's wallet file could not be made");
            out["meta"]["passSource"] = json!({
                "included": false,
                "wallet": source.name(),
                "detail": format!("the pass is issued, but its wallet file could not be made: {}", e.detail),
            });
        }
    }
    let mut headers = HeaderMap::new();
    if replayed {
        headers.insert(REPLAYED, HeaderValue::from_static("true"));
    }
    Ok((StatusCode::CREATED, headers, Json(out)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBody {
    /// Template values to set (merged into passContent); `null` removes a key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pass: Map<String, Value>,
    /// `void` / `deactivate` (the pass is rejected at every counter), or `reactivate`.
    pass_action: Option<String>,
    message: Option<String>,
    group_tag: Option<String>,
    expires_at: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    locations: Option<Vec<Value>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    beacons: Option<Vec<Value>>,
}

#[utoipa::path(patch, operation_id = "updatePass", summary = "Change, void or reactivate a pass", path = "/passes/{id}", tag = "passes", params(("id" = String, Path, description = "Pass id, or its extId")), request_body = UpdateBody, responses((status = 200, description = "The updated pass", body = crate::server::schemas::PassDoc), crate::server::openapi::Errors))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    let status = match body.pass_action.as_deref() {
        None => None,
        Some("void") => Some(PassStatus::Voided),
        Some("deactivate") => Some(PassStatus::Deactivated),
        Some("reactivate") => Some(PassStatus::Active),
        Some(other) => {
            return Err(ApiError::unprocessable(
                "invalid_action",
                format!("passAction must be void, deactivate or reactivate, not {other:?}"),
            )
            .at("/passAction"))
        }
    };
    let expires_at = time_field("/expiresAt", body.expires_at.as_deref())?;
    let _ = (&body.locations, &body.beacons);
    let updated = state
        .db
        .write(move |s| -> ApiResult<Value> {
            let now = Timestamp::now();
            let pass = s.write(|tx| -> ApiResult<Pass> {
                let Some(mut pass) = pass_store::find(tx, &id)?.map(|found| found.pass) else {
                    return Err(ApiError::not_found(format!(
                        "no pass with id or extId {id:?}"
                    )));
                };
                for (k, v) in &body.pass {
                    if v.is_null() {
                        pass.pass_content.remove(k);
                    } else if k == "qr" || k == "nfc" {
                        return Err(ApiError::unprocessable(
                            "immutable",
                            "a pass's qr and nfc values cannot change; issue a new pass",
                        )
                        .at(format!("/pass/{k}")));
                    } else {
                        pass.pass_content.insert(k.clone(), v.clone());
                    }
                }
                if let Some(st) = status {
                    pass.status = st;
                    pass.deactivated_at = match st {
                        PassStatus::Active => None,
                        _ => Some(now),
                    };
                }
                if let Some(m) = &body.message {
                    pass.latest_message = Some(m.clone());
                }
                if body.group_tag.is_some() {
                    pass.group_tag.clone_from(&body.group_tag);
                }
                if expires_at.is_some() {
                    pass.expires_at = expires_at;
                }
                pass.updated_at = now;
                pass_store::upsert_pass(tx, &pass)?;
                let topic = if matches!(status, Some(PassStatus::Voided | PassStatus::Deactivated))
                {
                    outbox::topic::PASS_VOIDED
                } else {
                    outbox::topic::PASS_UPDATED
                };
                outbox::append(
                    tx,
                    topic,
                    &pass.id,
                    &passentry::pass_resource(&pass, None, None),
                    now,
                )?;
                Ok(pass)
            })?;
            Ok(resource(s, &pass)?)
        })
        .await??;
    // The pass as changed (voided, say) goes up to the hub.
    state.sync.push();
    Ok(doc(updated))
}
