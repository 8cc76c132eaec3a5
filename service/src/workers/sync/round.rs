//! The steps of a sync round, on the service's connections ([`Db`]), shared by the worker and
//! `passdesk sync now`: push what waits, pull a page and apply it, and keep the state
//! (`core::sync::state`) of what the hub said.
//!
//! Writes go through [`Db::write_background`] (after any scan waiting for the writer, no fsync
//! of their own): every one is safe to do again. A push marked after the hub answered is sent
//! again if the mark is lost (the hub counts it a duplicate); a page applied with its cursor is
//! applied again if both are lost (each change once, by id).

use super::client::{HubClient, HubError};
use crate::server::db::{Db, DbError};
use passdesk_core::store::StoreError;
use passdesk_core::sync::apply::{self, Applied};
use passdesk_core::sync::wire::{PushRequest, PushResponse, Sequenced};
use passdesk_core::sync::{export, state};
use passdesk_core::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Changes applied per transaction. A first sync brings pages of thousands; applied whole, a
/// page would hold the writer (and the scans behind it) for its whole length, so it is applied
/// in slices, each with the seq it reaches as the cursor (the hub numbers the log, so a slice's
/// last seq is a true "after" for the next ask).
pub const APPLY_SLICE: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("the counter's database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl RoundError {
    /// A failure of the hub or the network (recorded as "offline since"), not of this counter.
    pub fn hub(&self) -> Option<&HubError> {
        match self {
            Self::Hub(e) => Some(e),
            _ => None,
        }
    }
}

/// What pushes did, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub batches: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub conflicts: u64,
}

impl Pushed {
    fn add(&mut self, r: &PushResponse) {
        self.batches += 1;
        self.accepted += r.accepted;
        self.duplicates += r.duplicates;
        self.rejected += r.rejected.len() as u64;
        self.conflicts += r.conflicts;
    }
}

/// What pulls did, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pulled {
    pub pages: u64,
    pub applied: u64,
    pub skipped: u64,
    pub conflicts: u64,
    /// Could not be applied here (recorded in `sync_rejections`).
    pub rejected: u64,
    /// The pull cursor after the last page.
    pub cursor: i64,
    /// The hub said more were waiting after the last page.
    #[serde(skip)]
    pub more: bool,
}

impl Pulled {
    fn add(&mut self, a: Applied) {
        self.applied += a.applied;
        self.skipped += a.skipped;
        self.conflicts += a.conflicts;
        self.rejected += a.rejected;
    }

    /// A later page's outcome added to this one's.
    fn then(&mut self, page: Pulled) {
        self.pages += page.pages;
        self.applied += page.applied;
        self.skipped += page.skipped;
        self.conflicts += page.conflicts;
        self.rejected += page.rejected;
        self.cursor = page.cursor;
        self.more = page.more;
    }
}

/// The hub and this node, for a round.
#[derive(Clone)]
pub struct Link {
    pub db: Arc<Db>,
    pub client: HubClient,
    pub node_id: String,
}

impl Link {
    /// Pushes one batch of at most `limit` waiting changes; `None` when nothing waits.
    pub async fn push_once(&self, limit: usize) -> Result<Option<PushResponse>, RoundError> {
        let node = self.node_id.clone();
        let Some(pending) = self
            .db
            .read(move |s| export::pending(s.conn(), &node, limit))
            .await??
        else {
            return Ok(None);
        };
        let through = pending.through_seq;
        let answer = self
            .client
            .push(&PushRequest {
                changes: pending.changes,
            })
            .await?;
        let rejected = answer.rejected.clone();
        self.db
            .write_background(move |s| {
                s.write(|tx| state::mark_pushed(tx, through, &rejected, Timestamp::now()))
            })
            .await??;
        Ok(Some(answer))
    }

    /// Pushes until nothing waits.
    pub async fn push_all(&self, limit: usize) -> Result<Pushed, RoundError> {
        let mut pushed = Pushed::default();
        while let Some(answer) = self.push_once(limit).await? {
            pushed.add(&answer);
        }
        Ok(pushed)
    }

