//! The push queue: what PassEntry must hear of this counter, as request rows.
//!
//! - **Made with the cursor.** The outbox events after the upstream push cursor become rows in
//!   the transaction that moves the cursor ([`enqueue`]): a scan decided here of a pass from
//!   PassEntry → `POST /api/v1/scans/log`; a loyalty change made here → `PATCH
//!   /api/v1/passes/{id}/loyalty` (`{"balance": delta}`, an override `{"overrideBalance": n}`).
//!   Each row names its outbox event (unique), so an event makes one request, ever.
//! - **States.** `pending` → `sending` (committed before the request goes out) →
//!   `acknowledged` (2xx) / `refused` (a 4xx other than 408 and 429: kept with its answer,
//!   shown, never retried, and the rows after it go on) / back to `pending` with a later
//!   `next_attempt_at` (5xx, 408, 429, no answer).
//! - **In order, one at a time.** [`next`] is the first row not finished, whatever its wait.
//! - **After a crash.** A row found `sending` may or may not have reached PassEntry, which
//!   takes no idempotency key: the worker reads back before anything is sent ([`scan_read_back`],
//!   [`loyalty_read_back`]).

use super::page::PageError;
use super::state;
use crate::decision::Verdict;
use crate::loyalty::ledger::EntryKind;
use crate::outbox::topic;
use crate::scan_log::{self, ScanRecord};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use chrono::SecondsFormat;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RequestKind {
    /// `POST /api/v1/scans/log`.
    ScanLog,
    /// `PATCH /api/v1/passes/{id}/loyalty`.
    Loyalty,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScanLog => "scanLog",
            Self::Loyalty => "loyalty",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RequestState {
    Pending,
    Sending,
    Acknowledged,
    Refused,
    Uncertain,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Acknowledged => "acknowledged",
            Self::Refused => "refused",
            Self::Uncertain => "uncertain",
        }
    }
}

/// One request row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub id: i64,
    /// The outbox event it was made for.
    pub outbox_id: String,
    pub kind: RequestKind,
    pub pass_id: String,
    pub method: String,
    /// The path under the API host (the pass id percent-encoded).
    pub path: String,
    /// The JSON body sent.
    pub body: String,
    pub state: RequestState,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    /// Loyalty: PassEntry's balance before it, as read when sending.
    pub balance_before: Option<i64>,
    /// Loyalty: the balance once it is applied.
    pub balance_expected: Option<i64>,
    /// Loyalty read-back: what PassEntry had instead (uncertain).
    pub balance_found: Option<i64>,
    /// The last answer's HTTP status.
    pub status: Option<i64>,
    /// The last answer's body (at most [`ANSWER_LIMIT`] bytes).
    pub answer: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub done_at: Option<Timestamp>,
    /// When a person marked it handled (refused or uncertain, no longer shown).
    pub handled_at: Option<Timestamp>,
}

/// The most of an answer's body kept with a request.
pub const ANSWER_LIMIT: usize = 2000;

/// The longest a failing request waits before its next attempt.
pub const MAX_BACKOFF_MS: i64 = 60 * 1000;

/// The wait before attempt `attempts + 1` after `attempts` failed ones: 1 s, doubled each
/// time, at most [`MAX_BACKOFF_MS`].
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 20) - 1;
    (1000_i64 << doublings).min(MAX_BACKOFF_MS)
}

