//! The delivery log: one delivery per subscription and event, each attempt recorded.
//!
//! A delivery is `pending` (due at `next_attempt_at`), `delivered` (a 2xx was recorded: never
//! sent again, its body dropped) or `failed` (given up after the last attempt of the
//! [`Schedule`], or answered 410: kept with its body for [`retry`]). A subscription's
//! `backlog` is its pending deliveries, kept in the same statements that change a state, so
//! `/status` reads it from one row.
//!
//! The API and the CLI list ([`page`], [`get`]), [`retry`] and queue the test event
//! ([`enqueue_test`]); the worker asks what is [`due`] and [`record`]s each answer.

use super::event::Event;
use super::secret::Secret;
use super::subscriptions::{self, disabled_reason, FAILING_FOR_MS};
use super::{render, EventType, Rendered};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::time::Duration;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not yet answered with a 2xx; due at `nextAttemptAt` (or held while its subscription is off).
    Pending,
    /// Answered with a 2xx: never sent again.
    Delivered,
    /// Given up after the last attempt (or a 410): kept with its body for `retry`.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> StoreResult<State> {
        match text {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt {
                what: "webhook delivery",
                detail: format!("unknown state {other:?}"),
            }),
        }
    }
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub subscription_id: String,
    /// The event's UUIDv7 (`webhook-id`).
    pub event_id: String,
    /// PassEntry's name for the event (`passTapped`, `webhookTest`, ...).
    pub event_type: String,
    /// The format's word for it (`pass_created`, `N801`, ...).
    pub event_name: String,
    #[schema(value_type = String)]
    pub event_at: Timestamp,
    pub state: State,
    pub attempts: u32,
    #[schema(value_type = Option<String>)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Timestamp>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub n: u32,
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The HTTP status; `null` when there was no answer.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Which deliveries a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub subscription_id: Option<String>,
    /// Only those given up (`state = failed`).
    pub failed_only: bool,
}

const COLUMNS: &str = "id, subscription_id, event_id, event_type, event_name, event_at, state, \
                       attempts, next_attempt_at, created_at, done_at, last_status, last_error";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<Delivery, StoreError>> {
    let state: String = r.get(6)?;
    let state = match State::parse(&state) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Delivery {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        event_id: r.get(2)?,
        event_type: r.get(3)?,
        event_name: r.get(4)?,
        event_at: r.get(5)?,
        state,
        attempts: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
        next_attempt_at: r.get(8)?,
        created_at: r.get(9)?,
        done_at: r.get(10)?,
        last_status: r
            .get::<_, Option<i64>>(11)?
            .and_then(|s| u16::try_from(s).ok()),
        last_error: r.get(12)?,
    }))
}

/// One page of the log, newest first (`page` from 1), and how many match.
pub fn page(
    conn: &Connection,
    filter: &Filter,
    page: u32,
    per_page: u32,
) -> StoreResult<(Vec<Delivery>, u64)> {
    // Each filter has an index that serves both its order and its count: the subscription's
    // (`webhook_deliveries_subscription`), the failed ones' (a partial index), or the log's.
    let mut clauses = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(sub) = &filter.subscription_id {
        args.push(sub.clone().into());
        clauses.push(format!("subscription_id = ?{}", args.len()));
    }
    if filter.failed_only {
        clauses.push("state = 'failed'".to_owned());
    }
    let condition = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM webhook_deliveries {condition}"
        ))?
        .query_row(rusqlite::params_from_iter(&args), |r| r.get(0))?;
    let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
    let n = args.len();
    args.push(i64::from(per_page).into());
    args.push(offset.into());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries {condition}
         ORDER BY created_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    ))?;
    let list = stmt
        .query_map(rusqlite::params_from_iter(&args), from_row)?
        .map(|r| r?)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((list, total.max(0) as u64))
}

