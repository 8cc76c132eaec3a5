//! What the check-in engine answers: accept or reject, why, and who it was.

use crate::loyalty::LoyaltyView;
use crate::pass_store::MatchedBy;
use crate::reader::Direction;
use crate::scan::Medium;
use crate::sync::wire::ConflictKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accept,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
        }
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "accept" => Ok(Self::Accept),
            "reject" => Ok(Self::Reject),
            other => Err(format!("unknown verdict {other:?}")),
        }
    }
}

/// Why a scan was rejected. The codes are API: the UI, webhooks and tests match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Empty, too long, not text, control characters.
    MalformedValue,
    UnknownPass,
    Voided,
    Expired,
    NotYetValid,
    WrongEvent,
    /// Entry refused: single entry used, entry limit reached, or already inside.
    AlreadyUsed,
    /// An exit with no entry to leave from (entry / exit policies).
    NotCheckedIn,
    ReaderNotAllowed,
    /// The value names a pass only by its id or extId (typed by a person, e.g. an order number
    /// from an email), at a reader that does not accept typed ids (`acceptIds`).
    TypedIdNotAccepted,
    /// A PD1 token with a broken encoding, an unknown key or a bad signature.
    InvalidToken,
    /// A PD1 token whose id has been revoked.
    Revoked,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Self::MalformedValue,
        Self::UnknownPass,
        Self::Voided,
        Self::Expired,
        Self::NotYetValid,
        Self::WrongEvent,
        Self::AlreadyUsed,
        Self::NotCheckedIn,
        Self::ReaderNotAllowed,
        Self::TypedIdNotAccepted,
        Self::InvalidToken,
        Self::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedValue => "malformed_value",
            Self::UnknownPass => "unknown_pass",
            Self::Voided => "voided",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongEvent => "wrong_event",
            Self::AlreadyUsed => "already_used",
            Self::NotCheckedIn => "not_checked_in",
            Self::ReaderNotAllowed => "reader_not_allowed",
            Self::TypedIdNotAccepted => "typed_id_not_accepted",
            Self::InvalidToken => "invalid_token",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown reason {s:?}"))
    }
}

/// Something the cashier should know about an accepted scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The holder removed the pass from their wallet (a screenshot or a printout was shown).
    RemovedFromWallet,
    /// Admitted on the strength of its PD1 signature: the pass is not in this node's cache yet.
    NotInCache,
    /// Admitted on a typed pass id or extId at a reader that accepts them (`acceptIds`):
    /// nothing was read from the pass itself, so staff look at the person.
    TypedId,
}

/// The pass as the counter shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PassSummary {
    pub id: String,
    pub ext_id: Option<String>,
    pub holder_name: Option<String>,
    /// `None` for a pass known only from its token.
    pub status: Option<String>,
    pub pass_type: String,
    pub template_id: String,
    pub template_name: Option<String>,
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub expires_at: Option<Timestamp>,
}

/// The earlier admission that makes this one `already_used`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviousUse {
    pub scan_id: String,
    pub at: Timestamp,
    pub reader_id: String,
    pub reader_name: String,
}

/// Entries counted against a bounded policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryCount {
    pub used: u32,
    pub limit: u32,
}

/// A conflict the hub reported about the scanned pass (its newest): shown beside the decision,
/// "Admitted at Gate A at 19:42 UTC while offline".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictNote {
    /// The conflict's id (the hub's).
    pub id: String,
    pub kind: ConflictKind,
    /// The hub's words for a screen.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The id of the scan row this decision wrote (every scan writes one).
    pub scan_id: String,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    /// Words a gate worker can say aloud. Times in it are UTC; screens format their own.
    pub message: String,
    pub pass_id: Option<String>,
    pub pass: Option<PassSummary>,
    pub matched_by: Option<MatchedBy>,
    pub reader_id: String,
    pub medium: Medium,
    pub direction: Direction,
    pub at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_use: Option<PreviousUse>,
    /// Set when this tap repeated an earlier one inside the duplicate window: the verdict and
    /// reason are that scan's, and nothing was counted twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<EntryCount>,
    pub warnings: Vec<Warning>,
    /// Balance, stamps and rewards of an admitted pass whose template has a loyalty program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyalty: Option<LoyaltyView>,
    /// The newest conflict the hub reported about this pass (sync), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictNote>,
}

impl Decision {
    pub fn accepted(&self) -> bool {
        self.verdict == Verdict::Accept
    }
}