const COLUMNS: &str = "id, outbox_id, kind, pass_id, method, path, body, state, attempts,
    next_attempt_at, balance_before, balance_expected, balance_found, status, answer, last_error,
    created_at, sent_at, done_at, handled_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Request> {
    let kind: String = r.get(2)?;
    let state: String = r.get(7)?;
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("upstream request: unknown {what} {v:?}").into(),
        )
    };
    Ok(Request {
        id: r.get(0)?,
        outbox_id: r.get(1)?,
        kind: match kind.as_str() {
            "scanLog" => RequestKind::ScanLog,
            "loyalty" => RequestKind::Loyalty,
            _ => return Err(bad("kind", &kind)),
        },
        pass_id: r.get(3)?,
        method: r.get(4)?,
        path: r.get(5)?,
        body: r.get(6)?,
        state: match state.as_str() {
            "pending" => RequestState::Pending,
            "sending" => RequestState::Sending,
            "acknowledged" => RequestState::Acknowledged,
            "refused" => RequestState::Refused,
            "uncertain" => RequestState::Uncertain,
            _ => return Err(bad("state", &state)),
        },
        attempts: r.get(8)?,
        next_attempt_at: r.get(9)?,
        balance_before: r.get(10)?,
        balance_expected: r.get(11)?,
        balance_found: r.get(12)?,
        status: r.get(13)?,
        answer: r.get(14)?,
        last_error: r.get(15)?,
        created_at: r.get(16)?,
        sent_at: r.get(17)?,
        done_at: r.get(18)?,
        handled_at: r.get(19)?,
    })
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Outbox events read (the cursor moved past them).
    pub events: u64,
    /// Requests made of them.
    pub requests: u64,
    /// The batch was full: more events may wait.
    pub more: bool,
}

/// One outbox row as the queue reads it.
struct OutboxRow {
    seq: i64,
    id: String,
    topic: String,
    subject_id: String,
    payload: String,
}

/// A request to make, before it is a row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub pass_id: String,
    pub method: &'static str,
    pub path: String,
    pub body: Value,
    /// Why the event could not be read: the row is made `refused` with this, never sent.
    pub unreadable: Option<String>,
}

/// Turns at most `limit` outbox events after the cursor into requests and moves the cursor past
/// them, in the caller's transaction. Nothing while the store is not attached to an account.
/// `node_id` is this node's: only what was decided here goes up.
pub fn enqueue(
    conn: &Connection,
    node_id: &str,
    limit: u32,
    at: Timestamp,
) -> StoreResult<Enqueued> {
    let Some(after) = state::push_cursor_if_attached(conn)? else {
        return Ok(Enqueued::default());
    };
    let rows: Vec<OutboxRow> = conn
        .prepare_cached(
            "SELECT seq, id, topic, subject_id, payload FROM outbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![after, limit.max(1)], |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                topic: r.get(2)?,
                subject_id: r.get(3)?,
                payload: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let Some(last) = rows.last().map(|r| r.seq) else {
        return Ok(Enqueued::default());
    };
    let mut made = 0;
    for row in &rows {
        let Some(request) = request_for(conn, node_id, row)? else {
            continue;
        };
        let body = request.body.to_string();
        let state = if request.unreadable.is_some() {
            "refused"
        } else {
            "pending"
        };
        made += conn
            .prepare_cached(
                "INSERT INTO upstream_requests (outbox_id, kind, pass_id, method, path, body, state,
                     created_at, last_error, answer, done_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, CASE WHEN ?9 IS NULL THEN NULL ELSE ?8 END)
                 ON CONFLICT (outbox_id) DO NOTHING",
            )?
            .execute(params![
                row.id,
                request.kind.as_str(),
                request.pass_id,
                request.method,
                request.path,
                body,
                state,
                at,
                request.unreadable,
            ])? as u64;
    }
    state::set_push_cursor(conn, last)?;
    Ok(Enqueued {
        events: rows.len() as u64,
        requests: made,
        more: rows.len() as u64 >= u64::from(limit.max(1)),
    })
}

