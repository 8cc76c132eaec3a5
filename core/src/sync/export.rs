//! What this node sends up: its outbox events after the push cursor turned into changes
//! (`passTapped` → a scan, `passLoyaltyUpdated` → a ledger operation, `passCreated` /
//! `passUpdated` / `passVoided` / `passImported` → the pass as it is now; `passConflict` is not
//! sent), and a whole store as changes (the hub's import).

use super::state;
use super::wire::{
    Change, ChangeBody, EventRecord, LedgerEntryRecord, LedgerOperation, PassRecord, PolicyRecord,
    ProgramRecord, RewardRecord, ScanRecordWire, TemplateRecord,
};
use crate::loyalty::{program, rewards};
use crate::outbox::topic;
use crate::pass::{Event, Pass};
use crate::policy::CheckinPolicy;
use crate::store::StoreResult;
use crate::time::Timestamp;
use crate::{catalog, pass_store, scan_log};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// Changes waiting to go up: the next outbox events after the push cursor, at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub changes: Vec<Change>,
    /// The outbox seq of the last event these cover (events that make no change, such as
    /// `passConflict`, are covered too): what `state::mark_pushed` stores once the hub
    /// answered.
    pub through_seq: i64,
}

/// One outbox row as export reads it.
struct OutboxRow {
    seq: i64,
    id: String,
    topic: String,
    subject_id: String,
    payload: String,
    created_at: Timestamp,
}

/// The next batch to push; `None` when nothing is waiting. Each change's id is its outbox
/// event's id, so a batch read twice is the same batch.
pub fn pending(conn: &Connection, node_id: &str, limit: usize) -> StoreResult<Option<Pending>> {
    let after = state::push_cursor(conn)?;
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let rows: Vec<OutboxRow> = conn
        .prepare_cached(
            "SELECT seq, id, topic, subject_id, payload, created_at FROM outbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![after, limit], |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                topic: r.get(2)?,
                subject_id: r.get(3)?,
                payload: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let through_seq = last.seq;
    let mut catalogue = Catalogue::default();
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(body) = body_of(conn, row, &mut catalogue)? {
            changes.push(Change {
                id: row.id.clone(),
                node_id: node_id.to_owned(),
                at: row.created_at,
                body,
            });
        }
    }
    Ok(Some(Pending {
        changes,
        through_seq,
    }))
}

/// How many outbox events wait to go up (the push cursor's distance to the newest event).
pub fn pending_count(conn: &Connection) -> StoreResult<u64> {
    let after = state::push_cursor(conn)?;
    Ok(conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE seq > ?1")?
        .query_row([after], |r| r.get(0))?)
}

/// Every template, event, policy, program and pass of the store as changes (fresh UUIDv7 ids,
/// `node_id` as given): what `passdesk hub import` loads into the hub.
pub fn snapshot(conn: &Connection, node_id: &str) -> StoreResult<Vec<Change>> {
    let mut out = Vec::new();
    let mut push = |at: Timestamp, body: ChangeBody| {
        out.push(Change {
            id: uuid::Uuid::now_v7().to_string(),
            node_id: node_id.to_owned(),
            at,
            body,
        });
    };
    let mut catalogue = Catalogue::default();
    let templates: Vec<(String, Timestamp)> = conn
        .prepare("SELECT id, updated_at FROM templates ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, at) in templates {
        if let Some(t) = catalogue.template(conn, &id)? {
            push(at, ChangeBody::Template(t));
        }
    }
    let events: Vec<(String, Timestamp)> = conn
        .prepare("SELECT id, updated_at FROM events ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, at) in events {
        if let Some(e) = catalogue.event(conn, &id)? {
            push(at, ChangeBody::Event(e));
        }
    }
    let policy_times: HashMap<(String, String), Timestamp> = conn
        .prepare("SELECT scope, scope_id, updated_at FROM checkin_policies")?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for p in catalog::list_policies(conn)? {
        if let Some(record) = policy_record(&p) {
            let at = policy_times
                .get(&(record.scope.clone(), record.scope_id.clone()))
                .copied()
                .unwrap_or_else(Timestamp::now);
            push(at, ChangeBody::Policy(record));
        }
    }
    let programs: Vec<(String, Timestamp)> = conn
        .prepare("SELECT template_id, updated_at FROM loyalty_programs ORDER BY template_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (template_id, at) in programs {
        if let Some(p) = program::get_program(conn, &template_id)? {
            let program = serde_json::to_value(&p).expect("a program serialises");
            push(
                at,
                ChangeBody::Program(ProgramRecord {
                    template_id,
                    program,
                }),
            );
        }
    }
    let all = pass_store::PassFilter {
        limit: u32::MAX,
        ..pass_store::PassFilter::default()
    };
    for pass in pass_store::list_passes(conn, &all)? {
        if let Some(record) = pass_record(conn, &pass, &mut catalogue)? {
            push(pass.updated_at, ChangeBody::Pass(record));
        }
    }
    Ok(out)
}

