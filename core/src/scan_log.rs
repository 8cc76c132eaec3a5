//! The audit log of scans: every read, accepted or not, one row, never updated.
//!
//! Beside it, `scan_tally`: per reader and quarter hour, the scans that count (accepted /
//! rejected, a repeat tap not counted again), kept in the scan's own transaction. A gate's day
//! totals sum at most 96 of its rows instead of counting a busy day's 50,000 index entries
//! (measured: 8-17 ms on SQLite, over the 5 ms budget); every zone's midnight today falls on a
//! quarter hour, and a bound that does not is counted from the log itself.
//!
//! Other nodes' scans pulled from the hub (sync) are rows here too, under their own node id:
//! the entry rules count them, a pass's list and totals show them, and so does the list of
//! every scan. They have no tally row, and a reader id names one of this node's readers, so a
//! reader's list, every total but a pass's, and the duplicate window are this node's own.
//!
//! Every query here uses an index, for every combination of the filters the API offers (the
//! test `every_query_uses_an_index` reads their plans): `scans_pass (pass_id, seq)`,
//! `scans_reader_at (reader_id, at)`, `scans_at (at)`, and the tally's `(slot, reader_id)`.

use crate::decision::{Reason, Verdict};
use crate::local_day::{local_day, LocalDay, TimeZone};
use crate::reader::Direction;
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;

/// The tally's slot: a quarter hour, in ms.
pub const TALLY_SLOT_MS: i64 = 15 * 60 * 1000;

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanRecord {
    pub id: String,
    pub node_id: String,
    pub at: Timestamp,
    pub reader_id: String,
    pub medium: String,
    pub direction: Direction,
    pub value: String,
    pub value_len: u64,
    pub pass_id: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub detail: Option<String>,
    pub counted: bool,
    pub duplicate_of: Option<String>,
    pub via_token: bool,
    /// Validated by another system (a PassEntry reader offline, another counter software) and
    /// recorded here through `POST /scans/log`: the verdict is that system's, the entry rules
    /// count it like one of ours. Not a column: such a scan's medium is
    /// [`ELSEWHERE_MEDIUM`] (how it was read there is not known here), which sync carries too.
    pub validated_elsewhere: bool,
}

/// Writes a scan this node decided: its row, and its tally unless it repeats an earlier tap.
pub(crate) fn insert(conn: &Connection, s: &ScanRecord) -> StoreResult<()> {
    insert_row(
        conn,
        s,
        "INSERT INTO scans (id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
             verdict, reason, detail, counted, duplicate_of, via_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    if s.duplicate_of.is_none() {
        let (accepted, rejected) = match s.verdict {
            Verdict::Accept => (1, 0),
            Verdict::Reject => (0, 1),
        };
        conn.prepare_cached(
            "INSERT INTO scan_tally (slot, reader_id, accepted, rejected) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (slot, reader_id) DO UPDATE SET accepted = accepted + excluded.accepted,
                 rejected = rejected + excluded.rejected",
        )?
        .execute(params![
            s.at.unix_ms().div_euclid(TALLY_SLOT_MS),
            s.reader_id,
            accepted,
            rejected
        ])?;
    }
    Ok(())
}

/// Writes another node's scan (pulled from the hub) under its own id and node id, so the entry
/// rules count it here. No tally row: the tally is this counter's own readers' totals. A scan
/// already here (by id) is left as it is; `false` then.
pub(crate) fn insert_remote(conn: &Connection, s: &ScanRecord) -> StoreResult<bool> {
    insert_row(
        conn,
        s,
        "INSERT INTO scans (id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
             verdict, reason, detail, counted, duplicate_of, via_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT(id) DO NOTHING",
    )
    .map(|n| n == 1)
}

fn insert_row(conn: &Connection, s: &ScanRecord, sql: &str) -> StoreResult<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params![
        s.id,
        s.node_id,
        s.at,
        s.reader_id,
        s.medium,
        s.direction.as_str(),
        s.value,
        s.value_len,
        s.pass_id,
        s.verdict.as_str(),
        s.reason.map(Reason::as_str),
        s.detail,
        s.counted,
        s.duplicate_of,
        s.via_token,
    ])?)
}

