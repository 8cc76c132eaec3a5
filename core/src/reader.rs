//! Readers: anything that produces scans (a PC/SC reader, a VTAP, a camera, the CLI).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which way a person passes the reader. A gate's readers have a default; a scan may override it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Entry,
    Exit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::Exit => "exit",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "entry" => Ok(Self::Entry),
            "exit" => Ok(Self::Exit),
            other => Err(format!(
                "unknown direction {other:?} (expected entry or exit)"
            )),
        }
    }
}

/// A reader as configured. Permission names follow PassEntry's reader object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reader {
    pub id: String,
    pub name: String,
    pub reader_type: String,
    /// A gate bound to one event admits only that event's passes.
    pub event_id: Option<String>,
    pub direction: Direction,
    pub scan_enabled: bool,
    pub redeem_enabled: bool,
    pub add_points_enabled: bool,
}

impl Reader {
    /// The reader a scan names when it was never configured: enabled, entry, no event.
    pub fn unconfigured(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: id.to_owned(),
            reader_type: "PassdeskCounter".to_owned(),
            event_id: None,
            direction: Direction::Entry,
            scan_enabled: true,
            redeem_enabled: true,
            add_points_enabled: true,
        }
    }
}
