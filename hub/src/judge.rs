//! Conflict detection: what a push's accepted changes mean next to what the hub already holds.
//! Pure: the storage loads the [`Facts`] a push [`Needs`] inside the push's transaction (after
//! taking the log's lock, so no other push moves them meanwhile), [`judge`] turns the changes
//! into a [`Plan`] (the rows to append, in log order, the conflicts among them and the facts
//! they add), and the storage writes the plan in the same transaction.
//!
//! Order is the hub's: "earlier" means received earlier (a lower seq), never an earlier clock.
//! A conflict needs two sides from two operations, and never rewrites or drops either: both
//! stay in the log, the later one is named `flagged`, and the conflict is appended after it.
//!
//! - `doubleAdmission`: an accepted, counted entry of a pass when the hub already holds, from
//!   another node, an entry that makes this one too many: with `entry_exit`, the last counted
//!   scan is an entry at another node ("inside twice"); else the entries the hub holds,
//!   this one included, exceed the scan's `entryLimit`. The first side is that other entry (for
//!   a limit: the earliest entry from another node).
//! - `doubleRedemption`: a `reward_redeem` of a reward another operation redeemed already.
//! - `offlineRedemptionCap`: an offline redemption of a pass beyond the program's
//!   `offlineRedemptionsPerDay` for that UTC day (of the entry's clock), counting the offline
//!   redemptions of every node; the first side is that day's first.
//! - `negativeBalance`: an operation that spends points and leaves the sum of the pass's
//!   ledger below zero, when another node spent points of it too (the last such spend is the
//!   first side). A node's own spends it knew of when it spent.

use passdesk_core::sync::wire::{
    Change, ChangeBody, ConflictKind, ConflictRecord, ConflictSide, LedgerOperation,
    ScanRecordWire, HUB_NODE_ID,
};
use passdesk_core::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DAY_MS: i64 = 86_400_000;

/// The scan directions as scans store them.
pub const ENTRY: &str = "entry";
const ENTRY_EXIT: &str = "entry_exit";
const REWARD_REDEEM: &str = "reward_redeem";

/// The UTC day of `at`, as days since 1970-01-01.
pub fn utc_day(at: Timestamp) -> i64 {
    at.unix_ms().div_euclid(DAY_MS)
}

/// What the storage must load before judging a push.
#[derive(Debug, Default, PartialEq)]
pub struct Needs {
    /// Passes with an admission in the push: their [`AdmissionFacts`].
    pub admissions: BTreeSet<String>,
    /// Rewards redeemed in the push: their first redemption.
    pub rewards: BTreeSet<String>,
    /// (pass, UTC day) of offline redemptions in the push: that day's [`OfflineDay`].
    pub offline_days: BTreeSet<(String, i64)>,
    /// Passes whose points the push changes: their [`BalanceFacts`].
    pub balances: BTreeSet<String>,
}

/// What the hub holds of one pass's admissions (counted, accepted scans), for a push by one
/// node.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AdmissionFacts {
    /// Counted entries, every node.
    pub entries: u64,
    /// The last counted scan (the highest seq): its direction and side.
    pub last: Option<(String, ConflictSide)>,
    /// The earliest counted entry from a node other than the pusher.
    pub first_foreign_entry: Option<ConflictSide>,
}

/// One pass's offline redemptions in one UTC day.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OfflineDay {
    pub count: u64,
    pub first: Option<ConflictSide>,
}

/// One pass's merged points and the last spends the hub received.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct BalanceFacts {
    pub points: i64,
    /// The last operation that spent points of it at a node other than the pusher.
    pub last_foreign_spend: Option<ConflictSide>,
}

/// What the storage loaded for [`Needs`]; a key left out reads as "nothing held".
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Facts {
    pub admissions: HashMap<String, AdmissionFacts>,
    /// Each reward's first redemption (the operation id is its `ref_id`).
    pub rewards: HashMap<String, ConflictSide>,
    pub offline_days: HashMap<(String, i64), OfflineDay>,
    pub balances: HashMap<String, BalanceFacts>,
}

/// An admission to remember (`hub_admissions`).
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionRow {
    /// The index in [`Plan::log`] of the scan's change (its seq, once allocated).
    pub log_index: usize,
    pub pass_id: String,
    pub node_id: String,
    pub direction: String,
    pub side: ConflictSide,
}

/// A redemption to remember (`hub_redemptions`).
#[derive(Debug, Clone, PartialEq)]
pub struct RedemptionRow {
    pub log_index: usize,
    /// Its place among the operation's redemptions.
    pub ordinal: u32,
    pub reward_id: Option<String>,
    pub pass_id: String,
    pub day: i64,
    pub offline: bool,
    pub node_id: String,
    pub side: ConflictSide,
}

/// An operation that spent points (`hub_spends`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    pub log_index: usize,
    pub pass_id: String,
    pub node_id: String,
    pub side: ConflictSide,
}

