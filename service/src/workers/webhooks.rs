//! The webhook delivery worker: a thread of its own at a lower CPU priority, whose runtime
//! runs the pump (fans the outbox out into deliveries and hands the due ones to senders), the
//! send tasks and the recorder of their answers.
//!
//! - **Waking.** The pump runs when told (`wake`: a decision was committed, the API queued a
//!   test or a retry), gathering for 200 ms first so that a busy gate's scans are fanned out
//!   together (a few short transactions a second, not one behind every scan); when answers are recorded (their endpoints have room); and by itself every
//!   second and when the next delivery falls due, for what no one told it of (the CLI writes
//!   deliveries from another process; loyalty and issuance write outbox rows without a word).
//!   The scan's transaction is never touched: the decision stream is told after its commit.
//! - **Fan-out.** Read and rendered on a reader connection, written through the writer in
//!   short transactions (≤ 16 deliveries or 64 KiB) with the cursor (`core::webhook::fanout`).
//!   A batch that makes no delivery (no subscription wants its events) only moves the cursor,
//!   at the next look.
//! - **Sending.** Per subscription at most `concurrency` requests in flight (a semaphore; a
//!   410 holds its place until it is recorded) and at most four times that claimed, so a
//!   slow or dead endpoint only ever holds its own deliveries; `max_per_second` requests in
//!   all. Each attempt is signed when it is sent, with the subscription's secret read then (a
//!   rotation applies at once, retries included), and only while the subscription is on
//!   (after a 410 nothing more goes out); `webhook-id` is the event's id on every attempt. No
//!   redirect is followed: a 3xx is a failed attempt.
//! - **Recording.** Answers are gathered for up to 100 ms and recorded 16 to a transaction,
//!   so paced or scattered answers cost the writer few transactions. A delivery stays claimed until
//!   its answer is committed, so it is never sent twice at once, and never again once a 2xx
//!   is recorded.
//! - **Writes** go through the writer with [`Db::write_background`]: after any scan waiting
//!   for it, and without an fsync of their own (they survive `kill -9`; the next scan's
//!   commit or checkpoint syncs them; a power cut before that means a delivery sent again or
//!   a fan-out done again, never a lost event).
//! - **Retention.** At start and hourly (sooner while a run left work), in bounded batches.
//! - **Stopping.** Requests in flight are abandoned (their deliveries stay pending and are sent
//!   again after the next start: at least once, receivers dedupe by `webhook-id`); answers
//!   already received are recorded first.

use super::outline::{self, Named, WorkerThread};
use crate::config::WebhooksConfig;
use crate::server::db::Db;
use crate::server::state::StreamEvent;
use crate::workers::transport;
use futures_util::FutureExt as _;
use passdesk_core::hooks;
use passdesk_core::store::StoreResult;
use passdesk_core::webhook::deliveries::{self, Answered, Due, Outcome, Schedule, State};
use passdesk_core::webhook::fanout::{self, Committed, Limits};
use passdesk_core::webhook::retention::{self, Pruned};
use passdesk_core::webhook::subscriptions::{self, Subscription};
use passdesk_core::webhook::{passcreator, signature, Format, Rendered};
use passdesk_core::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How the worker runs (from `[webhooks]`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests in flight per subscription.
    pub concurrency: usize,
    /// An endpoint's time to answer.
    pub timeout: Duration,
    pub schedule: Schedule,
    /// How long finished deliveries and fanned-out events are kept.
    pub retention: Duration,
    /// How often the worker looks for work no one told it of.
    pub look_every: Duration,
    /// How often retention runs.
    pub retention_every: Duration,
    /// Requests sent per second at most, all subscriptions together.
    pub max_per_second: std::num::NonZeroU32,
}

impl Settings {
    pub fn from_config(c: &WebhooksConfig) -> Self {
        Self {
            concurrency: c.concurrency.get(),
            timeout: c.timeout_secs.get(),
            schedule: c.retry_schedule.0.clone(),
            retention: c.retention_days.get(),
            look_every: Duration::from_secs(1),
            retention_every: Duration::from_secs(3600),
            max_per_second: c.max_per_second.get(),
        }
    }
}

