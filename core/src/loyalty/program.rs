//! A loyalty program: how a template's passes earn points and stamps, and what they buy.

use super::LoyaltyError;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RewardUnit {
    Points,
    Stamps,
}

impl RewardUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Points => "points",
            Self::Stamps => "stamps",
        }
    }
}

impl FromStr for RewardUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "points" => Ok(Self::Points),
            "stamps" => Ok(Self::Stamps),
            other => Err(format!(
                "unknown reward unit {other:?} (expected points or stamps)"
            )),
        }
    }
}

/// What happens to stamps beyond a full card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StampOverflow {
    /// Extra stamps start the next card.
    #[default]
    Carry,
    /// A stamp that does not fit on the card is refused.
    Refuse,
}

impl StampOverflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Carry => "carry",
            Self::Refuse => "refuse",
        }
    }
}

impl FromStr for StampOverflow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "carry" => Ok(Self::Carry),
            "refuse" => Ok(Self::Refuse),
            other => Err(format!(
                "unknown stamp overflow {other:?} (expected carry or refuse)"
            )),
        }
    }
}

/// A reward a pass can claim once it holds `threshold` points or stamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub name: String,
    pub threshold: i64,
    pub unit: RewardUnit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Program {
    pub template_id: String,
    /// `points_per_unit` points for every `unit_minor` minor currency units spent (integers only:
    /// 1 point per 1000 pence is `points_per_unit = 1, unit_minor = 1000`).
    pub points_per_unit: i64,
    pub unit_minor: i64,
    /// Stamps per card; `None`: no card, stamps just add up.
    pub card_size: Option<i64>,
    pub stamp_overflow: StampOverflow,
    /// Earned points expire this many days after they were earned.
    pub expiry_days: Option<i64>,
    /// At most this many redemptions per pass per day while this node holds unsynced
    /// redemptions of that pass: the risk a counter takes offline.
    pub offline_redemptions_per_day: Option<i64>,
    pub tiers: Vec<Tier>,
}

impl Program {
    /// What a template without a program gets: a plain balance, as PassEntry keeps it.
    pub fn plain(template_id: &str) -> Self {
        Self {
            template_id: template_id.to_owned(),
            points_per_unit: 0,
            unit_minor: 100,
            card_size: None,
            stamp_overflow: StampOverflow::Carry,
            expiry_days: None,
            offline_redemptions_per_day: None,
            tiers: Vec::new(),
        }
    }

    pub fn validate(&self) -> Result<(), LoyaltyError> {
        let bad = |m: String| Err(LoyaltyError::InvalidProgram(m));
        if self.points_per_unit < 0 {
            return bad("points per unit cannot be negative".into());
        }
        if self.unit_minor <= 0 {
            return bad("the currency unit must be at least 1 minor unit".into());
        }
        if self.card_size.is_some_and(|s| s <= 0) {
            return bad("the card size must be at least 1".into());
        }
        if self.expiry_days.is_some_and(|d| d <= 0) {
            return bad("expiry must be at least 1 day".into());
        }
        if self.offline_redemptions_per_day.is_some_and(|d| d < 0) {
            return bad("offline redemptions per day cannot be negative".into());
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if t.name.trim().is_empty() || t.name.len() > 80 {
                return bad(format!("tier {}: a name of 1 to 80 characters", i + 1));
            }
            if t.threshold <= 0 {
                return bad(format!(
                    "tier {:?}: the threshold must be at least 1",
                    t.name
                ));
            }
            if self.tiers[..i].iter().any(|o| o.name == t.name) {
                return bad(format!("tier {:?} is named twice", t.name));
            }
        }
        Ok(())
    }

    /// Points for a purchase, rounded down. Errors on a negative amount or overflow.
    pub fn points_for_amount(&self, amount_minor: i64) -> Result<i64, LoyaltyError> {
        if amount_minor < 0 {
            return Err(LoyaltyError::InvalidAmount(format!(
                "a purchase amount cannot be negative ({amount_minor}); use reverse for a refund"
            )));
        }
        if self.points_per_unit == 0 {
            return Err(LoyaltyError::InvalidAmount(format!(
                "template {} has no points-per-unit rate: give points instead of an amount",
                self.template_id
            )));
        }
        let points = i128::from(amount_minor) * i128::from(self.points_per_unit)
            / i128::from(self.unit_minor);
        i64::try_from(points).map_err(|_| LoyaltyError::Overflow)
    }

    pub fn tier(&self, name: &str) -> Result<&Tier, LoyaltyError> {
        self.tiers
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| LoyaltyError::UnknownTier {
                tier: name.to_owned(),
                known: self.tiers.iter().map(|t| t.name.clone()).collect(),
            })
    }
}

pub fn set_program(conn: &Connection, p: &Program, at: Timestamp) -> Result<(), LoyaltyError> {
    p.validate()?;
    conn.execute(
        "INSERT INTO loyalty_programs (template_id, points_per_unit, unit_minor, card_size, stamp_overflow,
             expiry_days, offline_redemptions_per_day, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(template_id) DO UPDATE SET points_per_unit = excluded.points_per_unit,
             unit_minor = excluded.unit_minor, card_size = excluded.card_size,
             stamp_overflow = excluded.stamp_overflow, expiry_days = excluded.expiry_days,
             offline_redemptions_per_day = excluded.offline_redemptions_per_day,
             updated_at = excluded.updated_at",
        params![
            p.template_id,
            p.points_per_unit,
            p.unit_minor,
            p.card_size,
            p.stamp_overflow.as_str(),
            p.expiry_days,
            p.offline_redemptions_per_day,
            at
        ],
    )
    .map_err(StoreError::from)?;
    conn.execute(
        "DELETE FROM loyalty_tiers WHERE template_id = ?1",
        [&p.template_id],
    )
    .map_err(StoreError::from)?;
    for t in &p.tiers {
        conn.execute(
            "INSERT INTO loyalty_tiers (template_id, name, threshold, unit) VALUES (?1, ?2, ?3, ?4)",
            params![p.template_id, t.name, t.threshold, t.unit.as_str()],
        )
        .map_err(StoreError::from)?;
    }
    Ok(())
}

pub fn get_program(conn: &Connection, template_id: &str) -> StoreResult<Option<Program>> {
    let row = conn
        .prepare_cached(
            "SELECT points_per_unit, unit_minor, card_size, stamp_overflow, expiry_days,
                    offline_redemptions_per_day FROM loyalty_programs WHERE template_id = ?1",
        )?
        .query_row([template_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()?;
    let Some((ppu, unit, card, overflow, expiry, offline)) = row else {
        return Ok(None);
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "loyalty program",
        detail,
    };
    let mut tiers = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT name, threshold, unit FROM loyalty_tiers WHERE template_id = ?1 ORDER BY threshold, name",
    )?;
    let rows = stmt.query_map([template_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (name, threshold, unit) = row?;
        tiers.push(Tier {
            name,
            threshold,
            unit: unit.parse().map_err(corrupt)?,
        });
    }
    Ok(Some(Program {
        template_id: template_id.to_owned(),
        points_per_unit: ppu,
        unit_minor: unit,
        card_size: card,
        stamp_overflow: overflow.parse().map_err(corrupt)?,
        expiry_days: expiry,
        offline_redemptions_per_day: offline,
        tiers,
    }))
}
