//! QR images of a pass (`/api/v1/passes/{id}/qr.svg|png?size=N`) and the pass page
//! `/p/{token}`, the `downloadUrl` a holder opens on their phone: the QR large, name and
//! template. The page needs no key (it is the holder's), so it is found only by its link's
//! unguessable token ([`passdesk_core::holder_link`]), never by the pass id or extId: anything
//! else is the same plain 404 page, whether or not such a pass exists, without a lookup.
//!
//! The page offers the wallets this counter has ready ("Add to Apple Wallet", "Add to Google
//! Wallet") as PassEntry's download page does: by the phone's `User-Agent` ([`phone`]), and on
//! anything that is not a phone both, with a QR of the page itself to open it on one.

mod phone;

use crate::qr_image;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::query::QueryParams;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use passdesk_core::api_keys::Role;
use passdesk_core::holder_link::{self, HolderToken};
use passdesk_core::pass::Pass;
use passdesk_core::{catalog, pass_store, StoreError};
use phone::Phone;
use serde::Deserialize;
use std::net::IpAddr;

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
    responses((status = 200, description = "The holder's pass page: the admission QR, and a button for each wallet this counter has ready that the device takes, by its User-Agent (Android: Google Wallet; iPhone, iPad: Apple Wallet; anything else: both, and a QR of the page to open it on a phone). Varies by User-Agent", content_type = "text/html"),
              (status = 404, description = "No pass has this link (a page for a person; the same for any other path)", content_type = "text/html"),
              (status = 429, description = "Too many requests from this address", body = crate::server::openapi::ErrorDoc)))]
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = HolderToken::parse(&token);
    let found = match &token {
        Some(token) => pass_by_link(&state, token.clone()).await,
        None => Ok(None),
    };
    let response = match (found, token) {
        (Ok(Some((pass, template, event))), Some(token)) => {
            let offer = WalletOffer::new(
                Phone::from_user_agent(headers.get(header::USER_AGENT)),
                Ready {
                    apple: state.wallets.apple.ready().is_some(),
                    google: state.wallets.google.ready().is_some(),
                },
                &token,
                page_address(
                    state.wallets.holder_base_url.as_deref(),
                    headers.get(header::HOST),
                    &token,
                ),
            );
            Html(pass_html(&pass, template, event, &offer)).into_response()
        }
        (Ok(_), _) => (
            StatusCode::NOT_FOUND,
            Html(page_html(
                "Pass not found",
                "<p>There is no pass at this address. Check the link you were sent.</p>",
            )),
        )
            .into_response(),
        (Err(e), _) => e.into_response(),
    };
    let mut response = with_page_headers(response);
    // The buttons depend on the device that asked.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("User-Agent"));
    response
}

/// The wallets this counter can hand a pass to now.
#[derive(Debug, Clone, Copy)]
struct Ready {
    apple: bool,
    google: bool,
}

/// What a holder page offers besides the admission QR: a button per wallet the device takes
/// and the counter has ready, and, on a device that is not a phone, the way to open the page on
/// one.
#[derive(Debug, Default, PartialEq, Eq)]
struct WalletOffer {
    /// `/p/{token}/pass.pkpass`: the signed pass, which Safari hands to Wallet.
    apple: Option<String>,
    /// `/p/{token}/google`: a redirect to Google's save page.
    google: Option<String>,
    /// Not a phone: the page's own address as a QR, or `Unknown` when the address this
    /// device used is one a phone cannot reach (loopback) and none is configured.
    open_on_phone: Option<PageAddress>,
}

#[derive(Debug, PartialEq, Eq)]
enum PageAddress {
    Known(String),
    Unknown,
}

impl WalletOffer {
    fn new(phone: Phone, ready: Ready, token: &HolderToken, address: Option<String>) -> Self {
        let path = token.path();
        let apple = (ready.apple && phone != Phone::Android).then(|| format!("{path}/pass.pkpass"));
        let google = (ready.google && phone != Phone::Apple).then(|| format!("{path}/google"));
        let open_on_phone = (phone == Phone::Other && (ready.apple || ready.google))
            .then(|| address.map_or(PageAddress::Unknown, PageAddress::Known));
        Self {
            apple,
            google,
            open_on_phone,
        }
    }

