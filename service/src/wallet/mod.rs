//! Wallet passes served by the counter (`[wallet]`): the Apple Pass Type ID signer and the
//! Google Wallet issuer, loaded once at start, and the two things the routes ask of them: a
//! pass's signed `.pkpass`, and its "Add to Google Wallet" link.
//!
//! A wallet that is not configured, or whose files do not load, leaves the counter running:
//! issuance still works with the QR, and `/status`, the API and the screens say plainly which
//! wallet is not set up and why. Building a file never blocks the store's writer: the pass is
//! read first, the signing happens outside it.

pub mod apple;
pub mod google;
pub mod inputs;

use crate::config::Config;
use crate::server::db::{Db, DbError};
use passdesk_core::store::StoreError;
use passdesk_core::wallet::apple::{AppleIdentity, PassSigner, WalletError};
use passdesk_core::wallet::apple_token;
use passdesk_core::Timestamp;
use serde::Serialize;
use std::sync::Arc;

/// Both wallets as this counter has them, and the address phones reach its holder pages at.
pub struct Wallets {
    pub apple: Readiness<AppleWallet>,
    pub google: Readiness<GoogleWallet>,
    /// `[wallet] holder_base_url`, without a trailing `/`.
    pub holder_base_url: Option<String>,
}

/// A wallet's state on this counter.
pub enum Readiness<T> {
    /// No `[wallet.apple]` / `[wallet.google]` table.
    NotConfigured,
    /// Configured, but it did not load: why, in the manager's words (never key material).
    Broken(String),
    Ready(T),
}

impl<T> Readiness<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Readiness::Ready(t) => Some(t),
            _ => None,
        }
    }

    fn line(&self, wallet: &str) -> WalletLine {
        match self {
            Readiness::NotConfigured => WalletLine {
                state: WalletState::NotConfigured,
                detail: Some(format!(
                    "{wallet} is not set up on this counter ([wallet.{}] in passdesk.toml)",
                    if wallet == "Apple Wallet" {
                        "apple"
                    } else {
                        "google"
                    }
                )),
            },
            Readiness::Broken(why) => WalletLine {
                state: WalletState::Broken,
                detail: Some(format!("{wallet} is set up but cannot be used: {why}")),
            },
            Readiness::Ready(_) => WalletLine {
                state: WalletState::Ready,
                detail: None,
            },
        }
    }
}

/// `.pkpass` files signed at once, service-wide: each is an RSA signature's worth of CPU, and
/// the counter's two cores also decide scans.
static SIGNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// What signs `.pkpass` files here. A clone is cheap (the signer is shared): the blocking
/// task that signs takes one.
#[derive(Clone)]
pub struct AppleWallet {
    /// Shared with the blocking tasks that sign.
    pub signer: Arc<PassSigner>,
    pub identity: AppleIdentity,
    /// The public half of the VAS reader key (`[nfc] vas_key_files`, the first): written into
    /// each pass's `nfc.encryptionPublicKey`, so our own readers decrypt its taps. `None`: the
    /// passes carry no `nfc` dictionary.
    pub nfc_key: Option<p256::PublicKey>,
    /// `[wallet.apple] web_service_url`, without a trailing `/`.
    pub web_service_url: Option<String>,
}

/// What signs "Add to Google Wallet" links here.
pub use google::GoogleWallet;