macro_rules! scan_columns {
    () => {
        "id, node_id, at, reader_id, medium, direction, value, value_len, pass_id,
        verdict, reason, detail, counted, duplicate_of, via_token"
    };
}
const SCAN_COLUMNS: &str = scan_columns!();

// The scan path's reads: a pass's few rows, through `scans_pass`. In `RECENT_AT_READER` the `+`
// keeps SQLite there rather than on the reader's index (a busy gate's whole window).
const RECENT_AT_READER: &str = concat!(
    "SELECT ",
    scan_columns!(),
    " FROM scans WHERE pass_id = ?1 AND +reader_id = ?2 AND direction = ?3
       AND verdict = 'accept' AND duplicate_of IS NULL AND +at >= ?4 AND +at <= ?5
       AND +node_id = ?6
     ORDER BY seq DESC LIMIT 1"
);
const FIRST_COUNTED_ENTRY: &str = concat!(
    "SELECT ",
    scan_columns!(),
    " FROM scans WHERE pass_id = ?1 AND counted = 1 AND direction = 'entry' ORDER BY seq LIMIT 1"
);
const LAST_COUNTED: &str = concat!(
    "SELECT ",
    scan_columns!(),
    " FROM scans WHERE pass_id = ?1 AND counted = 1 ORDER BY seq DESC LIMIT 1"
);
const COUNTED_ENTRIES: &str =
    "SELECT count(*) FROM scans WHERE pass_id = ?1 AND counted = 1 AND direction = 'entry'";
