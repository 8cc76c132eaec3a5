//! Wallet files of a pass. In the API: PassEntry's `includePassSource=apple|google` on
//! `GET /api/v1/passes/{id}` and `POST /api/v1/passes` (`passSource.appleBase64`, the signed
//! `.pkpass` in base64; `passSource.googleDownloadUrl`, the "Add to Google Wallet" link). For
//! the holder, with no key (the holder link's token is the capability, as for its page):
//! `GET /p/{token}/pass.pkpass` and `GET /p/{token}/google`.

use super::pass_page::{not_found_page, with_page_headers};
use crate::server::error::ApiError;
use crate::server::state::AppState;
use crate::wallet::WalletServeError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use passdesk_core::holder_link::{self, HolderToken};
use passdesk_core::pass::PassStatus;
use passdesk_core::wallet::apple::{WalletError, PKPASS_MEDIA_TYPE};
use serde_json::{json, Value};

/// Which wallet's file `includePassSource` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassSource {
    Apple,
    Google,
}

impl PassSource {
    /// `includePassSource`'s value (PassEntry writes them lower case; `Apple` is taken too).
    pub fn parse(value: Option<&str>) -> Result<Option<Self>, ApiError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("apple") => Ok(Some(Self::Apple)),
            Some("google") => Ok(Some(Self::Google)),
            Some(_) => Err(ApiError::bad_request(format!(
                "includePassSource must be apple or google, not {:?}",
                value
                    .unwrap_or_default()
                    .chars()
                    .take(64)
                    .collect::<String>()
            ))
            .parameter("includePassSource")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Apple => "apple",
            Self::Google => "google",
        }
    }

    /// The error code of a request for this wallet's file when it is not set up.
    fn not_set_up_code(self) -> &'static str {
        match self {
            Self::Apple => "appleWalletNotSetUp",
            Self::Google => "googleWalletNotSetUp",
        }
    }

    /// Refuses (409, the line `/status` shows) when this wallet cannot make files here: asked
    /// before anything is looked up or issued, so a refused issuance issues nothing.
    pub fn require_ready(self, state: &AppState) -> Result<(), ApiError> {
        let line = state.wallets.status();
        let line = match self {
            Self::Apple => line.apple,
            Self::Google => line.google,
        };
        match line.detail {
            None => Ok(()),
            Some(detail) => Err(not_set_up(self, detail)),
        }
    }
}

fn not_set_up(source: PassSource, detail: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, source.not_set_up_code(), detail)
        .parameter("includePassSource")
}

/// The wallet error as the API answers it.
fn api_error(source: PassSource, e: WalletServeError) -> ApiError {
    match e {
        WalletServeError::NotSetUp(detail) => not_set_up(source, detail),
        WalletServeError::NoSuchPass(id) => ApiError::not_found(format!("no pass {id:?}")),
        WalletServeError::Wallet(e @ (WalletError::Pass { .. } | WalletError::Image { .. })) => {
            ApiError::unprocessable("walletPassRefused", e.to_string())
        }
        WalletServeError::Wallet(e) => {
            ApiError::internal(format!("the wallet file could not be made: {e}"))
        }
        WalletServeError::Store(e) => e.into(),
        WalletServeError::Db(e) => e.into(),
    }
}

/// Adds the pass's wallet file to a pass document (`data.attributes.passSource`), as
/// PassEntry does: only while the pass is not `active` on a device (then `meta.passSource`
/// says why there is none).
pub async fn attach(
    state: &AppState,
    doc: &mut Value,
    source: PassSource,
    pass_id: &str,
    status: PassStatus,
) -> Result<(), ApiError> {
    if status == PassStatus::Active {
        doc["meta"]["passSource"] = json!({
            "included": false,
            "wallet": source.name(),
            "detail": "the pass is active on a device, so its wallet file is not given again (as PassEntry does)",
        });
        return Ok(());
    }
    let attribute = match source {
        PassSource::Apple => {
            use base64::Engine as _;
            let pkpass = state
                .wallets
                .apple_pkpass(&state.db, pass_id)
                .await
                .map_err(|e| api_error(source, e))?;
            json!({ "appleBase64": base64::engine::general_purpose::STANDARD.encode(pkpass) })
        }
        PassSource::Google => {
            let url = state
                .wallets
                .google_save_url(&state.db, pass_id)
                .await
                .map_err(|e| api_error(source, e))?;
            json!({ "googleDownloadUrl": url })
        }
    };
    doc["data"]["attributes"]["passSource"] = attribute;
    doc["meta"]["passSource"] = json!({ "included": true, "wallet": source.name() });
    Ok(())
}

/// The pass id a holder link names, or `None` (a malformed token is not looked up).
async fn pass_of_link(state: &AppState, token: &str) -> Result<Option<String>, ApiError> {
    let Some(token) = HolderToken::parse(token) else {
        return Ok(None);
    };
    Ok(state
        .db
        .read(move |s| holder_link::pass_id_of(s.conn(), &token))
        .await??)
}

