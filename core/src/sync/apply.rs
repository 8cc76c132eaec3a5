//! A batch pulled from the hub, applied in one transaction with the pull cursor: each change
//! once (by id), other nodes' scans and loyalty operations into the log and the ledger (so
//! entry counts and balances agree everywhere), passes and the catalogue upserted (a voided
//! pass stays voided), node keys trusted, revocations kept, conflicts recorded and the flagged
//! scan marked. Applying writes no outbox event but one: `passConflict`, once, by the node whose
//! scan or operation the conflict flags.

use super::wire::{
    Change, ChangeBody, ConflictRecord, EventRecord, LedgerOperation, NodeKeyRecord, PassRecord,
    PolicyRecord, ProgramRecord, RevocationRecord, ScanRecordWire, Sequenced, TemplateRecord,
};
use super::{conflicts, state};
use crate::decision::{Reason, Verdict};
use crate::loyalty::ledger::{self, EntryKind, LedgerEntry, LotShare, Lots};
use crate::loyalty::program::{self, Program, RewardUnit};
use crate::loyalty::rewards::{self, Reward, RewardStatus};
use crate::loyalty::LoyaltyError;
use crate::outbox;
use crate::pass::{Barcode, Event, Pass, PassStatus, PassType, Template};
use crate::pass_store::HeldElsewhere;
use crate::policy::{CheckinPolicy, EntryMode, PolicyScope};
use crate::reader::Direction;
use crate::scan_log::{self, ScanRecord};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use crate::{catalog, keys, pass_store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{HashMap, HashSet};

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub applied: u64,
    /// Already applied (a replay of a batch whose cursor was not stored).
    pub skipped: u64,
    pub conflicts: u64,
    /// Could not be applied here: recorded in `sync_rejections`, skipped.
    pub rejected: u64,
}

/// The longest scanned value a scan change may carry: the log keeps 256 characters, each
/// control character written as an escape of at most 10.
const MAX_SCAN_VALUE_BYTES: usize = 4096;

/// Applies `changes` (in order) and stores `cursor` as the pull cursor, all in the caller's
/// transaction (the caller opens it with `BEGIN IMMEDIATE`). `this_node` is this counter's node
/// id. A change that cannot be applied (a pass whose template is unknown and not carried, a
/// body that does not parse) is recorded in `sync_rejections` and skipped: it never stops the
/// batch.
pub fn apply_batch(
    conn: &Connection,
    this_node: &str,
    changes: &[Sequenced],
    cursor: i64,
    now: Timestamp,
) -> StoreResult<Applied> {
    let mut run = Run {
        conn,
        this_node,
        now,
        templates: HashMap::new(),
        events: HashMap::new(),
        unpushed_passes: None,
    };
    let mut out = Applied::default();
    for sequenced in changes {
        let change = &sequenced.change;
        // The change's id goes in first, inside the change's savepoint: a replay finds it and
        // costs one probe; a refusal rolls it back with the rest of the change.
        savepoint(conn, "SAVEPOINT sync_change")?;
        let fresh = conn
            .prepare_cached(
                "INSERT INTO sync_applied (change_id) VALUES (?1) ON CONFLICT(change_id) DO NOTHING",
            )?
            .execute([&change.id])?
            == 1;
        if !fresh {
            savepoint(conn, "RELEASE sync_change")?;
            out.skipped += 1;
            continue;
        }
        match run.apply(change).map_err(ApplyError::classify) {
            Ok(effect) => {
                savepoint(conn, "RELEASE sync_change")?;
                out.applied += 1;
                out.conflicts += u64::from(effect == Effect::NewConflict);
            }
            Err(ApplyError::Refused(reason)) => {
                savepoint(conn, "ROLLBACK TO sync_change")?;
                savepoint(conn, "RELEASE sync_change")?;
                tracing::warn!(change_id = %change.id, seq = sequenced.seq, kind = change.body.kind(), %reason, "a change from the hub could not be applied");
                record_refusal(conn, sequenced, &reason, now)?;
                out.rejected += 1;
            }
            Err(ApplyError::Store(e)) => {
                savepoint(conn, "ROLLBACK TO sync_change")?;
                savepoint(conn, "RELEASE sync_change")?;
                return Err(e);
            }
        }
    }
    state::set_pull_cursor(conn, cursor)?;
    Ok(out)
}