const BY_ID: &str = concat!("SELECT ", scan_columns!(), " FROM scans WHERE id = ?1");

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<Result<ScanRecord, StoreError>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "scan",
        detail,
    };
    let medium: String = r.get(4)?;
    let direction: String = r.get(5)?;
    let verdict: String = r.get(9)?;
    let reason: Option<String> = r.get(10)?;
    let direction = match direction.parse() {
        Ok(d) => d,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    let verdict = match verdict.parse() {
        Ok(v) => v,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    let reason = match reason.map(|r| r.parse()).transpose() {
        Ok(r) => r,
        Err(e) => return Ok(Err(corrupt(e))),
    };
    Ok(Ok(ScanRecord {
        id: r.get(0)?,
        node_id: r.get(1)?,
        at: r.get(2)?,
        reader_id: r.get(3)?,
        validated_elsewhere: medium == ELSEWHERE_MEDIUM,
        medium,
        direction,
        value: r.get(6)?,
        value_len: r.get(7)?,
        pass_id: r.get(8)?,
        verdict,
        reason,
        detail: r.get(11)?,
        counted: r.get(12)?,
        duplicate_of: r.get(13)?,
        via_token: r.get(14)?,
    }))
}

fn query_opt(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Option<ScanRecord>> {
    conn.prepare_cached(sql)?
        .query_row(p, record_from_row)
        .optional()?
        .transpose()
}

/// The latest original (non-duplicate) accepted scan of a pass at one of this node's readers
/// (`node_id`: another node's reader of the same id is another reader), in a direction,
/// between `since` and `until`: the tap a repeated tap repeats. Rejects are not repeated: a
/// pass rejected a moment ago is judged afresh (the doors may have just opened).
pub(crate) fn recent_at_reader(
    conn: &Connection,
    pass_id: &str,
    node_id: &str,
    reader_id: &str,
    direction: Direction,
    since: Timestamp,
    until: Timestamp,
) -> StoreResult<Option<ScanRecord>> {
    query_opt(
        conn,
        RECENT_AT_READER,
        params![
            pass_id,
            reader_id,
            direction.as_str(),
            since,
            until,
            node_id
        ],
    )
}

/// The first counted entry of a pass (for "already used 19:42 at Gate B").
pub(crate) fn first_counted_entry(
    conn: &Connection,
    pass_id: &str,
) -> StoreResult<Option<ScanRecord>> {
    query_opt(conn, FIRST_COUNTED_ENTRY, [pass_id])
}

/// The latest counted admission of a pass, entry or exit.
pub(crate) fn last_counted(conn: &Connection, pass_id: &str) -> StoreResult<Option<ScanRecord>> {
    query_opt(conn, LAST_COUNTED, [pass_id])
}

pub(crate) fn counted_entries(conn: &Connection, pass_id: &str) -> StoreResult<u32> {
    Ok(conn
        .prepare_cached(COUNTED_ENTRIES)?
        .query_row([pass_id], |r| r.get(0))?)
}

/// A scan validated elsewhere (a PassEntry reader offline, another system), as the log takes it:
/// the other system's verdict, recorded here (`POST /scans/log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElsewhereScan<'a> {
    pub reader_id: &'a str,
    /// The pass the other system named (PassEntry's pass id, which is ours: provider ids are
    /// kept as given), if it named one.
    pub pass_ref: Option<&'a str>,
    /// What its reader read, if given.
    pub value: Option<&'a str>,
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    /// Its words for the verdict (PassEntry's `statusDetail`).
    pub detail: Option<&'a str>,
    pub at: Timestamp,
    /// What it did, in its words (PassEntry's `scanType`): carried to the outbox event.
    pub kind: &'a str,
    /// The loyalty change it made there (signed): carried to the outbox event, not applied here.
    pub balance_change: Option<i64>,
    /// When it reached this counter: the outbox event's time (`at` is the scan's own).
    pub logged_at: Timestamp,
}

/// What [`record_elsewhere`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub record: ScanRecord,
    /// The same scan was logged before (same reader, instant, value and verdict): that row,
    /// nothing written.
    pub replayed: bool,
    /// Whether the pass is in this counter's cache. An unknown one is recorded under the id
    /// given, so its entry counts once the pass arrives (a pull, a webhook).
    pub known_pass: bool,
}

/// The `passTapped` outbox event of a logged scan: the facts of a tap decided here (the same
/// names, so webhooks and sync read it alike), marked as validated elsewhere, with the other
/// system's words. A worker that tells another system of our scans skips these: that system
/// (or another) already knows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ElsewherePayload<'a> {
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
    matched_by: Option<&'a str>,
    validated_elsewhere: bool,
    scan_type: &'a str,
    status_detail: Option<&'a str>,
    balance_change: Option<i64>,
}

/// The medium of a scan validated elsewhere: how it was read there is not known here. It is
/// also what marks the row as validated elsewhere ([`ScanRecord::validated_elsewhere`]).
pub const ELSEWHERE_MEDIUM: &str = "elsewhere";

// The same scan logged again: one reader's instant, through `scans_reader_at`.
const LOGGED_BEFORE: &str = concat!(
    "SELECT ",
    scan_columns!(),
    " FROM scans WHERE reader_id = ?1 AND at = ?2 AND +medium = 'elsewhere' AND +value = ?3
       AND +verdict = ?4 AND +pass_id IS ?5 ORDER BY seq LIMIT 1"
);

