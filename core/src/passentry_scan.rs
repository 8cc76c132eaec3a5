//! PassEntry's scan API on the counter (issue 15), as pure shapes: the bodies a tool written for
//! PassEntry's readers sends to `POST /api/v1/scans` and `POST /api/v1/scans/log`, parsed into
//! what the engine and the log take, and the answer those tools read, built from a [`Decision`].
//! No storage, no HTTP.
//!
//! The seed (`passentry-api.txt`) has no text on the scan endpoints themselves. The shapes follow
//! issue 15's field lists and the seed's habits (a body wrapped in its resource's name, as
//! `{"pass": …}` and `{"reader": …}` are; camelCase; JSON:API `data`; loyalty `balance` positive
//! adds, negative subtracts). Where the seed is silent, the choices are:
//! - `scanType` takes the words of PassEntry's reader permissions: `scan` (validate / admit:
//!   `scanEnabled`), `redeem` (subtract balance: `redeemEnabled`), `addPoints` (add balance:
//!   `addPointsEnabled`). `redeem` needs a negative `loyalty.balance`, `addPoints` a positive
//!   one; `scan` may carry either, and its sign picks the permission.
//! - The answer's `validationResponse.status` answers what the reader asked: `failed` when the
//!   scan was refused, and also when the scan was admitted but its loyalty change was not (its
//!   `statusDetail` is then the loyalty refusal's code). `scanInfo.status` is the scan's own
//!   verdict as recorded.
//! - `statusDetail` is a code: `valid` for an admission, else the reason (`already_used`,
//!   `voided`, `unknown_pass`…, the codes of [`Reason`]); the words for the reader are in
//!   `readerInstructions.message` (the gate's words: "Already used 19:42 UTC at Gate B").
//! - The loyalty numbers are strings, as the issue says: `balanceChange` the size of the change
//!   ("5"), `operation` its direction (`add` / `subtract`), `updatedBalance` the balance after.

use crate::decision::{Decision, Reason, Verdict};
use crate::scan::{ReaderId, MAX_VALUE_BYTES};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The longest `statusDetail` a log may carry (the audit log keeps it as the scan's detail).
pub const MAX_STATUS_DETAIL_CHARS: usize = 1024;

/// How far ahead of this counter's clock a logged `scannedAt` may be (another system's clock
/// may run a little fast; a scan from next week is a mistake).
pub const MAX_CLOCK_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What a PassEntry reader asks for, in the words of its permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PassEntryScanType)]
pub enum ScanType {
    /// Validate the pass (admit it): the reader's `scanEnabled`.
    Scan,
    /// Subtract balance (a negative `loyalty.balance`): the reader's `redeemEnabled`.
    Redeem,
    /// Add balance (a positive `loyalty.balance`): the reader's `addPointsEnabled`.
    AddPoints,
}

impl ScanType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scan => "scan",
            Self::Redeem => "redeem",
            Self::AddPoints => "addPoints",
        }
    }
}

/// PassEntry's verdict words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PassEntryScanStatus)]
pub enum ScanStatus {
    Successful,
    Failed,
}

impl ScanStatus {
    pub fn of(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Accept => Self::Successful,
            Verdict::Reject => Self::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::Failed => "failed",
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            Self::Successful => Verdict::Accept,
            Self::Failed => Verdict::Reject,
        }
    }
}

/// `{"balance": ±N}`: positive adds, negative subtracts (PassEntry's loyalty `balance`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PassEntryLoyalty)]
pub struct LoyaltyFields {
    /// Positive adds, negative subtracts; never 0.
    pub balance: i64,
}

/// PassEntry's scan: `{"scan": {"readerId", "passId", "scanType", "loyalty": {"balance"}}}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PassEntryScanBody)]
pub struct ScanBody {
    pub scan: ScanFields,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PassEntryScanFields)]
pub struct ScanFields {
    /// The reader (registered scan only on first sight, like any reader id).
    #[schema(example = "south-gate-1")]
    pub reader_id: String,
    /// What the reader read: matched like any scanned value (barcode, NFC value, then pass id
    /// and extId, which only a reader with `acceptIds` admits).
    pub pass_id: String,
    pub scan_type: ScanType,
    #[serde(default)]
    pub loyalty: Option<LoyaltyFields>,
}

