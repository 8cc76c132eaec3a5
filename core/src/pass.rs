//! The pass as the cache holds it, in PassEntry's vocabulary.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// PassEntry pass `status`. `deactivated` is how PassEntry shows a voided pass through
/// `deactivatedAt`; both are rejected as voided at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PassStatus {
    Issued,
    Active,
    Removed,
    Voided,
    Deactivated,
    Expired,
}

impl PassStatus {
    pub const ALL: [PassStatus; 6] = [
        Self::Issued,
        Self::Active,
        Self::Removed,
        Self::Voided,
        Self::Deactivated,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Active => "active",
            Self::Removed => "removed",
            Self::Voided => "voided",
            Self::Deactivated => "deactivated",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for PassStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pass status {0:?} (expected one of issued, active, removed, voided, deactivated, expired)")]
pub struct UnknownPassStatus(pub String);

impl FromStr for PassStatus {
    type Err = UnknownPassStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownPassStatus(s.chars().take(40).collect()))
    }
}

/// PassEntry `passType` / template `templateType`. Kept as text: providers add kinds, and an
/// unknown kind must not stop an import. Only `storeCard` changes check-in rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PassType(String);

impl PassType {
    pub const STORE_CARD: &'static str = "storeCard";
    pub const GENERIC: &'static str = "generic";
    pub const EVENT_TICKET: &'static str = "eventTicket";

    pub fn new(kind: impl Into<String>) -> Self {
        Self(kind.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Loyalty passes (store cards) may be scanned any number of times by default.
    pub fn is_loyalty(&self) -> bool {
        self.0 == Self::STORE_CARD
    }
}

impl Default for PassType {
    fn default() -> Self {
        Self(Self::GENERIC.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Barcode {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub display_text: bool,
}

/// One pass in the cache. Field names follow PassEntry's pass attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub id: String,
    pub ext_id: Option<String>,
    pub status: PassStatus,
    pub pass_type: PassType,
    pub device_type: Option<String>,
    pub template_id: String,
    pub event_id: Option<String>,
    pub barcode: Option<Barcode>,
    pub nfc: Option<String>,
    pub group_tag: Option<String>,
    pub pass_content: serde_json::Map<String, serde_json::Value>,
    pub latest_message: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub added_at: Option<Timestamp>,
    pub removed_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

impl Pass {
    /// A pass as it is first written: its id, template and type, status `issued`, created and
    /// updated `now`, and nothing else (no extId, event, barcode, NFC value, content, message
    /// or dates). Whoever issues it sets what the request gives:
    /// `Pass { barcode, ..Pass::new(id, template, kind, now) }`.
    pub fn new(
        id: impl Into<String>,
        template_id: impl Into<String>,
        pass_type: PassType,
        now: Timestamp,
    ) -> Self {
        Self {
            id: id.into(),
            ext_id: None,
            status: PassStatus::Issued,
            pass_type,
            device_type: None,
            template_id: template_id.into(),
            event_id: None,
            barcode: None,
            nfc: None,
            group_tag: None,
            pass_content: serde_json::Map::new(),
            latest_message: None,
            created_at: now,
            updated_at: now,
            added_at: None,
            removed_at: None,
            deactivated_at: None,
            expires_at: None,
            valid_from: None,
            valid_until: None,
        }
    }

    /// The holder's name as shown at the counter: PassEntry's `fullName` content key, or the
    /// first of a few common alternatives.
    pub fn holder_name(&self) -> Option<String> {
        holder_name_of(&self.pass_content)
    }

    /// Voided at the counter: status voided / deactivated, or `deactivatedAt` set.
    pub fn is_voided(&self) -> bool {
        matches!(self.status, PassStatus::Voided | PassStatus::Deactivated)
            || self.deactivated_at.is_some()
    }
}

pub fn holder_name_of(content: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    ["fullName", "name", "holderName", "attendee"]
        .iter()
        .find_map(|k| content.get(*k).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub name: String,
    pub pass_type: PassType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub name: String,
    pub venue_name: Option<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub time_zone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_and_rejects_unknown() {
        for st in PassStatus::ALL {
            assert_eq!(st.as_str().parse::<PassStatus>().unwrap(), st);
        }
        assert!("Voided ".parse::<PassStatus>().is_err());
    }
}
