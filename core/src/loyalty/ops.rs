//! The loyalty operations and the one transaction that applies them.

use super::ledger::{self, Account, EntryKind, LedgerEntry, Lots};
use super::program::{self, Program, RewardUnit, StampOverflow};
use super::rewards::{self, Reward, RewardStatus};
use super::LoyaltyError;
use crate::local_day::{local_day, TimeZone};
use crate::outbox;
use crate::pass::{Pass, PassStatus};
use crate::pass_store;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const DAY_MS: i64 = 86_400_000;

/// A reward to redeem: one created earlier, or a tier claimed and redeemed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardRef {
    Id(String),
    /// A reward named under a pass (`/passes/{pass}/loyalty/rewards/{id}`): another pass's
    /// reward is as unknown as one that does not exist.
    OfPass {
        pass: String,
        id: String,
    },
    Tier {
        pass: String,
        tier: String,
    },
}

/// A loyalty mutation. `pass` is a pass id, extId, barcode or NFC value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Points for a purchase (`amount_minor` through the program's rate) or given directly.
    Earn {
        pass: String,
        amount_minor: Option<i64>,
        points: Option<i64>,
    },
    Stamp {
        pass: String,
        count: i64,
    },
    /// A manual correction, ±, with the reason a manager gives.
    Adjust {
        pass: String,
        points: i64,
        reason: String,
    },
    /// Sets the balance (PassEntry `overrideBalance`); recorded as the difference.
    Override {
        pass: String,
        balance: i64,
    },
    RewardCreate {
        pass: String,
        tier: String,
    },
    RewardRedeem {
        reward: RewardRef,
    },
    RewardDelete {
        reward_id: String,
        /// The pass the reward was named under, if any: another pass's reward is unknown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
    },
    /// A refund: compensates an earlier earn, stamp or adjust entry.
    Reverse {
        entry_id: String,
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpResult {
    pub op_id: String,
    pub pass_id: String,
    pub entries: Vec<LedgerEntry>,
    pub account: Account,
    pub reward: Option<Reward>,
    /// True when this answer is the stored result of an earlier request with the same id.
    pub replayed: bool,
}

/// An operation id: any UUID, kept in its canonical lowercase form.
pub fn parse_op_id(text: &str) -> Result<String, LoyaltyError> {
    uuid::Uuid::parse_str(text.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| LoyaltyError::InvalidOpId(text.chars().take(64).collect()))
}

/// Applies `op` under `op_id` (see the module docs), durably, or changes nothing. `zone` is the
/// counter's: the offline redemption cap counts per local day there.
pub fn apply(
    store: &mut Store,
    node_id: &str,
    op_id: &str,
    op: &Operation,
    at: Timestamp,
    zone: TimeZone,
) -> Result<OpResult, LoyaltyError> {
    let op_id = parse_op_id(op_id)?;
    store.write(|tx| apply_op(tx, node_id, &op_id, op, at, zone))
}

/// [`apply`] inside a transaction the caller holds (one of [`Store::write`]'s, so the write
/// lock is already taken), for a change that must commit together with the caller's own rows
/// or not at all: a pass issued with its initial balance. The operation runs in a savepoint:
/// when it is refused, nothing of it remains, whatever the caller does next; when it succeeds,
/// it lasts only if the caller commits.
pub fn apply_in(
    tx: &Transaction<'_>,
    node_id: &str,
    op_id: &str,
    op: &Operation,
    at: Timestamp,
    zone: TimeZone,
) -> Result<OpResult, LoyaltyError> {
    let op_id = parse_op_id(op_id)?;
    tx.execute_batch("SAVEPOINT loyalty_op")?;
    match apply_op(tx, node_id, &op_id, op, at, zone) {
        Ok(result) => {
            tx.execute_batch("RELEASE loyalty_op")?;
            Ok(result)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO loyalty_op; RELEASE loyalty_op")?;
            Err(e)
        }
    }
}

/// The body of [`apply`] and [`apply_in`]: everything but the transaction.
fn apply_op(
    tx: &Connection,
    node_id: &str,
    op_id: &str,
    op: &Operation,
    at: Timestamp,
    zone: TimeZone,
) -> Result<OpResult, LoyaltyError> {
    let (pass, op) = resolve(tx, op)?;
    let hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&op).expect("operations serialise"),
    ));
    if let Some(previous) = recall(tx, op_id, &hash)? {
        return Ok(previous);
    }
    let program = program::get_program(tx, &pass.template_id)?
        .unwrap_or_else(|| Program::plain(&pass.template_id));
    expire_lots(tx, node_id, &pass.id, at)?;
    let account = ledger::account(tx, &pass.id)?;
    let mut run = Run {
        conn: tx,
        node_id,
        op_id,
        pass: &pass,
        program: &program,
        at,
        zone,
        entries: Vec::new(),
        account,
    };
    let reward = run.execute(&op)?;
    let result = OpResult {
        op_id: op_id.to_owned(),
        pass_id: pass.id.clone(),
        entries: run.entries,
        account: run.account,
        reward,
        replayed: false,
    };
    // The event's payload is the result a replay of this op id answers with.
    let event = outbox::append(
        tx,
        outbox::topic::PASS_LOYALTY_UPDATED,
        &pass.id,
        &result,
        at,
    )?;
    tx.prepare_cached("INSERT INTO loyalty_operations (op_id, request_hash, outbox_seq, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![op_id, hash, event.seq, at])?;
    Ok(result)
}

