//! Passes in the cache: write, find by any value a reader may see, list.

use crate::pass::{Barcode, Pass, PassStatus, PassType};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// Which of a pass's values a looked-up value was: the audit log and the UI say how a pass was
/// found, and the check-in rules tell a code read from the pass from a number a person typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum MatchedBy {
    Barcode,
    Nfc,
    PassId,
    ExtId,
    Token,
}

impl MatchedBy {
    /// A pass id or extId is not what a reader reads off a pass (that is its barcode or NFC
    /// value, which for PassEntry's own passes may well equal the id): it was typed, or copied
    /// from an email or a receipt.
    pub fn is_typed_id(self) -> bool {
        matches!(self, Self::PassId | Self::ExtId)
    }
}

/// A pass found by a value, and which of its values matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub pass: Pass,
    pub matched_by: MatchedBy,
}

/// Inserts or replaces a pass (import and sync write whole passes), and gives a new pass its
/// holder link ([`crate::holder_link`]).
pub fn upsert_pass(conn: &Connection, p: &Pass) -> StoreResult<()> {
    let content = serde_json::to_string(&p.pass_content).expect("a JSON map serialises");
    conn.prepare_cached(
        "INSERT INTO passes (id, ext_id, status, pass_type, device_type, template_id, event_id,
             barcode_type, barcode_value, barcode_display_text, nfc_value, group_tag, holder_name,
             pass_content, latest_message, created_at, updated_at, added_at, removed_at,
             deactivated_at, expires_at, valid_from, valid_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21, ?22, ?23)
         ON CONFLICT(id) DO UPDATE SET ext_id = excluded.ext_id, status = excluded.status,
             pass_type = excluded.pass_type, device_type = excluded.device_type,
             template_id = excluded.template_id, event_id = excluded.event_id,
             barcode_type = excluded.barcode_type, barcode_value = excluded.barcode_value,
             barcode_display_text = excluded.barcode_display_text, nfc_value = excluded.nfc_value,
             group_tag = excluded.group_tag, holder_name = excluded.holder_name,
             pass_content = excluded.pass_content, latest_message = excluded.latest_message,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             added_at = excluded.added_at, removed_at = excluded.removed_at,
             deactivated_at = excluded.deactivated_at, expires_at = excluded.expires_at,
             valid_from = excluded.valid_from, valid_until = excluded.valid_until",
    )?
    .execute(params![
        p.id,
        p.ext_id,
        p.status.as_str(),
        p.pass_type.as_str(),
        p.device_type,
        p.template_id,
        p.event_id,
        p.barcode.as_ref().map(|b| b.kind.as_str()),
        p.barcode.as_ref().map(|b| b.value.as_str()),
        p.barcode.as_ref().map(|b| b.display_text),
        p.nfc,
        p.group_tag,
        p.holder_name(),
        content,
        p.latest_message,
        p.created_at,
        p.updated_at,
        p.added_at,
        p.removed_at,
        p.deactivated_at,
        p.expires_at,
        p.valid_from,
        p.valid_until,
    ])?;
    // However a pass arrives (issued, imported, synced), its holder page has a link.
    crate::holder_link::ensure(conn, &p.id)?;
    Ok(())
}

const PASS_COLUMNS: &str = "id, ext_id, status, pass_type, device_type, template_id, event_id,
    barcode_type, barcode_value, barcode_display_text, nfc_value, group_tag, pass_content,
    latest_message, created_at, updated_at, added_at, removed_at, deactivated_at, expires_at,
    valid_from, valid_until";