/// Records a scan validated elsewhere in the caller's transaction: its row (marked
/// validated elsewhere by its medium, counted in the entry rules when successful), its tally and its
/// `passTapped` outbox event. The reader is registered scan only if new, like any reader id.
/// The same scan logged again (a retry: PassEntry has no idempotency key) answers the first
/// row and writes nothing.
pub fn record_elsewhere(
    conn: &Connection,
    node_id: &str,
    s: &ElsewhereScan<'_>,
) -> StoreResult<Logged> {
    let reader = crate::catalog::register_reader_if_new(conn, s.reader_id, s.logged_at)?;
    let found = match s.pass_ref {
        Some(r) => match crate::pass_store::get_pass(conn, r)? {
            Some(p) => Some(p.id),
            None => crate::pass_store::find(conn, r)?.map(|f| f.pass.id),
        },
        None => None,
    };
    let found = match (found, s.value) {
        (None, Some(v)) => crate::pass_store::find(conn, v)?.map(|f| f.pass.id),
        (found, _) => found,
    };
    let known_pass = found.is_some();
    let pass_id = found.or_else(|| s.pass_ref.map(str::to_owned));
    let raw = s.value.or(s.pass_ref).unwrap_or_default().as_bytes();
    let value = crate::scan::log_preview(raw);
    let before = query_opt(
        conn,
        LOGGED_BEFORE,
        params![s.reader_id, s.at, value, s.verdict.as_str(), pass_id],
    )?;
    if let Some(record) = before {
        return Ok(Logged {
            record,
            replayed: true,
            known_pass,
        });
    }
    let record = ScanRecord {
        id: uuid::Uuid::now_v7().to_string(),
        node_id: node_id.to_owned(),
        at: s.at,
        reader_id: reader.id.clone(),
        medium: ELSEWHERE_MEDIUM.to_owned(),
        direction: reader.direction,
        value,
        value_len: raw.len() as u64,
        pass_id,
        verdict: s.verdict,
        reason: s.reason,
        detail: s.detail.map(str::to_owned),
        counted: s.verdict == Verdict::Accept,
        duplicate_of: None,
        via_token: false,
        validated_elsewhere: true,
    };
    insert(conn, &record)?;
    let payload = ElsewherePayload {
        scan_id: &record.id,
        node_id,
        pass_id: record.pass_id.as_deref(),
        reader_id: &reader.id,
        reader_name: &reader.name,
        tapped_at: s.at,
        successful: s.verdict == Verdict::Accept,
        verdict: s.verdict,
        reason: s.reason,
        medium: ELSEWHERE_MEDIUM,
        direction: reader.direction,
        duplicate_of: None,
        matched_by: None,
        validated_elsewhere: true,
        scan_type: s.kind,
        status_detail: s.detail,
        balance_change: s.balance_change,
    };
    crate::outbox::append(
        conn,
        crate::outbox::topic::PASS_TAPPED,
        &record.id,
        &payload,
        s.logged_at,
    )?;
    Ok(Logged {
        record,
        replayed: false,
        known_pass,
    })
}

pub fn get(conn: &Connection, scan_id: &str) -> StoreResult<Option<ScanRecord>> {
    query_opt(conn, BY_ID, [scan_id])
}

#[derive(Debug, Clone, Default)]
pub struct ScanFilter {
    pub pass_id: Option<String>,
    pub reader_id: Option<String>,
    pub verdict: Option<Verdict>,
    /// Scans at or after this instant.
    pub since: Option<Timestamp>,
    /// Scans before this instant.
    pub until: Option<Timestamp>,
    pub limit: u32,
}