/// Expires due points of one pass (what `apply` and a scan do first). Returns the entries written.
pub fn expire_due(
    conn: &Connection,
    node_id: &str,
    pass_id: &str,
    at: Timestamp,
) -> Result<Vec<LedgerEntry>, LoyaltyError> {
    expire_lots(conn, node_id, pass_id, at)
}

/// The same id with the same request: the stored result. With another request: a conflict.
fn recall(conn: &Connection, op_id: &str, hash: &str) -> Result<Option<OpResult>, LoyaltyError> {
    let row: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT o.request_hash, coalesce(o.result, e.payload)
             FROM loyalty_operations o LEFT JOIN outbox e ON e.seq = o.outbox_seq WHERE o.op_id = ?1",
        )?
        .query_row([op_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, _)) if stored != hash => Err(LoyaltyError::OpConflict(op_id.to_owned())),
        Some((_, json)) => {
            let mut result: OpResult =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                    what: "loyalty operation",
                    detail: e.to_string(),
                })?;
            result.replayed = true;
            Ok(Some(result))
        }
    }
}

/// The pass a cashier names (barcode, NFC value, id or extId: an authenticated person naming a
/// pass, so a typed id is fine here).
fn find_pass(conn: &Connection, reference: &str) -> Result<Pass, LoyaltyError> {
    pass_store::find(conn, reference)?
        .map(|found| found.pass)
        .ok_or_else(|| LoyaltyError::UnknownPass(reference.chars().take(80).collect()))
}

/// The pass a stored row (a reward, a ledger entry) belongs to, by its id.
fn pass_of_row(conn: &Connection, pass_id: &str) -> Result<Pass, LoyaltyError> {
    pass_store::get_pass(conn, pass_id)?
        .ok_or_else(|| LoyaltyError::UnknownPass(pass_id.to_owned()))
}

/// Finds the pass an operation is about and rewrites the operation to name it by id, so the
/// same request made with a barcode or with an id hashes the same. A reward named under a pass
/// must be that pass's; once checked, the pass is dropped from the operation (the reward names
/// it), so a redemption asked for by reward id alone or under its pass is the same request.
fn resolve(conn: &Connection, op: &Operation) -> Result<(Pass, Operation), LoyaltyError> {
    let (mut op, named_under) = split_named_under(op);
    let pass = match &mut op {
        Operation::Earn { pass, .. }
        | Operation::Stamp { pass, .. }
        | Operation::Adjust { pass, .. }
        | Operation::Override { pass, .. }
        | Operation::RewardCreate { pass, .. }
        | Operation::RewardRedeem {
            reward: RewardRef::Tier { pass, .. },
        } => {
            let p = find_pass(conn, pass)?;
            pass.clone_from(&p.id);
            p
        }
        Operation::RewardRedeem {
            reward: RewardRef::Id(id) | RewardRef::OfPass { id, .. },
        }
        | Operation::RewardDelete { reward_id: id, .. } => {
            let r =
                rewards::get(conn, id)?.ok_or_else(|| LoyaltyError::UnknownReward(id.clone()))?;
            let owner = pass_of_row(conn, &r.pass_id)?;
            if let Some(reference) = &named_under {
                if find_pass(conn, reference)?.id != owner.id {
                    return Err(LoyaltyError::UnknownReward(id.clone()));
                }
            }
            owner
        }
        Operation::Reverse { entry_id, .. } => {
            let e = ledger::get_entry(conn, entry_id)?
                .ok_or_else(|| LoyaltyError::UnknownEntry(entry_id.clone()))?;
            pass_of_row(conn, &e.pass_id)?
        }
    };
    Ok((pass, op))
}