/// A holder file's answer to a wallet that is not set up, or to a link that names nothing.
fn holder_error(source: PassSource, e: WalletServeError) -> Response {
    match e {
        WalletServeError::NotSetUp(_) => not_found_page(
            match source {
                PassSource::Apple => "Apple Wallet is not available",
                PassSource::Google => "Google Wallet is not available",
            },
            match source {
                PassSource::Apple => "Apple Wallet is not set up on this counter. Show the QR code on your pass page instead, or ask at the counter.",
                PassSource::Google => "Google Wallet is not set up on this counter. Show the QR code on your pass page instead, or ask at the counter.",
            },
        ),
        WalletServeError::NoSuchPass(_) => pass_not_found(),
        other => {
            tracing::warn!(error = %other, wallet = source.name(), "a holder's wallet file could not be made");
            api_error(source, other).into_response()
        }
    }
}

/// The pass id as a file name in a header: ours are UUIDs; one from a provider keeps its
/// letters, digits, `-`, `_` and `.`, anything else (a quote, a slash) becomes `_`.
fn file_stem(pass_id: &str) -> String {
    pass_id
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn pass_not_found() -> Response {
    not_found_page(
        "Pass not found",
        "There is no pass at this address. Check the link you were sent.",
    )
}

/// The holder's `.pkpass`: what an iPhone opens into Apple Wallet.
#[utoipa::path(get, operation_id = "getHolderPkpass", path = "/p/{token}/pass.pkpass", tag = "passes",
    params(("token" = String, Path, description = "The token of the pass's holder link (its downloadUrl)")),
    responses((status = 200, description = "The pass's signed .pkpass", content_type = "application/vnd.apple.pkpass"),
              (status = 404, description = "No pass has this link, or Apple Wallet is not set up on this counter (a page for a person)", content_type = "text/html"),
              (status = 429, description = "Too many requests from this address", body = crate::server::openapi::ErrorDoc)))]
pub async fn holder_pkpass(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let source = PassSource::Apple;
    let response = match pass_of_link(&state, &token).await {
        Err(e) => e.into_response(),
        Ok(None) => pass_not_found(),
        Ok(Some(pass_id)) => match state.wallets.apple_pkpass(&state.db, &pass_id).await {
            Ok(pkpass) => {
                let disposition =
                    format!("attachment; filename=\"{}.pkpass\"", file_stem(&pass_id));
                let mut res = (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(PKPASS_MEDIA_TYPE),
                    )],
                    pkpass,
                )
                    .into_response();
                // Visible ASCII by construction (file_stem), so the header always parses.
                if let Ok(v) = HeaderValue::from_str(&disposition) {
                    res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
                }
                res
            }
            Err(e) => holder_error(source, e),
        },
    };
    with_page_headers(response)
}

/// The holder's "Add to Google Wallet": a redirect to Google's save link.
#[utoipa::path(get, operation_id = "getHolderGoogleWallet", path = "/p/{token}/google", tag = "passes",
    params(("token" = String, Path, description = "The token of the pass's holder link (its downloadUrl)")),
    responses((status = 303, description = "To the pass's Add to Google Wallet link (Location)"),
              (status = 404, description = "No pass has this link, or Google Wallet is not set up on this counter (a page for a person)", content_type = "text/html"),
              (status = 429, description = "Too many requests from this address", body = crate::server::openapi::ErrorDoc)))]
pub async fn holder_google(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let source = PassSource::Google;
    let response = match pass_of_link(&state, &token).await {
        Err(e) => e.into_response(),
        Ok(None) => pass_not_found(),
        Ok(Some(pass_id)) => match state.wallets.google_save_url(&state.db, &pass_id).await {
            Ok(url) => match HeaderValue::from_str(&url) {
                Ok(location) => {
                    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
                }
                Err(_) => ApiError::internal("the Google Wallet link is not a valid header value")
                    .into_response(),
            },
            Err(e) => holder_error(source, e),
        },
    };
    with_page_headers(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_keeps_only_plain_characters() {
        assert_eq!(
            file_stem("0194d6a2-7b1c-7f00-8a00-000000000001"),
            "0194d6a2-7b1c-7f00-8a00-000000000001"
        );
        assert_eq!(file_stem("a\"b/c\\d é.x"), "a_b_c_d__.x");
        assert_eq!(file_stem(&"x".repeat(500)).len(), 128);
    }

    #[test]
    fn include_pass_source_is_apple_or_google() {
        assert_eq!(PassSource::parse(None).unwrap(), None);
        assert_eq!(
            PassSource::parse(Some("apple")).unwrap(),
            Some(PassSource::Apple)
        );
        assert_eq!(
            PassSource::parse(Some("Google")).unwrap(),
            Some(PassSource::Google)
        );
        for bad in ["", "samsung", "apple,google"] {
            let e = PassSource::parse(Some(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.parameter.as_deref(), Some("includePassSource"));
        }
    }
}