/// A row read back; status and content are checked, since another tool may have written them.
fn pass_from_row(r: &Row<'_>) -> rusqlite::Result<Result<Pass, StoreError>> {
    let id: String = r.get(0)?;
    let status: String = r.get(2)?;
    let content: String = r.get(12)?;
    let barcode_value: Option<String> = r.get(8)?;
    let barcode = barcode_value.map(|value| -> rusqlite::Result<Barcode> {
        Ok(Barcode {
            kind: r
                .get::<_, Option<String>>(7)?
                .unwrap_or_else(|| "qrCode".into()),
            value,
            display_text: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
        })
    });
    let barcode = barcode.transpose()?;
    let status: PassStatus = match status.parse() {
        Ok(s) => s,
        Err(e) => {
            return Ok(Err(StoreError::Corrupt {
                what: "pass",
                detail: format!("pass {id}: {e}"),
            }))
        }
    };
    let pass_content = match serde_json::from_str(&content) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Err(StoreError::Corrupt {
                what: "pass",
                detail: format!("pass {id}: passContent is not a JSON object: {e}"),
            }))
        }
    };
    Ok(Ok(Pass {
        ext_id: r.get(1)?,
        status,
        pass_type: PassType::new(r.get::<_, String>(3)?),
        device_type: r.get(4)?,
        template_id: r.get(5)?,
        event_id: r.get(6)?,
        barcode,
        nfc: r.get(10)?,
        group_tag: r.get(11)?,
        pass_content,
        latest_message: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        added_at: r.get(16)?,
        removed_at: r.get(17)?,
        deactivated_at: r.get(18)?,
        expires_at: r.get(19)?,
        valid_from: r.get(20)?,
        valid_until: r.get(21)?,
        id,
    }))
}

/// The first pass that meets `condition` (a WHERE condition on `?1`, possibly followed by an
/// ORDER BY that says which is first).
fn query_one(conn: &Connection, condition: &str, value: &str) -> StoreResult<Option<Pass>> {
    let sql = format!("SELECT {PASS_COLUMNS} FROM passes WHERE {condition} LIMIT 1");
    conn.prepare_cached(&sql)?
        .query_row([value], pass_from_row)
        .optional()?
        .transpose()
}

pub fn get_pass(conn: &Connection, id: &str) -> StoreResult<Option<Pass>> {
    query_one(conn, "id = ?1", id)
}

/// The one lookup of a pass by a value from outside (a scan, a CLI argument, an API path):
/// its barcode value, NFC value, pass id or extId, in that order (the order of how often each
/// is what a reader sees; a value equal to one pass's barcode and another's id is a scan of the
/// first). Barcode and NFC values are unique; an extId is the provider's and may be reused, so
/// it finds the newest pass that carries it. Whether a typed id may admit is the check-in
/// rules' business (`MatchedBy::is_typed_id`), not the lookup's.
pub fn find(conn: &Connection, value: &str) -> StoreResult<Option<Found>> {
    for (condition, matched_by) in LOOKUPS {
        if let Some(pass) = query_one(conn, condition, value)? {
            return Ok(Some(Found { pass, matched_by }));
        }
    }
    Ok(None)
}

/// `find`'s lookups in order, each on an index.
const LOOKUPS: [(&str, MatchedBy); 4] = [
    ("barcode_value = ?1", MatchedBy::Barcode),
    ("nfc_value = ?1", MatchedBy::Nfc),
    ("id = ?1", MatchedBy::PassId),
    (
        "ext_id = ?1 ORDER BY created_at DESC, id DESC",
        MatchedBy::ExtId,
    ),
];

/// A value a reader sees on a pass that another pass already holds: what the unique indexes on
/// barcode and NFC values refuse, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeldElsewhere {
    #[error("barcode value {value:?} already belongs to pass {owner}")]
    Barcode { value: String, owner: String },
    #[error("nfc value {value:?} already belongs to pass {owner}")]
    Nfc { value: String, owner: String },
}

/// Which other pass holds one of `pass`'s unique values (its barcode first, then its NFC
/// value): the explanation of a write of `pass` that broke a unique index. `None` when no other
/// pass holds either, or the lookup itself fails (the caller then reports the write's own
/// error).
pub fn owner_of_value(conn: &Connection, pass: &Pass) -> Option<HeldElsewhere> {
    let owner = |column: &str, value: &str| -> Option<String> {
        conn.query_row(
            &format!("SELECT id FROM passes WHERE {column} = ?1 AND id != ?2"),
            [value, &pass.id],
            |r| r.get(0),
        )
        .ok()
    };
    if let Some(b) = &pass.barcode {
        if let Some(owner) = owner("barcode_value", &b.value) {
            let value = b.value.clone();
            return Some(HeldElsewhere::Barcode { value, owner });
        }
    }
    let n = pass.nfc.as_ref()?;
    let owner = owner("nfc_value", n)?;
    Some(HeldElsewhere::Nfc {
        value: n.clone(),
        owner,
    })
}

