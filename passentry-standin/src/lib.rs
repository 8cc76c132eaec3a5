//! A stand-in for PassEntry's cloud API on loopback, written from the seed
//! (`shared/seeds/passentry-api.txt`): its paths, its JSON:API pages, its errors, a rate limit
//! answering 429, an outage, pages that change between requests. The PassEntry cloud cannot run
//! here; this is the one fake the tests allow, and it is built from the document, not from our
//! client: it shares no code with Passdesk (no `passdesk-core`).
//!
//! [`StandIn::start`] serves on its own thread and runtime (so a plain test and an async bench
//! both use it the same way) until dropped; the handle seeds and edits the account, makes
//! things go wrong, and reads back what was logged and patched.
//!
//! Served (Bearer auth on every path; errors are JSON:API error documents, see `error`):
//! - `GET /api/v1/passes`: `page`, `perPage` (default 100, at most [`Options::max_per_page`],
//!   above it 400), the seed's filters (`status`, `deviceType`, `groupTag`,
//!   `passTemplateUuid`, `passTemplateName`, `eventUuid`, `eventName`, `createdAfter`,
//!   `createdBefore`), newest first; `data` / `meta` / `links` as the seed's example page.
//! - `GET /api/v1/passes/{id}`: the pass, `meta.loyalty.balance` for a store card; 404 when gone.
//! - `GET /api/v1/pass-templates`, `GET /api/v1/events`: paged the same way.
//! - `POST /api/v1/scans/log` `{"scan": {...}}`: recorded, 201; 422 for a pass it does not hold.
//! - `GET /api/v1/scans?passId=…&readerId=…`: the logged scans, newest first, paged.
//! - `PATCH /api/v1/passes/{id}/loyalty`: `balance` adds / subtracts, `overrideBalance` sets,
//!   both → 422; answers the pass with `meta.loyalty.balance`.

mod account;
mod error;
mod faults;
mod http;
mod page;
mod record;
mod server;

pub use account::{
    seeded_barcode, seeded_id, seeded_is_card, CARD_EVERY, CARD_TEMPLATE, EVENT, TICKET_TEMPLATE,
};
pub use faults::{CrashMode, Outage, PageChange, RateLimit, RequestKind};
pub use page::DEFAULT_PER_PAGE;
pub use record::Recorded;

