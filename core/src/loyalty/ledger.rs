//! The ledger: append-only entries per pass, the cached fold (`loyalty_accounts`) and the point
//! lots that expiry and "oldest first" consumption work on. Everything here runs inside the
//! caller's transaction.

use super::LoyaltyError;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Earn,
    Adjust,
    Override,
    Stamp,
    RewardCreate,
    RewardRedeem,
    RewardDelete,
    Reverse,
    Expire,
}

impl EntryKind {
    const ALL: [EntryKind; 9] = [
        Self::Earn,
        Self::Adjust,
        Self::Override,
        Self::Stamp,
        Self::RewardCreate,
        Self::RewardRedeem,
        Self::RewardDelete,
        Self::Reverse,
        Self::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Adjust => "adjust",
            Self::Override => "override",
            Self::Stamp => "stamp",
            Self::RewardCreate => "reward_create",
            Self::RewardRedeem => "reward_redeem",
            Self::RewardDelete => "reward_delete",
            Self::Reverse => "reverse",
            Self::Expire => "expire",
        }
    }
}

impl FromStr for EntryKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown ledger entry kind {s:?}"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub id: String,
    pub op_id: String,
    pub node_id: String,
    pub pass_id: String,
    pub kind: EntryKind,
    pub points: i64,
    pub stamps: i64,
    pub reserved_points: i64,
    pub reserved_stamps: i64,
    pub amount_minor: Option<i64>,
    pub reward_id: Option<String>,
    pub reverses: Option<String>,
    pub reason: Option<String>,
    pub at: Timestamp,
}

impl LedgerEntry {
    pub fn new(op_id: &str, node_id: &str, pass_id: &str, kind: EntryKind, at: Timestamp) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            op_id: op_id.to_owned(),
            node_id: node_id.to_owned(),
            pass_id: pass_id.to_owned(),
            kind,
            points: 0,
            stamps: 0,
            reserved_points: 0,
            reserved_stamps: 0,
            amount_minor: None,
            reward_id: None,
            reverses: None,
            reason: None,
            at,
        }
    }
}

/// A pass's loyalty state: the fold of its ledger. `points` is the spendable balance
/// (PassEntry's `balance`); reserved amounts are held by created, unredeemed rewards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub points: i64,
    pub stamps: i64,
    pub reserved_points: i64,
    pub reserved_stamps: i64,
}

impl Account {
    fn plus(self, e: &LedgerEntry) -> Result<Self, LoyaltyError> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or(LoyaltyError::Overflow);
        Ok(Self {
            points: add(self.points, e.points)?,
            stamps: add(self.stamps, e.stamps)?,
            reserved_points: add(self.reserved_points, e.reserved_points)?,
            reserved_stamps: add(self.reserved_stamps, e.reserved_stamps)?,
        })
    }
}

