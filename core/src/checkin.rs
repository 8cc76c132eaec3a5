//! The check-in engine: one scanned value in, one decision out, written durably.
//!
//! `checkin` runs in ONE `BEGIN IMMEDIATE` transaction: find the pass, apply the rules, write the
//! scan row and its outbox row, commit. Either all of it is on disk or none of it is; the
//! decision is returned only after the commit. Bad input is never an error here: it is a reject
//! with a reason, logged like any other scan.

use crate::catalog;
use crate::decision::{
    ConflictNote, Decision, EntryCount, PassSummary, PreviousUse, Reason, Verdict, Warning,
};
use crate::keys;
use crate::loyalty::{self, LoyaltyView};
use crate::outbox::{self, topic};
use crate::pass::{Pass, PassStatus, PassType};
use crate::pass_store::{self, MatchedBy};
use crate::policy::{CheckinPolicy, EntryMode};
use crate::reader::{Direction, Reader};
use crate::scan::{log_preview, Medium, ScanInput, ScanValue};
use crate::scan_log::{self, ScanRecord};
use crate::store::{Store, StoreError, StoreResult};
use crate::time::Timestamp;
use crate::token::{self, TokenClaims, TokenError};
use rusqlite::Connection;
use serde::Serialize;

/// Decides on a scan and records it. Errors are storage failures only (the disk, a locked
/// database): then nothing was written and the caller must tell the user to scan again.
pub fn checkin(store: &mut Store, node_id: &str, input: &ScanInput) -> StoreResult<Decision> {
    store.write(|tx| decide_and_record(tx, node_id, input))
}

/// Decides on several scans in ONE transaction (group commit: one durable write for the lot),
/// in order, each seeing the ones before it. Each scan runs in its own savepoint, so a storage
/// error on one leaves the others standing. Nothing is acknowledged before the commit: if the
/// commit fails, every scan of the batch fails and none was recorded.
pub fn checkin_batch(
    store: &mut Store,
    node_id: &str,
    inputs: &[ScanInput],
) -> StoreResult<Vec<StoreResult<Decision>>> {
    store.write(|tx| {
        let mut out = Vec::with_capacity(inputs.len());
        for input in inputs {
            tx.execute_batch("SAVEPOINT scan")?;
            match decide_and_record(tx, node_id, input) {
                Ok(d) => {
                    tx.execute_batch("RELEASE scan")?;
                    out.push(Ok(d));
                }
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO scan; RELEASE scan")?;
                    out.push(Err(e));
                }
            }
        }
        Ok(out)
    })
}

/// The pass a scan is about: from the cache, or known only from a verified PD1 token.
enum Subject {
    Cached {
        pass: Box<Pass>,
        matched_by: MatchedBy,
        via_token: bool,
    },
    TokenOnly(TokenClaims),
}

impl Subject {
    fn pass_id(&self) -> &str {
        match self {
            Self::Cached { pass, .. } => &pass.id,
            Self::TokenOnly(c) => &c.pid,
        }
    }
    fn event_id(&self) -> Option<&str> {
        match self {
            Self::Cached { pass, .. } => pass.event_id.as_deref(),
            Self::TokenOnly(c) => c.evt.as_deref(),
        }
    }
    fn template_id(&self) -> &str {
        match self {
            Self::Cached { pass, .. } => &pass.template_id,
            Self::TokenOnly(c) => &c.tpl,
        }
    }
    /// Found by what a person can type rather than by a code read from the pass: its id or
    /// extId, or its NFC value arriving from anything but an NFC read. PassEntry's passes (and
    /// ours) carry the pass id as their NFC value, and an NFC value is never printed on the
    /// pass, so a keyboard, a camera or a serial scanner that sends it was given it by a person.
    fn is_typed_id(&self, medium: Medium) -> bool {
        matches!(self, Self::Cached { matched_by, .. }
            if matched_by.is_typed_id() || (*matched_by == MatchedBy::Nfc && !medium.is_nfc()))
    }
    fn via_token(&self) -> bool {
        match self {
            Self::Cached { via_token, .. } => *via_token,
            Self::TokenOnly(_) => true,
        }
    }
}

/// The engine's answer before it is written down.
struct Outcome {
    verdict: Verdict,
    reason: Option<Reason>,
    message: String,
    subject: Option<Subject>,
    pass_summary: Option<PassSummary>,
    previous_use: Option<PreviousUse>,
    duplicate_of: Option<String>,
    entries: Option<EntryCount>,
    counted: bool,
    warnings: Vec<Warning>,
}

