//! The APNs worker: while `passdesk serve` runs with `[wallet.apple] push = true` (and Apple
//! Wallet loaded), it tells the phones that registered a pass when the pass has changed, so
//! Wallet asks the pass update web service for it (`routes::wallet_apple`).
//!
//! - **The queue** is derived, not written: a registration is due when its pass's change time
//!   (`core::wallet::apple_updates`) is after the change time it was last pushed for. A scan
//!   and a loyalty change write nothing for it; the worker looks every 5 s (one read over the
//!   registrations: about 0.1 s at 20,000 of them on this kind of machine, so a few percent of
//!   one core at most; Wallet itself is in no hurry).
//! - **A push** is Apple's for Wallet: `POST {apns_url}/3/device/<push token>` over HTTP/2,
//!   `apns-topic: <pass type id>`, the body `{}`, authenticated by the Pass Type ID certificate
//!   and key as the TLS client certificate. One push per device and pass type, however many of
//!   its passes changed (the phone then asks which).
//! - **Answers.** 200: the registrations are marked pushed through the change times the push
//!   told of (a later change stays due). 410, or 400 `BadDeviceToken`: the token is dead, its
//!   devices and their registrations are forgotten. Anything else (offline, 429, 5xx, a
//!   refused certificate): the round stops and is tried again after a wait doubling from 1 s to
//!   a minute; the reason is on `/status` (`wallet.apple.pushError`) with the backlog
//!   (`pushBacklog`).
//! - **Writes** go through [`Db::write_background`]: after any scan waiting for the writer.
//! - **Stopping.** A push in flight is abandoned (it is sent again at the next start: a phone
//!   told twice asks twice, nothing worse).

use super::outline::{self, Backoff, Named, WorkerThread};
use super::transport;
use crate::config::AppleWalletConfig;
use crate::server::db::{Db, DbError};
use passdesk_core::store::StoreError;
use passdesk_core::wallet::apple_updates::{self, DuePush};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Apple's production APNs.
pub const APNS_URL: &str = "https://api.push.apple.com";

/// How often the worker looks for changed passes.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// The waits after a failed round: from 1 s, doubled, at most a minute.
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// How long a push may take, connecting included.
const PUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// Pushes per round (the next round takes the rest at once).
const BATCH: usize = 100;

/// What `/status` shows of the worker (`AppState::apns`).
#[derive(Debug, Default)]
pub struct ApnsSignals {
    running: AtomicBool,
    /// Pushes due after the last look (less those sent since); `u64::MAX`: not looked yet.
    backlog: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ApnsSignals {
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// The pushes due (phones and pass types) as of the worker's last look; `None` while the
    /// worker does not run or has not looked yet.
    pub fn backlog(&self) -> Option<u64> {
        let n = self.backlog.load(Ordering::Relaxed);
        (self.running() && n != u64::MAX).then_some(n)
    }

    /// Why the last round failed; `None` once a round went through.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The worker could not start (its certificate): shown as its error.
    pub fn not_started(&self, why: String) {
        self.set_error(Some(format!("the APNs worker did not start: {why}")));
    }

    fn set_error(&self, e: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }
}

/// Where and as whom the worker pushes.
pub struct Settings {
    /// `[wallet.apple] apns_url`, without a trailing `/`.
    pub url: String,
    /// The pass type id: every push's `apns-topic`.
    pub topic: String,
    /// The Pass Type ID certificate and key (PEM), the TLS client certificate.
    pub identity_pem: Vec<u8>,
}

impl Settings {
    /// From `[wallet.apple]`: the certificate and key files (PEM), or the `.p12`.
    pub fn from_config(apple: &AppleWalletConfig) -> anyhow::Result<Self> {
        let identity_pem = match (&apple.certificate, &apple.key, &apple.p12) {
            (Some(cert), Some(key), _) => {
                let mut pem = std::fs::read(cert).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read [wallet.apple] certificate {}: {e}",
                        cert.display()
                    )
                })?;
                pem.push(b'\n');
                pem.extend(std::fs::read(key).map_err(|e| {
                    anyhow::anyhow!("cannot read [wallet.apple] key {}: {e}", key.display())
                })?);
                pem
            }
            (_, _, Some(p12)) => {
                let bytes = std::fs::read(p12).map_err(|e| {
                    anyhow::anyhow!("cannot read [wallet.apple] p12 {}: {e}", p12.display())
                })?;
                let password = apple.p12_password.as_ref().map_or("", |p| p.expose());
                p12_identity_pem(&bytes, password)?
            }
            _ => anyhow::bail!("[wallet.apple] names neither certificate + key nor p12"),
        };
        Ok(Self {
            url: apple
                .apns_url
                .as_deref()
                .unwrap_or(APNS_URL)
                .trim_end_matches('/')
                .to_owned(),
            topic: apple.pass_type_id.clone(),
            identity_pem,
        })
    }
}

/// The `.p12`'s key and certificate as the PEM rustls reads (the key PKCS #8, as the file
/// holds it).
fn p12_identity_pem(p12: &[u8], password: &str) -> anyhow::Result<Vec<u8>> {
    let store = p12_keystore::KeyStore::from_pkcs12(p12, password)
        .map_err(|e| anyhow::anyhow!("[wallet.apple] p12 cannot be opened: {e}"))?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| anyhow::anyhow!("[wallet.apple] p12 holds no private key"))?;
    let leaf = chain
        .chain()
        .first()
        .ok_or_else(|| anyhow::anyhow!("[wallet.apple] p12 holds no certificate with its key"))?;
    let mut pem = pem_block("CERTIFICATE", leaf.as_der());
    pem.push_str(&pem_block("PRIVATE KEY", chain.key()));
    Ok(pem.into_bytes())
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The running worker; [`ApnsWorker::stop`] ends it.
pub struct ApnsWorker {
    thread: WorkerThread,
    signals: Arc<ApnsSignals>,
}

