//! Waiting for taps on every reader: one card or phone put on a reader gives one event, however
//! long it stays there; readers may come and go (USB), and so may pcscd.

use super::init::{run_escapes, InitError, ReaderInit};
use super::{establish, reader_names, tap_card, PcscError};
use crate::nfc::{TapConfig, TapError};
use crate::Scan;
use pcsc::{Context, ReaderState, State, PNP_NOTIFICATION};
use std::collections::HashMap;
use std::ffi::CString;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    ReaderAdded(String),
    ReaderRemoved(String),
    /// A tap that gave a value.
    Scan(Scan),
    /// A tap that did not; `error.user_message()` is what to show.
    TapFailed {
        reader: String,
        error: TapError,
    },
    /// An init command of the reader's config failed (see [`ReaderInit`]). Reported once until
    /// it succeeds again or fails differently; the reader keeps reading taps.
    InitFailed {
        reader: String,
        error: InitError,
    },
}

pub struct Watcher {
    cfg: TapConfig,
    /// Only readers whose name contains this.
    filter: Option<String>,
    ctx: Option<Context>,
    /// Index 0 is pcsc-lite's PnP pseudo reader (readers plugged in or out).
    states: Vec<ReaderState>,
    /// Per reader: the card event counter of the card last read, so a phone left on the
    /// reader is read once, and a quick remove-and-tap-again between two polls is read again.
    read: HashMap<String, u32>,
    refresh: bool,
    inits: Vec<ReaderInit>,
    /// Per reader: the init failure last reported, so a bad init APDU is not an event per tap.
    init_failures: HashMap<String, InitError>,
}

impl Watcher {
    pub fn new(cfg: TapConfig) -> Self {
        Self {
            cfg,
            filter: None,
            ctx: None,
            states: Vec::new(),
            read: HashMap::new(),
            refresh: true,
            inits: Vec::new(),
            init_failures: HashMap::new(),
        }
    }

    /// Init commands for the readers they name (escape commands on appearance, APDUs on
    /// every connect).
    pub fn with_reader_init(mut self, inits: Vec<ReaderInit>) -> Self {
        self.inits = inits;
        self
    }

    pub fn only_readers_matching(mut self, part: impl Into<String>) -> Self {
        self.filter = Some(part.into());
        self
    }

    /// The readers being watched.
    pub fn readers(&self) -> Vec<String> {
        self.states
            .iter()
            .skip(1)
            .map(|s| s.name().to_string_lossy().into_owned())
            .collect()
    }

    /// Waits at most `timeout` for taps and reader changes. An error means pcscd is gone; the
    /// next call tries to reconnect (the readers are then reported again as added).
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<ReaderEvent>, PcscError> {
        let mut events = Vec::new();
        if self.ctx.is_none() {
            self.ctx = Some(establish()?);
            self.states = vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
            self.refresh = true;
        }
        let result = self.poll_inner(timeout, &mut events);
        if let Err(PcscError::NoService(_)) = &result {
            // Start over with a fresh context next time.
            for name in self.readers() {
                events.push(ReaderEvent::ReaderRemoved(name));
            }
            self.ctx = None;
            self.states.clear();
            self.read.clear();
            self.init_failures.clear();
            // The caller learns of the removals only when they are all it gets.
            if !events.is_empty() {
                return Ok(events);
            }
        }
        result.map(|()| events)
    }

    fn poll_inner(
        &mut self,
        timeout: Duration,
        events: &mut Vec<ReaderEvent>,
    ) -> Result<(), PcscError> {
        let Some(ctx) = self.ctx.clone() else {
            return Ok(());
        };
        if self.refresh {
            self.refresh_readers(&ctx, events)?;
        }
        match ctx.get_status_change(timeout, &mut self.states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => return Ok(()),
            // A reader vanished between listing and waiting: list again.
            Err(pcsc::Error::UnknownReader) => {
                self.refresh = true;
                return Ok(());
            }
            Err(e) => return Err(PcscError::from_pcsc("SCardGetStatusChange", e)),
        }
        for i in 0..self.states.len() {
            let state = self.states[i].event_state();
            if !state.contains(State::CHANGED) {
                continue;
            }
            self.states[i].sync_current_state();
            if i == 0 {
                self.refresh = true;
                continue;
            }
            let name = self.states[i].name().to_owned();
            let label = name.to_string_lossy().into_owned();
            if state.intersects(State::UNKNOWN | State::UNAVAILABLE | State::IGNORE) {
                self.refresh = true;
                continue;
            }
            if !state.contains(State::PRESENT) {
                self.read.remove(&label);
                continue;
            }
            let count = self.states[i].event_count();
            if state.intersects(State::MUTE | State::EXCLUSIVE)
                || self.read.get(&label) == Some(&count)
            {
                continue;
            }
            self.read.insert(label.clone(), count);
            self.tap(&ctx, &name, label, events);
        }
        if self.refresh {
            self.refresh_readers(&ctx, events)?;
        }
        Ok(())
    }

    fn refresh_readers(
        &mut self,
        ctx: &Context,
        events: &mut Vec<ReaderEvent>,
    ) -> Result<(), PcscError> {
        self.refresh = false;
        let mut names = reader_names(ctx)?;
        if let Some(f) = &self.filter {
            names.retain(|n| n.contains(f.as_str()));
        }
        let known = self.readers();
        for gone in known.iter().filter(|k| !names.contains(k)) {
            events.push(ReaderEvent::ReaderRemoved(gone.clone()));
            self.read.remove(gone);
            self.init_failures.remove(gone);
        }
        self.states.retain(|s| {
            s.name() == PNP_NOTIFICATION()
                || names.iter().any(|n| n.as_bytes() == s.name().to_bytes())
        });
        for new in names.iter().filter(|n| !known.contains(n)) {
            if let Ok(c) = CString::new(new.as_bytes()) {
                events.push(ReaderEvent::ReaderAdded(new.clone()));
                let init = run_escapes(ctx, &c, &self.inits);
                self.note_init(new, init, events);
                self.states.push(ReaderState::new(c, State::UNAWARE));
            }
        }
        Ok(())
    }

    fn tap(
        &mut self,
        ctx: &Context,
        name: &std::ffi::CStr,
        label: String,
        events: &mut Vec<ReaderEvent>,
    ) {
        let outcome = tap_card(ctx, name, &label, &self.cfg, &self.inits);
        if let Some(init) = outcome.init {
            self.note_init(&label, init, events);
        }
        events.push(match outcome.result {
            Ok(scan) => ReaderEvent::Scan(scan),
            Err(error) => ReaderEvent::TapFailed {
                reader: label,
                error,
            },
        });
    }

    /// Reports an init failure unless it is the one already reported for this reader.
    fn note_init(
        &mut self,
        reader: &str,
        result: Result<(), InitError>,
        events: &mut Vec<ReaderEvent>,
    ) {
        match result {
            Ok(()) => {
                self.init_failures.remove(reader);
            }
            Err(error) => {
                tracing::debug!(%reader, %error, "reader init failed");
                if self.init_failures.get(reader) != Some(&error) {
                    self.init_failures.insert(reader.to_owned(), error.clone());
                    events.push(ReaderEvent::InitFailed {
                        reader: reader.to_owned(),
                        error,
                    });
                }
            }
        }
    }
}
