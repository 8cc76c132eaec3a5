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

/// A reader as configured. Permission names follow PassEntry's reader object; `acceptIds` and
/// `exitEnabled` are Passdesk's.
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
    /// A value that names a pass only by its id or extId (typed by a person, not read from the
    /// pass) admits here, flagged `typed_id`. Elsewhere it is refused: an order number from an
    /// email is not a ticket.
    pub accept_ids: bool,
    /// A scan may choose its direction here (an exit scan at an entry gate). Always on for a
    /// reader whose own direction is exit.
    pub exit_enabled: bool,
}

impl Reader {
    /// A reader nobody configured (first named by a scan, or created without settings): it
    /// scans, at the entry, for any event, and nothing more until a manager enables more. The
    /// scan path registers unknown reader ids like this, so naming a reader never grants a
    /// permission.
    pub fn unconfigured(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: id.to_owned(),
            reader_type: "PassdeskCounter".to_owned(),
            event_id: None,
            direction: Direction::Entry,
            scan_enabled: true,
            redeem_enabled: false,
            add_points_enabled: false,
            accept_ids: false,
            exit_enabled: false,
        }
    }

    /// The direction of a scan here: the reader's own, or the one the scan asks for where the
    /// reader lets a scan choose (`exitEnabled`). Elsewhere asking is refused, even for the
    /// reader's own direction: a client that sends a direction expects it to count.
    pub fn direction_for(
        &self,
        asked: Option<Direction>,
    ) -> Result<Direction, DirectionNotAllowed> {
        match asked {
            None => Ok(self.direction),
            Some(d) if self.exit_enabled => Ok(d),
            Some(asked) => Err(DirectionNotAllowed {
                reader_id: self.id.clone(),
                reader_name: self.name.clone(),
                own: self.direction,
                asked,
            }),
        }
    }

    /// Applies changes to the settings, all or none, keeping them consistent: an exit reader
    /// takes exit scans, so making a reader an exit turns `exitEnabled` on unless the changes
    /// say otherwise, and saying otherwise is refused.
    pub fn apply(&mut self, c: ReaderChanges) -> Result<(), ReaderSettingError> {
        let mut next = self.clone();
        if let Some(name) = c.name {
            let name = name.trim();
            if name.is_empty() || name.len() > MAX_NAME_BYTES {
                return Err(ReaderSettingError::InvalidName);
            }
            name.clone_into(&mut next.name);
        }
        if let Some(t) = c.reader_type {
            next.reader_type = t;
        }
        if let Some(e) = c.event_id {
            next.event_id = Some(e);
        }
        if let Some(d) = c.direction {
            next.direction = d;
            if d == Direction::Exit && c.exit_enabled.is_none() {
                next.exit_enabled = true;
            }
        }
        let set = |field: &mut bool, value: Option<bool>| *field = value.unwrap_or(*field);
        set(&mut next.scan_enabled, c.scan_enabled);
        set(&mut next.redeem_enabled, c.redeem_enabled);
        set(&mut next.add_points_enabled, c.add_points_enabled);
        set(&mut next.accept_ids, c.accept_ids);
        set(&mut next.exit_enabled, c.exit_enabled);
        if next.direction == Direction::Exit && !next.exit_enabled {
            return Err(ReaderSettingError::ExitReaderWithoutExitScans);
        }
        *self = next;
        Ok(())
    }
}

/// The longest reader name, in bytes (a name is shown on a gate's screen and in "already used
/// at ...").
pub const MAX_NAME_BYTES: usize = 200;

/// Changes to a reader's settings, from the API, the CLI or an import; `None` keeps a setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderChanges {
    pub name: Option<String>,
    pub reader_type: Option<String>,
    pub event_id: Option<String>,
    pub direction: Option<Direction>,
    pub scan_enabled: Option<bool>,
    pub redeem_enabled: Option<bool>,
    pub add_points_enabled: Option<bool>,
    pub accept_ids: Option<bool>,
    pub exit_enabled: Option<bool>,
}

/// Settings that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderSettingError {
    #[error("a reader's name must be 1 to 200 characters")]
    InvalidName,
    #[error(
        "an exit reader takes exit scans: exitEnabled cannot be false while direction is exit"
    )]
    ExitReaderWithoutExitScans,
}

impl ReaderSettingError {
    /// The setting at fault, as the API names it.
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidName => "name",
            Self::ExitReaderWithoutExitScans => "exitEnabled",
        }
    }
}

/// A scan asked for a direction at a reader that does not let a scan choose one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reader {reader_id} takes {own} scans only (exitEnabled is off): a scan may give its direction only where exit scans are enabled")]
pub struct DirectionNotAllowed {
    pub reader_id: String,
    pub reader_name: String,
    pub own: Direction,
    pub asked: Direction,
}

impl DirectionNotAllowed {
    /// Words for the gate: what this reader takes.
    pub fn message(&self) -> String {
        format!("{} takes {} scans only", self.reader_name, self.own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfigured_reader_scans_and_nothing_more() {
        let r = Reader::unconfigured("x");
        assert!(r.scan_enabled);
        assert!(!r.redeem_enabled && !r.add_points_enabled && !r.accept_ids && !r.exit_enabled);
        assert_eq!(r.direction_for(None), Ok(Direction::Entry));
        let refused = r.direction_for(Some(Direction::Exit)).unwrap_err();
        assert_eq!(refused.message(), "x takes entry scans only");
        assert!(r.direction_for(Some(Direction::Entry)).is_err());
    }

    #[test]
    fn an_exit_reader_takes_exit_scans() {
        let mut r = Reader::unconfigured("out");
        r.apply(ReaderChanges {
            direction: Some(Direction::Exit),
            ..Default::default()
        })
        .unwrap();
        assert!(r.exit_enabled);
        assert_eq!(
            r.direction_for(Some(Direction::Entry)),
            Ok(Direction::Entry)
        );
        let err = r
            .apply(ReaderChanges {
                exit_enabled: Some(false),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err, ReaderSettingError::ExitReaderWithoutExitScans);
        assert_eq!(err.field(), "exitEnabled");
        let mut fresh = Reader::unconfigured("out2");
        assert_eq!(
            fresh.apply(ReaderChanges {
                direction: Some(Direction::Exit),
                exit_enabled: Some(false),
                ..Default::default()
            }),
            Err(ReaderSettingError::ExitReaderWithoutExitScans)
        );
    }

    #[test]
    fn changes_keep_what_they_do_not_name() {
        let mut r = Reader::unconfigured("till");
        r.apply(ReaderChanges {
            name: Some(" Till 1 ".into()),
            redeem_enabled: Some(true),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.name, "Till 1");
        assert!(r.redeem_enabled && r.scan_enabled && !r.add_points_enabled);
        assert_eq!(
            r.apply(ReaderChanges {
                name: Some("  ".into()),
                ..Default::default()
            }),
            Err(ReaderSettingError::InvalidName)
        );
    }
}