/// Fan-out batches per round before the due deliveries are looked at (a long outbox after a
/// long stop is worked through round after round, sending all along).
const FANOUT_BATCHES_PER_ROUND: usize = 8;
/// Answers recorded per transaction at most, and the fan-out's batches: small, so that a scan
/// that comes while one is written waits little (`passdesk bench webhooks`).
const RECORD_BATCH: usize = 16;
const FANOUT_LIMITS: Limits = Limits {
    events: fanout::MAX_EVENTS,
    deliveries: 16,
    bytes: 64 * 1024,
};
/// Retention: rows per batch (one transaction) and batches per run.
const RETENTION_BATCH: u32 = 256;
const RETENTION_BATCHES_PER_RUN: usize = 40;
/// A run that left work behind runs again this soon.
const RETENTION_AGAIN: Duration = Duration::from_secs(60);
/// The part of an answer's body read (and dropped) so that its connection can be used again.
const DRAIN_LIMIT: usize = 64 * 1024;
/// How long a stop waits for answers already received to be recorded.
const RECORD_ON_STOP: Duration = Duration::from_secs(5);
/// How long the recorder gathers answers before it writes them.
const RECORD_GATHER: Duration = Duration::from_millis(100);
/// How long the pump gathers events after it is told of one.
const GATHER: Duration = Duration::from_millis(200);
/// How long a stop waits for the pump to finish the step it is in.
const PUMP_ON_STOP: Duration = Duration::from_secs(10);

/// The running worker; [`WebhookWorker::stop`] ends it.
pub struct WebhookWorker {
    thread: WorkerThread,
}

/// Starts the worker on a thread of its own, at a lower CPU priority than the scan path (its
/// runtime and the blocking threads it starts inherit it): on a two-core counter, sending,
/// signing and rendering take what the scans leave. `wake` tells it that there is work (the
/// API holds it as `AppState::webhooks`); `decisions`, when given, wakes it after every
/// committed scan.
pub fn spawn(
    db: Arc<Db>,
    settings: Settings,
    wake: Arc<Notify>,
    decisions: Option<broadcast::Receiver<StreamEvent>>,
) -> anyhow::Result<WebhookWorker> {
    let client = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "Passdesk/",
            env!("CARGO_PKG_VERSION"),
            " (webhooks)"
        ))
        .pool_max_idle_per_host(settings.concurrency)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot make the webhook HTTP client: {e}"))?;
    let named = Named {
        thread: "passdesk-webhooks",
        worker: "the webhook worker",
        idle: "nothing is sent",
    };
    let thread = outline::spawn(named, move |stopping| {
        run(db, settings, client, wake, decisions, stopping)
    })?;
    Ok(WebhookWorker { thread })
}

/// The worker's tasks, until told to stop; then the stop: requests in flight abandoned,
/// answers already received recorded.
async fn run(
    db: Arc<Db>,
    settings: Settings,
    client: reqwest::Client,
    wake: Arc<Notify>,
    decisions: Option<broadcast::Receiver<StreamEvent>>,
    mut stopping: watch::Receiver<bool>,
) {
    let settings = Arc::new(settings);
    let claims = Arc::new(Claims {
        by_subscription: Mutex::new(HashMap::new()),
        room: Notify::new(),
    });
    let (answers, answered) = mpsc::channel(1024);
    if let Some(decisions) = decisions {
        // A decision means new outbox rows.
        let wake = wake.clone();
        outline::wake_on_decisions(decisions, stopping.clone(), move || wake.notify_one());
    }
    let mut recorder = tokio::spawn(record_answers(
        db.clone(),
        settings.clone(),
        answered,
        claims.clone(),
    ));
    let quota = governor::Quota::per_second(settings.max_per_second);
    let pump = Pump {
        rate: Arc::new(governor::RateLimiter::direct(quota)),
        db,
        settings,
        client,
        wake,
        claims,
        answers,
        limits: HashMap::new(),
        sends: JoinSet::new(),
        retention_due: Instant::now(),
        stopping: stopping.clone(),
    };
    let mut pump = tokio::spawn(pump.run(stopping.clone()));
    let _ = stopping.wait_for(|stop| *stop).await;
    // The pump stops between two steps; each is a short read or write, bounded by the
    // store's busy timeout.
    if tokio::time::timeout(PUMP_ON_STOP, &mut pump).await.is_err() {
        pump.abort();
        tracing::warn!("the webhook worker did not stop in time; abandoned");
    }
    // Every sender of answers is gone with the pump and its send tasks: the recorder ends
    // once it has recorded what it holds.
    if tokio::time::timeout(RECORD_ON_STOP, &mut recorder)
        .await
        .is_err()
    {
        recorder.abort();
        tracing::warn!(
            "webhook answers were not all recorded before the stop; their deliveries stay \
             pending and are sent again after the next start"
        );
    }
}

