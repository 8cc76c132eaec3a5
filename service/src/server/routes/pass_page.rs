//! QR images of a pass (`/api/v1/passes/{id}/qr.svg|png?size=N`) and the pass page
//! `/p/{token}`, the `downloadUrl` a holder opens on their phone: the QR large, name and
//! template. The page needs no key (it is the holder's), so it is found only by its link's
//! unguessable token ([`passdesk_core::holder_link`]), never by the pass id or extId: anything
//! else is the same plain 404 page, whether or not such a pass exists, without a lookup.

use crate::qr_image;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use passdesk_core::api_keys::Role;
use passdesk_core::holder_link::{self, HolderToken};
use passdesk_core::pass::Pass;
use passdesk_core::{catalog, pass_store, StoreError};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SizeQuery {
    /// Pixels per QR module (2 to 40; default 8).
    size: Option<u32>,
}

async fn pass_and_names(
    state: &AppState,
    id: String,
) -> ApiResult<(Pass, Option<String>, Option<String>)> {
    let lookup = id.clone();
    let found = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let Some(p) = pass_store::find(s.conn(), &lookup)?.map(|found| found.pass) else {
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
    QueryParams(q): QueryParams<SizeQuery>,
) -> ApiResult<Response> {
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
    QueryParams(q): QueryParams<SizeQuery>,
) -> ApiResult<Response> {
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

/// A pass and the names of its template and event, by the token of its holder link.
async fn pass_by_link(
    state: &AppState,
    token: HolderToken,
) -> ApiResult<Option<(Pass, Option<String>, Option<String>)>> {
    let found = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let conn = s.conn();
            let Some(pass_id) = holder_link::pass_id_of(conn, &token)? else {
                return Ok(None);
            };
            let Some(p) = pass_store::get_pass(conn, &pass_id)? else {
                return Ok(None);
            };
            let template = catalog::get_template(conn, &p.template_id)?.map(|t| t.name);
            let event = match &p.event_id {
                Some(e) => catalog::get_event(conn, e)?.map(|e| e.name),
                None => None,
            };
            Ok(Some((p, template, event)))
        })
        .await??;
    Ok(found)
}

/// The holder's page. Not found is a plain page too: a person, not a program, reads it.
#[utoipa::path(get, operation_id = "getPassPage", path = "/p/{token}", tag = "passes",
    params(("token" = String, Path, description = "The token of the pass's holder link (its downloadUrl): 32 hex digits, never the pass id or extId")),
    responses((status = 200, description = "The holder's pass page", content_type = "text/html"),
              (status = 404, description = "No pass has this link (a page for a person; the same for any other path)", content_type = "text/html"),
              (status = 429, description = "Too many requests from this address", body = crate::server::openapi::ErrorDoc)))]
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let found = match HolderToken::parse(&token) {
        Some(token) => pass_by_link(&state, token).await,
        None => Ok(None),
    };
    let response = match found {
        Ok(Some((pass, template, event))) => {
            Html(pass_html(&pass, template, event)).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(page_html(
                "Pass not found",
                "<p>There is no pass at this address. Check the link you were sent.</p>",
            )),
        )
            .into_response(),
        Err(e) => e.into_response(),
    };
    with_page_headers(response)
}

fn pass_html(pass: &Pass, template: Option<String>, event: Option<String>) -> String {
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
    page_html(
        &escape(&what),
        &format!("<h2>{}</h2>{status}{body}<p class=hint>Show this code at the entrance or the till.</p>", escape(&name)),
    )
}

/// The page's one stylesheet, inline: the Content-Security-Policy allows exactly it, by hash.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1.5em;text-align:center;background:#fff;color:#111}\
    h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.2em;font-weight:normal;margin:.2em 0 1em}\
    .qr svg{width:min(85vw,420px);height:auto}.code{font-family:monospace;font-size:1.2em;letter-spacing:.1em}\
    .void{color:#fff;background:#b00020;padding:.5em;border-radius:.3em}.hint{color:#555}";

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
}

/// The UI's policy (`ui::CSP`) with the page's inline style allowed by its SHA-256, never by
/// `'unsafe-inline'`.
fn page_csp() -> &'static HeaderValue {
    static CSP: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        let csp = crate::server::ui::CSP.replacen(
            "style-src 'self'",
            &format!("style-src 'self' 'sha256-{hash}'"),
            1,
        );
        HeaderValue::from_str(&csp).expect("a CSP is visible ASCII")
    });
    &CSP
}

/// A 404 page in the pass page's style (the holder files' too: `routes::wallet`).
pub(super) fn not_found_page(title: &str, text: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page_html(
            &escape(title),
            &format!("<p>{}</p>", escape(text)),
        )),
    )
        .into_response()
}

/// Every answer of `/p/…`: the CSP, and nothing kept or passed on. The link is the pass, so no
/// cache, no Referer to whatever the holder opens next, no search engine.
pub(super) fn with_page_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, page_csp().clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_is_the_uis_with_the_style_hash() {
        let csp = page_csp().to_str().unwrap();
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let ui = crate::server::ui::CSP;
        assert!(ui.contains("style-src 'self';"), "{ui}");
        // Every other directive is the UI's, word for word.
        let others = |p: &str| -> Vec<String> {
            p.split(';')
                .map(str::trim)
                .filter(|d| !d.starts_with("style-src"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(others(csp), others(ui));
        let style = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("style-src"))
            .unwrap();
        assert!(
            style.starts_with("style-src 'self' 'sha256-") && style.ends_with("='"),
            "{style}"
        );
        assert!(page_html("t", "b").contains(&format!("<style>{STYLE}</style>")));
    }
}
