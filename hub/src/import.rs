//! `passdesk hub import`: PassEntry JSON lines, as `passdesk import` reads them, loaded into the
//! hub's log as changes of node `hub` (templates, events, policies, programs, passes), which
//! every counter then pulls. The lines go through `core::import` into a scratch SQLite store
//! (so they are checked exactly as at a counter, all or nothing), and the store's snapshot
//! (`core::sync::export::snapshot`) becomes the changes.

use crate::storage::Appended;
use crate::{Hub, HubError};
use passdesk_core::import::{import_lines, ImportError, ImportSummary};
use passdesk_core::sync::export::snapshot;
use passdesk_core::sync::wire::{Change, HUB_NODE_ID};
use passdesk_core::{OpenMode, Store, StoreError, Timestamp};
use serde::Serialize;
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum HubImportError {
    #[error("cannot make the scratch store: {0}")]
    Scratch(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// What an import loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubImportSummary {
    #[serde(flatten)]
    pub read: ImportSummary,
    /// Changes appended to the log.
    pub changes: u64,
    /// Changes the log held already.
    pub duplicates: u64,
}

/// The changes of node `hub` that `lines` make, checked as `passdesk import` checks them; an
/// error names the line and nothing is made. Synchronous (SQLite): call it off the runtime's
/// threads.
pub fn changes_of_lines<I, E>(
    lines: I,
    now: Timestamp,
) -> Result<(ImportSummary, Vec<Change>), HubImportError>
where
    I: IntoIterator<Item = Result<String, E>>,
    E: Display,
{
    let dir = tempfile::tempdir().map_err(HubImportError::Scratch)?;
    let mut store = Store::open(&dir.path().join("import.sqlite"), OpenMode::CreateIfMissing)?;
    let summary = import_lines(&mut store, lines, now)?;
    let changes = snapshot(store.conn(), HUB_NODE_ID)?;
    Ok((summary, changes))
}

impl Hub {
    /// Appends the hub's own changes (node `hub`, e.g. from [`changes_of_lines`]) in large
    /// transactions; ids the log holds already are skipped.
    pub async fn append_own(
        &self,
        changes: Vec<Change>,
        now: Timestamp,
    ) -> Result<Appended, HubError> {
        let appended = self.storage().append_own(changes, now).await?;
        if let Some(seq) = appended.last_seq {
            self.appended(seq);
        }
        Ok(appended)
    }
}