impl WebhookWorker {
    /// Stops: no new fan-out or send; requests in flight abandoned (their deliveries stay
    /// pending); answers already received recorded (waiting at most a few seconds for the
    /// writer). Blocks until the worker's thread has ended.
    pub fn stop(self) -> anyhow::Result<()> {
        self.thread.stop()
    }
}

/// Deliveries handed to a sender and not yet recorded, per subscription: never sent twice at
/// once, and no more claimed for an endpoint than its window.
struct Claims {
    by_subscription: Mutex<HashMap<String, HashSet<String>>>,
    /// Told when deliveries are released: their endpoints have room again.
    room: Notify,
}

impl Claims {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.by_subscription
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn snapshot(&self) -> HashMap<String, HashSet<String>> {
        self.lock().clone()
    }

    fn claim(&self, subscription_id: &str, delivery_id: &str) -> bool {
        self.lock()
            .entry(subscription_id.to_owned())
            .or_default()
            .insert(delivery_id.to_owned())
    }

    /// Releases deliveries and wakes the pump: their endpoints have room again.
    fn release<'a>(&self, done: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut claims = self.lock();
        for (subscription_id, delivery_id) in done {
            if let Some(set) = claims.get_mut(subscription_id) {
                set.remove(delivery_id);
                if set.is_empty() {
                    claims.remove(subscription_id);
                }
            }
        }
        drop(claims);
        self.room.notify_one();
    }
}

/// An answer on its way to the recorder. A 410 holds its endpoint's place until it is
/// recorded: a delivery queued behind it is sent only once the subscription is off, so
/// nothing more goes out; any other answer frees the place at once.
struct Sent {
    subscription_id: String,
    answered: Answered,
    _in_flight: Option<OwnedSemaphorePermit>,
}

/// An enabled subscription's work for one round, as read in one go.
struct Work {
    subscription: Subscription,
    due: Vec<Due>,
    /// When its next delivery not yet due falls due.
    next_due: Option<Timestamp>,
}

/// Where a round left the fan-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FanOut {
    /// At the outbox's end.
    CaughtUp,
    /// Batches left: the next round comes at once.
    Behind,
    /// Left for the next look (a batch without deliveries, or an error).
    Later,
}

/// Why the pump runs a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Woke {
    /// New events or deliveries (a decision, the API): fan out, then send.
    Told,
    /// Answers recorded: endpoints have room for more.
    Room,
    /// The look every second (and when a delivery falls due).
    Look,
}

struct Pump {
    rate: Arc<governor::DefaultDirectRateLimiter>,
    db: Arc<Db>,
    settings: Arc<Settings>,
    client: reqwest::Client,
    wake: Arc<Notify>,
    claims: Arc<Claims>,
    answers: mpsc::Sender<Sent>,
    /// Per subscription: its requests in flight.
    limits: HashMap<String, Arc<Semaphore>>,
    sends: JoinSet<()>,
    retention_due: Instant,
    stopping: watch::Receiver<bool>,
}

