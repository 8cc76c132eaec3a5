//! Check-in policies: how often and when the passes of an event or a template are admitted.

use crate::pass::PassType;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryMode {
    /// One admission; a second entry is `already_used`.
    Single,
    /// Any number of admissions, up to `max_entries` when set.
    Multiple,
    /// In and out: an entry needs the last admission to be an exit (or none), an exit needs an entry.
    EntryExit,
}

impl EntryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Multiple => "multiple",
            Self::EntryExit => "entry_exit",
        }
    }
}

impl fmt::Display for EntryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntryMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "single" => Ok(Self::Single),
            "multiple" => Ok(Self::Multiple),
            "entry_exit" | "entry-exit" => Ok(Self::EntryExit),
            other => Err(format!(
                "unknown entry mode {other:?} (expected single, multiple or entry_exit)"
            )),
        }
    }
}

/// Where a policy is attached. The event's policy wins over the template's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", content = "id", rename_all = "lowercase")]
pub enum PolicyScope {
    Event(String),
    Template(String),
    /// No policy row: the built-in default for the pass type.
    Default,
}

impl PolicyScope {
    pub fn as_parts(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Event(id) => Some(("event", id)),
            Self::Template(id) => Some(("template", id)),
            Self::Default => None,
        }
    }
}

/// The default window in which a repeated tap of the same pass at the same reader returns the
/// first decision: a phone held on the reader, a ticket waved twice at the camera.
pub const DEFAULT_DUPLICATE_WINDOW_MS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckinPolicy {
    pub scope: PolicyScope,
    pub entry_mode: EntryMode,
    pub max_entries: Option<u32>,
    pub duplicate_window_ms: i64,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    /// `None`: every reader may admit.
    pub allowed_readers: Option<Vec<String>>,
}

impl CheckinPolicy {
    /// Store cards (loyalty) may be scanned any number of times; everything else is single entry.
    pub fn default_for(pass_type: &PassType) -> Self {
        Self {
            scope: PolicyScope::Default,
            entry_mode: if pass_type.is_loyalty() {
                EntryMode::Multiple
            } else {
                EntryMode::Single
            },
            max_entries: None,
            duplicate_window_ms: DEFAULT_DUPLICATE_WINDOW_MS,
            valid_from: None,
            valid_until: None,
            allowed_readers: None,
        }
    }

    pub fn allows_reader(&self, reader_id: &str) -> bool {
        self.allowed_readers
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|r| r == reader_id))
    }

    /// The most entries this policy admits, if bounded.
    pub fn entry_limit(&self) -> Option<u32> {
        match self.entry_mode {
            EntryMode::Single => Some(1),
            EntryMode::Multiple | EntryMode::EntryExit => self.max_entries,
        }
    }
}