/// A loyalty change a scan asks for, its size positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceChange {
    Add(i64),
    Subtract(i64),
}

impl BalanceChange {
    /// From PassEntry's signed `balance`; 0 changes nothing and is no change.
    pub fn of(balance: i64) -> Option<Self> {
        match balance {
            0 => None,
            b if b > 0 => Some(Self::Add(b)),
            // `unsigned_abs` keeps i64::MIN from overflowing; the ledger refuses what it cannot hold.
            b => Some(Self::Subtract(
                i64::try_from(b.unsigned_abs()).unwrap_or(i64::MAX),
            )),
        }
    }

    /// The signed change to the balance.
    pub fn signed(self) -> i64 {
        match self {
            Self::Add(n) => n,
            Self::Subtract(n) => -n,
        }
    }

    pub fn operation(self) -> &'static str {
        match self {
            Self::Add(_) => "add",
            Self::Subtract(_) => "subtract",
        }
    }

    pub fn size(self) -> i64 {
        match self {
            Self::Add(n) | Self::Subtract(n) => n,
        }
    }
}

/// A PassEntry scan, parsed: what the engine and the loyalty path take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassEntryScan {
    pub reader_id: ReaderId,
    /// As the reader sent it (the engine parses it like any scanned value).
    pub value: String,
    pub scan_type: ScanType,
    pub change: Option<BalanceChange>,
}

/// A body that cannot be taken, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body's shape: a value out of range, two fields that contradict each other (400).
    #[error("{message}")]
    Shape { pointer: String, message: String },
    /// Well-formed but not acceptable (422), with its code.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        pointer: String,
        message: String,
    },
}