impl Pump {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut next = Instant::now();
        let mut fanned = FanOut::Later;
        // `stopping()` is asked at the top of every round: a stop seen by a wait inside the
        // round (the gather) marks the change as read, so `changed()` would not fire again.
        while !self.stopping() {
            let woke = tokio::select! {
                biased;
                changed = stop.changed() => if changed.is_err() || *stop.borrow() { break } else { continue },
                _ = self.claims.room.notified() => Woke::Room,
                _ = self.wake.notified() => Woke::Told,
                _ = tokio::time::sleep_until(next) => Woke::Look,
            };
            if woke == Woke::Told {
                // Gather: a busy gate's scans are fanned out together, a few rounds a second,
                // not a transaction behind every scan.
                tokio::select! {
                    biased;
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(GATHER) => {}
                }
                let _ = self.wake.notified().now_or_never();
            }
            while self.sends.try_join_next().is_some() {}
            // Answers only make room; a fan-out left behind goes on whatever woke the pump.
            let behind = fanned == FanOut::Behind;
            if woke != Woke::Room || behind {
                fanned = self.fan_out(woke == Woke::Look || behind).await;
            }
            let next_due = self.dispatch().await;
            // Retention once the fan-out has caught up (at start: after the outbox written
            // while the counter was off is fanned out).
            if fanned == FanOut::CaughtUp {
                self.retain().await;
            }
            let now = Instant::now();
            next = if fanned == FanOut::Behind {
                now
            } else {
                next_due.map_or(now + self.settings.look_every, |due| {
                    due.min(now + self.settings.look_every)
                })
            };
        }
        // Requests in flight are abandoned: their deliveries stay pending.
        self.sends.shutdown().await;
    }

    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Fans out up to a few batches. A batch that makes no delivery (no subscription wants
    /// its events) only moves the cursor: that write waits for a look (`looked`, about once a
    /// second) or a full batch, so a counter with no subscriptions does not add a commit to
    /// every scan.
    async fn fan_out(&self, looked: bool) -> FanOut {
        for _ in 0..FANOUT_BATCHES_PER_ROUND {
            if self.stopping() {
                return FanOut::Later;
            }
            let prepared = self
                .db
                .read(|s| fanout::prepare(s.conn(), FANOUT_LIMITS))
                .await;
            let batch = match prepared {
                Ok(Ok(Some(batch))) => batch,
                Ok(Ok(None)) => return FanOut::CaughtUp,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "webhook fan-out: cannot read the outbox; will retry");
                    return FanOut::Later;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "webhook fan-out did not run");
                    return FanOut::Later;
                }
            };
            if batch.deliveries.is_empty() && !looked && batch.events < fanout::MAX_EVENTS {
                return FanOut::Later;
            }
            let (events, up_to) = (batch.events, batch.up_to_seq);
            let committed = self
                .db
                .write_background(move |s| {
                    s.write(|tx| fanout::commit(tx, &batch, Timestamp::now()))
                })
                .await;
            match committed {
                Ok(Ok(Committed::Done { deliveries })) => {
                    tracing::debug!(events, deliveries, up_to, "webhook fan-out");
                }
                Ok(Ok(Committed::Stale)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "webhook fan-out: cannot write deliveries; will retry");
                    return FanOut::Later;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "webhook fan-out did not run");
                    return FanOut::Later;
                }
            }
        }
        FanOut::Behind
    }

    /// Hands every due delivery of every enabled subscription to a sender, within its
    /// window. Returns when the next delivery falls due.
    async fn dispatch(&mut self) -> Option<Instant> {
        if self.stopping() {
            return None;
        }
        let claimed = self.claims.snapshot();
        let window = self.settings.concurrency * 4;
        let now = Timestamp::now();
        let found = self
            .db
            .read(move |s| read_work(s.conn(), &claimed, window, now))
            .await;
        let work = match found {
            Ok(Ok(work)) => work,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "webhook worker: cannot read due deliveries; will retry");
                return None;
            }
            Err(e) => {
                tracing::debug!(error = %e, "webhook worker: no look at due deliveries");
                return None;
            }
        };
        let enabled: HashSet<&str> = work.iter().map(|w| w.subscription.id.as_str()).collect();
        // Forget the limits of subscriptions turned off or deleted (a task in flight keeps
        // its own handle).
        self.limits.retain(|id, _| enabled.contains(id.as_str()));
        let mut next_due: Option<Timestamp> = None;
        for w in work {
            next_due = match (next_due, w.next_due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let limit = self
                .limits
                .entry(w.subscription.id.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.settings.concurrency)))
                .clone();
            let target = Target {
                subscription_id: w.subscription.id.clone(),
                url: w.subscription.url.as_str().to_owned(),
                format: w.subscription.format,
            };
            for due in w.due {
                if !self.claims.claim(&target.subscription_id, &due.id) {
                    continue;
                }
                let send = Send {
                    rate: self.rate.clone(),
                    db: self.db.clone(),
                    client: self.client.clone(),
                    timeout: self.settings.timeout,
                    claims: self.claims.clone(),
                    answers: self.answers.clone(),
                };
                self.sends
                    .spawn(send.run(limit.clone(), target.clone(), due));
            }
        }
        next_due.map(|at| {
            let wait = at
                .unix_ms()
                .saturating_sub(Timestamp::now().unix_ms())
                .max(0);
            Instant::now() + Duration::from_millis(wait as u64)
        })
    }

    /// Prunes the outbox and the delivery log, and forgets old provider events (their rows only
    /// stop a provider's retry from applying twice), when it is time (at start, then hourly).
    async fn retain(&mut self) {
        if Instant::now() < self.retention_due || self.stopping() {
            return;
        }
        let now = Timestamp::now();
        let cutoff = now.minus_ms(self.settings.retention.as_millis() as i64);
        let hooks_cutoff = now.minus_ms(
            self.settings
                .retention
                .max(hooks::retention::KEPT_AT_LEAST)
                .as_millis() as i64,
        );
        let mut total = Pruned::default();
        for _ in 0..RETENTION_BATCHES_PER_RUN {
            if self.stopping() {
                break;
            }
            let pruned = self
                .db
                .write_background(move |s| {
                    s.write(|tx| {
                        let mut pruned = retention::prune(tx, cutoff, RETENTION_BATCH)?;
                        let (forgotten, more) = hooks::retention::forget_received_before(
                            tx,
                            hooks_cutoff,
                            RETENTION_BATCH,
                        )?;
                        pruned.hook_events = forgotten;
                        pruned.more |= more;
                        Ok::<_, passdesk_core::store::StoreError>(pruned)
                    })
                })
                .await;
            match pruned {
                Ok(Ok(p)) => {
                    total.add(p);
                    if !p.more {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "webhook retention failed; will retry");
                    total.more = true;
                    break;
                }
                Err(_) => return,
            }
        }
        if total.events + total.deliveries + total.held_dropped + total.hook_events > 0 {
            tracing::info!(
                events = total.events,
                loyalty_answers_kept = total.loyalty_answers_kept,
                deliveries = total.deliveries,
                held_dropped = total.held_dropped,
                hook_events = total.hook_events,
                "webhook retention: pruned the outbox, the delivery log and old provider events"
            );
        }
        if total.held_dropped > 0 {
            tracing::warn!(
                dropped = total.held_dropped,
                "webhook retention dropped deliveries held for a turned-off subscription longer than the retention period"
            );
        }
        self.retention_due = Instant::now()
            + if total.more {
                RETENTION_AGAIN
            } else {
                self.settings.retention_every
            };
    }
}