/// The change an outbox event makes, or `None` when it makes none (a `passConflict`, a topic
/// sync does not carry, a subject that no longer exists): covered all the same.
fn body_of(
    conn: &Connection,
    row: &OutboxRow,
    catalogue: &mut Catalogue,
) -> StoreResult<Option<ChangeBody>> {
    match row.topic.as_str() {
        topic::PASS_TAPPED => Ok(scan_change(conn, &row.subject_id)?.map(ChangeBody::Scan)),
        topic::PASS_LOYALTY_UPDATED => Ok(ledger_change(conn, row)?.map(ChangeBody::Ledger)),
        topic::PASS_CREATED | topic::PASS_UPDATED | topic::PASS_VOIDED | topic::PASS_IMPORTED => {
            let Some(pass) = pass_store::get_pass(conn, &row.subject_id)? else {
                return Ok(None);
            };
            Ok(pass_record(conn, &pass, catalogue)?.map(ChangeBody::Pass))
        }
        _ => Ok(None),
    }
}

fn scan_change(conn: &Connection, scan_id: &str) -> StoreResult<Option<ScanRecordWire>> {
    let Some(s) = scan_log::get(conn, scan_id)? else {
        return Ok(None);
    };
    let reader_name = catalog::get_reader(conn, &s.reader_id)?.map(|r| r.name);
    // The rule that applies to the pass now (the hub judges double admissions by it).
    let rule = match &s.pass_id {
        Some(pass_id) => match pass_store::get_pass(conn, pass_id)? {
            Some(p) => {
                let policy = catalog::resolve_policy(
                    conn,
                    p.event_id.as_deref(),
                    &p.template_id,
                    &p.pass_type,
                )?;
                Some((policy.entry_mode.as_str().to_owned(), policy.entry_limit()))
            }
            None => None,
        },
        None => None,
    };
    let (entry_mode, entry_limit) = match rule {
        Some((mode, limit)) => (Some(mode), limit),
        None => (None, None),
    };
    Ok(Some(ScanRecordWire {
        offline: state::was_offline(conn, s.at)?,
        scan_id: s.id,
        at: s.at,
        reader_id: s.reader_id,
        reader_name,
        medium: s.medium,
        direction: s.direction.as_str().to_owned(),
        value: s.value,
        value_len: s.value_len,
        pass_id: s.pass_id,
        verdict: s.verdict.as_str().to_owned(),
        reason: s.reason.map(|r| r.as_str().to_owned()),
        detail: s.detail,
        counted: s.counted,
        duplicate_of: s.duplicate_of,
        via_token: s.via_token,
        entry_mode,
        entry_limit,
    }))
}

/// Only the operation id of a `passLoyaltyUpdated` payload (an operation's result, or an
/// expiry's ledger entry: both carry `opId`).
#[derive(serde::Deserialize)]
struct OpRef {
    #[serde(rename = "opId")]
    op_id: Option<String>,
}