pub fn account(conn: &Connection, pass_id: &str) -> StoreResult<Account> {
    Ok(conn
        .prepare_cached(
            "SELECT points, stamps, reserved_points, reserved_stamps FROM loyalty_accounts WHERE pass_id = ?1",
        )?
        .query_row([pass_id], |r| {
            Ok(Account {
                points: r.get(0)?,
                stamps: r.get(1)?,
                reserved_points: r.get(2)?,
                reserved_stamps: r.get(3)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// How an entry's points change touches the lots.
pub(crate) enum Lots<'a> {
    /// A credit: a new lot, expiring then (or never).
    Credit { expires_at: Option<Timestamp> },
    /// A debit, taken from the lots oldest first, from `prefer` (the entry being reversed) first.
    Debit { prefer: Option<&'a str> },
    /// A credit that goes back into the lots it was once taken from (a deleted reward's points),
    /// each with the expiry it always had.
    Restore(&'a [LotShare]),
    /// The caller adjusts the lots itself (expiry; a reward that records what it took).
    Handled,
}

/// Points one debit took from one lot (named by its seq): what a deleted reward gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LotShare {
    pub seq: i64,
    pub points: i64,
}

/// Appends one entry and folds it into the cached account. Returns the new account.
pub(crate) fn append(
    conn: &Connection,
    e: &LedgerEntry,
    lots: Lots<'_>,
) -> Result<Account, LoyaltyError> {
    append_synced(conn, e, lots, None)
}

/// [`append`] with `synced_at` set: an entry pulled from the hub is upstream's already, so the
/// offline redemption cap (which counts entries upstream has not seen) leaves it out.
pub(crate) fn append_synced(
    conn: &Connection,
    e: &LedgerEntry,
    lots: Lots<'_>,
    synced_at: Option<Timestamp>,
) -> Result<Account, LoyaltyError> {
    let next = account(conn, &e.pass_id)?.plus(e)?;
    conn.prepare_cached(
        "INSERT INTO loyalty_ledger (id, op_id, node_id, pass_id, kind, points, stamps, reserved_points,
             reserved_stamps, amount_minor, reward_id, reverses, reason, at, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .and_then(|mut s| {
        s.execute(params![
            e.id,
            e.op_id,
            e.node_id,
            e.pass_id,
            e.kind.as_str(),
            e.points,
            e.stamps,
            e.reserved_points,
            e.reserved_stamps,
            e.amount_minor,
            e.reward_id,
            e.reverses,
            e.reason,
            e.at,
            synced_at
        ])
    })
    .map_err(StoreError::from)?;
    let seq = conn.last_insert_rowid();
    conn.prepare_cached(
        "INSERT INTO loyalty_accounts (pass_id, points, stamps, reserved_points, reserved_stamps, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(pass_id) DO UPDATE SET points = excluded.points, stamps = excluded.stamps,
             reserved_points = excluded.reserved_points, reserved_stamps = excluded.reserved_stamps,
             updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(params![e.pass_id, next.points, next.stamps, next.reserved_points, next.reserved_stamps, e.at])
    })
    .map_err(StoreError::from)?;
    match lots {
        Lots::Credit { expires_at } if e.points > 0 => {
            conn.prepare_cached(
                "INSERT INTO loyalty_lots (pass_id, seq, entry_id, remaining, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![e.pass_id, seq, e.id, e.points, expires_at]))
            .map_err(StoreError::from)?;
        }
        Lots::Debit { prefer } if e.points < 0 => {
            debit_lots(conn, &e.pass_id, -e.points, prefer)?;
        }
        Lots::Restore(shares) => restore_lots(conn, &e.pass_id, shares)?,
        _ => {}
    }
    Ok(next)
}

/// Points still held by one credit: a pass's lot, named by the seq of the entry that credited it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lot {
    pub seq: i64,
    pub entry_id: String,
    pub remaining: i64,
}

fn lot_from_row(r: &Row<'_>) -> rusqlite::Result<Lot> {
    Ok(Lot {
        seq: r.get(0)?,
        entry_id: r.get(1)?,
        remaining: r.get(2)?,
    })
}

/// Takes `amount` points from the open lots, oldest first, and says how many it took from
/// which. What the lots cannot cover is a debt the balance shows as negative (a refund of
/// points already spent).
pub(crate) fn debit_lots(
    conn: &Connection,
    pass_id: &str,
    mut amount: i64,
    prefer: Option<&str>,
) -> StoreResult<Vec<LotShare>> {
    // A pass's lots are one run of the (pass_id, seq) key: one page, oldest first.
    let mut open: Vec<Lot> = conn
        .prepare_cached(
            "SELECT seq, entry_id, remaining FROM loyalty_lots WHERE pass_id = ?1 AND remaining > 0 ORDER BY seq",
        )?
        .query_map([pass_id], lot_from_row)?
        .collect::<Result<_, _>>()?;
    if let Some(p) = prefer {
        if let Some(i) = open.iter().position(|lot| lot.entry_id == p) {
            let lot = open.remove(i);
            open.insert(0, lot);
        }
    }
    let mut taken = Vec::new();
    for lot in open {
        if amount == 0 {
            break;
        }
        let take = lot.remaining.min(amount);
        conn.prepare_cached(
            "UPDATE loyalty_lots SET remaining = remaining - ?3 WHERE pass_id = ?1 AND seq = ?2",
        )?
        .execute(params![pass_id, lot.seq, take])?;
        amount -= take;
        taken.push(LotShare {
            seq: lot.seq,
            points: take,
        });
    }
    Ok(taken)
}

/// Puts points back into the lots they were taken from. A lot that has expired in the
/// meantime gets them too: the caller expires it again, so they leave through an entry of
/// their own rather than living on.
fn restore_lots(conn: &Connection, pass_id: &str, shares: &[LotShare]) -> StoreResult<()> {
    for share in shares {
        let n = conn
            .prepare_cached(
                "UPDATE loyalty_lots SET remaining = remaining + ?3 WHERE pass_id = ?1 AND seq = ?2",
            )?
            .execute(params![pass_id, share.seq, share.points])?;
        if n != 1 {
            return Err(StoreError::Corrupt {
                what: "loyalty lot",
                detail: format!(
                    "pass {pass_id} has no lot {} to give points back to",
                    share.seq
                ),
            });
        }
    }
    Ok(())
}

/// Lots past their expiry that still hold points, oldest first.
pub(crate) fn due_lots(conn: &Connection, pass_id: &str, at: Timestamp) -> StoreResult<Vec<Lot>> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, entry_id, remaining FROM loyalty_lots
             WHERE pass_id = ?1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ?2 ORDER BY seq",
        )?
        .query_map(params![pass_id, at], lot_from_row)?
        .collect::<Result<_, _>>()?)
}

pub(crate) fn close_lot(conn: &Connection, pass_id: &str, lot: &Lot) -> StoreResult<()> {
    conn.prepare_cached("UPDATE loyalty_lots SET remaining = 0 WHERE pass_id = ?1 AND seq = ?2")?
        .execute(params![pass_id, lot.seq])?;
    Ok(())
}

const ENTRY_COLUMNS: &str =
    "id, op_id, node_id, pass_id, kind, points, stamps, reserved_points, reserved_stamps,
    amount_minor, reward_id, reverses, reason, at";

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Result<LedgerEntry, StoreError>> {
    let kind: String = r.get(4)?;
    let kind = match kind.parse() {
        Ok(k) => k,
        Err(detail) => {
            return Ok(Err(StoreError::Corrupt {
                what: "ledger entry",
                detail,
            }))
        }
    };
    Ok(Ok(LedgerEntry {
        id: r.get(0)?,
        op_id: r.get(1)?,
        node_id: r.get(2)?,
        pass_id: r.get(3)?,
        kind,
        points: r.get(5)?,
        stamps: r.get(6)?,
        reserved_points: r.get(7)?,
        reserved_stamps: r.get(8)?,
        amount_minor: r.get(9)?,
        reward_id: r.get(10)?,
        reverses: r.get(11)?,
        reason: r.get(12)?,
        at: r.get(13)?,
    }))
}

pub fn get_entry(conn: &Connection, id: &str) -> StoreResult<Option<LedgerEntry>> {
    conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM loyalty_ledger WHERE id = ?1"
    ))?
    .query_row([id], entry_from_row)
    .optional()?
    .transpose()
}

pub(crate) fn is_reversed(conn: &Connection, id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM loyalty_ledger WHERE reverses = ?1")?
        .exists([id])?)
}