impl BodyError {
    fn shape(pointer: &str, message: impl Into<String>) -> Self {
        Self::Shape {
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    pub fn pointer(&self) -> &str {
        match self {
            Self::Shape { pointer, .. } | Self::Invalid { pointer, .. } => pointer,
        }
    }
}

fn reader_id(id: &str) -> Result<ReaderId, BodyError> {
    ReaderId::parse(id).map_err(|e| BodyError::Invalid {
        code: "invalid_reader",
        pointer: "/scan/readerId".into(),
        message: e.to_string(),
    })
}

/// The signed balance as a change that agrees with the scan type.
fn change_for(
    scan_type: ScanType,
    loyalty: Option<&LoyaltyFields>,
) -> Result<Option<BalanceChange>, BodyError> {
    let change = match loyalty {
        None => None,
        Some(l) => Some(BalanceChange::of(l.balance).ok_or_else(|| {
            BodyError::shape(
                "/scan/loyalty/balance",
                "loyalty.balance 0 changes nothing: give a positive balance to add, a negative one to subtract",
            )
        })?),
    };
    match (scan_type, change) {
        (ScanType::Scan, change)
        | (ScanType::AddPoints, change @ Some(BalanceChange::Add(_)))
        | (ScanType::Redeem, change @ Some(BalanceChange::Subtract(_))) => Ok(change),
        (ScanType::AddPoints, None) | (ScanType::Redeem, None) => Err(BodyError::shape(
            "/scan/loyalty",
            format!(
                "scanType {} needs loyalty.balance ({})",
                scan_type.as_str(),
                if scan_type == ScanType::Redeem {
                    "negative: the balance to subtract"
                } else {
                    "positive: the balance to add"
                }
            ),
        )),
        (ScanType::AddPoints, Some(_)) => Err(BodyError::shape(
            "/scan/loyalty/balance",
            "scanType addPoints adds: loyalty.balance must be positive",
        )),
        (ScanType::Redeem, Some(_)) => Err(BodyError::shape(
            "/scan/loyalty/balance",
            "scanType redeem subtracts: loyalty.balance must be negative",
        )),
    }
}

fn bounded(pointer: &str, what: &str, text: &str) -> Result<(), BodyError> {
    if text.len() > MAX_VALUE_BYTES {
        return Err(BodyError::shape(
            pointer,
            format!(
                "{what} is {} bytes long; a scanned value is at most {MAX_VALUE_BYTES}",
                text.len()
            ),
        ));
    }
    Ok(())
}

impl ScanBody {
    pub fn parse(self) -> Result<PassEntryScan, BodyError> {
        let s = self.scan;
        let reader_id = reader_id(&s.reader_id)?;
        let change = change_for(s.scan_type, s.loyalty.as_ref())?;
        Ok(PassEntryScan {
            reader_id,
            value: s.pass_id,
            scan_type: s.scan_type,
            change,
        })
    }
}

/// What became of the loyalty change a scan asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoyaltyOutcome {
    /// Applied: the change and the balance after it.
    Applied { change: BalanceChange, balance: i64 },
    /// Not applied (the scan still stands): why, as a code and in words.
    Refused { code: String, message: String },
}

/// PassEntry's answer to a scan: `validationResponse` (what the reader shows and does) and
/// `scanInfo` (the scan as recorded), with the scan's id and type beside them. `scan_value` is
/// what the reader sent as `passId`.
pub fn scan_answer(
    d: &Decision,
    scan_type: ScanType,
    scan_value: &str,
    loyalty: Option<&LoyaltyOutcome>,
) -> Value {
    let scan_status = ScanStatus::of(d.verdict);
    let (status, detail, message) = match (d.verdict, loyalty) {
        (Verdict::Accept, Some(LoyaltyOutcome::Refused { code, message })) => {
            (ScanStatus::Failed, code.clone(), message.clone())
        }
        (Verdict::Accept, Some(LoyaltyOutcome::Applied { change, balance })) => (
            ScanStatus::Successful,
            "valid".to_owned(),
            format!(
                "{} · {} {}, balance {balance}",
                d.message,
                change.size(),
                match change {
                    BalanceChange::Add(_) => "added",
                    BalanceChange::Subtract(_) => "subtracted",
                }
            ),
        ),
        (Verdict::Accept, None) => (
            ScanStatus::Successful,
            "valid".to_owned(),
            d.message.clone(),
        ),
        (Verdict::Reject, _) => (
            ScanStatus::Failed,
            d.reason.map_or("rejected", Reason::as_str).to_owned(),
            d.message.clone(),
        ),
    };
    let mut validation = json!({
        "status": status.as_str(),
        "statusDetail": detail,
        "readerInstructions": { "message": message },
    });
    if let Some(LoyaltyOutcome::Applied { change, balance }) = loyalty {
        validation["loyalty"] = json!({
            "balanceChange": change.size().to_string(),
            "updatedBalance": balance.to_string(),
            "operation": change.operation(),
        });
    }
    json!({
        "id": d.scan_id,
        "type": "scan",
        "validationResponse": validation,
        "scanInfo": {
            "scanId": d.scan_id,
            "scanType": scan_type.as_str(),
            "scanValue": scan_value,
            "validationType": "internal",
            "status": scan_status.as_str(),
            "scannedAt": d.at.to_rfc3339(),
            "passId": d.pass_id,
            "passExtId": d.pass.as_ref().and_then(|p| p.ext_id.as_deref()),
            "readerId": d.reader_id,
        },
    })
}

/// PassEntry's scan log: a scan validated elsewhere, to be recorded here.
/// `{"scan": {"readerId", "passId", "scanValue", "scanType", "status", "statusDetail",
/// "scannedAt", "loyalty"}}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PassEntryScanLogBody)]
pub struct LogBody {
    pub scan: LogFields,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PassEntryScanLogFields)]