/// A filter's `WHERE` terms and their parameters. The SQL is built per combination of filters,
/// so that each gets a plan with an index (`?1 IS NULL OR pass_id = ?1` can use none). With a
/// pass the pass's index leads (a pass has few scans), and the other columns are written
/// `+column` so SQLite does not walk the reader's whole history in `at` order instead.
///
/// `own_node`: only this node's scans (`node_id` of the `node` row), not other nodes' pulled
/// from the hub. A reader id names one of this node's readers (another counter may have a
/// reader of the same id), and the tally that day totals sum counts this node's scans only.
fn where_terms(f: &ScanFilter, own_node: bool) -> (String, Vec<SqlValue>) {
    let plain = f.pass_id.is_none();
    let column = |c: &str| if plain { c.to_owned() } else { format!("+{c}") };
    let mut terms = Vec::new();
    let mut values = Vec::new();
    if let Some(p) = &f.pass_id {
        terms.push("pass_id = ?".to_owned());
        values.push(SqlValue::Text(p.clone()));
    }
    if let Some(r) = &f.reader_id {
        terms.push(format!("{} = ?", column("reader_id")));
        values.push(SqlValue::Text(r.clone()));
    }
    if let Some(v) = f.verdict {
        terms.push(format!("{} = ?", column("verdict")));
        values.push(SqlValue::Text(v.as_str().to_owned()));
    }
    if let Some(t) = f.since {
        terms.push(format!("{} >= ?", column("at")));
        values.push(SqlValue::Integer(t.unix_ms()));
    }
    if let Some(t) = f.until {
        terms.push(format!("{} < ?", column("at")));
        values.push(SqlValue::Integer(t.unix_ms()));
    }
    if own_node {
        // A store without an identity yet has no other node's scans either.
        terms.push("+node_id = coalesce((SELECT node_id FROM node), node_id)".to_owned());
    }
    let sql = if terms.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", terms.join(" AND "))
    };
    (sql, values)
}

/// A list by reader is that reader's (this node's); any other list is the log as this node
/// knows it, other nodes' scans pulled from the hub included.
fn list_sql(f: &ScanFilter) -> (String, Vec<SqlValue>) {
    let (terms, mut values) = where_terms(f, f.reader_id.is_some());
    values.push(SqlValue::Integer(i64::from(f.limit)));
    (
        format!("SELECT {SCAN_COLUMNS} FROM scans {terms} ORDER BY at DESC, seq DESC LIMIT ?"),
        values,
    )
}

/// Newest first (by the time of the scan; the log's order among scans of the same millisecond).
pub fn list(conn: &Connection, f: &ScanFilter) -> StoreResult<Vec<ScanRecord>> {
    let (sql, values) = list_sql(f);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), record_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// Scans matching the filter (its `limit` aside), a repeat inside the duplicate window not
/// counted again: what a gate's "admitted / refused today" shows, however busy the day was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub accepted: u64,
    pub rejected: u64,
}

impl Totals {
    fn plus(self, o: Totals) -> Totals {
        Totals {
            accepted: self.accepted + o.accepted,
            rejected: self.rejected + o.rejected,
        }
    }

    fn only(self, verdict: Option<Verdict>) -> Totals {
        match verdict {
            None => self,
            Some(Verdict::Accept) => Totals {
                rejected: 0,
                ..self
            },
            Some(Verdict::Reject) => Totals {
                accepted: 0,
                ..self
            },
        }
    }
}

/// By a pass: its rows. Otherwise the tally's whole quarter hours, and the log's rows for the
/// parts of a quarter hour at either end of the range.
pub fn totals(conn: &Connection, f: &ScanFilter) -> StoreResult<Totals> {
    let t = if f.pass_id.is_some() {
        count_rows(conn, f)?
    } else {
        tallied(conn, f.reader_id.as_deref(), f.since, f.until)?
    };
    Ok(t.only(f.verdict))
}

/// A pass's totals count every node's scans of it (its whole history as this node knows it);
/// any other count stands in for the tally (the ends of a range), which is this node's.
fn count_rows_sql(f: &ScanFilter) -> (String, Vec<SqlValue>) {
    let (terms, values) = where_terms(f, f.pass_id.is_none() || f.reader_id.is_some());
    let and = if terms.is_empty() { "WHERE" } else { "AND" };
    let sql = format!(
        "SELECT coalesce(sum(verdict = 'accept'), 0), coalesce(sum(verdict = 'reject'), 0)
         FROM scans {terms} {and} duplicate_of IS NULL"
    );
    (sql, values)
}

