//! Loyalty: points, stamps, rewards and redemptions on an append-only, idempotent ledger.
//!
//! Every mutation is an [`Operation`] with a client-generated operation id, applied by
//! [`apply`] in one `BEGIN IMMEDIATE` transaction: resolve the pass, check the id (same id and
//! content: the first result again, nothing changed; same id, other content: a conflict), expire
//! due points, write ledger entries, fold them into the cached account, write the outbox row,
//! remember the result under the id, commit. [`apply_in`] does the same inside a transaction
//! the caller holds, for a change that commits with the caller's own rows (a pass issued with a
//! balance).

pub mod ledger;
mod ops;
pub mod program;
pub mod rewards;

pub use ledger::{Account, EntryKind, LedgerEntry};
pub use ops::{apply, apply_in, expire_due, parse_op_id, OpResult, Operation, RewardRef};
pub use program::{Program, RewardUnit, StampOverflow, Tier};
pub use rewards::{Reward, RewardStatus};

use crate::store::{StoreError, StoreResult};
use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum LoyaltyError {
    #[error("no pass with id, extId, barcode or NFC value {0:?}")]
    UnknownPass(String),
    #[error("pass {pass_id} is {status}: no loyalty changes")]
    PassNotUsable { pass_id: String, status: String },
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    #[error("not enough {unit}: {available} available, {needed} needed")]
    Insufficient {
        unit: &'static str,
        available: i64,
        needed: i64,
    },
    #[error("the stamp card has {stamps} of {card_size} stamps: {adding} more do not fit; redeem it first")]
    CardFull {
        stamps: i64,
        adding: i64,
        card_size: i64,
    },
    #[error("no reward tier {tier:?} (known: {known:?})")]
    UnknownTier { tier: String, known: Vec<String> },
    #[error("no reward {0:?}")]
    UnknownReward(String),
    #[error("reward {id} is already {status}")]
    RewardNotAvailable { id: String, status: &'static str },
    #[error("no ledger entry {0:?}")]
    UnknownEntry(String),
    #[error("a {0} entry cannot be reversed (only earn, stamp and adjust)")]
    NotReversible(&'static str),
    #[error("entry {0} has already been reversed")]
    AlreadyReversed(String),
    #[error("operation id {0} was already used for a different request")]
    OpConflict(String),
    #[error("invalid operation id {0:?}: expected a UUID")]
    InvalidOpId(String),
    #[error("offline limit: this pass already has {count} redemption(s) today not yet synced (limit {limit} per day)")]
    OfflineLimit { count: i64, limit: i64 },
    #[error("the numbers are too large (64-bit overflow)")]
    Overflow,
    #[error("invalid loyalty program: {0}")]
    InvalidProgram(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for LoyaltyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl LoyaltyError {
    /// A stable code for APIs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPass(_) => "unknown_pass",
            Self::PassNotUsable { .. } => "pass_not_usable",
            Self::InvalidAmount(_) => "invalid_amount",
            Self::Insufficient { .. } => "insufficient_balance",
            Self::CardFull { .. } => "card_full",
            Self::UnknownTier { .. } => "unknown_tier",
            Self::UnknownReward(_) => "unknown_reward",
            Self::RewardNotAvailable { .. } => "reward_not_available",
            Self::UnknownEntry(_) => "unknown_entry",
            Self::NotReversible(_) => "not_reversible",
            Self::AlreadyReversed(_) => "already_reversed",
            Self::OpConflict(_) => "op_conflict",
            Self::InvalidOpId(_) => "invalid_op_id",
            Self::OfflineLimit { .. } => "offline_limit",
            Self::Overflow => "overflow",
            Self::InvalidProgram(_) => "invalid_program",
            Self::Store(_) => "storage",
        }
    }
}

/// What the cashier sees of a pass's loyalty on a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoyaltyView {
    /// Spendable points (PassEntry's `balance`); negative after a refund of spent points.
    pub balance: i64,
    pub reserved_points: i64,
    pub stamps: i64,
    pub card_size: Option<i64>,
    /// Stamps on the current card (stamps modulo the card size).
    pub stamps_on_card: Option<i64>,
    /// Rewards created and waiting to be redeemed.
    pub rewards: Vec<Reward>,
    /// Tiers the pass can claim now.
    pub claimable: Vec<Tier>,
}

/// The loyalty state of a pass, or `None` when its template has no program and it has no ledger.
pub fn view(
    conn: &Connection,
    pass_id: &str,
    template_id: &str,
) -> StoreResult<Option<LoyaltyView>> {
    let program = program::get_program(conn, template_id)?;
    let has_account = conn
        .prepare_cached("SELECT 1 FROM loyalty_accounts WHERE pass_id = ?1")?
        .exists([pass_id])?;
    if program.is_none() && !has_account {
        return Ok(None);
    }
    let program = program.unwrap_or_else(|| Program::plain(template_id));
    let account = ledger::account(conn, pass_id)?;
    let claimable = program
        .tiers
        .iter()
        .filter(|t| match t.unit {
            RewardUnit::Points => account.points >= t.threshold,
            RewardUnit::Stamps => account.stamps >= t.threshold,
        })
        .cloned()
        .collect();
    Ok(Some(LoyaltyView {
        balance: account.points,
        reserved_points: account.reserved_points,
        stamps: account.stamps,
        card_size: program.card_size,
        stamps_on_card: program.card_size.map(|s| stamps_on_card(account.stamps, s)),
        rewards: rewards::available(conn, pass_id)?,
        claimable,
    }))
}

/// Stamps shown on the current card: 1..=size once there is any (a full card shows full, not
/// empty), 0 for none.
fn stamps_on_card(stamps: i64, size: i64) -> i64 {
    if stamps <= 0 {
        0
    } else {
        (stamps - 1) % size + 1
    }
}
