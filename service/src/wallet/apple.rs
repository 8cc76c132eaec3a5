//! `[wallet.apple]` loaded: the Pass Type ID certificate, its key and the WWDR intermediate
//! read into a [`PassSigner`], the merchant's identity, the VAS key our readers decrypt taps
//! with; and a pass's `.pkpass` built from what [`super::inputs`] read of it.

use super::inputs::PassRecord;
use super::AppleWallet;
use crate::config::{AppleWalletConfig, NfcConfig};
use passdesk_core::wallet::apple::{
    build_pkpass, AppleIdentity, PassImages, PassInputs, PassSigner, WalletError, WebService,
};
use passdesk_core::Timestamp;
use passdesk_hardware::nfc::{KeyError, VasReaderKey};
use std::path::Path;
use std::sync::Arc;

/// Why `[wallet.apple]` did not load: which file (or setting) and why, in the manager's words.
/// Never key material: only file names and the parsers' descriptions reach it.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {why}")]
pub struct LoadError {
    what: String,
    why: String,
}

impl LoadError {
    fn new(what: impl Into<String>, why: impl std::fmt::Display) -> Self {
        Self {
            what: what.into(),
            why: why.to_string(),
        }
    }

    fn file(setting: &str, path: &Path, why: impl std::fmt::Display) -> Self {
        Self::new(format!("{setting} {}", path.display()), why)
    }
}

fn read(setting: &str, path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::file(setting, path, format!("cannot read it: {e}")))
}

/// The signer and the rest of `[wallet.apple]`, checked as a phone would check the passes it
/// signs: the key is the certificate's, the WWDR certificate issued it, it is made for the
/// configured Pass Type ID, and it is valid `now`.
pub fn load(
    cfg: &AppleWalletConfig,
    nfc: &NfcConfig,
    now: Timestamp,
) -> Result<AppleWallet, LoadError> {
    let wwdr = read("wwdr", &cfg.wwdr)?;
    // Which file a signer error is about: `WalletError::Credential` names its input.
    let credentials_file = |e: WalletError| -> LoadError {
        let path = match &e {
            WalletError::Credential { what: "wwdr", .. }
            | WalletError::WrongIntermediate { .. } => Some(("wwdr", &cfg.wwdr)),
            WalletError::Credential {
                what: "certificate",
                ..
            } => cfg.certificate.as_ref().map(|p| ("certificate", p)),
            WalletError::Credential { what: "p12", .. } => cfg.p12.as_ref().map(|p| ("p12", p)),
            _ => cfg
                .key
                .as_ref()
                .map(|p| ("key", p))
                .or(cfg.p12.as_ref().map(|p| ("p12", p))),
        };
        match path {
            Some((setting, p)) => LoadError::file(setting, p, e),
            None => LoadError::new("[wallet.apple]", e),
        }
    };
    let signer = match (&cfg.certificate, &cfg.key, &cfg.p12) {
        (Some(certificate), Some(key), None) => PassSigner::from_pem(
            &read("certificate", certificate)?,
            &read("key", key)?,
            &wwdr,
        )
        .map_err(credentials_file)?,
        (None, None, Some(p12)) => {
            let password = cfg
                .p12_password
                .as_ref()
                .map(|p| p.expose())
                .unwrap_or_default();
            PassSigner::from_p12(&read("p12", p12)?, password, &wwdr).map_err(credentials_file)?
        }
        _ => {
            return Err(LoadError::new(
                "[wallet.apple]",
                "name either certificate and key (PEM files) or p12 (with p12_password), not both",
            ))
        }
    };
    let identity = AppleIdentity {
        pass_type_id: cfg.pass_type_id.trim().to_owned(),
        team_id: cfg.team_id.trim().to_owned(),
        organization_name: cfg.organization_name.trim().to_owned(),
    };
    for (name, value) in [
        ("pass_type_id", &identity.pass_type_id),
        ("team_id", &identity.team_id),
        ("organization_name", &identity.organization_name),
    ] {
        if value.is_empty() {
            return Err(LoadError::new(format!("[wallet.apple] {name}"), "is empty"));
        }
    }
    let certificate_setting = || match (&cfg.certificate, &cfg.p12) {
        (Some(p), _) => format!("certificate {}", p.display()),
        (None, Some(p)) => format!("p12 {}", p.display()),
        (None, None) => "certificate".to_owned(),
    };
    if let Some(certified) = signer.pass_type_id() {
        if certified != identity.pass_type_id {
            return Err(LoadError::new(
                certificate_setting(),
                format!(
                    "made for Pass Type ID {certified:?}, but [wallet.apple] pass_type_id is {:?}",
                    identity.pass_type_id
                ),
            ));
        }
    }
    if signer.not_after() <= now {
        return Err(LoadError::new(
            certificate_setting(),
            format!(
                "expired {}: renew the Pass Type ID certificate in Apple's developer portal",
                signer.not_after().to_rfc3339()
            ),
        ));
    }
    let nfc_key = match nfc.vas_key_files.first() {
        None => None,
        Some(path) => Some(
            VasReaderKey::from_file(path)
                .map_err(|e| {
                    // The error names the file again; say it once.
                    let why = match e {
                        KeyError::InFile { error, .. } => error.to_string(),
                        KeyError::File { detail, .. } => detail,
                        other => other.to_string(),
                    };
                    LoadError::file("[nfc] vas_key_files", path, why)
                })?
                .public_key(),
        ),
    };
    if nfc_key.is_none() {
        tracing::info!(
            "no [nfc] vas_key_files: Apple Wallet passes from this counter carry no nfc \
             dictionary and are read by their QR code"
        );
    } else if !nfc.vas_pass_type_ids.contains(&identity.pass_type_id) {
        tracing::warn!(
            pass_type_id = %identity.pass_type_id,
            "[wallet.apple] pass_type_id is not among [nfc] vas_pass_type_ids: our readers will \
             not ask phones for the passes this counter issues"
        );
    }
    let web_service_url = cfg
        .web_service_url
        .as_deref()
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty());
    Ok(AppleWallet {
        signer: Arc::new(signer),
        identity,
        nfc_key,
        web_service_url,
    })
}

impl AppleWallet {
    /// The signed `.pkpass` of what was read of a pass, signed `now`. CPU work (an RSA
    /// signature, a zip): call it off the async threads and off the store's connections.
    pub fn build(&self, record: &PassRecord, now: Timestamp) -> Result<Vec<u8>, WalletError> {
        let web_service = match (&self.web_service_url, &record.token) {
            (Some(url), Some(token)) => Some(WebService {
                url,
                authentication_token: token.as_str(),
            }),
            _ => None,
        };
        let inputs = PassInputs {
            nfc_key: self.nfc_key.as_ref(),
            web_service,
            ..PassInputs::new(&self.identity, record.facts())
        };
        build_pkpass(&inputs, &PassImages::new(), &self.signer, now)
    }
}
