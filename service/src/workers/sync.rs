//! The sync worker: while `passdesk serve` runs on a counter that joined a hub, it pushes what
//! happened here and pulls what happened elsewhere, on a thread of its own at a lower CPU
//! priority (like the webhook worker: the scan path comes first).
//!
//! - **Push.** Woken after every committed decision (the decision stream), by the API
//!   (`POST /api/v1/sync/now`, and whatever writes outbox rows without a decision: loyalty,
//!   issuance, which wake it through [`SyncSignals::push`]), and by itself every second for
//!   what no one told it of (another process's writes). It gathers for a moment so that a
//!   burst goes up as one batch, then pushes batch after batch until nothing waits; the push
//!   cursor moves only once the hub has answered.
//! - **Pull.** A loop of long polls: the hub answers as soon as a change comes (a scan at
//!   another gate is here within the second) or empty after `long_poll_seconds`. Each page is
//!   applied in slices, each in one transaction with the cursor it reaches (`round`), and
//!   announced on the event stream (`sync`) when it changed something, so screens refresh.
//! - **Failures.** Any failure (no answer, a refusal) is recorded ("offline since …", the
//!   error) and retried after a wait that doubles from `retry_min` to `retry_max`; `sync now`
//!   cuts the wait short. Any answer records the contact (online again).
//! - **Writes** go through [`Db::write_background`]: after any scan waiting for the writer.
//! - **Stopping.** Requests in flight are abandoned (a push not marked is pushed again, a page
//!   not applied is asked again: both are no-ops the second time); a write already running
//!   finishes.

pub mod client;
pub mod round;

use super::outline::{self, pause, unless_stopped, Backoff, Named, WorkerThread};
use crate::config::SyncConfig;
use crate::server::db::Db;
use crate::server::state::StreamEvent;
use client::{HubClient, HubUrl};
use passdesk_core::sync::state::Joined;
use round::{Link, RoundError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// How the worker runs (from `[sync]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub batch: usize,
    pub pull_batch: u32,
    pub long_poll: Duration,
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How often the pusher looks for work no one told it of.
    pub look_every: Duration,
}

impl Settings {
    pub fn from_config(c: &SyncConfig) -> Self {
        let retry_min = c.retry_min.get();
        Self {
            batch: c.batch.get() as usize,
            pull_batch: c.pull_batch.get(),
            long_poll: Duration::from_secs(u64::from(c.long_poll_seconds.get())),
            retry_min,
            retry_max: c.retry_max.get().max(retry_min),
            look_every: Duration::from_secs(1),
        }
    }
}

/// How long the pusher gathers after it is told of a change: a burst of scans goes up as one
/// batch, and a scan still reaches the hub well within the second.
const GATHER: Duration = Duration::from_millis(25);
/// With no wait at the hub (`long_poll_seconds = 0`), the pause between two empty pulls.
const IDLE_PULL_PAUSE: Duration = Duration::from_secs(1);

/// What the API and the service hold to talk to the worker (`AppState::sync`).
#[derive(Debug, Default)]
pub struct SyncSignals {
    /// Something was written that goes up: push soon.
    push: Notify,
    /// Push now, and cut any wait after a failure short.
    now: Notify,
    /// The worker runs (the counter joined a hub and `[sync] enabled`).
    running: AtomicBool,
}

impl SyncSignals {
    /// Tells the worker that something was written that goes up (without it, it still finds
    /// it within a second).
    pub fn push(&self) {
        self.push.notify_one();
    }