/// A delivery and its attempts, oldest first.
pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<(Delivery, Vec<Attempt>)>> {
    let Some(delivery) = get_delivery(conn, id)? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT n, at, status, latency_ms, error FROM webhook_attempts
         WHERE delivery_id = ?1 ORDER BY n",
    )?;
    let attempts = stmt
        .query_map([id], |r| {
            Ok(Attempt {
                n: r.get::<_, i64>(0)?.clamp(0, i64::from(u32::MAX)) as u32,
                at: r.get(1)?,
                status: r
                    .get::<_, Option<i64>>(2)?
                    .and_then(|s| u16::try_from(s).ok()),
                latency_ms: r.get::<_, i64>(3)?.max(0) as u64,
                error: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((delivery, attempts)))
}

fn get_delivery(conn: &Connection, id: &str) -> StoreResult<Option<Delivery>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .transpose()
}

/// Sends a delivery again: a failed (or pending) one becomes pending and due now, its attempts
/// counted afresh. A delivered one is left as it is (`Ok(Some)` with its state). `None` when
/// there is no such delivery.
pub fn retry(conn: &Connection, id: &str, now: Timestamp) -> StoreResult<Option<Delivery>> {
    let Some(before) = get_delivery(conn, id)? else {
        return Ok(None);
    };
    match before.state {
        State::Delivered => return Ok(Some(before)),
        State::Pending => {}
        State::Failed => {
            conn.prepare_cached(
                "UPDATE webhook_subscriptions SET backlog = backlog + 1 WHERE id = ?1",
            )?
            .execute([&before.subscription_id])?;
        }
    }
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2,
             done_at = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    get_delivery(conn, id)
}

/// Queues the test event for one subscription, rendered in its format, due now. `None` when
/// there is no such subscription.
pub fn enqueue_test(
    conn: &Connection,
    subscription_id: &str,
    now: Timestamp,
) -> StoreResult<Option<Delivery>> {
    let Some(sub) = subscriptions::get(conn, subscription_id)? else {
        return Ok(None);
    };
    let event = Event::test(uuid::Uuid::now_v7().to_string(), now);
    // Every format has a word for the test event; should one ever lack it, the subscription
    // still gets a test, in the Standard Webhooks envelope its headers already speak.
    let rendered = render(sub.format, &event)
        .or_else(|| render(super::Format::Standard, &event))
        .ok_or_else(|| StoreError::Corrupt {
            what: "webhook test event",
            detail: "no format renders it".into(),
        })?;
    let new = NewDelivery {
        subscription_id: subscription_id.to_owned(),
        event_id: event.id.clone(),
        event_type: event.event_type,
        event_at: event.at,
        rendered,
    };
    let id = insert(conn, &new, now)?.ok_or_else(|| StoreError::Corrupt {
        what: "webhook test delivery",
        detail: format!("{} was queued twice", event.id),
    })?;
    get_delivery(conn, &id)
}

/// A delivery made by the fan-out, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: EventType,
    pub event_at: Timestamp,
    pub rendered: Rendered,
}

/// Writes one new delivery, pending and due now, and bumps its subscription's backlog.
/// `INSERT OR IGNORE` on (subscription, event) makes a second write of the same one nothing;
/// a subscription deleted meanwhile gets nothing. Returns the new delivery's id.
pub(crate) fn insert(
    conn: &Connection,
    new: &NewDelivery,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO webhook_deliveries (id, subscription_id, event_id, event_type,
                 event_name, event_at, state, attempts, next_attempt_at, content_type, body, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?7
             WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = ?2)",
        )?
        .execute(params![
            id,
            new.subscription_id,
            new.event_id,
            new.event_type.as_str(),
            new.rendered.event_name,
            new.event_at,
            now,
            new.rendered.content_type,
            new.rendered.body,
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    conn.prepare_cached("UPDATE webhook_subscriptions SET backlog = backlog + 1 WHERE id = ?1")?
        .execute([&new.subscription_id])?;
    Ok(Some(id))
}

/// The waits between attempts: after a failed attempt `n` the next is due `waits[n - 1]`
/// later; after the last one (`waits.len() + 1` attempts) the delivery is given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    waits: Vec<Duration>,
}

/// The longest a `Retry-After` may hold a delivery back.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

impl Schedule {
    /// At most this many waits (attempts − 1).
    pub const MAX_WAITS: usize = 100;
    /// No wait longer than this.
    pub const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

    /// `waits` must have at most [`Schedule::MAX_WAITS`] entries, none over
    /// [`Schedule::MAX_WAIT`]; an empty list is a single attempt.
    pub fn new(waits: Vec<Duration>) -> Result<Schedule, String> {
        if waits.len() > Self::MAX_WAITS {
            return Err(format!(
                "{} waits: at most {} (attempts are the waits + 1)",
                waits.len(),
                Self::MAX_WAITS
            ));
        }
        if let Some((i, w)) = waits.iter().enumerate().find(|(_, w)| **w > Self::MAX_WAIT) {
            return Err(format!(
                "wait {} is {} s: at most 7 days",
                i + 1,
                w.as_secs()
            ));
        }
        Ok(Schedule { waits })
    }