fn ledger_change(conn: &Connection, row: &OutboxRow) -> StoreResult<Option<LedgerOperation>> {
    let Some(op_id) = serde_json::from_str::<OpRef>(&row.payload)
        .ok()
        .and_then(|r| r.op_id)
    else {
        return Ok(None);
    };
    let pass_id = &row.subject_id;
    // The operation's entries are its pass's: the ledger's (pass_id, seq) index finds them; a
    // credit's lot shares its seq (the lot's key), which gives the expiry.
    let entries: Vec<LedgerEntryRecord> = conn
        .prepare_cached(
            "SELECT l.id, l.kind, l.points, l.stamps, l.reserved_points, l.reserved_stamps,
                    l.amount_minor, l.reward_id, l.reverses, l.reason, l.at, lot.expires_at
             FROM loyalty_ledger l
             LEFT JOIN loyalty_lots lot ON lot.pass_id = l.pass_id AND lot.seq = l.seq
             WHERE l.pass_id = ?1 AND l.op_id = ?2 ORDER BY l.seq",
        )?
        .query_map(params![pass_id, op_id], |r| {
            Ok(LedgerEntryRecord {
                id: r.get(0)?,
                kind: r.get(1)?,
                points: r.get(2)?,
                stamps: r.get(3)?,
                reserved_points: r.get(4)?,
                reserved_stamps: r.get(5)?,
                amount_minor: r.get(6)?,
                reward_id: r.get(7)?,
                reverses: r.get(8)?,
                reason: r.get(9)?,
                at: r.get(10)?,
                expires_at: r.get(11)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if entries.is_empty() {
        return Ok(None);
    }
    let mut rewards_touched = Vec::new();
    for id in entries.iter().filter_map(|e| e.reward_id.as_deref()) {
        if rewards_touched.iter().any(|r: &RewardRecord| r.id == id) {
            continue;
        }
        if let Some(r) = rewards::get(conn, id)? {
            rewards_touched.push(RewardRecord {
                id: r.id,
                tier_name: r.tier_name,
                unit: r.unit.as_str().to_owned(),
                cost: r.cost,
                status: r.status.as_str().to_owned(),
                created_at: r.created_at,
                closed_at: r.closed_at,
            });
        }
    }
    let template_id: Option<String> = conn
        .prepare_cached("SELECT template_id FROM passes WHERE id = ?1")?
        .query_row([pass_id], |r| r.get(0))
        .optional()?;
    let cap = match template_id {
        Some(t) => program::get_program(conn, &t)?.and_then(|p| p.offline_redemptions_per_day),
        None => None,
    };
    Ok(Some(LedgerOperation {
        op_id,
        pass_id: pass_id.clone(),
        entries,
        rewards: rewards_touched,
        offline: state::was_offline(conn, row.created_at)?,
        offline_redemptions_per_day: cap,
    }))
}

fn pass_record(
    conn: &Connection,
    pass: &Pass,
    catalogue: &mut Catalogue,
) -> StoreResult<Option<PassRecord>> {
    let Some(template) = catalogue.template(conn, &pass.template_id)? else {
        // The foreign key makes this impossible; a row written behind the store's back must
        // not stop every later change from going up.
        tracing::warn!(pass_id = %pass.id, template_id = %pass.template_id, "pass without its template: not sent");
        return Ok(None);
    };
    let event = match &pass.event_id {
        Some(id) => catalogue.event(conn, id)?,
        None => None,
    };
    Ok(Some(PassRecord {
        id: pass.id.clone(),
        ext_id: pass.ext_id.clone(),
        status: pass.status.as_str().to_owned(),
        pass_type: pass.pass_type.as_str().to_owned(),
        device_type: pass.device_type.clone(),
        template,
        event,
        barcode_type: pass.barcode.as_ref().map(|b| b.kind.clone()),
        barcode_value: pass.barcode.as_ref().map(|b| b.value.clone()),
        barcode_display_text: pass.barcode.as_ref().is_some_and(|b| b.display_text),
        nfc_value: pass.nfc.clone(),
        group_tag: pass.group_tag.clone(),
        pass_content: pass.pass_content.clone(),
        latest_message: pass.latest_message.clone(),
        created_at: pass.created_at,
        updated_at: pass.updated_at,
        added_at: pass.added_at,
        removed_at: pass.removed_at,
        deactivated_at: pass.deactivated_at,
        expires_at: pass.expires_at,
        valid_from: pass.valid_from,
        valid_until: pass.valid_until,
    }))
}

pub(crate) fn policy_record(p: &CheckinPolicy) -> Option<PolicyRecord> {
    let (scope, scope_id) = p.scope.as_parts()?;
    Some(PolicyRecord {
        scope: scope.to_owned(),
        scope_id: scope_id.to_owned(),
        entry_mode: p.entry_mode.as_str().to_owned(),
        max_entries: p.max_entries,
        duplicate_window_ms: p.duplicate_window_ms,
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        allowed_readers: p.allowed_readers.clone(),
    })
}

fn event_record(e: Event) -> EventRecord {
    EventRecord {
        id: e.id,
        name: e.name,
        venue_name: e.venue_name,
        start_time: e.start_time,
        end_time: e.end_time,
        time_zone: e.time_zone,
    }
}

/// Templates and events read once per batch: thousands of passes share a few of each.
#[derive(Default)]
struct Catalogue {
    templates: HashMap<String, Option<TemplateRecord>>,
    events: HashMap<String, Option<EventRecord>>,
}

impl Catalogue {
    fn template(&mut self, conn: &Connection, id: &str) -> StoreResult<Option<TemplateRecord>> {
        if let Some(t) = self.templates.get(id) {
            return Ok(t.clone());
        }
        let t = conn
            .prepare_cached("SELECT id, name, pass_type, design FROM templates WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(TemplateRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    pass_type: r.get(2)?,
                    design: r.get(3)?,
                })
            })
            .optional()?;
        self.templates.insert(id.to_owned(), t.clone());
        Ok(t)
    }

    fn event(&mut self, conn: &Connection, id: &str) -> StoreResult<Option<EventRecord>> {
        if let Some(e) = self.events.get(id) {
            return Ok(e.clone());
        }
        let e = catalog::get_event(conn, id)?.map(event_record);
        self.events.insert(id.to_owned(), e.clone());
        Ok(e)
    }
}