fn savepoint(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn record_refusal(
    conn: &Connection,
    c: &Sequenced,
    reason: &str,
    now: Timestamp,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO sync_rejections (change_id, hub_seq, kind, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(change_id) DO UPDATE SET hub_seq = excluded.hub_seq, reason = excluded.reason,
             at = excluded.at",
    )?
    .execute(params![c.change.id, c.seq, c.change.body.kind(), reason, now])?;
    Ok(())
}

/// Why a change was not applied.
#[derive(Debug)]
enum ApplyError {
    /// The change itself is wrong here (in words): recorded, skipped.
    Refused(String),
    /// The store failed (the disk, a lock): the whole batch fails and is pulled again.
    Store(StoreError),
}

impl ApplyError {
    /// A constraint the change breaks (a barcode another pass holds, an unknown template) is
    /// the change's fault; any other storage error is the store's.
    fn classify(self) -> Self {
        match self {
            Self::Store(StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, message)))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Self::Refused(message.unwrap_or_else(|| f.to_string()))
            }
            Self::Store(StoreError::Corrupt { what, detail }) => {
                Self::Refused(format!("{what}: {detail}"))
            }
            other => other,
        }
    }
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<LoyaltyError> for ApplyError {
    fn from(e: LoyaltyError) -> Self {
        match e {
            LoyaltyError::Store(e) => Self::Store(e),
            other => Self::Refused(other.to_string()),
        }
    }
}

fn refused(what: impl std::fmt::Display) -> ApplyError {
    ApplyError::Refused(what.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Done,
    NewConflict,
}

/// One batch being applied: the templates and events already written in it (thousands of
/// passes share a few), so each is written once.
struct Run<'a> {
    conn: &'a Connection,
    this_node: &'a str,
    now: Timestamp,
    templates: HashMap<String, TemplateRecord>,
    events: HashMap<String, EventRecord>,
    /// The passes changed here since the last push, read once per batch when first needed (a
    /// first pull writes new passes only and never reads it).
    unpushed_passes: Option<HashSet<String>>,
}

