//! QR images of a pass (`/api/v1/passes/{id}/qr.svg|png?size=N`) and the pass page `/p/{id}`,
//! the `downloadUrl` a holder opens on their phone: the QR large, name and template. The page
//! needs no key (it is the holder's); it says nothing the QR code itself does not.

use super::passes::find_in;
use crate::qr_image;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use passdesk_core::api_keys::Role;
use passdesk_core::pass::Pass;
use passdesk_core::{catalog, StoreError};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SizeQuery {
    /// Pixels per QR module (2 to 40; default 8).
    size: Option<u32>,
}

/// A query that does not parse is a JSON:API 400 like every other error (axum's own answer is
/// plain text, which the document does not promise).
fn size_query(q: Result<Query<SizeQuery>, QueryRejection>) -> ApiResult<SizeQuery> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

async fn pass_and_names(
    state: &AppState,
    id: String,
) -> ApiResult<(Pass, Option<String>, Option<String>)> {
    let lookup = id.clone();
    let found = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let Some(p) = find_in(s.conn(), &lookup)? else {
                return Ok(None);
            };
            let template = catalog::get_template(s.conn(), &p.template_id)?.map(|t| t.name);
            let event = match &p.event_id {
                Some(e) => catalog::get_event(s.conn(), e)?.map(|e| e.name),
                None => None,
            };
            Ok(Some((p, template, event)))
        })
        .await??;
    found.ok_or_else(|| ApiError::not_found(format!("no pass {id:?}")))
}

fn barcode_value(p: &Pass) -> ApiResult<&str> {
    p.barcode.as_ref().map(|b| b.value.as_str()).ok_or_else(|| {
        ApiError::unprocessable("no_barcode", "this pass has no barcode value (NFC only)")
    })
}

#[utoipa::path(get, operation_id = "getPassQrSvg", summary = "A pass's QR code as SVG", path = "/passes/{id}/qr.svg", tag = "passes", params(("id" = String, Path, description = "Pass id, or its extId"), SizeQuery), responses((status = 200, description = "The QR code", content_type = "image/svg+xml"), crate::server::openapi::Errors))]
pub async fn qr_svg(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<SizeQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let q = size_query(q)?;
    qr_image_of(&state, &caller, id, q, "image/svg+xml", |v, px| {
        qr_image::svg(v, px).map(String::into_bytes)
    })
    .await
}

#[utoipa::path(get, operation_id = "getPassQrPng", summary = "A pass's QR code as PNG", path = "/passes/{id}/qr.png", tag = "passes", params(("id" = String, Path, description = "Pass id, or its extId"), SizeQuery), responses((status = 200, description = "The QR code", content_type = "image/png"), crate::server::openapi::Errors))]
pub async fn qr_png(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<SizeQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let q = size_query(q)?;
    qr_image_of(&state, &caller, id, q, "image/png", qr_image::png).await
}

/// QR images drawn at once, service-wide: each holds up to a 16 MiB buffer while it is drawn.
static RENDERING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The pass's barcode value drawn by `render` at the requested module size, on the blocking
/// pool (a large PNG is tens of milliseconds of CPU), within `qr_image`'s caps (422 past them).
async fn qr_image_of(
    state: &AppState,
    caller: &Caller,
    id: String,
    q: SizeQuery,
    content_type: &'static str,
    render: fn(&str, u32) -> Result<Vec<u8>, qr_image::QrImageError>,
) -> ApiResult<Response> {
    caller.require(Role::Cashier)?;
    let (pass, _, _) = pass_and_names(state, id).await?;
    let value = barcode_value(&pass)?.to_owned();
    let size = q.size.unwrap_or(8);
    let _turn = RENDERING
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the QR renderer is closed"))?;
    let image = tokio::task::spawn_blocking(move || render(&value, size))
        .await?
        .map_err(|e| {
            let unprocessable = ApiError::unprocessable(e.code(), e.to_string());
            match e {
                qr_image::QrImageError::TooLong(_) => unprocessable,
                _ => unprocessable.parameter("size"),
            }
        })?;
    Ok(([(header::CONTENT_TYPE, content_type)], image).into_response())
}

/// The holder's page. Not found is a plain page too: a person, not a program, reads it.
#[utoipa::path(get, operation_id = "getPassPage", path = "/p/{id}", tag = "passes",
    params(("id" = String, Path, description = "Pass id, or its extId")),
    responses((status = 200, description = "The holder's pass page", content_type = "text/html"),
              (status = 404, description = "No such pass (a page for a person)", content_type = "text/html")))]
pub async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (pass, template, event) = match pass_and_names(&state, id).await {
        Ok(found) => found,
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return (
                StatusCode::NOT_FOUND,
                Html(page_html(
                    "Pass not found",
                    "<p>This pass does not exist on this counter.</p>",
                )),
            )
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    let name = pass.holder_name().unwrap_or_default();
    let what = event.or(template).unwrap_or_default();
    let body = match pass.barcode.as_ref().map(|b| qr_image::svg(&b.value, 10)) {
        Some(Ok(svg)) => {
            let text = if pass
                .barcode
                .as_ref()
                .is_some_and(|b| b.display_text && b.value.len() <= 40)
            {
                format!(
                    "<p class=code>{}</p>",
                    escape(
                        &pass
                            .barcode
                            .as_ref()
                            .map(|b| b.value.clone())
                            .unwrap_or_default()
                    )
                )
            } else {
                String::new()
            };
            format!(
                "<div class=qr>{}</div>{text}",
                svg.trim_start_matches("<?xml version=\"1.0\" standalone=\"yes\"?>")
            )
        }
        Some(Err(_)) | None => {
            "<p>Show this page at the counter: your pass is read by NFC.</p>".to_owned()
        }
    };
    let status = if pass.is_voided() {
        "<p class=void>This pass has been voided.</p>"
    } else {
        ""
    };
    let html = page_html(
        &escape(&what),
        &format!("<h2>{}</h2>{status}{body}<p class=hint>Show this code at the entrance or the till.</p>", escape(&name)),
    );
    Html(html).into_response()
}

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;margin:0;padding:1.5em;text-align:center;background:#fff;color:#111}}\
         h1{{font-size:1.4em;margin:.2em 0}}h2{{font-size:1.2em;font-weight:normal;margin:.2em 0 1em}}\
         .qr svg{{width:min(85vw,420px);height:auto}}.code{{font-family:monospace;font-size:1.2em;letter-spacing:.1em}}\
         .void{{color:#fff;background:#b00020;padding:.5em;border-radius:.3em}}.hint{{color:#555}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