impl Outcome {
    fn reject(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Reject,
            reason: Some(reason),
            message: message.into(),
            subject: None,
            pass_summary: None,
            previous_use: None,
            duplicate_of: None,
            entries: None,
            counted: false,
            warnings: Vec::new(),
        }
    }
}

fn decide_and_record(conn: &Connection, node_id: &str, input: &ScanInput) -> StoreResult<Decision> {
    let at = input.at;
    let reader = catalog::register_reader_if_new(conn, input.reader_id.as_str(), at)?;
    let (direction, outcome) = match reader.direction_for(input.direction) {
        Ok(direction) => (
            direction,
            evaluate(conn, node_id, &reader, direction, input)?,
        ),
        // The API refuses this before it gets here (422, nothing recorded); other sources
        // (the CLI's --exit) get a recorded reject rather than a direction the reader forbids.
        Err(refused) => (
            reader.direction,
            Outcome::reject(Reason::ReaderNotAllowed, refused.message()),
        ),
    };
    let loyalty = match (&outcome.subject, outcome.verdict) {
        (Some(Subject::Cached { pass, .. }), Verdict::Accept) => {
            loyalty_on_scan(conn, node_id, pass, at)?
        }
        _ => None,
    };
    let mut decision = record(conn, node_id, input, &reader, direction, outcome)?;
    decision.loyalty = loyalty;
    decision.conflict = conflict_note(conn, &decision)?;
    Ok(decision)
}

/// The newest conflict the hub reported about the pass, for a decision that shows the pass (a
/// typed id refused at a gate shows nothing of it). One probe of the conflicts' pass index.
fn conflict_note(conn: &Connection, decision: &Decision) -> StoreResult<Option<ConflictNote>> {
    let Some(pass) = &decision.pass else {
        return Ok(None);
    };
    Ok(crate::sync::conflicts::newest_of_pass(conn, &pass.id)?
        .map(|(id, kind, message)| ConflictNote { id, kind, message }))
}

/// What the cashier sees of an admitted pass's loyalty: due points expire first, so the
/// balance on screen is the balance a redemption will find.
fn loyalty_on_scan(
    conn: &Connection,
    node_id: &str,
    pass: &Pass,
    at: Timestamp,
) -> StoreResult<Option<LoyaltyView>> {
    loyalty::expire_due(conn, node_id, &pass.id, at).map_err(|e| match e {
        loyalty::LoyaltyError::Store(e) => e,
        other => StoreError::Corrupt {
            what: "loyalty ledger",
            detail: other.to_string(),
        },
    })?;
    loyalty::view(conn, &pass.id, &pass.template_id)
}

fn evaluate(
    conn: &Connection,
    node_id: &str,
    reader: &Reader,
    direction: Direction,
    input: &ScanInput,
) -> StoreResult<Outcome> {
    let at = input.at;
    let value = match ScanValue::parse(&input.value) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Outcome::reject(
                Reason::MalformedValue,
                format!("Unreadable: {e}"),
            ))
        }
    };
    if !reader.scan_enabled {
        return Ok(Outcome::reject(
            Reason::ReaderNotAllowed,
            format!("{} is not allowed to scan", reader.name),
        ));
    }
    let subject = match resolve_subject(conn, &value)? {
        Ok(s) => s,
        Err(rejected) => return Ok(rejected),
    };
    let typed_id = subject.is_typed_id(input.medium);
    if typed_id && !reader.accept_ids {
        // Refused before any rule runs, and without the pass's summary: whoever types order
        // numbers at a gate learns nothing about their holders. The audit row keeps the pass id
        // so a manager sees the attempt.
        let mut refused = Outcome::reject(
            Reason::TypedIdNotAccepted,
            "Typed pass number not accepted here: scan the code on the pass",
        );
        refused.subject = Some(subject);
        return Ok(refused);
    }
    let summary = summarize(conn, &subject)?;
    let mut outcome = judge(conn, node_id, reader, direction, at, &subject, &summary)?;
    if outcome.verdict == Verdict::Accept {
        if typed_id {
            outcome.warnings.push(Warning::TypedId);
            if outcome.duplicate_of.is_none() {
                // The scan row's detail says it too: the audit log has no other trace of it.
                outcome.message.push_str(" (typed pass number)");
            }
        }
        if let Subject::Cached { pass, .. } = &subject {
            if pass.status == PassStatus::Removed {
                outcome.warnings.push(Warning::RemovedFromWallet);
            }
        }
        if matches!(subject, Subject::TokenOnly(_)) {
            outcome.warnings.push(Warning::NotInCache);
        }
    }
    outcome.pass_summary = Some(summary);
    outcome.subject = Some(subject);
    Ok(outcome)
}