/// Whether a write failed on a constraint (a unique index, a foreign key, a check), not on the
/// database itself.
pub fn is_constraint_violation(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

/// Filters for listing passes; `None` fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct PassFilter {
    pub status: Option<PassStatus>,
    pub template_id: Option<String>,
    pub event_id: Option<String>,
    pub group_tag: Option<String>,
    pub device_type: Option<String>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    /// Matches holder name, email, extId, barcode or NFC value (case-insensitive substring).
    pub text: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

const FILTER_WHERE: &str = "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR template_id = ?2)
    AND (?3 IS NULL OR event_id = ?3) AND (?4 IS NULL OR group_tag = ?4)
    AND (?5 IS NULL OR holder_name LIKE ?5 OR ext_id LIKE ?5 OR barcode_value LIKE ?5
         OR nfc_value LIKE ?5 OR id LIKE ?5 OR json_extract(pass_content, '$.email') LIKE ?5)
    AND (?6 IS NULL OR device_type = ?6) AND (?7 IS NULL OR created_at > ?7)
    AND (?8 IS NULL OR created_at < ?8)";

impl PassFilter {
    fn params(&self) -> [Box<dyn rusqlite::ToSql + '_>; 8] {
        let text = self
            .text
            .as_ref()
            .map(|t| format!("%{}%", t.replace(['%', '_'], "")));
        [
            Box::new(self.status.map(|s| s.as_str())),
            Box::new(self.template_id.as_deref()),
            Box::new(self.event_id.as_deref()),
            Box::new(self.group_tag.as_deref()),
            Box::new(text),
            Box::new(self.device_type.as_deref()),
            Box::new(self.created_after),
            Box::new(self.created_before),
        ]
    }
}

pub fn list_passes(conn: &Connection, f: &PassFilter) -> StoreResult<Vec<Pass>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PASS_COLUMNS} FROM passes WHERE {FILTER_WHERE} ORDER BY created_at DESC, id LIMIT ?9 OFFSET ?10"
    ))?;
    let mut params: Vec<Box<dyn rusqlite::ToSql + '_>> = f.params().into_iter().collect();
    params.push(Box::new(f.limit));
    params.push(Box::new(f.offset));
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), pass_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// How many passes match the filter (ignoring limit and offset).
pub fn count_matching(conn: &Connection, f: &PassFilter) -> StoreResult<u64> {
    Ok(conn
        .prepare_cached(&format!("SELECT count(*) FROM passes WHERE {FILTER_WHERE}"))?
        .query_row(rusqlite::params_from_iter(f.params().iter()), |r| r.get(0))?)
}

pub fn count_passes(conn: &Connection) -> StoreResult<u64> {
    Ok(conn.query_row("SELECT count(*) FROM passes", [], |r| r.get(0))?)
}

/// Sets a pass's status (and `deactivatedAt` when voiding).
pub fn set_status(
    conn: &Connection,
    id: &str,
    status: PassStatus,
    at: Timestamp,
) -> StoreResult<bool> {
    let deactivated = matches!(status, PassStatus::Voided | PassStatus::Deactivated).then_some(at);
    let n = conn.execute(
        "UPDATE passes SET status = ?2, deactivated_at = coalesce(?3, deactivated_at), updated_at = ?4
         WHERE id = ?1",
        params![id, status.as_str(), deactivated, at],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The scan path runs these on a cache of a million passes: each must search an index,
    /// never scan the table.
    #[test]
    fn every_lookup_searches_an_index() {
        let store = Store::open_in_memory().unwrap();
        for (condition, by) in LOOKUPS {
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT {PASS_COLUMNS} FROM passes WHERE {condition} LIMIT 1"
            );
            let plan: Vec<String> = store
                .conn()
                .prepare(&sql)
                .unwrap()
                .query_map(["x"], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter()
                    .any(|step| step.starts_with("SEARCH passes USING INDEX")),
                "{by:?}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.starts_with("SCAN passes")),
                "{by:?}: {plan:?}"
            );
        }
    }
}
