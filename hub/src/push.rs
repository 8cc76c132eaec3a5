//! A push: a counter's own changes, screened one by one (a rejected change never blocks the
//! rest), then appended with their conflicts in one transaction.

use crate::storage::NodeRef;
use crate::{Hub, HubError};
use passdesk_core::sync::wire::{Change, PushResponse, Rejected, MAX_PUSH};
use passdesk_core::Timestamp;

/// Why a push was refused whole.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("a push carries at most {MAX_PUSH} changes; this one has {0}")]
    TooLarge(usize),
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// Splits a push into the changes the hub may append and the rejected ones, with the reason.
pub fn screen(caller: &str, changes: Vec<Change>) -> (Vec<Change>, Vec<Rejected>) {
    let mut accepted = Vec::with_capacity(changes.len());
    let mut rejected = Vec::new();
    for change in changes {
        match reject_reason(caller, &change) {
            Some(reason) => rejected.push(Rejected {
                id: change.id,
                reason,
            }),
            None => accepted.push(change),
        }
    }
    (accepted, rejected)
}

fn reject_reason(caller: &str, change: &Change) -> Option<String> {
    if uuid::Uuid::try_parse(&change.id).is_err() {
        return Some("the change's id is not a UUID".to_owned());
    }
    if change.node_id != caller {
        return Some(format!(
            "not this node's change (nodeId {:?}; the caller is {caller:?})",
            change.node_id.chars().take(64).collect::<String>()
        ));
    }
    if !change.body.pushable() {
        return Some(format!(
            "kind {} is not pushed by counters",
            change.body.kind()
        ));
    }
    if change.body.pass_id().is_some_and(str::is_empty) {
        return Some("the pass id is empty".to_owned());
    }
    None
}

impl Hub {
    /// Appends `changes` of node `caller` (at most `MAX_PUSH`).
    pub async fn push(
        &self,
        caller: &NodeRef,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> Result<PushResponse, PushError> {
        if changes.len() > MAX_PUSH {
            return Err(PushError::TooLarge(changes.len()));
        }
        let (accepted, rejected) = screen(&caller.id, changes);
        for r in &rejected {
            tracing::warn!(node_id = %caller.id, change_id = %r.id, reason = %r.reason, "change rejected");
        }
        let appended = if accepted.is_empty() {
            Default::default()
        } else {
            self.storage()
                .push(caller.clone(), accepted, now)
                .await
                .map_err(HubError::from)?
        };
        if let Some(seq) = appended.last_seq {
            self.appended(seq);
        }
        Ok(PushResponse {
            accepted: appended.accepted,
            duplicates: appended.duplicates,
            rejected,
            conflicts: appended.conflicts,
        })
    }
}
