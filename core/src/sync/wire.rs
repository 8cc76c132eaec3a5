//! The sync protocol's documents (`/sync/v1/…`), shared by the counter and the hub.
//!
//! A change is one thing that happened somewhere, with a UUIDv7 made where it happened. The hub
//! keeps every change it accepted in one log, numbered by its own sequence (`seq`): that number
//! is the only cursor. A counter pulls "after seq N" and stores N only in the transaction that
//! applied the batch; it pushes its own changes by id, so a replay is a no-op at the hub.
//! Clocks (`at`) are carried for people to read and never order anything.
//!
//! Bodies use camelCase JSON; times are unix milliseconds (UTC) as stored.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The protocol's version, the path segment of every route (`/sync/v1/…`).
pub const VERSION: &str = "v1";

/// The most changes one push may carry; the hub answers 413 past it.
pub const MAX_PUSH: usize = 1000;
/// The most changes one pull answers.
pub const MAX_PULL: usize = 5000;
/// The longest a pull may wait for a change (`wait` seconds).
pub const MAX_WAIT_SECONDS: u64 = 30;

/// The node id the hub writes its own changes under (imports, conflicts, enrolled keys).
pub const HUB_NODE_ID: &str = "hub";

/// One change, as pushed by a counter and as pulled from the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// UUIDv7 made where the change happened (for a counter's change: the id of its outbox
    /// event). The hub applies an id once; a second push of it is counted as a duplicate.
    pub id: String,
    /// The node where it happened; `hub` for the hub's own.
    pub node_id: String,
    /// When it happened, on that node's clock. Shown, never used for order.
    pub at: Timestamp,
    #[serde(flatten)]
    pub body: ChangeBody,
}

/// What changed: `{"kind": "...", "data": {...}}`.
// Not boxed: the bulk of any large batch (a first pull, a snapshot) is passes, the largest
// kind, so a Box would save little, and plain variants keep the documents plain to build.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "camelCase")]
pub enum ChangeBody {
    /// A pass as it is now (created, updated, voided or imported), with the template and event
    /// it refers to so the receiver can write it whole. Up and down.
    Pass(PassRecord),
    /// One scan row, accepted or not. Up; down only for other nodes' scans.
    Scan(ScanRecordWire),
    /// One loyalty operation: its ledger entries and the rewards it touched. Up; down only for
    /// other nodes' operations.
    Ledger(LedgerOperation),
    /// Catalogue and rules: down only (the hub's import).
    Template(TemplateRecord),
    Event(EventRecord),
    Policy(PolicyRecord),
    Program(ProgramRecord),
    /// A node's PD1 public key: written by the hub at enrollment. Down only.
    NodeKey(NodeKeyRecord),
    /// A revoked PD1 token. Down only (hub import).
    Revocation(RevocationRecord),
    /// A conflict the hub found. Down only.
    Conflict(ConflictRecord),
}

impl ChangeBody {
    /// The kind's name as on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Pass(_) => "pass",
            Self::Scan(_) => "scan",
            Self::Ledger(_) => "ledger",
            Self::Template(_) => "template",
            Self::Event(_) => "event",
            Self::Policy(_) => "policy",
            Self::Program(_) => "program",
            Self::NodeKey(_) => "nodeKey",
            Self::Revocation(_) => "revocation",
            Self::Conflict(_) => "conflict",
        }
    }

    /// The pass this change is about, if any (the hub indexes it).
    pub fn pass_id(&self) -> Option<&str> {
        match self {
            Self::Pass(p) => Some(&p.id),
            Self::Scan(s) => s.pass_id.as_deref(),
            Self::Ledger(l) => Some(&l.pass_id),
            Self::Revocation(r) => r.pass_id.as_deref(),
            Self::Conflict(c) => Some(&c.pass_id),
            _ => None,
        }
    }

    /// Whether a counter may push this kind (the rest come only from the hub).
    pub fn pushable(&self) -> bool {
        matches!(self, Self::Pass(_) | Self::Scan(_) | Self::Ledger(_))
    }
}