impl Run<'_> {
    fn apply(&mut self, c: &Change) -> Result<Effect, ApplyError> {
        match &c.body {
            ChangeBody::Pass(p) => self.pass(p),
            ChangeBody::Scan(s) => self.scan(&c.node_id, s),
            ChangeBody::Ledger(op) => self.ledger(&c.node_id, op),
            ChangeBody::Template(t) => self.template(t),
            ChangeBody::Event(e) => self.event(e),
            ChangeBody::Policy(p) => self.policy(p),
            ChangeBody::Program(p) => self.program(p),
            ChangeBody::NodeKey(k) => self.node_key(k),
            ChangeBody::Revocation(r) => self.revocation(r),
            ChangeBody::Conflict(c) => return self.conflict(c),
        }?;
        Ok(Effect::Done)
    }

    fn template(&mut self, t: &TemplateRecord) -> Result<(), ApplyError> {
        if self.templates.get(&t.id) == Some(t) {
            return Ok(());
        }
        if t.id.is_empty() || t.name.trim().is_empty() {
            return Err(refused("template: id and name must not be empty"));
        }
        let template = Template {
            id: t.id.clone(),
            name: t.name.clone(),
            pass_type: PassType::new(t.pass_type.clone()),
        };
        catalog::upsert_template(self.conn, &template, self.now)?;
        self.conn
            .prepare_cached("UPDATE templates SET design = ?2 WHERE id = ?1 AND design IS NOT ?2")?
            .execute(params![t.id, t.design])?;
        self.templates.insert(t.id.clone(), t.clone());
        Ok(())
    }

    fn event(&mut self, e: &EventRecord) -> Result<(), ApplyError> {
        if self.events.get(&e.id) == Some(e) {
            return Ok(());
        }
        if e.id.is_empty() {
            return Err(refused("event: the id must not be empty"));
        }
        let event = Event {
            id: e.id.clone(),
            name: e.name.clone(),
            venue_name: e.venue_name.clone(),
            start_time: e.start_time,
            end_time: e.end_time,
            time_zone: e.time_zone.clone(),
        };
        catalog::upsert_event(self.conn, &event, self.now)?;
        self.events.insert(e.id.clone(), e.clone());
        Ok(())
    }

    fn pass(&mut self, p: &PassRecord) -> Result<(), ApplyError> {
        let status: PassStatus = p.status.parse().map_err(refused)?;
        if p.id.is_empty() {
            return Err(refused("pass: the id must not be empty"));
        }
        self.template(&p.template)?;
        if let Some(e) = &p.event {
            self.event(e)?;
        }
        let barcode = p.barcode_value.as_ref().map(|value| Barcode {
            kind: p.barcode_type.clone().unwrap_or_else(|| "qrCode".into()),
            value: value.clone(),
            display_text: p.barcode_display_text,
        });
        let mut pass = Pass {
            ext_id: p.ext_id.clone(),
            status,
            device_type: p.device_type.clone(),
            event_id: p.event.as_ref().map(|e| e.id.clone()),
            barcode,
            nfc: p.nfc_value.clone(),
            group_tag: p.group_tag.clone(),
            pass_content: p.pass_content.clone(),
            latest_message: p.latest_message.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            added_at: p.added_at,
            removed_at: p.removed_at,
            deactivated_at: p.deactivated_at,
            expires_at: p.expires_at,
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            ..Pass::new(
                p.id.clone(),
                p.template.id.clone(),
                PassType::new(p.pass_type.clone()),
                p.updated_at,
            )
        };
        // A voided pass stays voided: an update that crossed the void on its way here does not
        // bring it back.
        let stored: Option<(String, Option<Timestamp>)> = self
            .conn
            .prepare_cached("SELECT status, deactivated_at FROM passes WHERE id = ?1")?
            .query_row([&p.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((stored_status, deactivated_at)) = stored {
            let stored_status: PassStatus = stored_status.parse().map_err(refused)?;
            let voided = matches!(stored_status, PassStatus::Voided | PassStatus::Deactivated)
                || deactivated_at.is_some();
            if self.changed_here_since_push(&p.id)? {
                // The pass as it is here goes up next, after this change in the hub's log, and
                // is then the last word everywhere: it stays, and goes up as it is now (export
                // reads the pass, not the event). Only a void is taken: voided stays voided.
                if pass.is_voided() && !voided {
                    let when = pass.deactivated_at.unwrap_or(pass.updated_at);
                    pass_store::set_status(self.conn, &p.id, PassStatus::Voided, when)?;
                }
                return Ok(());
            }
            if voided && !pass.is_voided() {
                pass.status = stored_status;
                pass.deactivated_at = deactivated_at;
            }
        }
        pass_store::upsert_pass(self.conn, &pass).map_err(|e| self.taken_value(&pass, e))
    }

    /// Whether this node changed the pass after its last push (a pass event after the push
    /// cursor).
    fn changed_here_since_push(&mut self, pass_id: &str) -> Result<bool, ApplyError> {
        if self.unpushed_passes.is_none() {
            let after = state::push_cursor(self.conn)?;
            let ids = self
                .conn
                .prepare_cached(
                    "SELECT subject_id FROM outbox WHERE seq > ?1
                       AND topic IN ('passCreated', 'passUpdated', 'passVoided', 'passImported')",
                )?
                .query_map([after], |r| r.get::<_, String>(0))?
                .collect::<Result<HashSet<_>, _>>()?;
            self.unpushed_passes = Some(ids);
        }
        Ok(self
            .unpushed_passes
            .as_ref()
            .is_some_and(|ids| ids.contains(pass_id)))
    }

    /// A unique value (barcode, NFC) that another pass holds here, in words.
    fn taken_value(&self, pass: &Pass, e: StoreError) -> ApplyError {
        match pass_store::owner_of_value(self.conn, pass) {
            Some(HeldElsewhere::Barcode { value, owner }) => refused(format!(
                "pass {}: barcode value {value:?} already belongs to pass {owner}",
                pass.id
            )),
            Some(HeldElsewhere::Nfc { value, owner }) => refused(format!(
                "pass {}: NFC value {value:?} already belongs to pass {owner}",
                pass.id
            )),
            None => ApplyError::from(e).classify(),
        }
    }

    fn scan(&mut self, node_id: &str, s: &ScanRecordWire) -> Result<(), ApplyError> {
        if node_id == self.this_node {
            // Our own scan, back from the hub: it is in the log already.
            return Ok(());
        }
        if s.scan_id.is_empty() || s.reader_id.is_empty() {
            return Err(refused("scan: scanId and readerId must not be empty"));
        }
        if s.value.len() > MAX_SCAN_VALUE_BYTES {
            return Err(refused(format!(
                "scan {}: the value is {} bytes (at most {MAX_SCAN_VALUE_BYTES})",
                s.scan_id,
                s.value.len()
            )));
        }
        let direction: Direction = s.direction.parse().map_err(refused)?;
        let verdict: Verdict = s.verdict.parse().map_err(refused)?;
        let reason: Option<Reason> = s
            .reason
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(refused)?;
        let record = ScanRecord {
            id: s.scan_id.clone(),
            node_id: node_id.to_owned(),
            at: s.at,
            reader_id: s.reader_id.clone(),
            medium: s.medium.clone(),
            direction,
            value: s.value.clone(),
            value_len: s.value_len,
            pass_id: s.pass_id.clone(),
            verdict,
            reason,
            detail: s.detail.clone(),
            counted: s.counted,
            duplicate_of: s.duplicate_of.clone(),
            via_token: s.via_token,
            validated_elsewhere: s.medium == scan_log::ELSEWHERE_MEDIUM,
        };
        scan_log::insert_remote(self.conn, &record)?;
        let name = s
            .reader_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&s.reader_id);
        self.conn
            .prepare_cached(
                "INSERT INTO sync_readers (node_id, reader_id, name, node_name)
                 VALUES (?1, ?2, ?3, (SELECT name FROM sync_nodes WHERE node_id = ?1))
                 ON CONFLICT(node_id, reader_id) DO UPDATE SET name = excluded.name,
                     node_name = excluded.node_name
                 WHERE sync_readers.name IS NOT excluded.name
                    OR sync_readers.node_name IS NOT excluded.node_name",
            )?
            .execute(params![node_id, s.reader_id, name])?;
        Ok(())
    }

    fn ledger(&mut self, node_id: &str, op: &LedgerOperation) -> Result<(), ApplyError> {
        let known = self
            .conn
            .prepare_cached("SELECT 1 FROM passes WHERE id = ?1")?
            .exists([&op.pass_id])?;
        if !known {
            return Err(refused(format!(
                "loyalty operation {}: no pass {} here",
                op.op_id, op.pass_id
            )));
        }
        if let Some(lot) = op.op_id.strip_prefix("expire:") {
            // Every node expires a lot on its own, under the same operation id: the first
            // expiry of a lot to arrive (or be made) here is the one that counts.
            let expired_here = self
                .conn
                .prepare_cached("SELECT 1 FROM loyalty_ledger WHERE pass_id = ?1 AND op_id = ?2")?
                .exists(params![op.pass_id, op.op_id])?;
            if expired_here {
                return Ok(());
            }
            self.conn
                .prepare_cached(
                    "UPDATE loyalty_lots SET remaining = 0 WHERE pass_id = ?1 AND entry_id = ?2",
                )?
                .execute(params![op.pass_id, lot])?;
        }
        // The rewards as they stand here before this operation.
        let mut before: HashMap<&str, Option<Reward>> = HashMap::new();
        for r in &op.rewards {
            before.insert(r.id.as_str(), rewards::get(self.conn, &r.id)?);
        }
        let mut taken: HashMap<String, Vec<LotShare>> = HashMap::new();
        for rec in &op.entries {
            let exists = self
                .conn
                .prepare_cached("SELECT 1 FROM loyalty_ledger WHERE id = ?1")?
                .exists([&rec.id])?;
            if exists {
                continue;
            }
            let kind: EntryKind = rec.kind.parse().map_err(refused)?;
            let entry = LedgerEntry {
                id: rec.id.clone(),
                op_id: op.op_id.clone(),
                node_id: node_id.to_owned(),
                pass_id: op.pass_id.clone(),
                kind,
                points: rec.points,
                stamps: rec.stamps,
                reserved_points: rec.reserved_points,
                reserved_stamps: rec.reserved_stamps,
                amount_minor: rec.amount_minor,
                reward_id: rec.reward_id.clone(),
                reverses: rec.reverses.clone(),
                reason: rec.reason.clone(),
                at: rec.at,
            };
            // The lots move as they moved where the operation was made: a credit is a lot
            // with its expiry, a debit takes the oldest lots first.
            let credit = Lots::Credit {
                expires_at: rec.expires_at,
            };
            let synced = Some(self.now);
            match kind {
                EntryKind::Earn => {
                    ledger::append_synced(self.conn, &entry, credit, synced)?;
                }
                EntryKind::Adjust | EntryKind::Override | EntryKind::Reverse => {
                    let lots = if rec.points >= 0 {
                        credit
                    } else {
                        Lots::Debit {
                            prefer: rec.reverses.as_deref(),
                        }
                    };
                    ledger::append_synced(self.conn, &entry, lots, synced)?;
                }
                EntryKind::RewardCreate => {
                    ledger::append_synced(self.conn, &entry, Lots::Handled, synced)?;
                    if rec.points < 0 {
                        let shares = ledger::debit_lots(self.conn, &op.pass_id, -rec.points, None)?;
                        if let Some(id) = &rec.reward_id {
                            taken.insert(id.clone(), shares);
                        }
                    }
                }
                EntryKind::RewardDelete if rec.points > 0 => {
                    // Back into the lots the reward took here, when it took them here.
                    let was_available = rec.reward_id.as_deref().and_then(|id| {
                        before
                            .get(id)
                            .and_then(Option::as_ref)
                            .filter(|r| r.status == RewardStatus::Available)
                    });
                    let shares = match was_available {
                        Some(r) => rewards::taken_lots(self.conn, &r.id)?,
                        None => None,
                    };
                    match shares {
                        Some(shares) => ledger::append_synced(
                            self.conn,
                            &entry,
                            Lots::Restore(&shares),
                            synced,
                        )?,
                        None => ledger::append_synced(
                            self.conn,
                            &entry,
                            Lots::Credit { expires_at: None },
                            synced,
                        )?,
                    };
                }
                EntryKind::RewardDelete
                | EntryKind::Stamp
                | EntryKind::RewardRedeem
                | EntryKind::Expire => {
                    ledger::append_synced(self.conn, &entry, Lots::Handled, synced)?;
                }
            }
        }
        for r in &op.rewards {
            let unit: RewardUnit = r.unit.parse().map_err(refused)?;
            let status = match r.status.as_str() {
                "available" => RewardStatus::Available,
                "redeemed" => RewardStatus::Redeemed,
                "deleted" => RewardStatus::Deleted,
                other => {
                    return Err(refused(format!(
                        "reward {}: unknown status {other:?}",
                        r.id
                    )))
                }
            };
            match rewards::get(self.conn, &r.id)? {
                None => {
                    let reward = Reward {
                        id: r.id.clone(),
                        pass_id: op.pass_id.clone(),
                        tier_name: r.tier_name.clone(),
                        unit,
                        cost: r.cost,
                        status,
                        created_at: r.created_at,
                        closed_at: r.closed_at,
                    };
                    // Only a reward that may still be deleted needs its lots remembered.
                    let shares = taken
                        .get(&r.id)
                        .filter(|_| status == RewardStatus::Available);
                    rewards::insert(self.conn, &reward, shares.map(Vec::as_slice))?;
                }
                // A reward closed here stays as it is (redeemed here and there: the hub
                // reports the double redemption).
                Some(here) if here.status == RewardStatus::Available && status != here.status => {
                    rewards::close(self.conn, &r.id, status, r.closed_at.unwrap_or(self.now))?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn policy(&mut self, p: &PolicyRecord) -> Result<(), ApplyError> {
        let scope = match p.scope.as_str() {
            "event" => PolicyScope::Event(p.scope_id.clone()),
            "template" => PolicyScope::Template(p.scope_id.clone()),
            other => {
                return Err(refused(format!(
                    "policy: unknown scope {other:?} (expected event or template)"
                )))
            }
        };
        let entry_mode: EntryMode = p.entry_mode.parse().map_err(refused)?;
        if p.max_entries == Some(0) {
            return Err(refused("policy: maxEntries must be at least 1"));
        }
        if p.duplicate_window_ms < 0 {
            return Err(refused("policy: duplicateWindowMs cannot be negative"));
        }
        let policy = CheckinPolicy {
            scope,
            entry_mode,
            max_entries: p.max_entries,
            duplicate_window_ms: p.duplicate_window_ms,
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            allowed_readers: p.allowed_readers.clone(),
        };
        catalog::set_policy(self.conn, &policy, self.now)?;
        Ok(())
    }

    fn program(&mut self, p: &ProgramRecord) -> Result<(), ApplyError> {
        let program: Program = serde_json::from_value(p.program.clone())
            .map_err(|e| refused(format!("program of template {}: {e}", p.template_id)))?;
        if program.template_id != p.template_id {
            return Err(refused(format!(
                "program: templateId {} does not match the program's {}",
                p.template_id, program.template_id
            )));
        }
        program::set_program(self.conn, &program, self.now)?;
        Ok(())
    }

    fn node_key(&mut self, k: &NodeKeyRecord) -> Result<(), ApplyError> {
        self.conn
            .prepare_cached(
                "INSERT INTO sync_nodes (node_id, name, key_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT(node_id) DO UPDATE SET name = excluded.name, key_id = excluded.key_id",
            )?
            .execute(params![k.node_id, k.node_name, k.key_id])?;
        self.conn
            .prepare_cached("UPDATE sync_readers SET node_name = ?2 WHERE node_id = ?1")?
            .execute(params![k.node_id, k.node_name])?;
        if k.node_id == self.this_node {
            // Our own key is trusted since `init`.
            return Ok(());
        }
        let sec1 = URL_SAFE_NO_PAD.decode(k.public_key.trim()).map_err(|e| {
            refused(format!(
                "node key {}: publicKey is not base64url: {e}",
                k.key_id
            ))
        })?;
        let key_id = keys::add_trusted_key(self.conn, &k.node_id, &sec1, self.now)?;
        if key_id != k.key_id {
            return Err(refused(format!(
                "node key of {}: keyId {} does not match the key (its id is {key_id})",
                k.node_id, k.key_id
            )));
        }
        Ok(())
    }

    fn revocation(&mut self, r: &RevocationRecord) -> Result<(), ApplyError> {
        if r.token_id.is_empty() {
            return Err(refused("revocation: tokenId must not be empty"));
        }
        keys::revoke_token(
            self.conn,
            &r.token_id,
            r.pass_id.as_deref(),
            r.reason.as_deref(),
            r.revoked_at,
        )?;
        Ok(())
    }

    fn conflict(&mut self, c: &ConflictRecord) -> Result<Effect, ApplyError> {
        if !conflicts::insert(self.conn, c, self.now)? {
            return Ok(Effect::Done);
        }
        // The later of the two, flagged where it is in the log (a scan; an operation id
        // names no scan and marks nothing).
        self.conn
            .prepare_cached("UPDATE scans SET conflict_id = ?1 WHERE id = ?2")?
            .execute(params![c.id, c.flagged.ref_id])?;
        if c.flagged.node_id == self.this_node {
            // Told once, by the node whose scan or operation it flags.
            outbox::append(
                self.conn,
                outbox::topic::PASS_CONFLICT,
                &c.pass_id,
                c,
                self.now,
            )?;
        }
        Ok(Effect::NewConflict)
    }
}
