//! The push over HTTP: outbox events made into request rows (`core::upstream::queue::enqueue`,
//! with the cursor), then the rows sent in order, one at a time, each marked `sending` (and
//! committed with the WAL synced, so the mark survives a power cut) before it goes out and
//! settled by PassEntry's answer. A row found `sending`
//! (a crash between the send and the answer's record) is read back before anything is sent.
//! Shared by the worker and `passdesk upstream push` ([`drain`]).

use super::client::{Answer, PassEntryClient};
use super::UpstreamError;
use crate::server::db::Db;
use passdesk_core::upstream::page;
use passdesk_core::upstream::queue::{self, ReadBack, Request, RequestKind, RequestState};
use passdesk_core::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Outbox events read per transaction when making requests.
const ENQUEUE_BATCH: u32 = 500;
/// Pages of a pass's scans looked through when reading a scan log back.
const READ_BACK_PAGES: u64 = 10;
/// The longest a `Retry-After` holds a request back.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// What a drain did (`passdesk upstream push` prints it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSummary {
    /// Requests PassEntry took (2xx, or found there by a read-back).
    pub sent: u64,
    pub refused: u64,
    pub uncertain: u64,
    /// Requests still waiting (pending and sending) when the drain ended.
    pub pending: u64,
}

/// Why a drain stopped with requests left.
#[derive(Debug)]
pub enum Stopped {
    /// Nothing left to send.
    Empty,
    /// The first row waits until then (a backoff, a `Retry-After`).
    WaitUntil(Timestamp),
}

/// Makes requests of the new outbox events, then sends rows until none is left, the first one
/// must wait (`ignore_waits`: a person asked now, so waits are not kept), or PassEntry cannot be
/// reached (an error: the row is pending again, with its wait).
pub async fn drain(
    db: &Arc<Db>,
    client: &PassEntryClient,
    node_id: &str,
    ignore_waits: bool,
    summary: &mut PushSummary,
) -> Result<Stopped, UpstreamError> {
    enqueue_all(db, node_id).await?;
    // Balances PassEntry gave in this drain's answers: the "before" of the next change to the
    // same pass, without reading it again.
    let mut balances: HashMap<String, i64> = HashMap::new();
    loop {
        let Some(row) = db.read(|s| queue::next(s.conn())).await?? else {
            return Ok(Stopped::Empty);
        };
        if row.state == RequestState::Sending {
            read_back(db, client, &row, summary).await?;
            continue;
        }
        if let Some(at) = row.next_attempt_at {
            if at > Timestamp::now() && !ignore_waits {
                return Ok(Stopped::WaitUntil(at));
            }
        }
        send(db, client, row, &mut balances, summary).await?;
    }
}

/// Every outbox event after the cursor made into its request (or passed over).
async fn enqueue_all(db: &Arc<Db>, node_id: &str) -> Result<(), UpstreamError> {
    loop {
        let node = node_id.to_owned();
        let made = db
            .write_background(move |s| {
                s.write(|tx| queue::enqueue(tx, &node, ENQUEUE_BATCH, Timestamp::now()))
            })
            .await??;
        if !made.more {
            return Ok(());
        }
    }
}

/// What PassEntry's answer to a request means for its row.
async fn settle(
    db: &Arc<Db>,
    row: &Request,
    answer: &Answer,
    what: &str,
    summary: &mut PushSummary,
) -> Result<(), UpstreamError> {
    let id = row.id;
    let status = answer.status;
    let text = answer.text(queue::ANSWER_LIMIT);
    if answer.is_success() {
        db.write_background(move |s| {
            s.write(|tx| queue::mark_acknowledged(tx, id, Some(status), &text, Timestamp::now()))
        })
        .await??;
        summary.sent += 1;
        return Ok(());
    }
    if answer.is_transient() {
        let error = answer.describe(what);
        retry_later(db, row, Some(status), &error, answer.retry_after).await?;
        return Err(UpstreamError::Answer(error));
    }
    tracing::warn!(request = id, pass_id = %row.pass_id, status, "PassEntry refused a request: kept with its answer, not retried");
    db.write_background(move |s| {
        s.write(|tx| queue::mark_refused(tx, id, status, &text, Timestamp::now()))
    })
    .await??;
    summary.refused += 1;
    Ok(())
}