/// Finds the pass: the cache first (an indexed lookup), then the value as a PD1 token.
fn resolve_subject(conn: &Connection, value: &ScanValue) -> StoreResult<Result<Subject, Outcome>> {
    if let Some(found) = pass_store::find(conn, value.as_str())? {
        return Ok(Ok(Subject::Cached {
            pass: Box::new(found.pass),
            matched_by: found.matched_by,
            via_token: false,
        }));
    }
    if !token::looks_like_token(value.as_str()) {
        return Ok(Err(Outcome::reject(
            Reason::UnknownPass,
            "Unknown pass: not in this counter's list",
        )));
    }
    let claims = match verify_token(conn, value.as_str())? {
        Ok(c) => c,
        Err(TokenError::Revoked(tid)) => {
            return Ok(Err(Outcome::reject(
                Reason::Revoked,
                format!("Revoked: token {tid} is no longer valid"),
            )))
        }
        Err(e) => {
            return Ok(Err(Outcome::reject(
                Reason::InvalidToken,
                format!("Invalid pass code: {e}"),
            )))
        }
    };
    Ok(Ok(match pass_store::get_pass(conn, &claims.pid)? {
        Some(pass) => Subject::Cached {
            pass: Box::new(pass),
            matched_by: MatchedBy::Token,
            via_token: true,
        },
        None => Subject::TokenOnly(claims),
    }))
}

fn verify_token(conn: &Connection, value: &str) -> StoreResult<Result<TokenClaims, TokenError>> {
    let unverified = match token::parse(value) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let Some(key) = keys::trusted_key(conn, &unverified.claims.kid)? else {
        return Ok(Err(TokenError::UnknownKey(unverified.claims.kid.clone())));
    };
    let claims = match unverified.verify(&key) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    if keys::is_token_revoked(conn, &claims.tid)? {
        return Ok(Err(TokenError::Revoked(claims.tid)));
    }
    Ok(Ok(claims))
}

fn summarize(conn: &Connection, subject: &Subject) -> StoreResult<PassSummary> {
    let template = catalog::get_template(conn, subject.template_id())?;
    let event_name = match subject.event_id() {
        Some(id) => catalog::get_event(conn, id)?.map(|e| e.name),
        None => None,
    };
    Ok(match subject {
        Subject::Cached { pass, .. } => PassSummary {
            id: pass.id.clone(),
            ext_id: pass.ext_id.clone(),
            holder_name: pass.holder_name(),
            status: Some(pass.status.as_str().to_owned()),
            pass_type: pass.pass_type.as_str().to_owned(),
            template_id: pass.template_id.clone(),
            template_name: template.map(|t| t.name),
            event_id: pass.event_id.clone(),
            event_name,
            expires_at: pass.expires_at,
        },
        Subject::TokenOnly(c) => PassSummary {
            id: c.pid.clone(),
            ext_id: None,
            holder_name: None,
            status: None,
            pass_type: template
                .as_ref()
                .map(|t| t.pass_type.as_str().to_owned())
                .unwrap_or_else(|| PassType::default().as_str().to_owned()),
            template_id: c.tpl.clone(),
            template_name: template.map(|t| t.name),
            event_id: c.evt.clone(),
            event_name,
            expires_at: c.valid_until(),
        },
    })
}