/// Is this pass one PassEntry has (came from it, not known gone)?
fn known_upstream(conn: &Connection, pass_id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM upstream_passes WHERE pass_id = ?1 AND gone_at IS NULL")?
        .query_row([pass_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The request an outbox event makes, if any.
fn request_for(
    conn: &Connection,
    node_id: &str,
    row: &OutboxRow,
) -> StoreResult<Option<NewRequest>> {
    match row.topic.as_str() {
        topic::PASS_TAPPED => {
            let Some(scan) = scan_log::get(conn, &row.subject_id)? else {
                return Ok(None);
            };
            let Some(pass_id) = scan.pass_id.clone() else {
                return Ok(None);
            };
            // Decided here (another node's scan is its own to report; one validated
            // elsewhere, logged through `POST /scans/log`, is known where it was decided), a
            // first tap (a repeat within the duplicate window counts nothing), of a pass
            // PassEntry has.
            if scan.node_id != node_id
                || scan.validated_elsewhere
                || scan.duplicate_of.is_some()
                || !known_upstream(conn, &pass_id)?
            {
                return Ok(None);
            }
            Ok(Some(scan_log_request(&scan, &pass_id)))
        }
        topic::PASS_LOYALTY_UPDATED => {
            let pass_id = &row.subject_id;
            if !known_upstream(conn, pass_id)? {
                return Ok(None);
            }
            let path = format!("/api/v1/passes/{}/loyalty", encode_segment(pass_id));
            let change = match loyalty_change(&row.payload) {
                Ok(change) => change,
                // Never a queue stuck on one event: a change that cannot be read is recorded
                // refused, with why, for a person to see; the rest go on.
                Err(detail) => {
                    return Ok(Some(NewRequest {
                        kind: RequestKind::Loyalty,
                        pass_id: pass_id.clone(),
                        method: "PATCH",
                        path,
                        body: json!({}),
                        unreadable: Some(format!("outbox event {}: {detail}", row.id)),
                    }))
                }
            };
            match change {
                Some(c) if c.node_id.as_deref().is_none_or(|n| n == node_id) => {
                    Ok(c.body().map(|body| NewRequest {
                        kind: RequestKind::Loyalty,
                        pass_id: pass_id.clone(),
                        method: "PATCH",
                        path,
                        body,
                        unreadable: None,
                    }))
                }
                _ => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// A scan as PassEntry's scan log takes it. `scanType` is `scan` (a validation): a loyalty
/// change made with it goes as its own loyalty PATCH, so it is not repeated here.
pub fn scan_log_request(scan: &ScanRecord, pass_id: &str) -> NewRequest {
    let accepted = scan.verdict == Verdict::Accept;
    let body = json!({
        "scan": {
            "status": if accepted { "successful" } else { "failed" },
            "statusDetail": match scan.reason {
                Some(r) => r.as_str(),
                None if accepted => "accepted",
                None => "rejected",
            },
            "scanValue": scan.value,
            "passId": pass_id,
            "readerId": scan.reader_id,
            "scannedAt": scanned_at(scan.at),
            "scanType": "scan",
        }
    });
    NewRequest {
        kind: RequestKind::ScanLog,
        pass_id: pass_id.to_owned(),
        method: "POST",
        path: "/api/v1/scans/log".into(),
        body,
        unreadable: None,
    }
}

/// A scan's time as sent: RFC 3339 UTC with milliseconds.
fn scanned_at(at: Timestamp) -> String {
    at.to_datetime()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| at.to_rfc3339())
}

/// A path segment percent-encoded (everything but RFC 3986's unreserved characters).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A loyalty change as the outbox holds it: an operation's result (`entries`, `account`) or
/// an expiry's single ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoyaltyChange {
    pub node_id: Option<String>,
    /// The points it added (negative: took).
    pub delta: i64,
    /// An override: the balance it set.
    pub set_to: Option<i64>,
}

impl LoyaltyChange {
    /// PassEntry's body: `{"overrideBalance": n}` for an override, `{"balance": delta}` for a
    /// change of points; `None` when no points moved (stamps, a reward's reservation).
    pub fn body(&self) -> Option<Value> {
        match self.set_to {
            Some(n) => Some(json!({ "overrideBalance": n })),
            None if self.delta != 0 => Some(json!({ "balance": self.delta })),
            None => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryRef {
    kind: EntryKind,
    #[serde(default)]
    points: i64,
    node_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountRef {
    points: i64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LoyaltyPayload {
    Operation {
        entries: Vec<EntryRef>,
        account: AccountRef,
    },
    Entry(EntryRef),
}

/// Reads a `passLoyaltyUpdated` payload; `Ok(None)` for one without points or a kind.
pub fn loyalty_change(payload: &str) -> Result<Option<LoyaltyChange>, String> {
    let p: LoyaltyPayload =
        serde_json::from_str(payload).map_err(|e| format!("not a loyalty result: {e}"))?;
    Ok(Some(match p {
        LoyaltyPayload::Operation { entries, account } => LoyaltyChange {
            node_id: entries.first().and_then(|e| e.node_id.clone()),
            delta: entries.iter().map(|e| e.points).sum(),
            set_to: entries
                .iter()
                .any(|e| e.kind == EntryKind::Override)
                .then_some(account.points),
        },
        LoyaltyPayload::Entry(e) => LoyaltyChange {
            node_id: e.node_id,
            delta: e.points,
            set_to: None,
        },
    }))
}

/// The first request not finished (pending or sending), whatever its wait: requests go in
/// order, so a later one never overtakes it.
pub fn next(conn: &Connection) -> StoreResult<Option<Request>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM upstream_requests INDEXED BY upstream_requests_open
             WHERE state IN ('pending', 'sending') ORDER BY id LIMIT 1"
        ))?
        .query_row([], from_row)
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<Option<Request>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM upstream_requests WHERE id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()?)
}

/// Refused and uncertain requests not marked handled, newest first, at most `limit`.
pub fn needing_attention(conn: &Connection, limit: u32) -> StoreResult<Vec<Request>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM upstream_requests INDEXED BY upstream_requests_attention
             WHERE state IN ('refused', 'uncertain') AND handled_at IS NULL
             ORDER BY id DESC LIMIT ?1"
        ))?
        .query_map([limit], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Errors of a state change asked of a row that is not in the state it needs.
fn moved(id: i64, wanted: &str) -> StoreError {
    StoreError::Corrupt {
        what: "upstream request",
        detail: format!("request {id} is not {wanted} any more"),
    }
}

fn capped(text: &str) -> String {
    if text.len() <= ANSWER_LIMIT {
        return text.to_owned();
    }
    let mut end = ANSWER_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// About to send: `sending`, committed before the request goes out. A loyalty request carries
/// PassEntry's balance before it and the balance expected after it, for a read-back.
pub fn mark_sending(
    conn: &Connection,
    id: i64,
    balance_before: Option<i64>,
    balance_expected: Option<i64>,
    at: Timestamp,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE upstream_requests SET state = 'sending', attempts = attempts + 1, sent_at = ?2,
                 balance_before = ?3, balance_expected = ?4
             WHERE id = ?1 AND state = 'pending'",
        )?
        .execute(params![id, at, balance_before, balance_expected])?;
    if n == 1 {
        Ok(())
    } else {
        Err(moved(id, "pending"))
    }
}

/// PassEntry took it (2xx, or a read-back found it there).
pub fn mark_acknowledged(
    conn: &Connection,
    id: i64,
    status: Option<u16>,
    answer: &str,
    at: Timestamp,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE upstream_requests SET state = 'acknowledged', status = ?2, answer = ?3,
                 done_at = ?4, next_attempt_at = NULL, last_error = NULL
             WHERE id = ?1 AND state = 'sending'",
        )?
        .execute(params![id, status, capped(answer), at])?;
    if n != 1 {
        return Err(moved(id, "sending"));
    }
    pushed(conn, at)
}

/// PassEntry refused it (a 4xx other than 408 and 429): kept with the answer, never retried.
pub fn mark_refused(
    conn: &Connection,
    id: i64,
    status: u16,
    answer: &str,
    at: Timestamp,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE upstream_requests SET state = 'refused', status = ?2, answer = ?3, done_at = ?4,
                 next_attempt_at = NULL
             WHERE id = ?1 AND state IN ('pending', 'sending')",
        )?
        .execute(params![id, status, capped(answer), at])?;
    if n != 1 {
        return Err(moved(id, "open"));
    }
    pushed(conn, at)
}

/// Not taken this time (5xx, 408, 429, no answer): pending again, tried at `next_at`.
pub fn mark_retry(
    conn: &Connection,
    id: i64,
    status: Option<u16>,
    error: &str,
    next_at: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE upstream_requests SET state = 'pending', status = coalesce(?2, status),
             last_error = ?3, next_attempt_at = ?4
         WHERE id = ?1 AND state IN ('pending', 'sending')",
    )?
    .execute(params![id, status, capped(error), next_at])?;
    Ok(())
}

/// Found `sending` and read back as not there: pending again, sent at once (its attempt is
/// counted again when it is marked `sending`).
pub fn mark_send_again(conn: &Connection, id: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE upstream_requests SET state = 'pending', next_attempt_at = NULL
         WHERE id = ?1 AND state = 'sending'",
    )?
    .execute([id])?;
    Ok(())
}

/// What became of a person's word on a request ([`send_again`], [`mark_handled`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Done: the request as it is now.
    Done(Request),
    /// No request has this id.
    NotFound,
    /// The request is not in a state that allows it: as it is.
    NotAllowed(Request),
}