/// A pass row, PassEntry's attribute names. `status` as stored (`issued`, `voided`, …).
/// A voided pass stays voided: a later upsert that is not voided does not bring it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PassRecord {
    pub id: String,
    pub ext_id: Option<String>,
    pub status: String,
    pub pass_type: String,
    pub device_type: Option<String>,
    pub template: TemplateRecord,
    pub event: Option<EventRecord>,
    pub barcode_type: Option<String>,
    pub barcode_value: Option<String>,
    pub barcode_display_text: bool,
    pub nfc_value: Option<String>,
    pub group_tag: Option<String>,
    #[schema(value_type = Object)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRecord {
    pub id: String,
    pub name: String,
    pub pass_type: String,
    /// The design JSON as stored (colours, images), if any.
    pub design: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: String,
    pub name: String,
    pub venue_name: Option<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub time_zone: String,
}

/// A check-in policy of an event or a template (`scope`: `event` / `template`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRecord {
    pub scope: String,
    pub scope_id: String,
    /// `single`, `multiple` or `entry_exit`.
    pub entry_mode: String,
    pub max_entries: Option<u32>,
    pub duplicate_window_ms: i64,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub allowed_readers: Option<Vec<String>>,
}

/// A template's loyalty program, as `core::loyalty::Program` serialises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgramRecord {
    pub template_id: String,
    #[schema(value_type = Object)]
    pub program: serde_json::Value,
}

/// One scan row as the node that decided it wrote it, and what the hub needs to judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanRecordWire {
    /// The scan's own id (its row in `scans`), UUIDv7.
    pub scan_id: String,
    pub at: Timestamp,
    pub reader_id: String,
    /// The reader's name where it was read, for "Already used 19:42 at Gate 1" elsewhere.
    pub reader_name: Option<String>,
    pub medium: String,
    /// `entry` / `exit`.
    pub direction: String,
    /// As logged: cut to 256 printable characters.
    pub value: String,
    pub value_len: u64,
    pub pass_id: Option<String>,
    /// `accept` / `reject`.
    pub verdict: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    /// An admission the entry rules count.
    pub counted: bool,
    pub duplicate_of: Option<String>,
    pub via_token: bool,
    /// Decided while the node had no contact with the hub.
    pub offline: bool,
    /// The entry rule the node applied (`single`, `multiple`, `entry_exit`) and its limit
    /// (`None`: unlimited), so the hub can judge a double admission without the policy.
    pub entry_mode: Option<String>,
    pub entry_limit: Option<u32>,
}

/// One loyalty operation: every ledger entry it wrote (in order) and the rewards it created or
/// closed, as they stand after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerOperation {
    pub op_id: String,
    pub pass_id: String,
    pub entries: Vec<LedgerEntryRecord>,
    pub rewards: Vec<RewardRecord>,
    /// Made while the node had no contact with the hub.
    pub offline: bool,
    /// The program's `offline_redemptions_per_day` when it was made.
    pub offline_redemptions_per_day: Option<i64>,
}

/// A ledger entry: `core::loyalty::ledger::LedgerEntry`'s fields, `kind` as stored
/// (`earn`, `reward_redeem`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryRecord {
    pub id: String,
    pub kind: String,
    pub points: i64,
    pub stamps: i64,
    pub reserved_points: i64,
    pub reserved_stamps: i64,
    pub amount_minor: Option<i64>,
    pub reward_id: Option<String>,
    pub reverses: Option<String>,
    pub reason: Option<String>,
    pub at: Timestamp,
    /// For an earn: when its points expire (the lot's expiry), if they do.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RewardRecord {
    pub id: String,
    pub tier_name: String,
    /// `points` / `stamps`.
    pub unit: String,
    pub cost: i64,
    /// `available` / `redeemed` / `deleted`.
    pub status: String,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeKeyRecord {
    pub node_id: String,
    pub node_name: String,
    pub key_id: String,
    /// SEC1 compressed P-256 point, base64url without padding.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRecord {
    pub token_id: String,
    pub pass_id: Option<String>,
    pub reason: Option<String>,
    pub revoked_at: Timestamp,
}