use account::Account;
use faults::{CrashWindow, Faults, Refusal};
use serde_json::{Map, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// How a stand-in starts.
#[derive(Debug, Clone)]
pub struct Options {
    /// The one API key it accepts (`Authorization: Bearer <key>`).
    pub api_key: String,
    /// The largest `perPage` it serves; above it a list answers 400.
    pub max_per_page: u32,
    /// Passes seeded before it listens (see [`StandIn::seed`]).
    pub passes: u64,
    /// Where it listens (a free loopback port by default).
    pub listen: SocketAddr,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            api_key: "pe-standin-key".into(),
            max_per_page: 1000,
            passes: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// What the server and the handle share.
pub(crate) struct Shared {
    pub api_key: String,
    pub max_per_page: u32,
    pub account: Mutex<Account>,
    pub faults: Mutex<Faults>,
    pub log: Mutex<Vec<Recorded>>,
    /// Loyalty PATCHes applied, in order: (pass id, body).
    pub patches: Mutex<Vec<(String, Value)>>,
    /// True while an [`Outage::Refused`] holds: the accept loop closes its listener.
    pub refusing: watch::Sender<bool>,
    /// Whether the accept loop holds its listener now (what [`StandIn::set_outage`] waits for).
    pub listening: (Mutex<bool>, Condvar),
}

impl Shared {
    /// Records a request; returns its number.
    pub fn record(&self, mut r: Recorded) -> u64 {
        let mut log = self.log.lock().expect("log lock");
        r.n = log.len() as u64;
        let n = r.n;
        log.push(r);
        n
    }

    pub fn answered(&self, n: u64, status: u16) {
        if let Some(r) = self.log.lock().expect("log lock").get_mut(n as usize) {
            r.status = Some(status);
            r.answered_at = Some(std::time::Instant::now());
        }
    }

    pub fn set_outage(&self, outage: Option<Outage>) {
        self.faults.lock().expect("faults lock").outage = outage;
        self.refusing.send_replace(outage == Some(Outage::Refused));
    }

    /// Called by the accept loop when it opens or closes its listener.
    pub fn set_listening(&self, now: bool) {
        *self.listening.0.lock().expect("listening lock") = now;
        self.listening.1.notify_all();
    }
}

/// A running stand-in; stops when dropped.
pub struct StandIn {
    base_url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Seeds `options.passes` passes and starts serving on its own thread.
    pub fn start(options: Options) -> anyhow::Result<Self> {
        let mut account = Account::default();
        if options.passes > 0 {
            account.seed(options.passes);
        }
        let shared = Arc::new(Shared {
            api_key: options.api_key,
            max_per_page: options.max_per_page,
            account: Mutex::new(account),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(Vec::new()),
            patches: Mutex::new(Vec::new()),
            refusing: watch::Sender::new(false),
            listening: (Mutex::new(false), Condvar::new()),
        });
        let (stop, stopped) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sh = shared.clone();
        let listen = options.listen;
        let thread = std::thread::Builder::new()
            .name("passentry-standin".into())
            .spawn(move || server::run(listen, sh, stopped, ready_tx))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("the stand-in's thread ended before it listened"))??;
        Ok(Self {
            base_url: format!("http://{addr}"),
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): `[upstream.passentry] base_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    // ---- the account ----

    /// Adds `n` seeded passes (numbered on from those seeded before): tickets of [`EVENT`]
    /// with template [`TICKET_TEMPLATE`], every tenth a store card ([`seeded_is_card`],
    /// [`CARD_TEMPLATE`], balance 0); pass `i` has id [`seeded_id`]`(i)` and barcode
    /// [`seeded_barcode`]`(i)`.
    pub fn seed(&self, n: u64) {
        self.shared.account.lock().expect("account lock").seed(n);
    }

    /// Adds a pass with these attributes (the seed's pass attributes; `createdAt` now unless
    /// given). False when the id is taken.
    pub fn add_pass(&self, id: &str, attributes: Value) -> bool {
        let attrs = match attributes {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.shared
            .account
            .lock()
            .expect("account lock")
            .insert(id.to_owned(), attrs)
    }

    /// Deletes a pass (its logged scans stay). False when there was none.
    pub fn delete_pass(&self, id: &str) -> bool {
        self.shared.account.lock().expect("account lock").delete(id)
    }

    /// Edits a pass's attributes in place (its place in the list stays). False when none.
    pub fn edit_pass(&self, id: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> bool {
        let mut account = self.shared.account.lock().expect("account lock");
        match account.pass_mut(id) {
            Some(p) => {
                let created = p.attributes.get("createdAt").cloned();
                edit(&mut p.attributes);
                if let Some(c) = created {
                    p.attributes.insert("createdAt".into(), c);
                }
                true
            }
            None => false,
        }
    }

    /// A pass's loyalty balance (`None`: no such pass, or not a loyalty pass).
    pub fn balance(&self, id: &str) -> Option<i64> {
        self.shared
            .account
            .lock()
            .expect("account lock")
            .pass(id)?
            .balance
    }

    /// Sets a loyalty pass's balance as PassEntry's dashboard would (not recorded as a PATCH).
    pub fn set_balance(&self, id: &str, balance: i64) -> bool {
        let mut account = self.shared.account.lock().expect("account lock");
        match account.pass_mut(id) {
            Some(p) if p.balance.is_some() => {
                p.balance = Some(balance);
                true
            }
            _ => false,
        }
    }

    /// The passes held now, newest first (ids).
    pub fn pass_ids(&self) -> Vec<String> {
        self.shared
            .account
            .lock()
            .expect("account lock")
            .newest_first()
            .map(|p| p.id.clone())
            .collect()
    }

    pub fn pass_count(&self) -> usize {
        self.shared.account.lock().expect("account lock").len()
    }

    // ---- faults ----

    /// Starts (`Some`) or lifts (`None`) an outage. Returns once it holds: after
    /// [`Outage::Refused`] nothing listens any more; after lifting it the port listens again.
    pub fn set_outage(&self, outage: Option<Outage>) {
        self.shared.set_outage(outage);
        let want = outage != Some(Outage::Refused);
        let (lock, changed) = &self.shared.listening;
        let listening = lock.lock().expect("listening lock");
        let (_listening, waited) = changed
            .wait_timeout_while(listening, Duration::from_secs(30), |now| *now != want)
            .expect("listening lock");
        assert!(
            !waited.timed_out(),
            "the stand-in did not {} within 30 s",
            if want {
                "listen again"
            } else {
                "close its listener"
            }
        );
    }

    /// Sets (`Some`) or removes a rate limit; the count starts afresh.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut f = self.shared.faults.lock().expect("faults lock");
        f.rate_limit = limit;
        f.window = None;
    }

    /// Answers every request about pass `id` (its GET, its loyalty PATCH, a scan log of it)
    /// with `status` and `body` until [`StandIn::allow_pass`].
    pub fn refuse_pass(&self, id: &str, status: u16, body: Value) {
        self.shared
            .faults
            .lock()
            .expect("faults lock")
            .refusals
            .insert(id.to_owned(), Refusal { status, body });
    }

    pub fn allow_pass(&self, id: &str) {
        self.shared
            .faults
            .lock()
            .expect("faults lock")
            .refusals
            .remove(id);
    }

    /// Makes `change` once passes page `page` has been served (any `perPage`, any filter),
    /// before the client can ask for the next page.
    pub fn after_passes_page(&self, page: u32, change: PageChange) {
        self.shared
            .faults
            .lock()
            .expect("faults lock")
            .page_changes
            .entry(page)
            .or_default()
            .push(change);
    }

    /// The next request for which `matches` holds is applied as usual and then not answered
    /// (`mode`): PassEntry did the work, the client never heard. Once.
    pub fn crash_next(
        &self,
        mode: CrashMode,
        matches: impl Fn(&RequestKind) -> bool + Send + 'static,
    ) {
        self.shared.faults.lock().expect("faults lock").crash = Some(CrashWindow {
            mode,
            matches: Box::new(matches),
        });
    }

    // ---- what was received ----

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// The scans logged (`scan` objects as received, plus `createdAt`), in order; of one
    /// pass, or all.
    pub fn logged_scans(&self, pass_id: Option<&str>) -> Vec<Value> {
        self.shared
            .account
            .lock()
            .expect("account lock")
            .scans
            .iter()
            .filter(|s| pass_id.is_none_or(|p| s.pass_id == p))
            .map(|s| Value::Object(s.attributes.clone()))
            .collect()
    }

    /// The loyalty PATCHes applied (bodies as received), in order; of one pass, or all.
    pub fn loyalty_patches(&self, pass_id: Option<&str>) -> Vec<Value> {
        self.shared
            .patches
            .lock()
            .expect("patches lock")
            .iter()
            .filter(|(id, _)| pass_id.is_none_or(|p| id == p))
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The pages of the passes list requested so far, in order (e.g. to see where a pull
    /// resumed).
    pub fn passes_pages_requested(&self) -> Vec<u32> {
        self.requests()
            .iter()
            .filter_map(|r| match r.kind {
                RequestKind::PassesPage(p) => Some(p),
                _ => None,
            })
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