fn count_rows(conn: &Connection, f: &ScanFilter) -> StoreResult<Totals> {
    let (sql, values) = count_rows_sql(f);
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(values), |r| {
            Ok(Totals {
                accepted: r.get(0)?,
                rejected: r.get(1)?,
            })
        })?)
}

/// The tally's sum over slots `?1 <= slot < ?2`, at reader `?3` when `by_reader`.
fn tally_sql(by_reader: bool) -> &'static str {
    if by_reader {
        "SELECT coalesce(sum(accepted), 0), coalesce(sum(rejected), 0) FROM scan_tally
         WHERE slot >= ?1 AND slot < ?2 AND reader_id = ?3"
    } else {
        "SELECT coalesce(sum(accepted), 0), coalesce(sum(rejected), 0) FROM scan_tally
         WHERE slot >= ?1 AND slot < ?2"
    }
}

fn tallied(
    conn: &Connection,
    reader_id: Option<&str>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> StoreResult<Totals> {
    let slot_ms = |slot: i64| Timestamp::from_unix_ms(slot.saturating_mul(TALLY_SLOT_MS));
    // Whole slots: from the first that starts at or after `since`, to the one `until` is in.
    let first = since.map_or(i64::MIN, |t| {
        let ms = t.unix_ms();
        ms.div_euclid(TALLY_SLOT_MS) + i64::from(ms.rem_euclid(TALLY_SLOT_MS) != 0)
    });
    let last = until.map_or(i64::MAX, |t| t.unix_ms().div_euclid(TALLY_SLOT_MS));
    let rows = |since, until| {
        let f = ScanFilter {
            reader_id: reader_id.map(str::to_owned),
            since,
            until,
            ..ScanFilter::default()
        };
        count_rows(conn, &f)
    };
    if first >= last {
        return rows(since, until);
    }
    let mut values = vec![SqlValue::Integer(first), SqlValue::Integer(last)];
    values.extend(reader_id.map(|r| SqlValue::Text(r.to_owned())));
    let mut t = conn
        .prepare_cached(tally_sql(reader_id.is_some()))?
        .query_row(params_from_iter(values), |r| {
            Ok(Totals {
                accepted: r.get(0)?,
                rejected: r.get(1)?,
            })
        })?;
    if let Some(s) = since.filter(|s| *s < slot_ms(first)) {
        t = t.plus(rows(Some(s), Some(slot_ms(first)))?);
    }
    if let Some(u) = until.filter(|u| slot_ms(last) < *u) {
        t = t.plus(rows(Some(slot_ms(last)), Some(u))?);
    }
    Ok(t)
}

/// The day a reader counts in: the local day of its event's zone when it is bound to an event
/// (a festival gate counts the festival's day), else of the counter's zone. An event stored
/// with a zone that is no IANA name (accepted before names were checked) counts in the
/// counter's zone, with a warning.
pub fn day_at_reader(
    conn: &Connection,
    reader_id: Option<&str>,
    at: Timestamp,
    counter_zone: TimeZone,
) -> StoreResult<LocalDay> {
    let event_zone: Option<String> = match reader_id {
        None => None,
        Some(r) => conn
            .prepare_cached(
                "SELECT e.time_zone FROM readers r JOIN events e ON e.id = r.event_id WHERE r.id = ?1",
            )?
            .query_row([r], |row| row.get(0))
            .optional()?,
    };
    let zone = match event_zone.map(|z| z.parse::<TimeZone>()) {
        None => counter_zone,
        Some(Ok(z)) => z,
        Some(Err(e)) => {
            tracing::warn!(reader_id, error = %e, "the reader's event has no valid time zone; counting in the counter's");
            counter_zone
        }
    };
    Ok(local_day(at, zone))
}

/// One day at one reader (or at all of them): its totals and its latest scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayScans {
    pub day: LocalDay,
    pub totals: Totals,
    /// Newest first, at most the limit asked for.
    pub scans: Vec<ScanRecord>,
}

