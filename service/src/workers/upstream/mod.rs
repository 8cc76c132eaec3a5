//! The upstream worker: while `passdesk serve` runs with `[upstream.passentry]` (and `enabled`),
//! it keeps the cache a copy of the PassEntry account and tells PassEntry what happened here,
//! on a thread of its own at a lower CPU priority (the scan path comes first).
//!
//! - **Push** ([`push`]): woken after every committed decision (the decision stream), by
//!   loyalty and issuance through [`UpstreamSignals::push`], and every second for what no one
//!   told it of. Makes requests of the new outbox events, sends them in order, one at a time;
//!   a failure leaves the row to wait (its backoff, PassEntry's `Retry-After`), a refusal is
//!   recorded and the rest go on.
//! - **Pull** ([`pull`]): every `pull_every_seconds` after the last complete pull (0: only on
//!   demand), when asked (`POST /api/v1/upstream/pull`: [`UpstreamSignals::pull`]), and at once
//!   when a pull was left unfinished (it resumes at its page). A failure is recorded and tried
//!   again after a wait that doubles from 1 s to a minute.
//! - **Writes** go through [`Db::write_background`]: after any scan waiting for the writer.
//! - **Stopping.** Requests in flight are abandoned: a row left `sending` is read back at the
//!   next start; a page not applied is asked again.

pub mod client;
#[cfg(test)]
mod fake_tests;
pub mod pull;
pub mod push;

pub use pull::pull_now;

use super::outline::{self, pause, unless_stopped, Backoff, Named, WorkerThread};
use crate::config::PassEntryUpstream;
use crate::server::db::{Db, DbError};
use crate::server::state::StreamEvent;
use client::{PassEntryClient, Unreachable};
use passdesk_core::store::StoreError;
use passdesk_core::upstream::state;
use passdesk_core::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// Why a pull or a push stopped short.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// PassEntry answered, but not with what was asked (a refusal, its trouble).
    #[error("{0}")]
    Answer(String),
    /// PassEntry answered 2xx with a page this counter does not believe.
    #[error("PassEntry's answer was refused: {0}")]
    BadPage(String),
    #[error("the counter's database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Attaches the store to the configured account (the push cursor starts at the outbox's end
/// the first time).
pub async fn attach(db: &Arc<Db>, upstream: &PassEntryUpstream) -> Result<(), UpstreamError> {
    let url = upstream.base_url.trim().trim_end_matches('/').to_owned();
    db.write_background(move |s| s.write(|tx| state::attach(tx, &url, Timestamp::now())))
        .await??;
    Ok(())
}

/// Records a failure in `upstream_state` (shown by status), logged if that fails too.
pub async fn record_error(db: &Arc<Db>, e: &UpstreamError) {
    let text = e.to_string();
    match db
        .write_background(move |s| state::record_error(s.conn(), &text, Timestamp::now()))
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot record the upstream error"),
        Err(e) => tracing::warn!(error = %e, "cannot record the upstream error"),
    }
}

/// What the API and the service hold to talk to the worker (`AppState::upstream`).
#[derive(Debug, Default)]
pub struct UpstreamSignals {
    push: Notify,
    pull: Notify,
    /// A person asked: end a wait after a failure.
    now: Notify,
    running: AtomicBool,
}

impl UpstreamSignals {
    /// Something was written that may go to PassEntry (without it, it is found within a second).
    pub fn push(&self) {
        self.push.notify_one();
    }

    /// A pull now, and a push now even after a failure (a person is looking).
    pub fn pull(&self) {
        self.pull.notify_one();
        self.push.notify_one();
        self.now.notify_one();
    }

    pub fn running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }
}

/// The running worker; [`UpstreamWorker::stop`] ends it.
pub struct UpstreamWorker {
    thread: WorkerThread,
    signals: Arc<UpstreamSignals>,
}

/// How often the pusher looks for work no one told it of.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// The waits after failures: from 1 s, doubled, at most a minute. One counter asking once a
/// minute is no load on PassEntry, and what waited drains within a minute of its return.
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Starts the worker on a thread of its own at a lower CPU priority.
pub fn spawn(
    db: Arc<Db>,
    node_id: String,
    upstream: PassEntryUpstream,
    signals: Arc<UpstreamSignals>,
    decisions: broadcast::Receiver<StreamEvent>,
) -> anyhow::Result<UpstreamWorker> {
    let client = PassEntryClient::new(&upstream)?;
    let thread_signals = signals.clone();
    let named = Named {
        thread: "passdesk-upstream",
        worker: "the upstream worker",
        idle: "nothing goes to PassEntry",
    };
    let thread = outline::spawn(named, move |stopping| async move {
        if let Err(e) = attach(&db, &upstream).await {
            tracing::error!(error = %e, "the upstream worker cannot record its account; it does not run");
            return;
        }
        thread_signals.running.store(true, Ordering::Relaxed);
        let link = Link {
            db,
            client,
            node_id,
            per_page: upstream.per_page.get(),
            every: Duration::from_secs(upstream.pull_every_seconds),
        };
        run(link, thread_signals, decisions, stopping).await;
    })?;
    Ok(UpstreamWorker { thread, signals })
}