/// The operation with the pass a reward was named under taken out, and that pass.
fn split_named_under(op: &Operation) -> (Operation, Option<String>) {
    match op {
        Operation::RewardRedeem {
            reward: RewardRef::OfPass { pass, id },
        } => (
            Operation::RewardRedeem {
                reward: RewardRef::Id(id.clone()),
            },
            Some(pass.clone()),
        ),
        Operation::RewardDelete { reward_id, pass } => (
            Operation::RewardDelete {
                reward_id: reward_id.clone(),
                pass: None,
            },
            pass.clone(),
        ),
        other => (other.clone(), None),
    }
}

fn expire_lots(
    conn: &Connection,
    node_id: &str,
    pass_id: &str,
    at: Timestamp,
) -> Result<Vec<LedgerEntry>, LoyaltyError> {
    let mut written = Vec::new();
    for due in ledger::due_lots(conn, pass_id, at)? {
        // Expiry takes what the lot still holds, but never takes the balance below zero.
        let balance = ledger::account(conn, pass_id)?.points;
        let amount = due.remaining.min(balance.max(0));
        ledger::close_lot(conn, pass_id, &due)?;
        let lot = &due.entry_id;
        if amount > 0 {
            let mut e = LedgerEntry::new(
                &format!("expire:{lot}"),
                node_id,
                pass_id,
                EntryKind::Expire,
                at,
            );
            e.points = -amount;
            e.reason = Some(format!("points earned in entry {lot} expired"));
            ledger::append(conn, &e, Lots::Handled)?;
            outbox::append(conn, outbox::topic::PASS_LOYALTY_UPDATED, pass_id, &e, at)?;
            written.push(e);
        }
    }
    Ok(written)
}

/// One operation being applied.
struct Run<'a> {
    conn: &'a Connection,
    node_id: &'a str,
    op_id: &'a str,
    pass: &'a Pass,
    program: &'a Program,
    at: Timestamp,
    zone: TimeZone,
    entries: Vec<LedgerEntry>,
    account: Account,
}

