//! Rewards: created from a tier (reserving its points or stamps), then redeemed once or deleted.

use super::ledger::LotShare;
use super::program::RewardUnit;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RewardStatus {
    Available,
    Redeemed,
    Deleted,
}

impl RewardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Redeemed => "redeemed",
            Self::Deleted => "deleted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reward {
    pub id: String,
    pub pass_id: String,
    pub tier_name: String,
    pub unit: RewardUnit,
    pub cost: i64,
    pub status: RewardStatus,
    pub created_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// Inserts a new reward with the points it took from each lot (`None` for a stamp reward), so
/// that deleting it can put them back where they came from.
pub(crate) fn insert(conn: &Connection, r: &Reward, taken: Option<&[LotShare]>) -> StoreResult<()> {
    // `[[seq, points], ...]`: a few bytes in a row that is written anyway.
    let taken = taken.map(|shares| {
        let pairs: Vec<(i64, i64)> = shares.iter().map(|s| (s.seq, s.points)).collect();
        serde_json::to_string(&pairs).expect("integer pairs serialise")
    });
    conn.prepare_cached(
        "INSERT INTO loyalty_rewards (id, pass_id, tier_name, unit, cost, status, created_at, closed_at, taken_lots)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![r.id, r.pass_id, r.tier_name, r.unit.as_str(), r.cost, r.status.as_str(), r.created_at, r.closed_at, taken])?;
    Ok(())
}

/// The points a reward took from each lot when it was created; `None` for a stamp reward, one
/// redeemed as it was created, and one created before this was recorded (migration 08).
pub(crate) fn taken_lots(conn: &Connection, id: &str) -> StoreResult<Option<Vec<LotShare>>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT taken_lots FROM loyalty_rewards WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    text.map(|t| {
        let pairs: Vec<(i64, i64)> = serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
            what: "reward",
            detail: format!("reward {id}: taken lots {t:?}: {e}"),
        })?;
        Ok(pairs
            .into_iter()
            .map(|(seq, points)| LotShare { seq, points })
            .collect())
    })
    .transpose()
}

/// Moves an available reward to `to`. Returns false when it was no longer available: the
/// guard that makes a reward redeemable exactly once.
pub(crate) fn close(
    conn: &Connection,
    id: &str,
    to: RewardStatus,
    at: Timestamp,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE loyalty_rewards SET status = ?2, closed_at = ?3 WHERE id = ?1 AND status = 'available'",
        )?
        .execute(params![id, to.as_str(), at])?;
    Ok(n == 1)
}

const COLUMNS: &str = "id, pass_id, tier_name, unit, cost, status, created_at, closed_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<Reward, StoreError>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "reward",
        detail,
    };
    let unit: String = r.get(3)?;
    let status: String = r.get(5)?;
    let unit = match unit.parse() {
        Ok(u) => u,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    let status = match status.as_str() {
        "available" => RewardStatus::Available,
        "redeemed" => RewardStatus::Redeemed,
        "deleted" => RewardStatus::Deleted,
        other => return Ok(Err(corrupt(format!("unknown reward status {other:?}")))),
    };
    Ok(Ok(Reward {
        id: r.get(0)?,
        pass_id: r.get(1)?,
        tier_name: r.get(2)?,
        unit,
        cost: r.get(4)?,
        status,
        created_at: r.get(6)?,
        closed_at: r.get(7)?,
    }))
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<Reward>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM loyalty_rewards WHERE id = ?1"
    ))?
    .query_row([id], from_row)
    .optional()?
    .transpose()
}

pub fn available(conn: &Connection, pass_id: &str) -> StoreResult<Vec<Reward>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM loyalty_rewards WHERE pass_id = ?1 AND status = 'available' ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([pass_id], from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}