    /// A round now: push, and end any wait after a failure.
    pub fn now(&self) {
        self.push.notify_one();
        self.now.notify_waiters();
    }

    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// The running worker; [`SyncWorker::stop`] ends it.
pub struct SyncWorker {
    thread: WorkerThread,
    signals: Arc<SyncSignals>,
}

/// How often a counter that has not joined a hub looks whether it has (`passdesk sync join`
/// while it runs): one read of a one-row table.
const JOIN_LOOK_EVERY: Duration = Duration::from_secs(2);

/// Starts the worker on a thread of its own at a lower CPU priority. On a counter that has
/// not joined a hub it waits for a join (looking every [`JOIN_LOOK_EVERY`]), so a
/// `passdesk sync join` made while the counter runs takes effect without a restart.
/// `decisions` wakes the pusher after every committed scan; `events` is where it announces
/// what a pull changed.
pub fn spawn(
    db: Arc<Db>,
    node_id: String,
    settings: Settings,
    signals: Arc<SyncSignals>,
    decisions: broadcast::Receiver<StreamEvent>,
    events: broadcast::Sender<StreamEvent>,
) -> anyhow::Result<SyncWorker> {
    let thread_signals = signals.clone();
    let named = Named {
        thread: "passdesk-sync",
        worker: "the sync worker",
        idle: "nothing is synced",
    };
    let thread = outline::spawn(named, move |mut stopping| async move {
        let Some(joined) = wait_for_join(&db, &mut stopping).await else {
            return;
        };
        let link = match link_to(db, node_id, &joined) {
            Ok(link) => link,
            Err(e) => {
                tracing::error!(error = %e, "the sync worker cannot reach its hub; nothing is synced");
                return;
            }
        };
        thread_signals.running.store(true, Ordering::Relaxed);
        run(
            link,
            Arc::new(settings),
            thread_signals,
            decisions,
            events,
            stopping,
        )
        .await;
    })?;
    Ok(SyncWorker { thread, signals })
}

/// The hub this counter joined, once it has; `None` when the worker stops first. A store that
/// cannot be read is logged and looked at again.
async fn wait_for_join(db: &Arc<Db>, stopping: &mut watch::Receiver<bool>) -> Option<Joined> {
    loop {
        match db
            .read(|s| passdesk_core::sync::state::joined(s.conn()))
            .await
        {
            Ok(Ok(Some(joined))) => return Some(joined),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read whether this counter joined a hub")
            }
            Err(e) => tracing::warn!(error = %e, "cannot read whether this counter joined a hub"),
        }
        unless_stopped(stopping, tokio::time::sleep(JOIN_LOOK_EVERY)).await?;
    }
}

/// The worker's link to the hub it joined.
fn link_to(db: Arc<Db>, node_id: String, joined: &Joined) -> anyhow::Result<Link> {
    let url = HubUrl::parse(&joined.hub_url)
        .map_err(|e| anyhow::anyhow!("the stored hub URL is unusable ({e}); join again"))?;
    let client = HubClient::new(url, Some(joined.credential.clone()))?;
    Ok(Link {
        db,
        client,
        node_id,
    })
}

impl SyncWorker {
    /// Stops: requests in flight abandoned, a write already running finished. Blocks until the
    /// worker's thread has ended.
    pub fn stop(self) -> anyhow::Result<()> {
        self.signals.running.store(false, Ordering::Relaxed);
        self.thread.stop()
    }
}

async fn run(
    link: Link,
    settings: Arc<Settings>,
    signals: Arc<SyncSignals>,
    decisions: broadcast::Receiver<StreamEvent>,
    events: broadcast::Sender<StreamEvent>,
    stopping: watch::Receiver<bool>,
) {
    // A decision means a new scan row to push.
    let waker = signals.clone();
    outline::wake_on_decisions(decisions, stopping.clone(), move || waker.push());
    let pusher = tokio::spawn(push_loop(
        link.clone(),
        settings.clone(),
        signals.clone(),
        events.clone(),
        stopping.clone(),
    ));
    let puller = tokio::spawn(pull_loop(link, settings, signals, events, stopping));
    let _ = tokio::join!(pusher, puller);
}

/// Records what became of a step: the contact, or the failure (and its wait).
async fn settle(
    link: &Link,
    result: &Result<(), RoundError>,
    pulled: bool,
    pushed: bool,
    backoff: &mut Backoff,
) -> Option<Duration> {
    match result {
        Ok(()) => {
            backoff.succeeded();
            if let Err(e) = link.contact(pulled, pushed).await {
                tracing::warn!(error = %e, "cannot record the hub's contact");
            }
            None
        }
        Err(e) => {
            let wait = backoff.failed();
            match e.hub() {
                Some(hub) => {
                    tracing::warn!(error = %hub, retry_in_ms = wait.as_millis() as u64, "sync with the hub failed");
                    if let Err(e) = link.failure(hub).await {
                        tracing::warn!(error = %e, "cannot record the sync failure");
                    }
                }
                None => tracing::error!(error = %e, "sync failed on this counter's side"),
            }
            Some(wait)
        }
    }
}