/// Pending again, after its backoff or the `Retry-After` PassEntry asked for (the longer).
async fn retry_later(
    db: &Arc<Db>,
    row: &Request,
    status: Option<u16>,
    error: &str,
    retry_after: Option<Duration>,
) -> Result<(), UpstreamError> {
    let backoff = queue::backoff_ms(row.attempts.max(1));
    let asked = retry_after.map_or(0, |d| d.min(RETRY_AFTER_CAP).as_millis() as i64);
    let next = Timestamp::now().plus_ms(backoff.max(asked));
    let id = row.id;
    let error = error.to_owned();
    db.write_background(move |s| s.write(|tx| queue::mark_retry(tx, id, status, &error, next)))
        .await??;
    Ok(())
}

/// Sends one pending row: a loyalty change first learns PassEntry's balance before it (from
/// this drain's last answer, else a pass read), so that a crash can be read back.
async fn send(
    db: &Arc<Db>,
    client: &PassEntryClient,
    row: Request,
    balances: &mut HashMap<String, i64>,
    summary: &mut PushSummary,
) -> Result<(), UpstreamError> {
    let (before, expected) = match row.kind {
        RequestKind::ScanLog => (None, None),
        RequestKind::Loyalty => {
            let before = match balances.get(&row.pass_id) {
                Some(b) => Some(*b),
                None => {
                    let what = format!("/api/v1/passes/{}", row.pass_id);
                    let answer = match client.pass(&row.pass_id).await {
                        Ok(a) => a,
                        Err(e) => {
                            retry_later(db, &row, None, &e.to_string(), None).await?;
                            return Err(e.into());
                        }
                    };
                    if !answer.is_success() {
                        // The PATCH would meet the same answer (a pass gone: 404).
                        return settle(db, &row, &answer, &what, summary).await;
                    }
                    page::pass_answer_balance(&answer.body).ok().flatten()
                }
            };
            (before, expected_after(&row.body, before))
        }
    };
    let id = row.id;
    // Synced: after a power cut the row must still say `sending`, so that it is read back,
    // not sent twice (a loyalty PATCH applied twice at PassEntry).
    db.write_background_synced(move |s| {
        s.write(|tx| queue::mark_sending(tx, id, before, expected, Timestamp::now()))
    })
    .await??;
    let (what, sent) = match row.kind {
        RequestKind::ScanLog => ("the scan log", client.log_scan(row.body.clone()).await),
        RequestKind::Loyalty => (
            "the loyalty change",
            client.patch_loyalty(&row.pass_id, row.body.clone()).await,
        ),
    };
    let answer = match sent {
        Ok(a) => a,
        // No connection: it did not leave; pending again, after its wait.
        Err(e) if e.not_sent => {
            retry_later(db, &row, None, &e.to_string(), None).await?;
            return Err(e.into());
        }
        // No answer: it may or may not have arrived. Pending again would mean sent again,
        // right only if it did not arrive — so it stays `sending` and the next drain reads it
        // back first.
        Err(e) => return Err(e.into()),
    };
    if answer.is_success() && row.kind == RequestKind::Loyalty {
        if let Ok(Some(balance)) = page::pass_answer_balance(&answer.body) {
            balances.insert(row.pass_id.clone(), balance);
            let pass_id = row.pass_id.clone();
            db.write_background(move |s| queue::remember_balance(s.conn(), &pass_id, balance))
                .await??;
        }
    } else {
        balances.remove(&row.pass_id);
    }
    settle(db, &row, &answer, what, summary).await
}

/// The balance once a loyalty body is applied to `before`: an override's value, or `before`
/// plus the change.
fn expected_after(body: &str, before: Option<i64>) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    if let Some(n) = v.get("overrideBalance").and_then(serde_json::Value::as_i64) {
        return Some(n);
    }
    let delta = v.get("balance")?.as_i64()?;
    before?.checked_add(delta)
}