/// The rules, in the order a gate worker would check them: is the pass good at all, is it for
/// this gate, is it inside its window, has it been used.
fn judge(
    conn: &Connection,
    node_id: &str,
    reader: &Reader,
    direction: Direction,
    at: Timestamp,
    subject: &Subject,
    summary: &PassSummary,
) -> StoreResult<Outcome> {
    let (valid_from, valid_until) = match subject {
        Subject::Cached { pass, .. } => {
            if pass.is_voided() {
                let when = pass
                    .deactivated_at
                    .map(|t| format!(" since {}", day_hhmm(t)))
                    .unwrap_or_default();
                return Ok(Outcome::reject(Reason::Voided, format!("Voided{when}")));
            }
            if pass.status == PassStatus::Expired || pass.expires_at.is_some_and(|t| t <= at) {
                return Ok(Outcome::reject(
                    Reason::Expired,
                    expired_message(pass.expires_at),
                ));
            }
            (pass.valid_from, pass.valid_until)
        }
        Subject::TokenOnly(c) => (c.valid_from(), c.valid_until()),
    };
    if let Some(from) = valid_from.filter(|&t| at < t) {
        return Ok(Outcome::reject(
            Reason::NotYetValid,
            format!("Not valid before {}", day_hhmm(from)),
        ));
    }
    if valid_until.is_some_and(|t| at > t) {
        return Ok(Outcome::reject(
            Reason::Expired,
            expired_message(valid_until),
        ));
    }
    if let Some(gate_event) = reader.event_id.as_deref() {
        if subject.event_id() != Some(gate_event) {
            let what = summary
                .event_name
                .as_deref()
                .map(|n| format!(" (pass is for {n})"))
                .unwrap_or_default();
            return Ok(Outcome::reject(
                Reason::WrongEvent,
                format!("Wrong event{what}"),
            ));
        }
    }
    let pass_type = PassType::new(summary.pass_type.clone());
    let policy =
        catalog::resolve_policy(conn, subject.event_id(), subject.template_id(), &pass_type)?;
    if !policy.allows_reader(&reader.id) {
        return Ok(Outcome::reject(
            Reason::ReaderNotAllowed,
            format!("Not valid at {}", reader.name),
        ));
    }
    if let Some(from) = policy.valid_from.filter(|&t| at < t) {
        return Ok(Outcome::reject(
            Reason::NotYetValid,
            format!("Doors open {}", day_hhmm(from)),
        ));
    }
    if let Some(until) = policy.valid_until.filter(|&t| at > t) {
        return Ok(Outcome::reject(
            Reason::Expired,
            format!("Entry closed at {}", day_hhmm(until)),
        ));
    }
    let pass_id = subject.pass_id();
    if policy.duplicate_window_ms > 0 {
        let since = at.minus_ms(policy.duplicate_window_ms);
        if let Some(earlier) =
            scan_log::recent_at_reader(conn, pass_id, node_id, &reader.id, direction, since, at)?
        {
            return Ok(repeat_of(earlier));
        }
    }
    admission(conn, node_id, direction, pass_id, &policy)
}

/// A tap inside the duplicate window answers what the first tap answered, counting nothing.
fn repeat_of(earlier: ScanRecord) -> Outcome {
    Outcome {
        verdict: earlier.verdict,
        reason: earlier.reason,
        message: earlier.detail.unwrap_or_default(),
        subject: None,
        pass_summary: None,
        previous_use: None,
        duplicate_of: Some(earlier.id),
        entries: None,
        counted: false,
        warnings: Vec::new(),
    }
}

/// Entry and exit rules of the policy.
fn admission(
    conn: &Connection,
    node_id: &str,
    direction: Direction,
    pass_id: &str,
    policy: &CheckinPolicy,
) -> StoreResult<Outcome> {
    let accept = |message: String, entries: Option<EntryCount>| Outcome {
        verdict: Verdict::Accept,
        reason: None,
        message,
        subject: None,
        pass_summary: None,
        previous_use: None,
        duplicate_of: None,
        entries,
        counted: true,
        warnings: Vec::new(),
    };
    if direction == Direction::Exit {
        if policy.entry_mode == EntryMode::EntryExit {
            let inside = scan_log::last_counted(conn, pass_id)?
                .is_some_and(|s| s.direction == Direction::Entry);
            if !inside {
                return Ok(Outcome::reject(
                    Reason::NotCheckedIn,
                    "Not checked in: no entry to leave from",
                ));
            }
        }
        return Ok(accept("Exit".to_owned(), None));
    }
    if policy.entry_mode == EntryMode::EntryExit {
        if let Some(last) =
            scan_log::last_counted(conn, pass_id)?.filter(|s| s.direction == Direction::Entry)
        {
            let previous = previous_use(conn, node_id, last)?;
            let message = format!(
                "Already inside since {} at {}",
                hhmm(previous.at),
                previous.reader_name
            );
            let mut out = Outcome::reject(Reason::AlreadyUsed, message);
            out.previous_use = Some(previous);
            return Ok(out);
        }
    }
    let Some(limit) = policy.entry_limit() else {
        return Ok(accept("Valid".to_owned(), None));
    };
    let used = scan_log::counted_entries(conn, pass_id)?;
    if used >= limit {
        let first = scan_log::first_counted_entry(conn, pass_id)?;
        let previous = match first {
            Some(s) => Some(previous_use(conn, node_id, s)?),
            None => None,
        };
        let message = match (&previous, limit) {
            (Some(p), 1) => format!("Already used {} at {}", hhmm(p.at), p.reader_name),
            (_, limit) => format!("All {limit} entries used"),
        };
        let mut out = Outcome::reject(Reason::AlreadyUsed, message);
        out.previous_use = previous;
        out.entries = Some(EntryCount { used, limit });
        return Ok(out);
    }
    let entries = EntryCount {
        used: used + 1,
        limit,
    };
    let message = if limit == 1 {
        "Valid".to_owned()
    } else {
        format!("Valid: entry {} of {limit}", used + 1)
    };
    Ok(accept(message, Some(entries)))
}