pub fn day_scans(
    conn: &Connection,
    reader_id: Option<&str>,
    day: LocalDay,
    limit: u32,
) -> StoreResult<DayScans> {
    let filter = ScanFilter {
        reader_id: reader_id.map(str::to_owned),
        since: Some(day.start),
        until: Some(day.end),
        limit,
        ..ScanFilter::default()
    };
    Ok(DayScans {
        day,
        totals: totals(conn, &filter)?,
        scans: list(conn, &filter)?,
    })
}

pub fn count(conn: &Connection) -> StoreResult<u64> {
    Ok(conn.query_row("SELECT count(*) FROM scans", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// SQLite's plan for `sql`, one line per step (`SEARCH scans USING INDEX …`).
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = vec![SqlValue::Null; stmt.parameter_count()];
        let rows = stmt
            .query_map(params_from_iter(unbound), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// No step reads a whole table without an index; `index`, when given, is the one used.
    fn assert_indexed(conn: &Connection, what: &str, sql: &str, index: Option<&str>) {
        let steps = plan(conn, sql);
        for step in &steps {
            let whole = (step.starts_with("SCAN scans") || step.starts_with("SCAN scan_tally"))
                && !step.contains(" USING ");
            assert!(!whole, "{what}: reads the whole table: {steps:?}\n{sql}");
        }
        if let Some(index) = index {
            assert!(
                steps.iter().any(|s| s.contains(&format!("INDEX {index} "))
                    || s.ends_with(&format!("INDEX {index}"))),
                "{what}: does not use {index}: {steps:?}\n{sql}"
            );
        }
    }

    #[test]
    fn every_query_uses_an_index() {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        let t = Some(Timestamp::from_unix_ms(1_800_000_000_000));
        for bits in 0..32u32 {
            let f = ScanFilter {
                pass_id: (bits & 1 != 0).then(|| "p".to_owned()),
                reader_id: (bits & 2 != 0).then(|| "gate-a".to_owned()),
                verdict: (bits & 4 != 0).then_some(Verdict::Reject),
                since: if bits & 8 != 0 { t } else { None },
                until: if bits & 16 != 0 { t } else { None },
                limit: 10,
            };
            let what = format!("{f:?}");
            let index = if f.pass_id.is_some() {
                "scans_pass"
            } else if f.reader_id.is_some() {
                "scans_reader_at"
            } else {
                "scans_at"
            };
            let (list, _) = list_sql(&f);
            assert_indexed(conn, &format!("list {what}"), &list, Some(index));
            if f.pass_id.is_none() {
                // Newest first straight off the index: a LIMIT stops the walk, nothing is sorted.
                let steps = plan(conn, &list);
                assert!(
                    !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                    "list {what} sorts: {steps:?}"
                );
            }
            // Totals count rows only by a pass, or for the ends of a range inside a quarter hour
            // (no verdict: `totals` applies it afterwards); else they sum the tally.
            let bounded = f.since.is_some() || f.until.is_some();
            if f.pass_id.is_some() || (f.verdict.is_none() && bounded) {
                let (count, _) = count_rows_sql(&f);
                assert_indexed(conn, &format!("count {what}"), &count, Some(index));
            }
        }
        for by_reader in [false, true] {
            assert_indexed(conn, "tally", tally_sql(by_reader), None);
        }
        for (what, sql) in [
            ("recent_at_reader", RECENT_AT_READER),
            ("first_counted_entry", FIRST_COUNTED_ENTRY),
            ("last_counted", LAST_COUNTED),
            ("counted_entries", COUNTED_ENTRIES),
        ] {
            assert_indexed(conn, what, sql, Some("scans_pass"));
        }
        assert_indexed(
            conn,
            "logged_before",
            LOGGED_BEFORE,
            Some("scans_reader_at"),
        );
        assert_indexed(conn, "get", BY_ID, None);
    }
}