impl ApnsWorker {
    /// Stops: a push in flight abandoned. Blocks until the worker's thread has ended.
    pub fn stop(self) -> anyhow::Result<()> {
        self.signals.running.store(false, Ordering::Relaxed);
        self.thread.stop()
    }
}

/// Starts the worker on a thread of its own at a lower CPU priority (`workers::outline`).
pub fn spawn(
    db: Arc<Db>,
    settings: Settings,
    signals: Arc<ApnsSignals>,
) -> anyhow::Result<ApnsWorker> {
    let client = client(&settings)?;
    let thread_signals = signals.clone();
    let named = Named {
        thread: "passdesk-apns",
        worker: "the APNs worker",
        idle: "no pass update is pushed",
    };
    let thread = outline::spawn(named, move |stopping| {
        thread_signals.backlog.store(u64::MAX, Ordering::Relaxed);
        thread_signals.running.store(true, Ordering::Relaxed);
        run(db, client, settings, thread_signals, stopping)
    })?;
    Ok(ApnsWorker { thread, signals })
}

/// HTTP/2 only (APNs speaks nothing else; over `http://`, a test's h2c fake), the Pass Type ID
/// certificate as the client certificate, no redirects.
fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    let identity = reqwest::Identity::from_pem(&settings.identity_pem).map_err(|e| {
        anyhow::anyhow!(
            "the Pass Type ID certificate and key cannot be the APNs client certificate: {e}"
        )
    })?;
    reqwest::Client::builder()
        .use_rustls_tls()
        .identity(identity)
        .http2_prior_knowledge()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(PUSH_TIMEOUT)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the APNs client: {e}"))
}

async fn run(
    db: Arc<Db>,
    client: reqwest::Client,
    settings: Settings,
    signals: Arc<ApnsSignals>,
    mut stopping: watch::Receiver<bool>,
) {
    // Nothing wakes the worker early: it looks on its schedule (Wallet is in no hurry).
    let never = Notify::new();
    let mut wait = Duration::ZERO;
    let mut backoff = Backoff::new(RETRY_MIN, RETRY_MAX);
    let mut failing = false;
    tracing::info!(apns = %settings.url, "the APNs worker runs");
    while outline::pause(&mut stopping, &never, wait).await {
        let Some(round) =
            outline::unless_stopped(&mut stopping, round(&db, &client, &settings, &signals)).await
        else {
            break;
        };
        match round {
            Ok(pushed) => {
                if failing || pushed > 0 {
                    tracing::info!(pushed, "APNs pushes sent");
                }
                failing = false;
                backoff.succeeded();
                signals.set_error(None);
                wait = LOOK_EVERY;
            }
            Err(e) => {
                failing = true;
                wait = backoff.failed();
                tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "APNs pushes wait");
                signals.set_error(Some(e.to_string()));
            }
        }
    }
    tracing::info!("the APNs worker stopped");
}

/// Why a round stopped short.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error("APNs cannot be reached: {0}")]
    Unreachable(String),
    #[error("APNs answered {status}: {reason}")]
    Refused { status: u16, reason: String },
    #[error("the counter's database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What APNs made of one push.
enum Answer {
    Delivered,
    /// The token is dead (410, 400 `BadDeviceToken`).
    Gone(String),
}

/// Sends what is due, in order; the first failure ends the round. Returns how many went. The
/// backlog on `/status` is what the look found, less each push done.
async fn round(
    db: &Arc<Db>,
    client: &reqwest::Client,
    settings: &Settings,
    signals: &ApnsSignals,
) -> Result<usize, RoundError> {
    let due = db
        .read(|s| apple_updates::due_pushes(s.conn(), BATCH))
        .await??;
    signals.backlog.store(due.backlog, Ordering::Relaxed);
    let mut sent = 0;
    for push in due.pushes {
        match push_one(client, settings, &push).await? {
            Answer::Delivered => {
                db.write_background(move |s| s.write(|tx| apple_updates::pushed(tx, &push)))
                    .await??;
                sent += 1;
            }
            Answer::Gone(reason) => {
                tracing::info!(device = %push.device.as_str(), %reason, "APNs says the push token is gone: the device's registrations are dropped");
                let token = push.push_token.clone();
                db.write_background(move |s| {
                    s.write(|tx| apple_updates::drop_push_token(tx, &token))
                })
                .await??;
            }
        }
        let _ = signals
            .backlog
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
    Ok(sent)
}

async fn push_one(
    client: &reqwest::Client,
    settings: &Settings,
    push: &DuePush,
) -> Result<Answer, RoundError> {
    let url = format!("{}/3/device/{}", settings.url, push.push_token.as_str());
    let res = client
        .post(url)
        .header("apns-topic", &settings.topic)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        // The URL holds the push token: it stays out of the error.
        .map_err(|e| RoundError::Unreachable(transport::describe(&e, PUSH_TIMEOUT)))?;
    let status = res.status().as_u16();
    if status == 200 {
        return Ok(Answer::Delivered);
    }
    // APNs explains a refusal in `{"reason": "..."}`.
    let reason = res
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("reason")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "no reason given".into());
    match (status, reason.as_str()) {
        (410, _) | (400, "BadDeviceToken") => Ok(Answer::Gone(reason)),
        _ => Err(RoundError::Refused { status, reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_wrap_at_64() {
        let pem = pem_block("CERTIFICATE", &[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
    }
}
