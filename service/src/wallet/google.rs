//! `[wallet.google]` on the counter: the issuer's service account loaded once at start, and a
//! pass's "Add to Google Wallet" link made from the store, offline (core's `wallet::google`
//! builds the class, the object and the signed JWT; this reads the files and the pass).

use crate::config::GoogleWalletConfig;
use passdesk_core::loyalty::{self, LoyaltyView};
use passdesk_core::pass::{Event, Pass, Template};
use passdesk_core::rusqlite::{Connection, OptionalExtension as _};
use passdesk_core::store::StoreResult;
use passdesk_core::wallet::google::{
    save_jwt, save_url, GoogleInputs, GoogleIssuer, GooglePass, GoogleWalletError,
    ServiceAccountKey, SAVE_URL_SOFT_LIMIT,
};
use passdesk_core::wallet::PassDesign;
use passdesk_core::{catalog, pass_store, Timestamp};
use std::sync::Arc;

/// What signs "Add to Google Wallet" links here. A clone is cheap (the key is shared): the
/// blocking task that signs takes one.
#[derive(Clone)]
pub struct GoogleWallet {
    pub key: Arc<ServiceAccountKey>,
    pub issuer: GoogleIssuer,
    /// The JWT's `origins` (`[wallet.google] origins`).
    pub origins: Vec<String>,
}

/// Why `[wallet.google]` did not load, in the manager's words: the setting or file, and what
/// is wrong with it. Never key material (core's key errors name fields only).
#[derive(Debug, thiserror::Error)]
pub enum GoogleLoadError {
    #[error(transparent)]
    Google(#[from] GoogleWalletError),
    #[error("service_account_key {path}: cannot be read: {detail}")]
    KeyFile { path: String, detail: String },
    #[error("{setting}: {value:?} is not an https address")]
    NotHttps {
        setting: &'static str,
        value: String,
    },
    #[error(
        "origins: {0:?} is not a web origin (http://host or https://host, with a port or not)"
    )]
    Origin(String),
}

/// Reads `[wallet.google]`: the issuer id, the service account's key file, the origins and the
/// logo address.
pub fn load(cfg: &GoogleWalletConfig) -> Result<GoogleWallet, GoogleLoadError> {
    let issuer_id = cfg.issuer_id.parse()?;
    let bytes = std::fs::read(&cfg.service_account_key).map_err(|e| GoogleLoadError::KeyFile {
        path: cfg.service_account_key.display().to_string(),
        detail: e.to_string(),
    })?;
    let key = ServiceAccountKey::from_json(&bytes)?;
    let logo_url = match cfg.logo_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) if is_https(url) => Some(url.to_owned()),
        Some(url) => {
            return Err(GoogleLoadError::NotHttps {
                setting: "logo_url",
                value: url.chars().take(80).collect(),
            })
        }
    };
    let origins = cfg
        .origins
        .iter()
        .map(|o| origin(o))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GoogleWallet {
        key: Arc::new(key),
        issuer: GoogleIssuer {
            issuer_id,
            issuer_name: cfg
                .issuer_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            logo_url,
        },
        origins,
    })
}

fn is_https(url: &str) -> bool {
    url.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
}

/// A web origin as the JWT's `origins` lists it: scheme and host (and port), no path; a
/// trailing `/` is dropped.
fn origin(given: &str) -> Result<String, GoogleLoadError> {
    let o = given.trim().trim_end_matches('/');
    let host = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
        .unwrap_or("");
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '@'))
    {
        return Err(GoogleLoadError::Origin(given.chars().take(80).collect()));
    }
    Ok(o.to_owned())
}

/// A pass and what its Google object shows.
#[derive(Debug, Clone)]
pub struct GoogleRecord {
    pub pass: Pass,
    pub template: Template,
    pub design: PassDesign,
    pub loyalty: Option<LoyaltyView>,
    pub event: Option<Event>,
}

/// The pass with this id (exactly its id) and what its object shows; `None`: no such pass.
pub fn read(conn: &Connection, pass_id: &str) -> StoreResult<Option<GoogleRecord>> {
    let Some(pass) = pass_store::get_pass(conn, pass_id)? else {
        return Ok(None);
    };
    // A template removed from under its passes: the pass's own type still picks the kind.
    let template = catalog::get_template(conn, &pass.template_id)?.unwrap_or_else(|| Template {
        id: pass.template_id.clone(),
        name: String::new(),
        pass_type: pass.pass_type.clone(),
    });
    let design = design(conn, &template.id)?;
    let loyalty = loyalty::view(conn, &pass.id, &pass.template_id)?;
    let event = match &pass.event_id {
        Some(id) => catalog::get_event(conn, id)?,
        None => None,
    };
    Ok(Some(GoogleRecord {
        pass,
        template,
        design,
        loyalty,
        event,
    }))
}

/// The template's design (`templates.design`); none, or one that does not read, is the
/// default look (a warning naming the template, not a refusal: the pass is still worth saving).
fn design(conn: &Connection, template_id: &str) -> StoreResult<PassDesign> {
    let stored: Option<Option<String>> = conn
        .prepare_cached("SELECT design FROM templates WHERE id = ?1")?
        .query_row([template_id], |r| r.get(0))
        .optional()?;
    let Some(text) = stored.flatten().filter(|t| !t.trim().is_empty()) else {
        return Ok(PassDesign::default());
    };
    let design = serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| e.to_string())
        .and_then(|doc| PassDesign::from_passentry(&doc).map_err(|e| e.to_string()));
    Ok(design.unwrap_or_else(|why| {
        tracing::warn!(
            template_id,
            error = %why,
            "the template's design does not read; its Google Wallet passes get the default look"
        );
        PassDesign::default()
    }))
}

impl GoogleWallet {
    /// The pass's class and object as of `now`.
    pub fn pass(&self, record: &GoogleRecord, now: Timestamp) -> GooglePass {
        GooglePass::build(&GoogleInputs {
            issuer: &self.issuer,
            pass: &record.pass,
            template: &record.template,
            design: &record.design,
            loyalty: record.loyalty.as_ref(),
            event: record.event.as_ref(),
            now,
        })
    }

    /// The signed save link (an RSA signature: call it off the async threads).
    pub fn save_url(
        &self,
        record: &GoogleRecord,
        now: Timestamp,
    ) -> Result<String, GoogleWalletError> {
        let jwt = save_jwt(&self.key, &self.pass(record, now), &self.origins, now)?;
        let url = save_url(&jwt);
        if url.len() > SAVE_URL_SOFT_LIMIT {
            tracing::warn!(
                pass_id = %record.pass.id,
                chars = url.len(),
                "the Add to Google Wallet link is longer than Google advises; some apps may cut it"
            );
        }
        Ok(url)
    }
}