pub struct LogFields {
    pub reader_id: String,
    /// The pass the other system matched (its id, as PassEntry gives it); null when it matched
    /// none. One of `passId` and `scanValue` is needed.
    #[serde(default)]
    pub pass_id: Option<String>,
    /// What the reader read.
    #[serde(default)]
    pub scan_value: Option<String>,
    pub scan_type: ScanType,
    /// The other system's verdict.
    pub status: ScanStatus,
    /// Its reason: one of this API's reason codes (`already_used`…) is kept as the scan's
    /// `reason`; any other text as its detail only.
    #[serde(default)]
    pub status_detail: Option<String>,
    /// When it was scanned there (RFC 3339).
    #[schema(example = "2024-05-01T19:42:00Z")]
    pub scanned_at: String,
    /// The loyalty change made there: recorded with the scan, not applied here again.
    #[serde(default)]
    pub loyalty: Option<LoyaltyFields>,
}

/// A scan validated elsewhere, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedScan {
    pub reader_id: ReaderId,
    pub pass_id: Option<String>,
    pub scan_value: Option<String>,
    pub scan_type: ScanType,
    pub status: ScanStatus,
    /// A reason code of ours, when `statusDetail` is one.
    pub reason: Option<Reason>,
    pub status_detail: Option<String>,
    pub at: Timestamp,
    /// The signed balance change made there.
    pub balance_change: Option<i64>,
}