/// A row found `sending`: did it reach PassEntry? A scan log is looked for among the pass's
/// scans; a loyalty change is judged by the pass's balance against the one before and the
/// one expected. Found → acknowledged; not there → sent again; cannot tell → uncertain.
async fn read_back(
    db: &Arc<Db>,
    client: &PassEntryClient,
    row: &Request,
    summary: &mut PushSummary,
) -> Result<(), UpstreamError> {
    let id = row.id;
    let decision = match row.kind {
        RequestKind::ScanLog => {
            let mut found = Some(false);
            for page_no in 1..=READ_BACK_PAGES {
                let what = format!("the read-back of /api/v1/scans?passId={}", row.pass_id);
                let answer = client.scans_of(&row.pass_id, page_no).await?;
                if answer.is_transient() {
                    return Err(UpstreamError::Answer(answer.describe(&what)));
                }
                if !answer.is_success() {
                    found = None;
                    break;
                }
                match queue::scan_listed(&row.body, &answer.body) {
                    Ok(true) => {
                        found = Some(true);
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => return Err(UpstreamError::BadPage(format!("{what}: {e}"))),
                }
                if is_last_page(&answer.body) {
                    break;
                }
            }
            match found {
                Some(true) => ReadBack::Acknowledged,
                Some(false) => ReadBack::SendAgain,
                None => ReadBack::Uncertain { found: None },
            }
        }
        RequestKind::Loyalty => {
            let what = format!("the read-back of /api/v1/passes/{}", row.pass_id);
            let answer = client.pass(&row.pass_id).await?;
            if answer.is_transient() {
                return Err(UpstreamError::Answer(answer.describe(&what)));
            }
            let found = if answer.is_success() {
                page::pass_answer_balance(&answer.body).ok().flatten()
            } else {
                None
            };
            queue::loyalty_read_back(row.balance_before, row.balance_expected, found)
        }
    };
    tracing::info!(request = id, pass_id = %row.pass_id, decision = ?decision, "a request found sending was read back");
    match decision {
        ReadBack::Acknowledged => {
            db.write_background(move |s| {
                s.write(|tx| {
                    queue::mark_acknowledged(
                        tx,
                        id,
                        None,
                        "read back: PassEntry has it",
                        Timestamp::now(),
                    )
                })
            })
            .await??;
            summary.sent += 1;
        }
        ReadBack::SendAgain => {
            db.write_background(move |s| s.write(|tx| queue::mark_send_again(tx, id)))
                .await??;
        }
        ReadBack::Uncertain { found } => {
            let why = match row.kind {
                RequestKind::Loyalty => queue::UNCERTAIN_BALANCE,
                RequestKind::ScanLog => {
                    "read back after a crash: PassEntry refused the list of the pass's scans"
                }
            };
            db.write_background(move |s| {
                s.write(|tx| queue::mark_uncertain(tx, id, found, why, Timestamp::now()))
            })
            .await??;
            summary.uncertain += 1;
        }
    }
    Ok(())
}

/// A list page whose `meta` says it is the last (or says nothing).
fn is_last_page(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return true;
    };
    let n = |k: &str| {
        v.pointer(&format!("/meta/{k}"))
            .and_then(serde_json::Value::as_u64)
    };
    match (n("currentPage"), n("totalPages")) {
        (Some(c), Some(t)) => c >= t,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_expected_is_the_override_or_before_plus_the_change() {
        assert_eq!(expected_after(r#"{"balance":5}"#, Some(10)), Some(15));
        assert_eq!(expected_after(r#"{"balance":-3}"#, Some(10)), Some(7));
        assert_eq!(
            expected_after(r#"{"overrideBalance":40}"#, Some(10)),
            Some(40)
        );
        assert_eq!(expected_after(r#"{"overrideBalance":40}"#, None), Some(40));
        assert_eq!(expected_after(r#"{"balance":5}"#, None), None);
        assert_eq!(expected_after(r#"{"balance":1}"#, Some(i64::MAX)), None);
    }

    #[test]
    fn a_list_without_pages_is_its_own_last() {
        assert!(is_last_page(br#"{"data":[]}"#));
        assert!(is_last_page(
            br#"{"data":[],"meta":{"currentPage":2,"totalPages":2}}"#
        ));
        assert!(!is_last_page(
            br#"{"data":[],"meta":{"currentPage":1,"totalPages":2}}"#
        ));
    }
}
