//! PC/SC readers through pcscd: the thin device shell around the NFC protocol code.
//!
//! [`list`] says which readers are there; [`Watcher`] waits for cards and phones and turns
//! every tap into one [`crate::Scan`] (or one [`crate::nfc::TapError`]). Nothing here parses
//! protocol bytes.

mod transport;
mod watch;

pub use transport::CardTransport;
pub use watch::{ReaderEvent, Watcher};

use pcsc::{Context, ReaderState, Scope, State};
use serde::Serialize;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcscError {
    #[error("the PC/SC service (pcscd) is not running or not reachable: {0}")]
    NoService(String),
    #[error("PC/SC call {call} failed: {detail}")]
    Call { call: &'static str, detail: String },
}

impl PcscError {
    pub(crate) fn from_pcsc(call: &'static str, e: pcsc::Error) -> Self {
        match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => {
                Self::NoService(e.to_string())
            }
            e => Self::Call {
                call,
                detail: e.to_string(),
            },
        }
    }
}

pub(crate) fn establish() -> Result<Context, PcscError> {
    Context::establish(Scope::User).map_err(|e| PcscError::from_pcsc("SCardEstablishContext", e))
}

/// Reader names, lossily decoded (PC/SC names are bytes; ours are shown and matched as text).
pub(crate) fn reader_names(ctx: &Context) -> Result<Vec<String>, PcscError> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(PcscError::from_pcsc("SCardListReaders", e)),
    }
}

/// One reader and whether something is on it right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
    /// The card's ATR, hex, when one is present.
    pub atr: Option<String>,
}

/// The readers pcscd knows, with their card state.
pub fn list() -> Result<Vec<ReaderInfo>, PcscError> {
    let ctx = establish()?;
    let names = reader_names(&ctx)?;
    let mut states: Vec<ReaderState> = names
        .iter()
        .filter_map(|n| std::ffi::CString::new(n.as_bytes()).ok())
        .map(|n| ReaderState::new(n, State::UNAWARE))
        .collect();
    if !states.is_empty() {
        // With UNAWARE current states this returns at once with every reader's state.
        ctx.get_status_change(Duration::from_millis(0), &mut states)
            .or_else(|e| match e {
                pcsc::Error::Timeout => Ok(()),
                e => Err(PcscError::from_pcsc("SCardGetStatusChange", e)),
            })?;
    }
    Ok(states
        .iter()
        .map(|s| {
            let present = s.event_state().contains(State::PRESENT);
            ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                card_present: present,
                atr: present.then(|| s.atr().iter().map(|b| format!("{b:02X}")).collect()),
            }
        })
        .collect())
}