impl LogBody {
    /// `now`: this counter's clock, which a `scannedAt` may run ahead of by at most
    /// [`MAX_CLOCK_AHEAD_MS`].
    pub fn parse(self, now: Timestamp) -> Result<LoggedScan, BodyError> {
        let s = self.scan;
        let reader_id = reader_id(&s.reader_id)?;
        let non_empty = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
        let (pass_id, scan_value) = (non_empty(s.pass_id), non_empty(s.scan_value));
        if pass_id.is_none() && scan_value.is_none() {
            return Err(BodyError::shape(
                "/scan/passId",
                "give passId (the pass the other system matched) or scanValue (what its reader read), or both",
            ));
        }
        if let Some(p) = &pass_id {
            bounded("/scan/passId", "passId", p)?;
        }
        if let Some(v) = &scan_value {
            bounded("/scan/scanValue", "scanValue", v)?;
        }
        let status_detail = non_empty(s.status_detail);
        if let Some(d) = &status_detail {
            let chars = d.chars().count();
            if chars > MAX_STATUS_DETAIL_CHARS {
                return Err(BodyError::shape(
                    "/scan/statusDetail",
                    format!("statusDetail is {chars} characters long; at most {MAX_STATUS_DETAIL_CHARS}"),
                ));
            }
        }
        let at = Timestamp::parse_rfc3339(&s.scanned_at)
            .map_err(|e| BodyError::shape("/scan/scannedAt", format!("scannedAt: {e}")))?;
        if at.unix_ms() > now.unix_ms().saturating_add(MAX_CLOCK_AHEAD_MS) {
            return Err(BodyError::Invalid {
                code: "invalid_time",
                pointer: "/scan/scannedAt".into(),
                message: format!(
                    "scannedAt {} is more than {} minutes after this counter's clock ({})",
                    at.to_rfc3339(),
                    MAX_CLOCK_AHEAD_MS / 60_000,
                    now.to_rfc3339()
                ),
            });
        }
        let balance_change = match &s.loyalty {
            None => None,
            Some(l) => Some(change_for(s.scan_type, Some(l))?.map_or(0, BalanceChange::signed)),
        };
        if balance_change.is_none() && s.scan_type != ScanType::Scan {
            // A redeem or an add logged without its amount says nothing of what it changed.
            change_for(s.scan_type, None)?;
        }
        // A failed scan's reason, when it is one of ours; a successful one has none.
        let reason = match s.status {
            ScanStatus::Successful => None,
            ScanStatus::Failed => status_detail.as_deref().and_then(|d| d.parse().ok()),
        };
        Ok(LoggedScan {
            reader_id,
            pass_id,
            scan_value,
            scan_type: s.scan_type,
            status: s.status,
            reason,
            status_detail,
            at,
            balance_change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::PassSummary;
    use crate::reader::Direction;
    use crate::scan::Medium;

    fn scan(body: &str) -> Result<PassEntryScan, BodyError> {
        serde_json::from_str::<ScanBody>(body).unwrap().parse()
    }

    #[test]
    fn scan_types_and_signs() {
        let s = scan(r#"{"scan":{"readerId":"till-1","passId":"BEAN-0001","scanType":"addPoints","loyalty":{"balance":5}}}"#).unwrap();
        assert_eq!(s.change, Some(BalanceChange::Add(5)));
        let s = scan(r#"{"scan":{"readerId":"till-1","passId":"BEAN-0001","scanType":"redeem","loyalty":{"balance":-3}}}"#).unwrap();
        assert_eq!(s.change, Some(BalanceChange::Subtract(3)));
        let s = scan(r#"{"scan":{"readerId":"g","passId":"X","scanType":"scan"}}"#).unwrap();
        assert_eq!((s.scan_type, s.change), (ScanType::Scan, None));
        let s = scan(
            r#"{"scan":{"readerId":"g","passId":"X","scanType":"scan","loyalty":{"balance":-2}}}"#,
        )
        .unwrap();
        assert_eq!(s.change, Some(BalanceChange::Subtract(2)));
        for (body, pointer) in [
            (
                r#"{"scan":{"readerId":"t","passId":"X","scanType":"addPoints","loyalty":{"balance":-5}}}"#,
                "/scan/loyalty/balance",
            ),
            (
                r#"{"scan":{"readerId":"t","passId":"X","scanType":"redeem","loyalty":{"balance":5}}}"#,
                "/scan/loyalty/balance",
            ),
            (
                r#"{"scan":{"readerId":"t","passId":"X","scanType":"redeem"}}"#,
                "/scan/loyalty",
            ),
            (
                r#"{"scan":{"readerId":"t","passId":"X","scanType":"scan","loyalty":{"balance":0}}}"#,
                "/scan/loyalty/balance",
            ),
        ] {
            let e = scan(body).unwrap_err();
            assert!(matches!(e, BodyError::Shape { .. }), "{body}: {e:?}");
            assert_eq!(e.pointer(), pointer, "{body}");
        }
        let e = scan(r#"{"scan":{"readerId":"a b","passId":"X","scanType":"scan"}}"#).unwrap_err();
        assert!(
            matches!(
                e,
                BodyError::Invalid {
                    code: "invalid_reader",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            BalanceChange::of(i64::MIN),
            Some(BalanceChange::Subtract(i64::MAX))
        );
    }

    #[test]
    fn unknown_scan_types_and_fields_do_not_parse() {
        for body in [
            r#"{"scan":{"readerId":"g","passId":"X","scanType":"admit"}}"#,
            r#"{"scan":{"readerId":"g","passId":"X","scanType":"scan","medium":"qr"}}"#,
            r#"{"scan":{"readerId":"g","passId":"X","scanType":"scan","loyalty":{"balance":"5"}}}"#,
            r#"{"scan":{"readerId":"g","scanType":"scan"}}"#,
        ] {
            assert!(serde_json::from_str::<ScanBody>(body).is_err(), "{body}");
        }
    }

    fn decision(verdict: Verdict, reason: Option<Reason>, message: &str) -> Decision {
        Decision {
            scan_id: "0190-scan".into(),
            verdict,
            reason,
            message: message.into(),
            pass_id: Some("p1".into()),
            pass: Some(PassSummary {
                id: "p1".into(),
                ext_id: Some("ORDER-1".into()),
                holder_name: None,
                status: Some("active".into()),
                pass_type: "storeCard".into(),
                template_id: "t".into(),
                template_name: None,
                event_id: None,
                event_name: None,
                expires_at: None,
            }),
            matched_by: None,
            reader_id: "till-1".into(),
            medium: Medium::Nfc,
            direction: Direction::Entry,
            at: Timestamp::from_unix_ms(1_700_000_000_000),
            previous_use: None,
            duplicate_of: None,
            entries: None,
            warnings: Vec::new(),
            loyalty: None,
            conflict: None,
        }
    }

    #[test]
    fn answers_in_passentry_words() {
        let d = decision(Verdict::Accept, None, "Valid");
        let applied = LoyaltyOutcome::Applied {
            change: BalanceChange::Subtract(5),
            balance: 12,
        };
        let a = scan_answer(&d, ScanType::Redeem, "BEAN-1", Some(&applied));
        let v = &a["validationResponse"];
        assert_eq!(v["status"], "successful");
        assert_eq!(v["statusDetail"], "valid");
        assert_eq!(
            v["loyalty"],
            json!({"balanceChange": "5", "updatedBalance": "12", "operation": "subtract"})
        );
        assert_eq!(
            v["readerInstructions"]["message"],
            "Valid · 5 subtracted, balance 12"
        );
        let i = &a["scanInfo"];
        assert_eq!(i["scanType"], "redeem");
        assert_eq!(i["scanValue"], "BEAN-1");
        assert_eq!(i["validationType"], "internal");
        assert_eq!(i["passExtId"], "ORDER-1");
        assert_eq!(i["scannedAt"], "2023-11-14T22:13:20Z");

        let refused = LoyaltyOutcome::Refused {
            code: "reader_not_allowed".into(),
            message: "reader till-9 may not subtract points".into(),
        };
        let a = scan_answer(&d, ScanType::Redeem, "BEAN-1", Some(&refused));
        assert_eq!(a["validationResponse"]["status"], "failed");
        assert_eq!(
            a["validationResponse"]["statusDetail"],
            "reader_not_allowed"
        );
        assert!(a["validationResponse"].get("loyalty").is_none());
        assert_eq!(a["scanInfo"]["status"], "successful");

        let d = decision(
            Verdict::Reject,
            Some(Reason::AlreadyUsed),
            "Already used 19:42 UTC at Gate B",
        );
        let a = scan_answer(&d, ScanType::Scan, "HLF-1", None);
        assert_eq!(a["validationResponse"]["statusDetail"], "already_used");
        assert_eq!(
            a["validationResponse"]["readerInstructions"]["message"],
            "Already used 19:42 UTC at Gate B"
        );
        assert_eq!(a["scanInfo"]["status"], "failed");
    }

    fn log(body: &str) -> Result<LoggedScan, BodyError> {
        serde_json::from_str::<LogBody>(body)
            .unwrap()
            .parse(Timestamp::from_unix_ms(1_700_000_000_000))
    }

    #[test]
    fn logs_parse_with_their_reasons() {
        let l = log(r#"{"scan":{"readerId":"pe-1","passId":"p1","scanValue":"HLF-1","scanType":"scan","status":"failed","statusDetail":"already_used","scannedAt":"2023-11-14T22:00:00Z"}}"#).unwrap();
        assert_eq!(
            (l.status, l.reason),
            (ScanStatus::Failed, Some(Reason::AlreadyUsed))
        );
        let l = log(r#"{"scan":{"readerId":"pe-1","passId":"p1","scanType":"redeem","status":"successful","statusDetail":"Redeemed","scannedAt":"2023-11-14T22:00:00+01:00","loyalty":{"balance":-4}}}"#).unwrap();
        assert_eq!((l.reason, l.balance_change), (None, Some(-4)));
        assert_eq!(l.status_detail.as_deref(), Some("Redeemed"));
        for (body, pointer) in [
            (
                r#"{"scan":{"readerId":"pe-1","scanType":"scan","status":"successful","scannedAt":"2023-11-14T22:00:00Z"}}"#,
                "/scan/passId",
            ),
            (
                r#"{"scan":{"readerId":"pe-1","passId":"p","scanType":"scan","status":"successful","scannedAt":"yesterday"}}"#,
                "/scan/scannedAt",
            ),
            (
                r#"{"scan":{"readerId":"pe-1","passId":"p","scanType":"scan","status":"successful","scannedAt":"2030-01-01T00:00:00Z"}}"#,
                "/scan/scannedAt",
            ),
            (
                r#"{"scan":{"readerId":"pe-1","passId":"p","scanType":"redeem","status":"successful","scannedAt":"2023-11-14T22:00:00Z"}}"#,
                "/scan/loyalty",
            ),
        ] {
            assert_eq!(log(body).unwrap_err().pointer(), pointer, "{body}");
        }
    }
}