    /// Asks for one page after the stored cursor (waiting up to `wait` at the hub) and applies
    /// it, the cursor stored with its last slice.
    pub async fn pull_once(&self, limit: u32, wait: Duration) -> Result<Pulled, RoundError> {
        let after = self.db.read(|s| state::pull_cursor(s.conn())).await??;
        let page = self.client.pull(after, limit, wait).await?;
        let mut pulled = Pulled {
            pages: 1,
            cursor: page.cursor,
            more: page.more,
            ..Pulled::default()
        };
        if page.changes.is_empty() && page.cursor == after {
            return Ok(pulled);
        }
        for (slice, cursor) in slices(page.changes, page.cursor) {
            let node = self.node_id.clone();
            let applied = self
                .db
                .write_background(move |s| {
                    s.write(|tx| apply::apply_batch(tx, &node, &slice, cursor, Timestamp::now()))
                })
                .await??;
            pulled.add(applied);
        }
        Ok(pulled)
    }

    /// Pulls without waiting until the hub says nothing more waits.
    pub async fn pull_all(&self, limit: u32) -> Result<Pulled, RoundError> {
        let mut all = Pulled::default();
        loop {
            let page = self.pull_once(limit, Duration::ZERO).await?;
            all.then(page);
            if !all.more {
                return Ok(all);
            }
        }
    }

    /// The hub answered: online from now.
    pub async fn contact(&self, pulled: bool, pushed: bool) -> Result<(), RoundError> {
        self.db
            .write_background(move |s| {
                state::record_contact(s.conn(), pulled, pushed, Timestamp::now())
            })
            .await??;
        Ok(())
    }

    /// The hub did not answer (or refused): offline since the first failure, the error kept.
    pub async fn failure(&self, error: &HubError) -> Result<(), RoundError> {
        let text = error.to_string();
        self.db
            .write_background(move |s| state::record_failure(s.conn(), &text, Timestamp::now()))
            .await??;
        Ok(())
    }
}

/// A page cut into slices of at most [`APPLY_SLICE`], each with the cursor to store with it:
/// its last change's seq, the page's own cursor for the last slice (the hub's cursor may lie
/// past the last change it sent: the caller's own scans are left out). A page without changes
/// is one empty slice that only moves the cursor.
fn slices(changes: Vec<Sequenced>, page_cursor: i64) -> Vec<(Vec<Sequenced>, i64)> {
    if changes.is_empty() {
        return vec![(Vec::new(), page_cursor)];
    }
    let mut out = Vec::with_capacity(changes.len().div_ceil(APPLY_SLICE));
    let mut rest = changes.into_iter().peekable();
    while rest.peek().is_some() {
        let slice: Vec<Sequenced> = rest.by_ref().take(APPLY_SLICE).collect();
        let cursor = if rest.peek().is_some() {
            slice.last().map_or(page_cursor, |c| c.seq)
        } else {
            page_cursor
        };
        out.push((slice, cursor));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use passdesk_core::sync::wire::{Change, ChangeBody, RevocationRecord};

    fn change(seq: i64) -> Sequenced {
        Sequenced {
            seq,
            change: Change {
                id: format!("id-{seq}"),
                node_id: "hub".into(),
                at: Timestamp::from_unix_ms(seq),
                body: ChangeBody::Revocation(RevocationRecord {
                    token_id: format!("t{seq}"),
                    pass_id: None,
                    reason: None,
                    revoked_at: Timestamp::from_unix_ms(seq),
                }),
            },
        }
    }

    #[test]
    fn a_page_is_applied_in_slices_each_with_the_seq_it_reaches() {
        let page: Vec<_> = (1..=2500).map(|i| change(i * 2)).collect();
        let cut = slices(page, 5007);
        let shape: Vec<(usize, i64)> = cut.iter().map(|(s, c)| (s.len(), *c)).collect();
        assert_eq!(shape, [(1000, 2000), (1000, 4000), (500, 5007)]);
        assert_eq!(cut[1].0[0].seq, 2002, "in order, none lost");
    }

    #[test]
    fn an_empty_page_only_moves_the_cursor() {
        let cut = slices(Vec::new(), 42);
        assert_eq!(cut.len(), 1);
        assert!(cut[0].0.is_empty());
        assert_eq!(cut[0].1, 42);
        let cut = slices(vec![change(7)], 9);
        assert_eq!(
            cut.iter().map(|(s, c)| (s.len(), *c)).collect::<Vec<_>>(),
            [(1, 9)]
        );
    }
}