impl UpstreamWorker {
    /// Stops: requests in flight abandoned, a write already running finished. Blocks until the
    /// worker's thread has ended.
    pub fn stop(self) -> anyhow::Result<()> {
        self.signals.running.store(false, Ordering::Relaxed);
        self.thread.stop()
    }
}

#[derive(Clone)]
struct Link {
    db: Arc<Db>,
    client: PassEntryClient,
    node_id: String,
    per_page: u32,
    /// Between scheduled pulls; zero: only on demand.
    every: Duration,
}

async fn run(
    link: Link,
    signals: Arc<UpstreamSignals>,
    decisions: broadcast::Receiver<StreamEvent>,
    stopping: watch::Receiver<bool>,
) {
    let waker = signals.clone();
    outline::wake_on_decisions(decisions, stopping.clone(), move || waker.push());
    let pusher = tokio::spawn(push_loop(link.clone(), signals.clone(), stopping.clone()));
    let puller = tokio::spawn(pull_loop(link, signals, stopping));
    let _ = tokio::join!(pusher, puller);
}

async fn push_loop(link: Link, signals: Arc<UpstreamSignals>, mut stopping: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(RETRY_MIN, RETRY_MAX);
    let mut wait = Duration::ZERO;
    // After a failure the wait is kept whatever is written meanwhile (a burst of scans must
    // not hammer a PassEntry that is down); only a person's "now" cuts it short.
    let mut failed = false;
    while !*stopping.borrow() {
        let woken_by = if failed { &signals.now } else { &signals.push };
        if (failed || !wait.is_zero()) && !pause(&mut stopping, woken_by, wait).await {
            break;
        }
        let mut summary = push::PushSummary::default();
        let drain = push::drain(&link.db, &link.client, &link.node_id, false, &mut summary);
        let Some(result) = unless_stopped(&mut stopping, drain).await else {
            break;
        };
        failed = result.is_err();
        wait = match result {
            Ok(push::Stopped::Empty) => {
                backoff.succeeded();
                LOOK_EVERY
            }
            Ok(push::Stopped::WaitUntil(at)) => {
                let ms = at.unix_ms() - Timestamp::now().unix_ms();
                Duration::from_millis(ms.clamp(1, RETRY_MAX.as_millis() as i64) as u64)
            }
            Err(e) => {
                let wait = backoff.failed();
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "the push to PassEntry stopped");
                record_error(&link.db, &e).await;
                wait
            }
        };
    }
}

async fn pull_loop(link: Link, signals: Arc<UpstreamSignals>, mut stopping: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(RETRY_MIN, RETRY_MAX);
    // After a failure: how long to wait before resuming.
    let mut retry_in: Option<Duration> = None;
    while !*stopping.borrow() {
        // When the next pull starts: `None` is "when asked" (only on demand).
        let wait = match retry_in.take() {
            Some(wait) => Some(wait),
            None => match when_due(&link).await {
                Ok(wait) => wait,
                Err(DbError::Closed) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read when the next pull is due");
                    Some(RETRY_MAX)
                }
            },
        };
        if wait != Some(Duration::ZERO) {
            // An unbounded wait is a year: a counter is restarted sooner than that.
            let wait = wait.unwrap_or(Duration::from_secs(365 * 86_400));
            if !pause(&mut stopping, &signals.pull, wait).await {
                break;
            }
        }
        let pull = pull::run(&link.db, &link.client, link.per_page);
        let Some(result) = unless_stopped(&mut stopping, pull).await else {
            break;
        };
        match result {
            Ok(summary) => {
                backoff.succeeded();
                tracing::info!(
                    passes = summary.passes,
                    pages = summary.pages,
                    voided = summary.voided,
                    seconds = summary.seconds,
                    "pulled every pass from PassEntry"
                );
            }
            Err(e) => {
                let wait = backoff.failed();
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "the pull from PassEntry stopped; it resumes at its page");
                record_error(&link.db, &e).await;
                retry_in = Some(wait);
            }
        }
    }
}

/// How long until the next pull is due: now for one left unfinished or never made, the rest of
/// `pull_every_seconds` after the last, `None` (when asked) when pulls are on demand only.
async fn when_due(link: &Link) -> Result<Option<Duration>, DbError> {
    let every = link.every;
    let every_ms = every.as_millis() as i64;
    let read = link
        .db
        .read(move |s| -> passdesk_core::store::StoreResult<_> {
            Ok((
                passdesk_core::upstream::pull::in_progress(s.conn())?.is_some(),
                passdesk_core::upstream::pull::next_due(s.conn(), every_ms)?,
            ))
        })
        .await?;
    let (in_progress, due) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read when the next pull is due");
            return Ok(Some(RETRY_MAX));
        }
    };
    Ok(match (in_progress, due) {
        (true, _) => Some(Duration::ZERO),
        _ if every.is_zero() => None,
        (false, None) => Some(Duration::ZERO),
        (false, Some(at)) => Some(Duration::from_millis(
            (at.unix_ms() - Timestamp::now().unix_ms()).max(0) as u64,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_after_failures_doubles_to_a_minute_and_starts_over() {
        let mut b = Backoff::new(RETRY_MIN, RETRY_MAX);
        let waits: Vec<u64> = (0..10).map(|_| b.failed().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_secs(1));
    }
}