/// What a push appends, in log order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    /// The accepted changes, each followed by the conflicts it caused (changes of node `hub`).
    pub log: Vec<Change>,
    /// The conflicts, each with the index of its change in `log`.
    pub conflicts: Vec<(usize, ConflictRecord)>,
    pub admissions: Vec<AdmissionRow>,
    pub redemptions: Vec<RedemptionRow>,
    pub spends: Vec<SpendRow>,
    /// Points added to each pass's balance.
    pub balance_deltas: BTreeMap<String, i64>,
}

/// Whether a scan is an admission the hub keeps: accepted, counted, of a known pass.
fn admission_of(scan: &ScanRecordWire) -> Option<&str> {
    if scan.verdict == "accept" && scan.counted {
        scan.pass_id.as_deref()
    } else {
        None
    }
}

/// The redemptions of an operation: `reward_redeem` entries.
fn redemptions_of(
    op: &LedgerOperation,
) -> impl Iterator<Item = &passdesk_core::sync::wire::LedgerEntryRecord> {
    op.entries.iter().filter(|e| e.kind == REWARD_REDEEM)
}

fn points_of(op: &LedgerOperation) -> i64 {
    op.entries
        .iter()
        .fold(0i64, |sum, e| sum.saturating_add(e.points))
}

/// What judging `changes` needs loaded.
pub fn needs(changes: &[Change]) -> Needs {
    let mut needs = Needs::default();
    for change in changes {
        match &change.body {
            ChangeBody::Scan(scan) => {
                if let Some(pass) = admission_of(scan) {
                    needs.admissions.insert(pass.to_owned());
                }
            }
            ChangeBody::Ledger(op) => {
                for entry in redemptions_of(op) {
                    if let Some(reward) = &entry.reward_id {
                        needs.rewards.insert(reward.clone());
                    }
                    if op.offline {
                        needs
                            .offline_days
                            .insert((op.pass_id.clone(), utc_day(entry.at)));
                    }
                }
                needs.balances.insert(op.pass_id.clone());
            }
            _ => {}
        }
    }
    needs
}

/// Judges the accepted `changes` of one push by `pusher` (each already checked to be its own,
/// pushable and new), in order, against `facts` (updated as the push goes, so a push that
/// conflicts with itself is judged as if its changes came one by one). `names`: node id →
/// name. `new_id` makes each conflict's id (UUIDv7 in the service, fixed in tests).
pub fn judge(
    changes: Vec<Change>,
    pusher: &str,
    names: &HashMap<String, String>,
    facts: &mut Facts,
    now: Timestamp,
    mut new_id: impl FnMut() -> String,
) -> Plan {
    let mut plan = Plan::default();
    for change in changes {
        let index = plan.log.len();
        let found = match &change.body {
            ChangeBody::Scan(scan) => {
                judge_scan(&change, scan, index, pusher, names, facts, &mut plan)
            }
            ChangeBody::Ledger(op) => {
                judge_ledger(&change, op, index, pusher, names, facts, &mut plan)
            }
            _ => Vec::new(),
        };
        plan.log.push(change);
        for (kind, pass_id, first, flagged, message) in found {
            let record = ConflictRecord {
                id: new_id(),
                kind,
                pass_id,
                first,
                flagged,
                message,
                detected_at: now,
            };
            plan.conflicts.push((plan.log.len(), record.clone()));
            plan.log.push(Change {
                id: record.id.clone(),
                node_id: HUB_NODE_ID.to_owned(),
                at: now,
                body: ChangeBody::Conflict(record),
            });
        }
    }
    plan
}

/// A conflict found: kind, pass, first side, flagged side, message.
type Found = (ConflictKind, String, ConflictSide, ConflictSide, String);

fn side(
    change: &Change,
    ref_id: &str,
    at: Timestamp,
    offline: bool,
    reader_name: Option<String>,
    names: &HashMap<String, String>,
) -> ConflictSide {
    ConflictSide {
        node_id: change.node_id.clone(),
        node_name: names
            .get(&change.node_id)
            .cloned()
            .unwrap_or_else(|| change.node_id.clone()),
        ref_id: ref_id.to_owned(),
        change_id: change.id.clone(),
        at,
        offline,
        reader_name,
    }
}

/// "Gate A at 19:42 UTC while offline": where and when a side happened, in a gate's words.
pub fn place(side: &ConflictSide) -> String {
    let hhmm = side
        .at
        .to_datetime()
        .map_or_else(|| side.at.to_rfc3339(), |t| t.format("%H:%M").to_string());
    let offline = if side.offline { " while offline" } else { "" };
    format!("{} at {hhmm} UTC{offline}", side.node_name)
}

