//! A pull: the log after a cursor, waiting (long poll) when there is nothing yet.

use crate::storage::NodeRef;
use crate::{Hub, HubError, StorageError};
use passdesk_core::sync::wire::{Change, PullResponse, Sequenced, MAX_PULL, MAX_WAIT_SECONDS};
use passdesk_core::Timestamp;
use std::time::Duration;
use tokio::time::Instant;

/// A pull's asks, bounded: `limit` in 1..=`MAX_PULL`, `wait` at most `MAX_WAIT_SECONDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullAsk {
    pub after: i64,
    pub limit: usize,
    pub wait: Duration,
}

impl PullAsk {
    pub fn new(after: i64, limit: Option<u64>, wait_seconds: Option<u64>) -> Self {
        Self {
            after: after.max(0),
            limit: limit.map_or(MAX_PULL, |l| (l as usize).clamp(1, MAX_PULL)),
            wait: Duration::from_secs(wait_seconds.unwrap_or(0).min(MAX_WAIT_SECONDS)),
        }
    }
}

impl Hub {
    /// The changes after `ask.after` for `caller` (its own scans and ledger operations left
    /// out, the cursor past them). With nothing there, waits up to `ask.wait` for a change and
    /// answers an empty page with `cursor = after` if none came.
    pub async fn pull(&self, caller: &NodeRef, ask: PullAsk) -> Result<PullResponse, HubError> {
        let deadline = Instant::now() + ask.wait;
        let mut closing = self.tail.closing();
        loop {
            // Before reading the log: a push between the read and the wait still wakes us.
            let mut tail = self.tail.subscribe();
            let rows = self
                .storage()
                .page(caller.id.clone(), ask.after, ask.limit as i64 + 1)
                .await?;
            if !rows.is_empty() || Instant::now() >= deadline || *closing.borrow() {
                return answer(rows, ask);
            }
            tokio::select! {
                grew = tokio::time::timeout_at(deadline, tail.wait_for(|&t| t > ask.after)) => {
                    if grew.is_err() {
                        return answer(Vec::new(), ask);
                    }
                }
                _ = closing.wait_for(|&c| c) => return answer(Vec::new(), ask),
            }
        }
    }
}

fn answer(mut rows: Vec<(i64, Option<String>)>, ask: PullAsk) -> Result<PullResponse, HubError> {
    let more = rows.len() > ask.limit;
    rows.truncate(ask.limit);
    let cursor = rows.last().map_or(ask.after, |(seq, _)| *seq);
    let changes = rows
        .into_iter()
        .filter_map(|(seq, body)| body.map(|b| (seq, b)))
        .map(|(seq, body)| {
            let change: Change =
                serde_json::from_str(&body).map_err(|e| StorageError::Corrupt {
                    what: "a change of the log",
                    why: format!("seq {seq}: {e}"),
                })?;
            Ok(Sequenced { seq, change })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(PullResponse {
        changes,
        cursor,
        more,
        hub_time: Timestamp::now(),
    })
}