    fn buttons_html(&self) -> String {
        let button = |href: &Option<String>, wallet: &str, words: &str| {
            href.as_ref()
                .map(|h| {
                    format!(
                        "<a class=wallet data-wallet={wallet} href=\"{}\">{words}</a>",
                        escape(h)
                    )
                })
                .unwrap_or_default()
        };
        let buttons = button(&self.apple, "apple", "Add to Apple Wallet")
            + &button(&self.google, "google", "Add to Google Wallet");
        if buttons.is_empty() {
            buttons
        } else {
            format!("<div class=wallets>{buttons}</div>")
        }
    }

    fn open_on_phone_html(&self) -> String {
        match &self.open_on_phone {
            None => String::new(),
            Some(PageAddress::Known(url)) => match qr_image::svg(url, 4) {
                Ok(svg) => format!(
                    "<div class=phone><p>To add this pass to your phone’s wallet, scan this code with the phone’s camera: it opens this page there.</p><div class=here>{}</div><p class=url>{}</p></div>",
                    svg.trim_start_matches(SVG_PROLOGUE),
                    escape(url)
                ),
                Err(_) => open_on_phone_words(),
            },
            Some(PageAddress::Unknown) => open_on_phone_words(),
        }
    }
}

fn open_on_phone_words() -> String {
    "<div class=phone><p>To add this pass to your phone’s wallet, open this page on the phone.</p></div>".to_owned()
}

/// The address a phone opens this page at: `[wallet] holder_base_url`, else the one this
/// request came to (its `Host`), unless that is loopback (only this PC reaches it).
fn page_address(
    base: Option<&str>,
    host: Option<&HeaderValue>,
    token: &HolderToken,
) -> Option<String> {
    let path = token.path();
    if let Some(base) = base {
        return Some(format!("{base}{path}"));
    }
    let authority: Authority = host?.to_str().ok()?.parse().ok()?;
    let name = authority.host();
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    (!loopback).then(|| format!("http://{authority}{path}"))
}

/// What `qr_image::svg` starts with; the page inlines the SVG element alone.
const SVG_PROLOGUE: &str = "<?xml version=\"1.0\" standalone=\"yes\"?>";

fn pass_html(
    pass: &Pass,
    template: Option<String>,
    event: Option<String>,
    offer: &WalletOffer,
) -> String {
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
                svg.trim_start_matches(SVG_PROLOGUE)
            )
        }
        Some(Err(_)) | None => {
            "<p>Show this page at the counter: your pass is read by NFC.</p>".to_owned()
        }
    };
    // A voided pass is not handed to a wallet: it would only be refused at the reader.
    let (status, wallets, phone) = if pass.is_voided() {
        (
            "<p class=void>This pass has been voided.</p>",
            String::new(),
            String::new(),
        )
    } else {
        ("", offer.buttons_html(), offer.open_on_phone_html())
    };
    page_html(
        &escape(&what),
        &format!("<h2>{}</h2>{status}{wallets}{body}<p class=hint>Show this code at the entrance or the till.</p>{phone}", escape(&name)),
    )
}