impl Request {
    /// Why [`send_again`] leaves this request as it is, in a manager's words.
    pub fn why_not_sent_again(&self) -> &'static str {
        match self.state {
            _ if self.handled_at.is_some() => "it was marked handled",
            RequestState::Uncertain => {
                "it is uncertain: PassEntry may have it already; check the pass in PassEntry and mark the request handled"
            }
            RequestState::Pending | RequestState::Sending => "it is waiting to go already",
            RequestState::Acknowledged | RequestState::Refused => "PassEntry took it",
        }
    }

    /// Why [`mark_handled`] leaves this request as it is, in a manager's words.
    pub fn why_not_handled(&self) -> &'static str {
        if self.handled_at.is_some() {
            "it was marked handled already"
        } else {
            "it is neither refused nor uncertain"
        }
    }
}

fn settled(conn: &Connection, id: i64, changed: usize) -> StoreResult<Settled> {
    Ok(match get(conn, id)? {
        None => Settled::NotFound,
        Some(r) if changed == 1 => Settled::Done(r),
        Some(r) => Settled::NotAllowed(r),
    })
}

/// A refused request, its cause fixed in PassEntry, sent again: pending, due now. Requests go
/// in order, so it goes before any that came after it. Only a refused one not marked handled:
/// an uncertain one may be in PassEntry already (a person checks there and marks it handled).
pub fn send_again(conn: &Connection, id: i64) -> StoreResult<Settled> {
    let changed = conn
        .prepare_cached(
            "UPDATE upstream_requests SET state = 'pending', next_attempt_at = NULL,
                 last_error = NULL, done_at = NULL
             WHERE id = ?1 AND state = 'refused' AND handled_at IS NULL",
        )?
        .execute([id])?;
    settled(conn, id, changed)
}