/// Reads, for every enabled subscription, its due deliveries not already claimed (up to
/// what its window has room for) and when its next one falls due.
fn read_work(
    conn: &passdesk_core::rusqlite::Connection,
    claimed: &HashMap<String, HashSet<String>>,
    window: usize,
    now: Timestamp,
) -> StoreResult<Vec<Work>> {
    let none = HashSet::new();
    let mut out = Vec::new();
    for subscription in subscriptions::all(conn)? {
        if !subscription.enabled {
            continue;
        }
        let mine = claimed.get(&subscription.id).unwrap_or(&none);
        let room = window.saturating_sub(mine.len());
        let due = if room == 0 {
            Vec::new()
        } else {
            // The first `window` due ones hold at least `room` that are not claimed.
            deliveries::due(conn, &subscription.id, now, window as u32)?
                .into_iter()
                .filter(|d| !mine.contains(&d.id))
                .take(room)
                .collect()
        };
        let next_due = deliveries::next_due(conn, &subscription.id, now)?;
        out.push(Work {
            subscription,
            due,
            next_due,
        });
    }
    Ok(out)
}

/// Where a subscription's deliveries go.
#[derive(Debug, Clone)]
struct Target {
    subscription_id: String,
    url: String,
    format: Format,
}

impl Target {
    /// The URL of one delivery: a Passcreator subscription's `{event}` is the event's name.
    fn url_for(&self, event_name: &str) -> String {
        match self.format {
            Format::Passcreator => passcreator::target_url(&self.url, event_name),
            _ => self.url.clone(),
        }
    }
}