/// The page's one stylesheet, inline: the Content-Security-Policy allows exactly it, by hash.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1.5em;text-align:center;background:#fff;color:#111}\
    h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.2em;font-weight:normal;margin:.2em 0 1em}\
    .qr svg{width:min(85vw,420px);height:auto}.code{font-family:monospace;font-size:1.2em;letter-spacing:.1em}\
    .void{color:#fff;background:#b00020;padding:.5em;border-radius:.3em}.hint{color:#555}\
    .wallets{margin:0 auto 1.2em;max-width:20em}\
    .wallet{display:block;margin:.6em 0;padding:.85em 1em;border:1px solid #a6a6a6;border-radius:.6em;background:#000;color:#fff;font-size:1.1em;font-weight:600;text-decoration:none}\
    .phone{margin:2.5em auto 0;max-width:24em;color:#555}.here svg{width:min(60vw,220px);height:auto}.url{font-size:.8em;word-break:break-all}";

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

    fn token() -> HolderToken {
        HolderToken::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    const BOTH: Ready = Ready {
        apple: true,
        google: true,
    };

    #[test]
    fn a_phone_gets_its_own_wallet_and_anything_else_both_and_the_page_qr() {
        let t = token();
        let at = || Some("http://192.168.1.20:8917/p/0123456789abcdef0123456789abcdef".to_owned());
        let iphone = WalletOffer::new(Phone::Apple, BOTH, &t, at());
        assert_eq!(
            iphone.apple.as_deref(),
            Some("/p/0123456789abcdef0123456789abcdef/pass.pkpass")
        );
        assert_eq!((iphone.google, iphone.open_on_phone), (None, None));
        let android = WalletOffer::new(Phone::Android, BOTH, &t, at());
        assert_eq!(
            android.google.as_deref(),
            Some("/p/0123456789abcdef0123456789abcdef/google")
        );
        assert_eq!((android.apple, android.open_on_phone), (None, None));
        let desk = WalletOffer::new(Phone::Other, BOTH, &t, at());
        assert!(desk.apple.is_some() && desk.google.is_some());
        assert_eq!(desk.open_on_phone, Some(PageAddress::Known(at().unwrap())));
        let html = desk.open_on_phone_html();
        assert!(html.contains("<svg") && !html.contains("<?xml"), "{html}");
        // Without an address a phone reaches: words, no QR.
        let nowhere = WalletOffer::new(Phone::Other, BOTH, &t, None);
        assert_eq!(nowhere.open_on_phone, Some(PageAddress::Unknown));
        assert!(!nowhere.open_on_phone_html().contains("<svg"));
    }

    #[test]
    fn only_a_ready_wallet_gets_a_button_and_none_leaves_the_page_as_it_was() {
        let t = token();
        let apple_only = Ready {
            apple: true,
            google: false,
        };
        let none = Ready {
            apple: false,
            google: false,
        };
        assert_eq!(
            WalletOffer::new(Phone::Android, apple_only, &t, None),
            WalletOffer::default()
        );
        let desk = WalletOffer::new(Phone::Other, apple_only, &t, None);
        assert!(desk.apple.is_some() && desk.google.is_none());
        for phone in [Phone::Apple, Phone::Android, Phone::Other] {
            let o = WalletOffer::new(phone, none, &t, Some("http://x/p/1".into()));
            assert_eq!(o, WalletOffer::default());
            assert_eq!(o.buttons_html() + &o.open_on_phone_html(), "");
        }
    }

    #[test]
    fn the_page_address_is_the_configured_one_else_a_host_a_phone_can_reach() {
        let t = token();
        let p = "/p/0123456789abcdef0123456789abcdef";
        let host = |h: &str| HeaderValue::from_str(h).unwrap();
        assert_eq!(
            page_address(Some("http://shop.lan:8917"), Some(&host("127.0.0.1:1")), &t),
            Some(format!("http://shop.lan:8917{p}"))
        );
        assert_eq!(
            page_address(None, Some(&host("192.168.1.20:8917")), &t),
            Some(format!("http://192.168.1.20:8917{p}"))
        );
        for local in [
            "127.0.0.1:8917",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8917",
            "0.0.0.0:1",
        ] {
            assert_eq!(page_address(None, Some(&host(local)), &t), None, "{local}");
        }
        for odd in ["", "a b", "x/y", "@@", "[::1"] {
            assert_eq!(page_address(None, Some(&host(odd)), &t), None, "{odd:?}");
        }
        assert_eq!(page_address(None, None, &t), None);
        let not_text = HeaderValue::from_bytes(b"\xffhost").unwrap();
        assert_eq!(page_address(None, Some(&not_text), &t), None);
    }
}