/// What kind of conflict the hub found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// A limited-entry pass admitted more often than its limit, at nodes that could not know
    /// of each other.
    DoubleAdmission,
    /// One reward redeemed at two nodes.
    DoubleRedemption,
    /// More offline redemptions of a pass in a day than its program allows.
    OfflineRedemptionCap,
    /// The merged balance of a pass went below zero.
    NegativeBalance,
}

/// One side of a conflict: what a node did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictSide {
    pub node_id: String,
    pub node_name: String,
    /// The scan id or the loyalty operation id.
    pub ref_id: String,
    /// The change's id at the hub.
    pub change_id: String,
    /// On that node's clock.
    pub at: Timestamp,
    pub offline: bool,
    pub reader_name: Option<String>,
}

/// A conflict: both sides kept, the later (the one the hub received second) `flagged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    /// UUIDv7 made by the hub.
    pub id: String,
    pub kind: ConflictKind,
    pub pass_id: String,
    /// What happened first (as the hub received it).
    pub first: ConflictSide,
    /// What came second: the scan or operation that is flagged.
    pub flagged: ConflictSide,
    /// Words for a screen: "Admitted at Gate A at 19:42 UTC while offline".
    pub message: String,
    /// On the hub's clock.
    pub detected_at: Timestamp,
}

// ---- requests and answers ----

/// `POST /sync/v1/enroll` (no credential: the one-time token is the credential).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrollRequest {
    /// From `passdesk hub enroll`.
    pub token: String,
    /// The counter's own node id (`node` table).
    pub node_id: String,
    pub key_id: String,
    /// SEC1 compressed P-256 point, base64url without padding.
    pub public_key: String,
}

/// 201 to `POST /sync/v1/enroll`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrollResponse {
    pub node_id: String,
    /// The name given at `hub enroll`.
    pub node_name: String,
    /// The bearer credential of every later call. Shown once; the hub keeps its hash.
    pub credential: String,
    pub hub_id: String,
}

/// `POST /sync/v1/push` (bearer credential): at most `MAX_PUSH` changes, each of this node
/// (`nodeId` = the caller) and pushable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    pub changes: Vec<Change>,
}

/// 200 to a push: every change is accounted for; a rejected one never blocks the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushResponse {
    pub accepted: u64,
    /// Already in the log (a replay).
    pub duplicates: u64,
    pub rejected: Vec<Rejected>,
    /// Conflicts this push caused (they also come down in the log).
    pub conflicts: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    pub id: String,
    /// Why, in words (`not this node's change`, `kind template is not pushed by counters`, …).
    pub reason: String,
}

/// `GET /sync/v1/changes?after=SEQ&limit=N&wait=SECONDS` (bearer credential).
/// Answers at once when the log has changes after `after`, else waits up to `wait` seconds
/// for one. The caller's own scans and ledger operations are left out (it has them), but the
/// cursor moves past them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullResponse {
    pub changes: Vec<Sequenced>,
    /// The seq to ask after next time: the last seq this answer covers (`after` when none).
    pub cursor: i64,
    /// More changes are waiting: ask again at once.
    pub more: bool,
    /// The hub's clock, for people reading status.
    pub hub_time: Timestamp,
}

/// A change with its place in the hub's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sequenced {
    pub seq: i64,
    #[serde(flatten)]
    pub change: Change,
}

/// Every error of the sync API: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// `unauthorized`, `token_used`, `bad_request`, `too_large`, `node_taken`, …
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_an_envelope_with_kind_and_data() {
        let c = Change {
            id: "0190c0de-0000-7000-8000-000000000001".into(),
            node_id: "n1".into(),
            at: Timestamp::from_unix_ms(1),
            body: ChangeBody::Revocation(RevocationRecord {
                token_id: "t".into(),
                pass_id: None,
                reason: None,
                revoked_at: Timestamp::from_unix_ms(2),
            }),
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["kind"], "revocation");
        assert_eq!(json["data"]["tokenId"], "t");
        assert_eq!(json["nodeId"], "n1");
        let back: Change = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