/// One delivery's attempt.
struct Send {
    rate: Arc<governor::DefaultDirectRateLimiter>,
    db: Arc<Db>,
    client: reqwest::Client,
    timeout: Duration,
    claims: Arc<Claims>,
    answers: mpsc::Sender<Sent>,
}

impl Send {
    async fn run(self, limit: Arc<Semaphore>, target: Target, due: Due) {
        let Ok(in_flight) = limit.acquire_owned().await else {
            return;
        };
        self.rate.until_ready().await;
        let release = |claims: &Claims| {
            claims.release([(target.subscription_id.as_str(), due.id.as_str())]);
        };
        // The secret as it is now: a rotation signs every later attempt, retries included.
        let id = target.subscription_id.clone();
        let secret = match self
            .db
            .read(move |s| deliveries::signing_secret(s.conn(), &id))
            .await
        {
            Ok(Ok(Some(secret))) => secret,
            // Turned off (a 410 just recorded, a person) or deleted meanwhile: it waits.
            Ok(Ok(None)) => return release(&self.claims),
            Ok(Err(e)) => {
                tracing::error!(subscription_id = %target.subscription_id, error = %e,
                    "cannot read a webhook secret; the delivery waits");
                return release(&self.claims);
            }
            Err(_) => return release(&self.claims),
        };
        let rendered = Rendered {
            event_name: due.event_name.clone(),
            // Signatures cover the body alone; the stored content type is sent below.
            content_type: "application/octet-stream",
            body: due.body,
        };
        let sent_at = Timestamp::now();
        let headers = signature::headers(target.format, &secret, &due.event_id, sent_at, &rendered);
        let mut request = self.client.post(target.url_for(&due.event_name));
        for (name, value) in headers {
            request = if name == signature::name::CONTENT_TYPE {
                request.header(name, &due.content_type)
            } else {
                request.header(name, value)
            };
        }
        let started = Instant::now();
        let outcome = attempt(request.body(rendered.body), self.timeout).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(subscription_id = %target.subscription_id, delivery_id = %due.id,
            event_id = %due.event_id, latency_ms, outcome = ?outcome, "webhook attempt");
        let sent = Sent {
            subscription_id: target.subscription_id.clone(),
            answered: Answered {
                delivery_id: due.id.clone(),
                at: sent_at,
                latency_ms,
                outcome,
            },
            _in_flight: None,
        };
        let sent = if sent.answered.outcome == Outcome::Gone {
            Sent {
                _in_flight: Some(in_flight),
                ..sent
            }
        } else {
            drop(in_flight);
            sent
        };
        if self.answers.send(sent).await.is_err() {
            release(&self.claims);
        }
    }
}

/// Sends one request and says what came of it.
async fn attempt(request: reqwest::RequestBuilder, timeout: Duration) -> Outcome {
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Failed {
                status: None,
                error: transport::describe(&e, timeout),
                retry_after: None,
            }
        }
    };
    let status = response.status();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect::<String>())
    };
    let retry_after =
        header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
    let location = header(reqwest::header::LOCATION);
    // What is left of the answer is read and dropped (bounded), so its connection can be
    // used again; the client's timeout covers it.
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read > DRAIN_LIMIT {
            break;
        }
    }
    classify(status, retry_after, location)
}