/// The earlier admission, its reader named: one of ours by our readers' table, another node's
/// (pulled from the hub) as that node named it, with the node's name: "Gate 1 (Gate A)".
fn previous_use(conn: &Connection, node_id: &str, scan: ScanRecord) -> StoreResult<PreviousUse> {
    let reader_name = if scan.node_id == node_id {
        catalog::get_reader(conn, &scan.reader_id)?.map(|r| r.name)
    } else {
        crate::sync::remote_reader_name(conn, &scan.node_id, &scan.reader_id)?
    }
    .unwrap_or_else(|| scan.reader_id.clone());
    Ok(PreviousUse {
        scan_id: scan.id,
        at: scan.at,
        reader_id: scan.reader_id,
        reader_name,
    })
}

fn hhmm(t: Timestamp) -> String {
    t.to_datetime()
        .map(|d| d.format("%H:%M UTC").to_string())
        .unwrap_or_else(|| t.to_rfc3339())
}

fn day_hhmm(t: Timestamp) -> String {
    t.to_datetime()
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| t.to_rfc3339())
}

fn expired_message(at: Option<Timestamp>) -> String {
    match at {
        Some(t) => format!("Expired {}", day_hhmm(t)),
        None => "Expired".to_owned(),
    }
}

/// The outbox payload of a scan: PassEntry's passTap facts plus the decision.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PassTappedPayload<'a> {
    scan_id: &'a str,
    node_id: &'a str,
    pass_id: Option<&'a str>,
    reader_id: &'a str,
    reader_name: &'a str,
    tapped_at: Timestamp,
    successful: bool,
    verdict: Verdict,
    reason: Option<Reason>,
    medium: &'a str,
    direction: Direction,
    duplicate_of: Option<&'a str>,
    /// How the value found the pass (`passId` / `extId`: typed, not read from the pass).
    matched_by: Option<MatchedBy>,
}

fn record(
    conn: &Connection,
    node_id: &str,
    input: &ScanInput,
    reader: &Reader,
    direction: Direction,
    outcome: Outcome,
) -> StoreResult<Decision> {
    let scan_id = uuid::Uuid::now_v7().to_string();
    let pass_id = outcome.subject.as_ref().map(|s| s.pass_id().to_owned());
    let via_token = outcome.subject.as_ref().is_some_and(Subject::via_token);
    let matched_by = match &outcome.subject {
        Some(Subject::Cached { matched_by, .. }) => Some(*matched_by),
        Some(Subject::TokenOnly(_)) => Some(MatchedBy::Token),
        None => None,
    };
    let record = ScanRecord {
        id: scan_id.clone(),
        node_id: node_id.to_owned(),
        at: input.at,
        reader_id: reader.id.clone(),
        medium: input.medium.as_str().to_owned(),
        direction,
        value: log_preview(&input.value),
        value_len: input.value.len() as u64,
        pass_id: pass_id.clone(),
        verdict: outcome.verdict,
        reason: outcome.reason,
        detail: Some(outcome.message.clone()),
        counted: outcome.counted,
        duplicate_of: outcome.duplicate_of.clone(),
        via_token,
        validated_elsewhere: false,
    };
    scan_log::insert(conn, &record)?;
    let payload = PassTappedPayload {
        scan_id: &scan_id,
        node_id,
        pass_id: pass_id.as_deref(),
        reader_id: &reader.id,
        reader_name: &reader.name,
        tapped_at: input.at,
        successful: outcome.verdict == Verdict::Accept,
        verdict: outcome.verdict,
        reason: outcome.reason,
        medium: input.medium.as_str(),
        direction,
        duplicate_of: outcome.duplicate_of.as_deref(),
        matched_by,
    };
    outbox::append(conn, topic::PASS_TAPPED, &scan_id, &payload, input.at)?;
    Ok(Decision {
        scan_id,
        verdict: outcome.verdict,
        reason: outcome.reason,
        message: outcome.message,
        pass_id,
        pass: outcome.pass_summary,
        matched_by,
        reader_id: reader.id.clone(),
        medium: input.medium,
        direction,
        at: input.at,
        previous_use: outcome.previous_use,
        duplicate_of: outcome.duplicate_of,
        entries: outcome.entries,
        warnings: outcome.warnings,
        loyalty: None,
        conflict: None,
    })
}