fn judge_scan(
    change: &Change,
    scan: &ScanRecordWire,
    index: usize,
    pusher: &str,
    names: &HashMap<String, String>,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Vec<Found> {
    let Some(pass_id) = admission_of(scan) else {
        return Vec::new();
    };
    let flagged = side(
        change,
        &scan.scan_id,
        scan.at,
        scan.offline,
        scan.reader_name.clone(),
        names,
    );
    let held = facts.admissions.entry(pass_id.to_owned()).or_default();
    let mut found = Vec::new();
    if scan.direction == ENTRY {
        let inside_elsewhere = (scan.entry_mode.as_deref() == Some(ENTRY_EXIT))
            .then_some(held.last.as_ref())
            .flatten()
            .filter(|(direction, last)| direction == ENTRY && last.node_id != change.node_id)
            .map(|(_, last)| last.clone());
        let over_limit = scan
            .entry_limit
            .filter(|&limit| held.entries + 1 > u64::from(limit))
            .and(held.first_foreign_entry.clone());
        if let Some(first) = inside_elsewhere.or(over_limit) {
            let message = format!("Admitted at {}", place(&first));
            found.push((
                ConflictKind::DoubleAdmission,
                pass_id.to_owned(),
                first,
                flagged.clone(),
                message,
            ));
        }
        held.entries += 1;
        if change.node_id != pusher && held.first_foreign_entry.is_none() {
            held.first_foreign_entry = Some(flagged.clone());
        }
    }
    held.last = Some((scan.direction.clone(), flagged.clone()));
    plan.admissions.push(AdmissionRow {
        log_index: index,
        pass_id: pass_id.to_owned(),
        node_id: change.node_id.clone(),
        direction: scan.direction.clone(),
        side: flagged,
    });
    found
}

fn judge_ledger(
    change: &Change,
    op: &LedgerOperation,
    index: usize,
    pusher: &str,
    names: &HashMap<String, String>,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Vec<Found> {
    let mut found = Vec::new();
    let this = side(change, &op.op_id, change.at, op.offline, None, names);
    for (ordinal, entry) in redemptions_of(op).enumerate() {
        let at_entry = ConflictSide {
            at: entry.at,
            ..this.clone()
        };
        if let Some(reward) = &entry.reward_id {
            match facts.rewards.get(reward) {
                Some(first) if first.ref_id != op.op_id => found.push((
                    ConflictKind::DoubleRedemption,
                    op.pass_id.clone(),
                    first.clone(),
                    at_entry.clone(),
                    format!("Reward redeemed at {}", place(first)),
                )),
                Some(_) => {}
                None => {
                    facts.rewards.insert(reward.clone(), at_entry.clone());
                }
            }
        }
        let day = utc_day(entry.at);
        if op.offline {
            let held = facts
                .offline_days
                .entry((op.pass_id.clone(), day))
                .or_default();
            held.count += 1;
            let cap = op.offline_redemptions_per_day.map(|c| c.max(0) as u64);
            if let (Some(cap), Some(first)) = (cap, &held.first) {
                if held.count > cap {
                    let date = entry
                        .at
                        .to_datetime()
                        .map_or_else(|| day.to_string(), |t| t.format("%Y-%m-%d").to_string());
                    found.push((
                        ConflictKind::OfflineRedemptionCap,
                        op.pass_id.clone(),
                        first.clone(),
                        at_entry.clone(),
                        format!(
                            "{} offline redemptions on {date}, over the cap of {cap} a day; \
                             the first at {}",
                            held.count,
                            place(first)
                        ),
                    ));
                }
            }
            if held.first.is_none() {
                held.first = Some(at_entry.clone());
            }
        }
        plan.redemptions.push(RedemptionRow {
            log_index: index,
            ordinal: ordinal as u32,
            reward_id: entry.reward_id.clone(),
            pass_id: op.pass_id.clone(),
            day,
            offline: op.offline,
            node_id: change.node_id.clone(),
            side: at_entry,
        });
    }
    let delta = points_of(op);
    let held = facts.balances.entry(op.pass_id.clone()).or_default();
    held.points = held.points.saturating_add(delta);
    *plan.balance_deltas.entry(op.pass_id.clone()).or_default() += delta;
    if delta < 0 {
        if held.points < 0 {
            if let Some(first) = &held.last_foreign_spend {
                found.push((
                    ConflictKind::NegativeBalance,
                    op.pass_id.clone(),
                    first.clone(),
                    this.clone(),
                    format!(
                        "Balance {} points after the merge; points also spent at {}",
                        held.points,
                        place(first)
                    ),
                ));
            }
        }
        if change.node_id != pusher {
            held.last_foreign_spend = Some(this.clone());
        }
        plan.spends.push(SpendRow {
            log_index: index,
            pass_id: op.pass_id.clone(),
            node_id: change.node_id.clone(),
            side: this,
        });
    }
    found
}

#[cfg(test)]
mod tests;