/// A pass's ledger, oldest first.
pub fn history(conn: &Connection, pass_id: &str) -> StoreResult<Vec<LedgerEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM loyalty_ledger WHERE pass_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([pass_id], entry_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// Redemptions of a pass this node made since `since` that upstream has not seen yet. Found
/// through the ledger's (pass_id, seq) index: a pass has few entries, and a separate index
/// would cost every redemption another page write.
pub(crate) fn unsynced_redemptions_since(
    conn: &Connection,
    pass_id: &str,
    since: Timestamp,
) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM loyalty_ledger
             WHERE pass_id = ?1 AND kind = 'reward_redeem' AND synced_at IS NULL AND at >= ?2",
        )?
        .query_row(params![pass_id, since], |r| r.get(0))?)
}

/// A pass whose cached account differs from the fold of its ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub pass_id: String,
    pub cached: Account,
    pub ledger: Account,
}

/// Recomputes every balance from the ledger and reports each pass whose cache differs.
pub fn verify(conn: &Connection) -> StoreResult<(u64, Vec<Drift>)> {
    let mut stmt = conn.prepare(
        "WITH folded AS (
             SELECT pass_id, sum(points) p, sum(stamps) s, sum(reserved_points) rp, sum(reserved_stamps) rs
             FROM loyalty_ledger GROUP BY pass_id)
         SELECT coalesce(a.pass_id, f.pass_id), a.points, a.stamps, a.reserved_points, a.reserved_stamps,
                f.p, f.s, f.rp, f.rs
         FROM loyalty_accounts a FULL OUTER JOIN folded f ON f.pass_id = a.pass_id",
    )?;
    let mut rows = stmt.query([])?;
    let (mut checked, mut drift) = (0u64, Vec::new());
    while let Some(r) = rows.next()? {
        checked += 1;
        let get =
            |i: usize| -> rusqlite::Result<i64> { Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0)) };
        let cached = Account {
            points: get(1)?,
            stamps: get(2)?,
            reserved_points: get(3)?,
            reserved_stamps: get(4)?,
        };
        let ledger = Account {
            points: get(5)?,
            stamps: get(6)?,
            reserved_points: get(7)?,
            reserved_stamps: get(8)?,
        };
        if cached != ledger {
            drift.push(Drift {
                pass_id: r.get(0)?,
                cached,
                ledger,
            });
        }
    }
    Ok((checked, drift))
}
