//! `[wallet.google]` on the counter: the issuer's service account loaded once at start, and a
//! pass's "Add to Google Wallet" link made offline from what `inputs::read` found in the store
//! (core's `wallet::google` builds the class, the object and the signed JWT).

use super::inputs::PassRecord;
use crate::config::GoogleWalletConfig;
use passdesk_core::wallet::google::{
    save_jwt, save_url, GoogleInputs, GoogleIssuer, GooglePass, GoogleWalletError,
    ServiceAccountKey, SAVE_URL_SOFT_LIMIT,
};
use passdesk_core::Timestamp;
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
    if logo_url.is_none() {
        tracing::warn!(
            "[wallet.google] has no logo_url: Google requires a loyalty card's logo, so store \
             cards' Add to Google Wallet links will be refused until one is set"
        );
    }
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

impl GoogleWallet {
    /// The pass's class and object as of `now`.
    pub fn pass(&self, record: &PassRecord, now: Timestamp) -> GooglePass {
        GooglePass::build(&GoogleInputs {
            issuer: &self.issuer,
            facts: record.facts(),
            now,
        })
    }

    /// The signed save link (an RSA signature: call it off the async threads).
    pub fn save_url(
        &self,
        record: &PassRecord,
        now: Timestamp,
    ) -> Result<String, GoogleWalletError> {
        let jwt = save_jwt(&self.key, &self.pass(record, now), &self.origins, now)?;
        let url = save_url(&jwt);
        // Said once a run: a counter's PD1 tokens put most of its store cards' links there.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if url.len() > SAVE_URL_SOFT_LIMIT && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                pass_id = %record.pass.id,
                chars = url.len(),
                limit = SAVE_URL_SOFT_LIMIT,
                "an Add to Google Wallet link is longer than Google advises: browsers follow it, \
                 but mail and SMS apps may cut it (said once)"
            );
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config(key: PathBuf) -> GoogleWalletConfig {
        GoogleWalletConfig {
            issuer_id: "3388000000012345678".into(),
            service_account_key: key,
            origins: vec![],
            issuer_name: None,
            logo_url: None,
        }
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert_eq!(
            origin("https://shop.example/").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            origin(" http://10.0.0.5:8917 ").unwrap(),
            "http://10.0.0.5:8917"
        );
        for bad in [
            "shop.example",
            "https://",
            "https://shop.example/page",
            "ftp://x",
        ] {
            let e = origin(bad).unwrap_err().to_string();
            assert!(e.starts_with("origins: "), "{e}");
        }
        assert!(is_https("https://cdn.example/logo.png"));
        assert!(!is_https("http://cdn.example/logo.png"));
        assert!(!is_https("https://"));
    }

    #[test]
    fn each_wrong_setting_is_named() {
        let missing = PathBuf::from("/nonexistent/passdesk-google-key.json");
        let e = load(&config(missing)).err().unwrap().to_string();
        assert!(
            e.starts_with(
                "service_account_key /nonexistent/passdesk-google-key.json: cannot be read"
            ),
            "{e}"
        );
        let mut bad_issuer = config(PathBuf::from("/nonexistent"));
        bad_issuer.issuer_id = "my-shop".into();
        let e = load(&bad_issuer).err().unwrap().to_string();
        assert!(e.starts_with("issuer_id: \"my-shop\""), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.json");
        std::fs::write(&file, b"{\"type\": \"service_account\"}").unwrap();
        let e = load(&config(file)).err().unwrap().to_string();
        assert_eq!(e, "service account key file: client_email: missing");
    }
}