/// Why a wallet file or link could not be made for a pass.
#[derive(Debug, thiserror::Error)]
pub enum WalletServeError {
    /// The wallet is not configured, or did not load: the line `/status` shows.
    #[error("{0}")]
    NotSetUp(String),
    #[error("no pass {0:?}")]
    NoSuchPass(String),
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `/status`'s `wallet`: each wallet's state and the holder pages' address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletStatus {
    pub apple: WalletLine,
    pub google: WalletLine,
    /// Where phones reach the holder pages (`[wallet] holder_base_url`); null: not set, so the
    /// manager screen cannot show a QR a phone can follow.
    pub holder_base_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletLine {
    pub state: WalletState,
    /// Why it cannot be used; null when ready.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum WalletState {
    Ready,
    NotConfigured,
    Broken,
}

impl Wallets {
    /// Loads what `[wallet]` names. Never fails: a wallet that does not load is `Broken`, and
    /// the reason is logged once here and shown on `/status`.
    pub fn load(config: &Config) -> Self {
        let apple = match &config.wallet.apple {
            None => Readiness::NotConfigured,
            Some(cfg) => match apple::load(cfg, &config.nfc, Timestamp::now()) {
                Ok(wallet) => {
                    tracing::info!(
                        pass_type_id = %wallet.identity.pass_type_id,
                        certificate = %wallet.signer.subject(),
                        "Apple Wallet passes are signed on this counter"
                    );
                    Readiness::Ready(wallet)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Apple Wallet is set up but cannot be used");
                    Readiness::Broken(e.to_string())
                }
            },
        };
        let google = match &config.wallet.google {
            None => Readiness::NotConfigured,
            Some(cfg) => match google::load(cfg) {
                Ok(wallet) => {
                    tracing::info!(
                        issuer_id = %wallet.issuer.issuer_id,
                        service_account = wallet.key.client_email(),
                        "Add to Google Wallet links are signed on this counter"
                    );
                    Readiness::Ready(wallet)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Google Wallet is set up but cannot be used");
                    Readiness::Broken(e.to_string())
                }
            },
        };
        Self {
            apple,
            google,
            holder_base_url: config
                .wallet
                .holder_base_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    pub fn status(&self) -> WalletStatus {
        WalletStatus {
            apple: self.apple.line("Apple Wallet"),
            google: self.google.line("Google Wallet"),
            holder_base_url: self.holder_base_url.clone(),
        }
    }

    /// The pass's signed `.pkpass` (`application/vnd.apple.pkpass`), as of now. `pass_id` is
    /// the pass's id exactly. One read of the pass; a write only the first time a pass gets
    /// its `authenticationToken` (with a web service URL set); the signing on the blocking
    /// pool, never holding a store connection.
    pub async fn apple_pkpass(
        &self,
        db: &Arc<Db>,
        pass_id: &str,
    ) -> Result<Vec<u8>, WalletServeError> {
        let apple = self.apple_ready()?.clone();
        let id = pass_id.to_owned();
        let mut record = db
            .read(move |s| inputs::read(s.conn(), &id))
            .await??
            .ok_or_else(|| WalletServeError::NoSuchPass(pass_id.to_owned()))?;
        // Written durably (the writer, not the background path): the phone may hold the file
        // a second later, and a token lost to a power cut would leave it unable to update.
        if apple.web_service_url.is_some() && record.token.is_none() {
            let id = pass_id.to_owned();
            record.token = Some(
                db.write(move |s| apple_token::token_for(s.conn(), &id, Timestamp::now()))
                    .await??,
            );
        }
        // The semaphore is never closed; were it, signing would go on without a turn.
        let _turn = SIGNING.acquire().await.ok();
        let pkpass = tokio::task::spawn_blocking(move || apple.build(&record, Timestamp::now()))
            .await
            .map_err(|e| WalletError::Sign(format!("the signing task failed: {e}")))??;
        Ok(pkpass)
    }

    /// The pass's "Add to Google Wallet" link (`https://pay.google.com/gp/v/save/<jwt>`), as
    /// of now. `pass_id` is the pass's id exactly. One read of the pass; the signing on the
    /// blocking pool, never holding a store connection.
    pub async fn google_save_url(
        &self,
        db: &Arc<Db>,
        pass_id: &str,
    ) -> Result<String, WalletServeError> {
        let google = match &self.google {
            Readiness::Ready(g) => g.clone(),
            other => {
                return Err(WalletServeError::NotSetUp(
                    other.line("Google Wallet").detail.unwrap_or_default(),
                ))
            }
        };
        let id = pass_id.to_owned();
        let record = db
            .read(move |s| inputs::read(s.conn(), &id))
            .await??
            .ok_or_else(|| WalletServeError::NoSuchPass(pass_id.to_owned()))?;
        let url = tokio::task::spawn_blocking(move || {
            google.save_url(&record, passdesk_core::Timestamp::now())
        })
        .await
        .map_err(DbError::from)?
        // Signing is the only way a link fails once the key has loaded.
        .map_err(|e| WalletError::Pass {
            pass_id: pass_id.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(url)
    }

    fn apple_ready(&self) -> Result<&AppleWallet, WalletServeError> {
        match &self.apple {
            Readiness::Ready(a) => Ok(a),
            other => Err(WalletServeError::NotSetUp(
                other.line("Apple Wallet").detail.unwrap_or_default(),
            )),
        }
    }
}