    /// 10 attempts over 3 days 3½ hours: at once, then 1 min, 5 min, 30 min, 2 h, 5 h, 10 h,
    /// 14 h, 20 h and 24 h after the one before (PassEntry promises 10 over 3 days).
    pub fn standard() -> Schedule {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        let waits = [
            MIN,
            5 * MIN,
            30 * MIN,
            2 * HOUR,
            5 * HOUR,
            10 * HOUR,
            14 * HOUR,
            20 * HOUR,
            24 * HOUR,
        ];
        Schedule {
            waits: waits.into_iter().map(Duration::from_secs).collect(),
        }
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> u32 {
        self.waits.len() as u32 + 1
    }

    pub fn waits(&self) -> &[Duration] {
        &self.waits
    }

    /// The wait after failed attempt `n` (from 1); `None` after the last.
    fn wait_after(&self, n: u32) -> Option<Duration> {
        self.waits.get(n.checked_sub(1)? as usize).copied()
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Self::standard()
    }
}

/// A delivery the worker is to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub event_name: String,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Attempts so far (against the schedule).
    pub attempts: u32,
}

/// A subscription's deliveries due at `now`, the longest waiting first, at most `limit`.
/// (Whether the subscription is on is the caller's question: it asks only for those that are.)
pub fn due(
    conn: &Connection,
    subscription_id: &str,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, subscription_id, event_id, event_type, event_name, content_type, body, attempts
         FROM webhook_deliveries INDEXED BY webhook_deliveries_due
         WHERE subscription_id = ?1 AND state = 'pending' AND next_attempt_at <= ?2
         ORDER BY next_attempt_at LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![subscription_id, now, limit], |r| {
        Ok(Due {
            id: r.get(0)?,
            subscription_id: r.get(1)?,
            event_id: r.get(2)?,
            event_type: r.get(3)?,
            event_name: r.get(4)?,
            content_type: r.get(5)?,
            body: r.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
            attempts: r.get::<_, i64>(7)?.clamp(0, i64::from(u32::MAX)) as u32,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When a subscription's first pending delivery not due by `after` falls due (`None`: none).
pub fn next_due(
    conn: &Connection,
    subscription_id: &str,
    after: Timestamp,
) -> StoreResult<Option<Timestamp>> {
    Ok(conn
        .prepare_cached(
            "SELECT min(next_attempt_at) FROM webhook_deliveries INDEXED BY webhook_deliveries_due
             WHERE subscription_id = ?1 AND state = 'pending' AND next_attempt_at > ?2",
        )?
        .query_row(params![subscription_id, after], |r| r.get(0))?)
}

/// The secret to sign a subscription's delivery with now: `None` when the subscription is
/// gone or turned off (its deliveries wait). Read at every attempt, so a rotation applies at
/// once, retries included.
pub fn signing_secret(conn: &Connection, subscription_id: &str) -> StoreResult<Option<Secret>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT secret FROM webhook_subscriptions WHERE id = ?1 AND enabled = 1")?
        .query_row([subscription_id], |r| r.get(0))
        .optional()?;
    text.map(super::subscriptions::parse_stored_secret)
        .transpose()
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered { status: u16 },
    /// `410 Gone`: the endpoint asks never to be called again.
    Gone,
    /// No answer (refused, reset, timed out) or any other status.
    Failed {
        status: Option<u16>,
        /// What went wrong, in words.
        error: String,
        /// The answer's `Retry-After`, when it had one.
        retry_after: Option<Duration>,
    },
}

/// One attempt's answer, as the worker hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub delivery_id: String,
    /// When the request was sent.
    pub at: Timestamp,
    pub latency_ms: u64,
    pub outcome: Outcome,
}

/// What recording an answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub subscription_id: String,
    /// The delivery's state afterwards.
    pub state: State,
    /// When a failed attempt is tried again.
    pub next_attempt_at: Option<Timestamp>,
    /// Why the subscription was turned off by this answer (`gone`, `failing`).
    pub disabled: Option<&'static str>,
}

/// Records one attempt and what follows from it, in the caller's transaction: the attempt row;
/// the delivery delivered (body dropped), due again by the schedule (or a later
/// `Retry-After`, capped at a day), or failed after the last attempt or a 410; the
/// subscription's backlog, last success, failing-since, and its turning off (410: `gone`;
/// failing for [`FAILING_FOR_MS`]: `failing`). `None` when the delivery is gone (its
/// subscription was deleted meanwhile). An answer for a delivery no longer pending is only
/// logged.
pub fn record(
    conn: &Connection,
    answered: &Answered,
    schedule: &Schedule,
    now: Timestamp,
) -> StoreResult<Option<Recorded>> {
    let row: Option<(String, String, i64, i64)> = conn
        .prepare_cached(
            "SELECT subscription_id, state, attempts,
                 (SELECT coalesce(max(n), 0) FROM webhook_attempts WHERE delivery_id = d.id)
             FROM webhook_deliveries d WHERE id = ?1",
        )?
        .query_row([&answered.delivery_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((subscription_id, state, attempts, last_n)) = row else {
        return Ok(None);
    };
    let (status, error) = match &answered.outcome {
        Outcome::Delivered { status } => (Some(*status), None),
        Outcome::Gone => (
            Some(410),
            Some("the endpoint answered 410 Gone: the subscription is turned off".to_owned()),
        ),
        Outcome::Failed { status, error, .. } => (*status, Some(error.clone())),
    };
    conn.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, n, at, status, latency_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        answered.delivery_id,
        last_n + 1,
        answered.at,
        status,
        i64::try_from(answered.latency_ms).unwrap_or(i64::MAX),
        error
    ])?;
    let state = State::parse(&state)?;
    if state != State::Pending {
        return Ok(Some(Recorded {
            subscription_id,
            state,
            next_attempt_at: None,
            disabled: None,
        }));
    }
    let attempts = u32::try_from(attempts.max(0))
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let recorded = match &answered.outcome {
        Outcome::Delivered { status } => {
            conn.prepare_cached(
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?2, body = NULL,
                     next_attempt_at = NULL, done_at = ?3, last_status = ?4, last_error = NULL
                 WHERE id = ?1",
            )?
            .execute(params![answered.delivery_id, attempts, now, status])?;
            conn.prepare_cached(
                "UPDATE webhook_subscriptions SET backlog = max(backlog - 1, 0),
                     last_success_at = ?2, failing_since = NULL, last_error = NULL
                 WHERE id = ?1",
            )?
            .execute(params![subscription_id, now])?;
            Recorded {
                subscription_id,
                state: State::Delivered,
                next_attempt_at: None,
                disabled: None,
            }
        }
        Outcome::Gone => {
            give_up(conn, &answered.delivery_id, attempts, status, &error, now)?;
            conn.prepare_cached(
                "UPDATE webhook_subscriptions SET backlog = max(backlog - 1, 0), enabled = 0,
                     disabled_reason = ?2, failing_since = coalesce(failing_since, ?3),
                     last_error = ?4, updated_at = ?3
                 WHERE id = ?1",
            )?
            .execute(params![subscription_id, disabled_reason::GONE, now, error])?;
            Recorded {
                subscription_id,
                state: State::Failed,
                next_attempt_at: None,
                disabled: Some(disabled_reason::GONE),
            }
        }
        Outcome::Failed { retry_after, .. } => {
            let next = schedule.wait_after(attempts).map(|wait| {
                let asked = retry_after.map_or(Duration::ZERO, |r| r.min(RETRY_AFTER_CAP));
                now.plus_ms(wait.max(asked).as_millis().min(i64::MAX as u128) as i64)
            });
            match next {
                Some(at) => {
                    conn.prepare_cached(
                        "UPDATE webhook_deliveries SET attempts = ?2, next_attempt_at = ?3,
                             last_status = ?4, last_error = ?5
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        answered.delivery_id,
                        attempts,
                        at,
                        status,
                        error
                    ])?;
                }
                None => {
                    give_up(conn, &answered.delivery_id, attempts, status, &error, now)?;
                    conn.prepare_cached(
                        "UPDATE webhook_subscriptions SET backlog = max(backlog - 1, 0) WHERE id = ?1",
                    )?
                    .execute([&subscription_id])?;
                }
            }
            let failing_since: Option<Timestamp> = conn
                .prepare_cached(
                    "UPDATE webhook_subscriptions SET failing_since = coalesce(failing_since, ?2),
                         last_error = ?3
                     WHERE id = ?1 RETURNING failing_since",
                )?
                .query_row(params![subscription_id, now, error], |r| r.get(0))
                .optional()?
                .flatten();
            let failing_too_long = failing_since.is_some_and(|since| {
                now.unix_ms().saturating_sub(since.unix_ms()) >= FAILING_FOR_MS
            });
            let disabled = if failing_too_long {
                let turned_off = conn
                    .prepare_cached(
                        "UPDATE webhook_subscriptions SET enabled = 0, disabled_reason = ?2,
                             updated_at = ?3
                         WHERE id = ?1 AND enabled = 1",
                    )?
                    .execute(params![subscription_id, disabled_reason::FAILING, now])?;
                (turned_off > 0).then_some(disabled_reason::FAILING)
            } else {
                None
            };
            Recorded {
                subscription_id,
                state: if next.is_some() {
                    State::Pending
                } else {
                    State::Failed
                },
                next_attempt_at: next,
                disabled,
            }
        }
    };
    Ok(Some(recorded))
}

/// The delivery given up: failed, its body kept for `retry`.
fn give_up(
    conn: &Connection,
    id: &str,
    attempts: u32,
    status: Option<u16>,
    error: &Option<String>,
    now: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET state = 'failed', attempts = ?2, next_attempt_at = NULL,
             done_at = ?3, last_status = ?4, last_error = ?5
         WHERE id = ?1",
    )?
    .execute(params![id, attempts, now, status, error])?;
    Ok(())
}
