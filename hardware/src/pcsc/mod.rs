//! PC/SC readers through pcscd: the thin device shell around the NFC protocol code.
//!
//! [`list`] says which readers are there; [`Watcher`] waits for cards and phones and turns
//! every tap into one [`crate::Scan`] (or one [`crate::nfc::TapError`]). Nothing here parses
//! protocol bytes.

mod init;
mod transport;
mod watch;

pub use init::{EscapeCommand, InitApdu, InitError, ReaderInit};
pub use transport::CardTransport;
pub use watch::{ReaderEvent, Watcher};

use crate::nfc::{read_tap, TapConfig, TapError, TransportError};
use crate::Scan;
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use serde::Serialize;
use std::ffi::{CStr, CString};
use std::time::{Duration, SystemTime};
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

/// What one connect-and-read gave.
#[derive(Debug)]
pub struct TapOutcome {
    pub result: Result<Scan, TapError>,
    /// The init APDUs' result, when the reader has any.
    pub init: Option<Result<(), InitError>>,
    /// Command APDUs sent, init APDUs included.
    pub apdus: usize,
}

/// Connects to the card or phone on `name`, sends the reader's init APDUs, reads one tap and
/// disconnects leaving the card as it is (a reset would make some phones start over).
pub(crate) fn tap_card(
    ctx: &Context,
    name: &CStr,
    label: &str,
    cfg: &TapConfig,
    inits: &[ReaderInit],
) -> TapOutcome {
    let card = match ctx.connect(name, ShareMode::Shared, Protocols::ANY) {
        Ok(c) => c,
        Err(e) => {
            return TapOutcome {
                result: Err(TapError::Transport(match e {
                    pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard => {
                        TransportError::CardRemoved
                    }
                    e => TransportError::Io(e.to_string()),
                })),
                init: None,
                apdus: 0,
            }
        }
    };
    let mut t = CardTransport::new(&card);
    let init = inits
        .iter()
        .any(|i| i.applies_to(label) && !i.apdus.is_empty())
        .then(|| init::run_apdus(&mut t, label, inits));
    let result = read_tap(&mut t, cfg, label, SystemTime::now());
    let apdus = t.sent();
    let _ = card.disconnect(Disposition::LeaveCard);
    TapOutcome {
        result,
        init,
        apdus,
    }
}

/// One reader read on demand, without waiting for card events: for `passdesk bench nfc` and
/// diagnostics, where the card is known to be there. Each [`Reader::tap`] is exactly what a
/// [`Watcher`] does when a card arrives.
pub struct Reader {
    ctx: Context,
    name: CString,
    label: String,
}

impl Reader {
    /// The reader whose PC/SC name is exactly `name`.
    pub fn open(name: &str) -> Result<Self, PcscError> {
        let ctx = establish()?;
        if !reader_names(&ctx)?.iter().any(|n| n == name) {
            return Err(PcscError::Call {
                call: "SCardListReaders",
                detail: format!("no reader named {name:?}"),
            });
        }
        let c = CString::new(name).map_err(|_| PcscError::Call {
            call: "SCardConnect",
            detail: "reader name contains NUL".into(),
        })?;
        Ok(Self {
            ctx,
            name: c,
            label: name.to_owned(),
        })
    }

    /// Waits up to `timeout` for a card or phone to be on the reader; `false` if none came.
    pub fn wait_for_card(&self, timeout: Duration) -> Result<bool, PcscError> {
        self.wait_for(true, timeout)
    }

    /// Waits up to `timeout` for the reader to be empty; `false` if something stayed.
    pub fn wait_for_absence(&self, timeout: Duration) -> Result<bool, PcscError> {
        self.wait_for(false, timeout)
    }

    fn wait_for(&self, present: bool, timeout: Duration) -> Result<bool, PcscError> {
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        let until = std::time::Instant::now() + timeout;
        loop {
            match self
                .ctx
                .get_status_change(Duration::from_millis(100), &mut states)
            {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(PcscError::from_pcsc("SCardGetStatusChange", e)),
            }
            let s = states[0].event_state();
            let card = s.contains(State::PRESENT) && !s.intersects(State::MUTE | State::EXCLUSIVE);
            if card == present {
                return Ok(true);
            }
            if std::time::Instant::now() >= until {
                return Ok(false);
            }
            states[0].sync_current_state();
        }
    }

    pub fn tap(&self, cfg: &TapConfig) -> TapOutcome {
        tap_card(&self.ctx, &self.name, &self.label, cfg, &[])
    }
}