/// A refused or uncertain request a person has seen to (fixed in PassEntry by hand, or found
/// there): kept, no longer shown as needing a person, never sent.
pub fn mark_handled(conn: &Connection, id: i64, at: Timestamp) -> StoreResult<Settled> {
    let changed = conn
        .prepare_cached(
            "UPDATE upstream_requests SET handled_at = ?2
             WHERE id = ?1 AND state IN ('refused', 'uncertain') AND handled_at IS NULL",
        )?
        .execute(params![id, at])?;
    settled(conn, id, changed)
}

/// What an uncertain loyalty request's read-back found.
pub const UNCERTAIN_BALANCE: &str =
    "read back after a crash: PassEntry has neither the balance before nor the one expected";

/// A request found `sending` whose fate a read-back cannot tell (a loyalty balance that is
/// neither the one before nor the one expected; a read-back PassEntry refuses): shown with
/// `why` (and for loyalty both numbers and what was found), never resent.
pub fn mark_uncertain(
    conn: &Connection,
    id: i64,
    found: Option<i64>,
    why: &str,
    at: Timestamp,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE upstream_requests SET state = 'uncertain', balance_found = ?2, done_at = ?3,
                 last_error = ?4
             WHERE id = ?1 AND state = 'sending'",
        )?
        .execute(params![id, found, at, capped(why)])?;
    if n == 1 {
        Ok(())
    } else {
        Err(moved(id, "sending"))
    }
}