/// An answer's status in the delivery log's terms.
fn classify(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    location: Option<String>,
) -> Outcome {
    let code = status.as_u16();
    if status.is_success() {
        return Outcome::Delivered { status: code };
    }
    if code == 410 {
        return Outcome::Gone;
    }
    let reason = status.canonical_reason().unwrap_or("");
    let error = if status.is_redirection() {
        format!(
            "HTTP {code} {reason}: a redirect{}, not followed; give the subscription the final URL",
            location.map(|l| format!(" to {l}")).unwrap_or_default()
        )
    } else {
        format!("HTTP {code} {reason}").trim_end().to_owned()
    };
    Outcome::Failed {
        status: Some(code),
        error,
        retry_after,
    }
}

/// `Retry-After`: seconds, or an HTTP date (a date in the past is no wait).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Records answers as they come, many per transaction, then releases their deliveries.
async fn record_answers(
    db: Arc<Db>,
    settings: Arc<Settings>,
    mut answers: mpsc::Receiver<Sent>,
    claims: Arc<Claims>,
) {
    while let Some(first) = answers.recv().await {
        // Answers come one by one (paced, or from endpoints of different speeds): gathered
        // for a moment, they cost the writer one short transaction, not one each.
        let mut batch = vec![first];
        let until = Instant::now() + RECORD_GATHER;
        while batch.len() < RECORD_BATCH {
            match tokio::time::timeout_at(until, answers.recv()).await {
                Ok(Some(sent)) => batch.push(sent),
                Ok(None) | Err(_) => break,
            }
        }
        let settings = settings.clone();
        let answered: Vec<Answered> = batch.iter().map(|s| s.answered.clone()).collect();
        let recorded = db
            .write_background(move |s| {
                s.write(|tx| {
                    let now = Timestamp::now();
                    answered
                        .iter()
                        .map(|a| deliveries::record(tx, a, &settings.schedule, now))
                        .collect::<StoreResult<Vec<_>>>()
                })
            })
            .await;
        let done = &batch;
        let released: Vec<(String, String)> = done
            .iter()
            .map(|s| (s.subscription_id.clone(), s.answered.delivery_id.clone()))
            .collect();
        match recorded {
            Ok(Ok(results)) => {
                for (sent, r) in done.iter().zip(results) {
                    let Some(r) = r else { continue };
                    if let Some(reason) = r.disabled {
                        tracing::warn!(subscription_id = %sent.subscription_id, reason,
                            "webhook subscription turned off");
                    }
                    if r.state == State::Failed {
                        tracing::warn!(subscription_id = %sent.subscription_id,
                            delivery_id = %sent.answered.delivery_id,
                            "webhook delivery given up; `retry` sends it again");
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, answers = done.len(),
                "cannot record webhook answers; those deliveries are sent again"),
            Err(e) => tracing::warn!(error = %e, answers = done.len(),
                "webhook answers not recorded; those deliveries are sent again"),
        }
        // Their endpoints' places first, then the claims (which wake the pump).
        drop(batch);
        claims.release(released.iter().map(|(s, d)| (s.as_str(), d.as_str())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        // RFC 9110's example date, 90 s after `now`.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn answers_are_classified_in_the_logs_words() {
        use reqwest::StatusCode;
        assert_eq!(
            classify(StatusCode::NO_CONTENT, None, None),
            Outcome::Delivered { status: 204 }
        );
        assert_eq!(classify(StatusCode::GONE, None, None), Outcome::Gone);
        let Outcome::Failed { status, error, .. } = classify(
            StatusCode::FOUND,
            None,
            Some("https://elsewhere.example/".into()),
        ) else {
            panic!("a redirect is a failure");
        };
        assert_eq!(status, Some(302));
        assert!(error.contains("not followed") && error.contains("elsewhere.example"));
        let wait = Some(Duration::from_secs(5));
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, wait, None),
            Outcome::Failed {
                status: Some(503),
                error: "HTTP 503 Service Unavailable".into(),
                retry_after: wait
            }
        );
    }
}