async fn push_loop(
    link: Link,
    settings: Arc<Settings>,
    signals: Arc<SyncSignals>,
    events: broadcast::Sender<StreamEvent>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(settings.retry_min, settings.retry_max);
    // At start: whatever was written while the counter was off.
    let mut told = true;
    while !*stopping.borrow() {
        if !told {
            if !pause(&mut stopping, &signals.push, settings.look_every).await {
                break;
            }
            // Gather: a burst of scans goes up together.
            tokio::time::sleep(GATHER).await;
        }
        told = false;
        let Some(result) = unless_stopped(&mut stopping, link.push_all(settings.batch)).await
        else {
            break;
        };
        let pushed_any = result.as_ref().is_ok_and(|p| p.batches > 0);
        let conflicts = result.as_ref().map_or(0, |p| p.conflicts);
        let result = result.map(|_| ());
        // Nothing waited: nothing was asked of the hub, so nothing to record.
        if result.is_ok() && !pushed_any {
            backoff.succeeded();
            continue;
        }
        if conflicts > 0 {
            announce(&events, serde_json::json!({ "pushedConflicts": conflicts }));
        }
        if let Some(wait) = settle(&link, &result, false, true, &mut backoff).await {
            if !pause(&mut stopping, &signals.now, wait).await {
                break;
            }
            told = true;
        }
    }
}

async fn pull_loop(
    link: Link,
    settings: Arc<Settings>,
    signals: Arc<SyncSignals>,
    events: broadcast::Sender<StreamEvent>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(settings.retry_min, settings.retry_max);
    let mut more = true;
    while !*stopping.borrow() {
        // A page that left more waiting is followed at once, without a wait at the hub.
        let wait = if more {
            Duration::ZERO
        } else {
            settings.long_poll
        };
        let Some(result) =
            unless_stopped(&mut stopping, link.pull_once(settings.pull_batch, wait)).await
        else {
            break;
        };
        let page = result.as_ref().ok().copied();
        if let Some(page) = page {
            more = page.more;
            if page.applied > 0 || page.conflicts > 0 {
                announce(
                    &events,
                    serde_json::json!({ "applied": page.applied, "conflicts": page.conflicts }),
                );
            }
        }
        if let Some(wait) = settle(&link, &result.map(|_| ()), true, false, &mut backoff).await {
            more = true;
            if !pause(&mut stopping, &signals.now, wait).await {
                break;
            }
            continue;
        }
        let empty = page.is_some_and(|p| p.applied == 0 && p.skipped == 0 && !p.more);
        if empty
            && settings.long_poll.is_zero()
            && !pause(&mut stopping, &signals.now, IDLE_PULL_PAUSE).await
        {
            break;
        }
    }
}

/// Tells the screens that sync changed something here (`sync` on the event stream): they
/// read again what they show (a pass voided elsewhere, a conflict, the banner).
fn announce(events: &broadcast::Sender<StreamEvent>, data: serde_json::Value) {
    let _ = events.send(StreamEvent {
        name: "sync",
        data: data.to_string().into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_after_failures_doubles_to_its_cap_and_starts_over_after_a_success() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let waits: Vec<u64> = (0..7).map(|_| b.failed().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_secs(1));
    }

    #[test]
    fn settings_never_wait_less_after_failures_than_at_first() {
        let c = SyncConfig {
            retry_min: "5s".to_owned().try_into().unwrap(),
            retry_max: "1s".to_owned().try_into().unwrap(),
            ..SyncConfig::default()
        };
        let s = Settings::from_config(&c);
        assert_eq!(
            (s.retry_min, s.retry_max),
            (Duration::from_secs(5), Duration::from_secs(5))
        );
        assert_eq!(s.batch, 1000);
        assert_eq!(s.long_poll, Duration::from_secs(25));
    }
}