/// PassEntry's loyalty balance of a pass as an answer gave it (a pass read, a loyalty PATCH).
pub fn remember_balance(conn: &Connection, pass_id: &str, balance: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE upstream_passes SET balance = ?2 WHERE pass_id = ?1")?
        .execute(params![pass_id, balance])?;
    Ok(())
}

fn pushed(conn: &Connection, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE upstream_state SET last_push_at = ?1, last_error = NULL, last_error_at = NULL
         WHERE one = 1",
    )?
    .execute([at])?;
    Ok(())
}

/// What reading back a request found `sending` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack {
    /// PassEntry has it: acknowledged, not sent again.
    Acknowledged,
    /// PassEntry does not have it: sent again.
    SendAgain,
    /// Cannot tell (the balance moved otherwise meanwhile): never resent, shown.
    Uncertain { found: Option<i64> },
}

/// A loyalty PATCH found `sending`: PassEntry's balance now against the one before and the
/// one expected (recorded when it was sent).
pub fn loyalty_read_back(
    before: Option<i64>,
    expected: Option<i64>,
    found: Option<i64>,
) -> ReadBack {
    match (before, expected, found) {
        (_, Some(e), Some(f)) if f == e => ReadBack::Acknowledged,
        (Some(b), Some(e), Some(f)) if f == b && b != e => ReadBack::SendAgain,
        _ => ReadBack::Uncertain { found },
    }
}

/// A scan log found `sending`: is it among PassEntry's scans of its pass (`GET
/// /api/v1/scans?passId=…`, one page of them in `listed`)? The same reader, value and time (to
/// the second: PassEntry may keep no more) is the same scan. `Ok(true)` when found.
pub fn scan_listed(sent_body: &str, listed: &[u8]) -> Result<bool, PageError> {
    let sent: Value =
        serde_json::from_str(sent_body).map_err(|e| PageError::NotJson(e.to_string()))?;
    let key = |v: &Value| -> Option<(String, String, i64)> {
        let time = Timestamp::parse_rfc3339(v.get("scannedAt")?.as_str()?).ok()?;
        Some((
            v.get("readerId")?.as_str()?.to_owned(),
            v.get("scanValue")?.as_str()?.to_owned(),
            time.unix_ms().div_euclid(1000),
        ))
    };
    let Some(wanted) = sent.get("scan").and_then(key) else {
        return Err(PageError::NotJsonApi(
            "the request sent has no scan to look for".into(),
        ));
    };
    let doc: Value =
        serde_json::from_slice(listed).map_err(|e| PageError::NotJson(e.to_string()))?;
    let Some(items) = doc.get("data").and_then(Value::as_array) else {
        return Err(PageError::NotJsonApi(
            "data: expected an array of scans".into(),
        ));
    };
    // A scan's fields may sit in its attributes, in a `scanInfo` inside them, or on the item.
    Ok(items.iter().any(|item| {
        let attributes = item.get("attributes");
        [
            attributes.and_then(|a| a.get("scanInfo")),
            attributes,
            item.get("scanInfo"),
            Some(item),
        ]
        .into_iter()
        .flatten()
        .any(|v| key(v).as_ref() == Some(&wanted))
    }))
}