impl Run<'_> {
    fn entry(&self, kind: EntryKind) -> LedgerEntry {
        LedgerEntry::new(self.op_id, self.node_id, &self.pass.id, kind, self.at)
    }

    fn push(&mut self, e: LedgerEntry, lots: Lots<'_>) -> Result<(), LoyaltyError> {
        self.account = ledger::append(self.conn, &e, lots)?;
        self.entries.push(e);
        Ok(())
    }

    fn require_usable(&self) -> Result<(), LoyaltyError> {
        let p = self.pass;
        let expired = p.status == PassStatus::Expired || p.expires_at.is_some_and(|t| t <= self.at);
        if p.is_voided() || expired {
            let status = if p.is_voided() { "voided" } else { "expired" };
            return Err(LoyaltyError::PassNotUsable {
                pass_id: p.id.clone(),
                status: status.into(),
            });
        }
        Ok(())
    }

    fn lot_expiry(&self) -> Option<Timestamp> {
        self.program
            .expiry_days
            .map(|d| self.at.plus_ms(d.saturating_mul(DAY_MS)))
    }

    fn execute(&mut self, op: &Operation) -> Result<Option<Reward>, LoyaltyError> {
        match op {
            Operation::Earn {
                amount_minor,
                points,
                ..
            } => {
                self.require_usable()?;
                let points = match (amount_minor, points) {
                    (Some(a), None) => self.program.points_for_amount(*a)?,
                    (None, Some(p)) if *p > 0 => *p,
                    (None, Some(p)) => {
                        return Err(LoyaltyError::InvalidAmount(format!(
                            "points to earn must be positive, not {p}"
                        )))
                    }
                    _ => {
                        return Err(LoyaltyError::InvalidAmount(
                            "give either an amount or points".into(),
                        ))
                    }
                };
                let mut e = self.entry(EntryKind::Earn);
                e.points = points;
                e.amount_minor = *amount_minor;
                let expires_at = self.lot_expiry();
                self.push(e, Lots::Credit { expires_at })?;
                Ok(None)
            }
            Operation::Stamp { count, .. } => {
                self.require_usable()?;
                if *count <= 0 {
                    return Err(LoyaltyError::InvalidAmount(format!(
                        "stamps to add must be positive, not {count}"
                    )));
                }
                if let (Some(size), StampOverflow::Refuse) =
                    (self.program.card_size, self.program.stamp_overflow)
                {
                    let after = self
                        .account
                        .stamps
                        .checked_add(*count)
                        .ok_or(LoyaltyError::Overflow)?;
                    if after > size {
                        return Err(LoyaltyError::CardFull {
                            stamps: self.account.stamps,
                            adding: *count,
                            card_size: size,
                        });
                    }
                }
                let mut e = self.entry(EntryKind::Stamp);
                e.stamps = *count;
                self.push(e, Lots::Handled)?;
                Ok(None)
            }
            Operation::Adjust { points, reason, .. } => {
                if *points == 0 {
                    return Err(LoyaltyError::InvalidAmount(
                        "an adjustment of 0 points changes nothing".into(),
                    ));
                }
                if reason.trim().is_empty() {
                    return Err(LoyaltyError::InvalidAmount(
                        "an adjustment needs a reason".into(),
                    ));
                }
                self.spendable(*points)?;
                let mut e = self.entry(EntryKind::Adjust);
                e.points = *points;
                e.reason = Some(reason.trim().to_owned());
                self.push(e, lots_for(*points, None))?;
                Ok(None)
            }
            Operation::Override { balance, .. } => {
                if *balance < 0 {
                    return Err(LoyaltyError::InvalidAmount(format!(
                        "a balance cannot be set below zero ({balance})"
                    )));
                }
                let delta = balance
                    .checked_sub(self.account.points)
                    .ok_or(LoyaltyError::Overflow)?;
                let mut e = self.entry(EntryKind::Override);
                e.points = delta;
                e.reason = Some(format!("balance set to {balance}"));
                self.push(e, lots_for(delta, None))?;
                Ok(None)
            }
            Operation::RewardCreate { tier, .. } => {
                self.require_usable()?;
                self.create_reward(tier, Then::Keep).map(Some)
            }
            Operation::RewardRedeem { reward } => {
                self.require_usable()?;
                let reward = match reward {
                    RewardRef::Id(id) | RewardRef::OfPass { id, .. } => {
                        rewards::get(self.conn, id)?
                            .ok_or_else(|| LoyaltyError::UnknownReward(id.clone()))?
                    }
                    RewardRef::Tier { tier, .. } => self.create_reward(tier, Then::Redeem)?,
                };
                self.redeem(reward).map(Some)
            }
            Operation::RewardDelete { reward_id, .. } => self.delete_reward(reward_id).map(Some),
            Operation::Reverse { entry_id, reason } => {
                let original = ledger::get_entry(self.conn, entry_id)?
                    .ok_or_else(|| LoyaltyError::UnknownEntry(entry_id.clone()))?;
                if !matches!(
                    original.kind,
                    EntryKind::Earn | EntryKind::Stamp | EntryKind::Adjust
                ) {
                    return Err(LoyaltyError::NotReversible(original.kind.as_str()));
                }
                if ledger::is_reversed(self.conn, &original.id)? {
                    return Err(LoyaltyError::AlreadyReversed(original.id));
                }
                // A refund may take the balance below zero: the points may already be spent.
                let mut e = self.entry(EntryKind::Reverse);
                e.points = original
                    .points
                    .checked_neg()
                    .ok_or(LoyaltyError::Overflow)?;
                e.stamps = original
                    .stamps
                    .checked_neg()
                    .ok_or(LoyaltyError::Overflow)?;
                e.reverses = Some(original.id.clone());
                e.reason = reason.clone().or_else(|| {
                    Some(format!(
                        "reverses {} entry {}",
                        original.kind.as_str(),
                        original.id
                    ))
                });
                let points = e.points;
                self.push(e, lots_for(points, Some(&original.id)))?;
                Ok(None)
            }
        }
    }

    /// A debit of spendable points must leave the balance at zero or above.
    fn spendable(&self, delta: i64) -> Result<(), LoyaltyError> {
        if delta < 0 && self.account.points.saturating_add(delta) < 0 {
            return Err(LoyaltyError::Insufficient {
                unit: "points",
                available: self.account.points,
                needed: -delta,
            });
        }
        Ok(())
    }

    /// Un-issues a reward: what it reserved becomes spendable again. Its points go back into
    /// the lots they were taken from, with their own expiry; points of a lot that expired while
    /// the reward held them expire at once, in an entry of their own (as they would have, had
    /// the reward never been made), so no point outlives its lot.
    fn delete_reward(&mut self, reward_id: &str) -> Result<Reward, LoyaltyError> {
        let reward = rewards::get(self.conn, reward_id)?
            .ok_or_else(|| LoyaltyError::UnknownReward(reward_id.to_owned()))?;
        let mut e = self.close_reward(&reward, RewardStatus::Deleted, EntryKind::RewardDelete)?;
        match reward.unit {
            RewardUnit::Points => {
                e.points = reward.cost;
                e.reserved_points = -reward.cost;
                match rewards::taken_lots(self.conn, &reward.id)? {
                    Some(taken) => {
                        self.push(e, Lots::Restore(&taken))?;
                        let expired = expire_lots(self.conn, self.node_id, &self.pass.id, self.at)?;
                        if !expired.is_empty() {
                            self.account = ledger::account(self.conn, &self.pass.id)?;
                            self.entries.extend(expired);
                        }
                    }
                    // A reward from before migration 08 never recorded its lots: its points
                    // come back as a new lot that never expires, as they always did.
                    None => self.push(e, Lots::Credit { expires_at: None })?,
                }
            }
            RewardUnit::Stamps => {
                e.stamps = reward.cost;
                e.reserved_stamps = -reward.cost;
                self.push(e, Lots::Handled)?;
            }
        }
        Ok(rewards::get(self.conn, &reward.id)?.unwrap_or(reward))
    }

    fn create_reward(&mut self, tier_name: &str, then: Then) -> Result<Reward, LoyaltyError> {
        let tier = self.program.tier(tier_name)?.clone();
        let available = match tier.unit {
            RewardUnit::Points => self.account.points,
            RewardUnit::Stamps => self.account.stamps,
        };
        if available < tier.threshold {
            return Err(LoyaltyError::Insufficient {
                unit: tier.unit.as_str(),
                available,
                needed: tier.threshold,
            });
        }
        let reward = Reward {
            id: uuid::Uuid::now_v7().to_string(),
            pass_id: self.pass.id.clone(),
            tier_name: tier.name.clone(),
            unit: tier.unit,
            cost: tier.threshold,
            status: RewardStatus::Available,
            created_at: self.at,
            closed_at: None,
        };
        let mut e = self.entry(EntryKind::RewardCreate);
        e.reward_id = Some(reward.id.clone());
        let taken = match tier.unit {
            RewardUnit::Points => {
                e.points = -tier.threshold;
                e.reserved_points = tier.threshold;
                self.push(e, Lots::Handled)?;
                let taken = ledger::debit_lots(self.conn, &self.pass.id, tier.threshold, None)?;
                // Recorded with the reward, so that deleting it restores these very lots. A
                // reward redeemed as it is made can never be deleted: nothing to keep.
                (then == Then::Keep).then_some(taken)
            }
            RewardUnit::Stamps => {
                e.stamps = -tier.threshold;
                e.reserved_stamps = tier.threshold;
                self.push(e, Lots::Handled)?;
                None
            }
        };
        rewards::insert(self.conn, &reward, taken.as_deref())?;
        Ok(reward)
    }

    fn redeem(&mut self, reward: Reward) -> Result<Reward, LoyaltyError> {
        if reward.pass_id != self.pass.id {
            return Err(LoyaltyError::UnknownReward(reward.id));
        }
        if let Some(limit) = self.program.offline_redemptions_per_day {
            let day_start = local_day(self.at, self.zone).start;
            let count = ledger::unsynced_redemptions_since(self.conn, &self.pass.id, day_start)?;
            if count >= limit {
                return Err(LoyaltyError::OfflineLimit { count, limit });
            }
        }
        let mut e = self.close_reward(&reward, RewardStatus::Redeemed, EntryKind::RewardRedeem)?;
        match reward.unit {
            RewardUnit::Points => e.reserved_points = -reward.cost,
            RewardUnit::Stamps => e.reserved_stamps = -reward.cost,
        }
        self.push(e, Lots::Handled)?;
        Ok(rewards::get(self.conn, &reward.id)?.unwrap_or(reward))
    }

    /// Closes an available reward for good (`to`: redeemed or deleted) and starts the ledger
    /// entry of `kind` that says so; a reward no longer available is refused. The conditional
    /// update is the once-only guard; BEGIN IMMEDIATE serialises racers.
    fn close_reward(
        &self,
        reward: &Reward,
        to: RewardStatus,
        kind: EntryKind,
    ) -> Result<LedgerEntry, LoyaltyError> {
        if !rewards::close(self.conn, &reward.id, to, self.at)? {
            return Err(LoyaltyError::RewardNotAvailable {
                id: reward.id.clone(),
                status: reward.status.as_str(),
            });
        }
        let mut e = self.entry(kind);
        e.reward_id = Some(reward.id.clone());
        Ok(e)
    }
}

/// What becomes of a reward just created.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// It waits to be redeemed, or deleted.
    Keep,
    /// It is redeemed in the same operation (a tier redeemed at the till).
    Redeem,
}

fn lots_for(points: i64, prefer: Option<&str>) -> Lots<'_> {
    if points >= 0 {
        Lots::Credit { expires_at: None }
    } else {
        Lots::Debit { prefer }
    }
}
