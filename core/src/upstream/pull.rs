//! The pull: every template, event and pass of the PassEntry account into the cache, page by
//! page, in cycles. Pure over SQLite: the worker asks PassEntry for the page this module says
//! is next and hands the parsed page back.
//!
//! - **Stages.** A cycle reads the templates, then the events, then the passes (each list page
//!   by page until its `meta` says it was the last), then sweeps.
//! - **Resumable.** Each page is applied in one transaction together with the progress (cycle,
//!   stage, next page), so a crash or an outage resumes at the page it reached.
//! - **PassEntry is the source of truth for pass fields.** A pulled pass replaces the cached
//!   one (a pass unchanged is not written again); its id is PassEntry's passId. Loyalty stays
//!   in the ledger: PassEntry's balance is only remembered (`upstream_passes.balance`) for the
//!   push's read-back.
//! - **The sweep.** Offset pages change under a pull (a pass deleted upstream shifts later
//!   passes back a page), so not being seen by one cycle proves nothing. At the end of a
//!   complete cycle every pass from PassEntry the cycle did not see is confirmed one by one
//!   (`GET /passes/{id}`): gone (404) → voided here, never deleted (its scans stay); found →
//!   kept and refreshed.

use super::page::{Item, Page};
use crate::import::ImportRecord;
use crate::outbox;
use crate::pass::{Event, Pass, PassStatus, Template};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use crate::{catalog, pass_store, passentry};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashSet;

/// Where a cycle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Templates,
    Events,
    Passes,
    Sweep,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Templates => "templates",
            Self::Events => "events",
            Self::Passes => "passes",
            Self::Sweep => "sweep",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "templates" => Ok(Self::Templates),
            "events" => Ok(Self::Events),
            "passes" => Ok(Self::Passes),
            "sweep" => Ok(Self::Sweep),
            other => Err(StoreError::Corrupt {
                what: "upstream pull state",
                detail: format!("unknown stage {other:?}"),
            }),
        }
    }

    /// The list a paged stage reads (`None` for the sweep).
    pub fn kind(self) -> Option<super::page::Kind> {
        use super::page::Kind;
        match self {
            Self::Templates => Some(Kind::Template),
            Self::Events => Some(Kind::Event),
            Self::Passes => Some(Kind::Pass),
            Self::Sweep => None,
        }
    }

    fn after(self) -> Self {
        match self {
            Self::Templates => Self::Events,
            Self::Events => Self::Passes,
            Self::Passes | Self::Sweep => Self::Sweep,
        }
    }
}

/// The pull's position: the cycle, its stage, the next page of that stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub cycle: i64,
    pub stage: Stage,
    pub page: u64,
}

/// The pull in progress, if any.
pub fn in_progress(conn: &Connection) -> StoreResult<Option<Position>> {
    let row: Option<(i64, Option<String>, i64)> = conn
        .prepare_cached("SELECT cycle, pull_stage, pull_page FROM upstream_state WHERE one = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match row {
        Some((cycle, Some(stage), page)) => Ok(Some(Position {
            cycle,
            stage: Stage::parse(&stage)?,
            page: page.max(1) as u64,
        })),
        _ => Ok(None),
    }
}

/// The pull to run: the one in progress (resumed where it stopped), else a new cycle started
/// at `at`.
pub fn begin(conn: &Connection, at: Timestamp) -> StoreResult<Position> {
    if let Some(p) = in_progress(conn)? {
        return Ok(p);
    }
    conn.prepare_cached(
        "UPDATE upstream_state SET cycle = cycle + 1, pull_stage = 'templates', pull_page = 1,
             pull_started_at = ?1, cycle_pages = 0, cycle_passes = 0, cycle_templates = 0,
             cycle_events = 0, cycle_voided = 0, cycle_skipped = 0
         WHERE one = 1",
    )?
    .execute([at])?;
    in_progress(conn)?.ok_or_else(|| StoreError::Corrupt {
        what: "upstream pull state",
        detail: "the pull did not start".into(),
    })
}

/// What one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageApplied {
    pub passes: u64,
    pub templates: u64,
    pub events: u64,
    /// Passes written (new or changed); the rest were as cached already.
    pub written: u64,
    /// Passes not taken: their barcode or NFC value belongs to another pass here.
    pub skipped: u64,
}

/// Why a page was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored progress is not where this page belongs (another `passdesk upstream pull`
    /// moved it meanwhile): nothing applied; ask the progress again.
    #[error("the pull moved on meanwhile (now at {0}); this page was not applied")]
    Moved(String),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Applies page `at.page` of `at.stage` and moves the progress past it, in the caller's
/// transaction. Returns what it did and the next position.
pub fn apply_page(
    conn: &Connection,
    at: Position,
    page: &Page,
    now: Timestamp,
) -> Result<(PageApplied, Position), ApplyError> {
    let stored = in_progress(conn)?;
    if stored != Some(at) {
        return Err(ApplyError::Moved(stored.map_or("no pull".into(), |p| {
            format!("cycle {} {} page {}", p.cycle, p.stage.as_str(), p.page)
        })));
    }
    let mut done = PageApplied::default();
    let mut known = KnownCatalog::default();
    for item in &page.items {
        apply_item(conn, at.cycle, item, now, &mut known, &mut done)?;
    }
    let next = if page.meta.is_last() {
        Position {
            cycle: at.cycle,
            stage: at.stage.after(),
            page: 1,
        }
    } else {
        Position {
            page: at.page + 1,
            ..at
        }
    };
    conn.prepare_cached(
        "UPDATE upstream_state SET pull_stage = ?1, pull_page = ?2, cycle_pages = cycle_pages + 1,
             cycle_passes = cycle_passes + ?3, cycle_templates = cycle_templates + ?4,
             cycle_events = cycle_events + ?5, cycle_skipped = cycle_skipped + ?6
         WHERE one = 1",
    )?
    .execute(params![
        next.stage.as_str(),
        next.page as i64,
        done.passes as i64,
        done.templates as i64,
        done.events as i64,
        done.skipped as i64
    ])?;
    Ok((done, next))
}

/// Template and event ids known to exist in this transaction, so a page of passes asks the
/// catalog once per template, not once per pass.
#[derive(Default)]
struct KnownCatalog {
    templates: HashSet<String>,
    events: HashSet<String>,
}

fn apply_item(
    conn: &Connection,
    cycle: i64,
    item: &Item,
    now: Timestamp,
    known: &mut KnownCatalog,
    done: &mut PageApplied,
) -> StoreResult<()> {
    match &item.record {
        ImportRecord::Template(t) => {
            catalog::upsert_template(conn, t, now)?;
            known.templates.insert(t.id.clone());
            done.templates += 1;
        }
        ImportRecord::Event(e) => {
            catalog::upsert_event(conn, e, now)?;
            known.events.insert(e.id.clone());
            done.events += 1;
        }
        // A list of passes holds passes only (`page::parse` checks every item's type).
        ImportRecord::Reader(_) => {}
        ImportRecord::Pass {
            pass,
            template_name,
            event_name,
        } => {
            ensure_catalog(
                conn,
                pass,
                template_name.as_deref(),
                event_name.as_deref(),
                now,
                known,
            )?;
            done.passes += 1;
            match write_pass(conn, pass)? {
                Written::Yes => done.written += 1,
                Written::Unchanged => {}
                Written::Conflict => {
                    done.skipped += 1;
                    return Ok(());
                }
            }
            conn.prepare_cached(
                "INSERT INTO upstream_passes (pass_id, seen_cycle, balance) VALUES (?1, ?2, ?3)
                 ON CONFLICT (pass_id) DO UPDATE SET seen_cycle = excluded.seen_cycle,
                     balance = coalesce(excluded.balance, balance), gone_at = NULL",
            )?
            .execute(params![pass.id, cycle, item.balance])?;
        }
    }
    Ok(())
}

/// A pass PassEntry told us of by webhook (`passCreated`, `passUpdated`) is PassEntry's before
/// the next pull lists it: remembered now, as seen by the latest cycle, so scans of it go up to
/// PassEntry from the first one (the queue sends only passes PassEntry has).
pub fn remember_hooked_pass(conn: &Connection, pass_id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO upstream_passes (pass_id, seen_cycle)
         SELECT ?1, cycle FROM upstream_state WHERE one = 1
         ON CONFLICT (pass_id) DO UPDATE SET gone_at = NULL",
    )?
    .execute(params![pass_id])?;
    Ok(())
}

/// A pass names a template (and maybe an event) the catalog may not have yet: made from the
/// names the pass carries, as the import does. One the catalog has is left as it is.
fn ensure_catalog(
    conn: &Connection,
    pass: &Pass,
    template_name: Option<&str>,
    event_name: Option<&str>,
    now: Timestamp,
    known: &mut KnownCatalog,
) -> StoreResult<()> {
    if !known.templates.contains(&pass.template_id) {
        if catalog::get_template(conn, &pass.template_id)?.is_none() {
            let template = Template {
                id: pass.template_id.clone(),
                name: template_name.unwrap_or(&pass.template_id).to_owned(),
                pass_type: pass.pass_type.clone(),
            };
            catalog::upsert_template(conn, &template, now)?;
        }
        known.templates.insert(pass.template_id.clone());
    }
    if let Some(event_id) = &pass.event_id {
        if !known.events.contains(event_id) {
            if catalog::get_event(conn, event_id)?.is_none() {
                let event = Event {
                    id: event_id.clone(),
                    name: event_name.unwrap_or(event_id).to_owned(),
                    venue_name: None,
                    start_time: None,
                    end_time: None,
                    time_zone: "UTC".into(),
                };
                catalog::upsert_event(conn, &event, now)?;
            }
            known.events.insert(event_id.clone());
        }
    }
    Ok(())
}

enum Written {
    Yes,
    Unchanged,
    /// Its barcode or NFC value is another pass's here: not taken (counted as skipped).
    Conflict,
}

/// Writes a pulled pass unless the cache holds it as it is (a pass without `updatedAt` takes
/// the pull's time, which alone is no change).
fn write_pass(conn: &Connection, pulled: &Pass) -> StoreResult<Written> {
    let mut pass = pulled.clone();
    if let Some(cached) = pass_store::get_pass(conn, &pass.id)? {
        // A void stays a void: a manager voided this pass here for a reason PassEntry may not
        // know (a pass voided at another counter and pulled from the hub stays voided the same
        // way). PassEntry's other fields still apply.
        if cached.is_voided() && !pass.is_voided() {
            pass.status = cached.status;
            pass.deactivated_at = cached.deactivated_at;
        }
        let as_cached = Pass {
            updated_at: cached.updated_at,
            ..pass.clone()
        };
        if as_cached == cached {
            return Ok(Written::Unchanged);
        }
    }
    match pass_store::upsert_pass(conn, &pass) {
        Ok(()) => Ok(Written::Yes),
        // SQLite undoes the failed statement alone: the page's other passes stay.
        Err(e) if pass_store::is_constraint_violation(&e) => Ok(Written::Conflict),
        Err(e) => Err(e),
    }
}

/// The passes from PassEntry that cycle `cycle` has not seen (and that are not known gone),
/// at most `limit`: what the sweep confirms one by one.
pub fn sweep_candidates(conn: &Connection, cycle: i64, limit: u32) -> StoreResult<Vec<String>> {
    let ids = conn
        .prepare_cached(
            "SELECT pass_id FROM upstream_passes INDEXED BY upstream_passes_seen
             WHERE gone_at IS NULL AND seen_cycle < ?1 ORDER BY seen_cycle LIMIT ?2",
        )?
        .query_map(params![cycle, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Sweep candidate `pass_id`, which PassEntry still has: kept, refreshed from its answer, and
/// seen by `cycle` (even when its values clash with another pass here, or the answer names
/// another id: it is no candidate again this cycle).
pub fn confirm_kept(
    conn: &Connection,
    cycle: i64,
    pass_id: &str,
    item: &Item,
    now: Timestamp,
) -> StoreResult<()> {
    let mut known = KnownCatalog::default();
    let mut done = PageApplied::default();
    apply_item(conn, cycle, item, now, &mut known, &mut done)?;
    conn.prepare_cached("UPDATE upstream_passes SET seen_cycle = ?2 WHERE pass_id = ?1")?
        .execute(params![pass_id, cycle])?;
    Ok(())
}

/// A sweep candidate PassEntry answers 404 for: voided here (never deleted: its scans stay),
/// with a `passVoided` event so webhooks and the hub hear of it; marked gone.
pub fn confirm_gone(conn: &Connection, pass_id: &str, at: Timestamp) -> StoreResult<bool> {
    let voided = match pass_store::get_pass(conn, pass_id)? {
        Some(mut pass) if !pass.is_voided() => {
            pass_store::set_status(conn, pass_id, PassStatus::Voided, at)?;
            pass.status = PassStatus::Voided;
            pass.deactivated_at = Some(at);
            pass.updated_at = at;
            outbox::append(
                conn,
                outbox::topic::PASS_VOIDED,
                pass_id,
                &passentry::pass_resource(&pass, None, None),
                at,
            )?;
            true
        }
        _ => false,
    };
    conn.prepare_cached("UPDATE upstream_passes SET gone_at = ?2 WHERE pass_id = ?1")?
        .execute(params![pass_id, at])?;
    conn.prepare_cached(
        "UPDATE upstream_state SET cycle_voided = cycle_voided + ?1 WHERE one = 1",
    )?
    .execute([i64::from(voided)])?;
    Ok(voided)
}

/// What a complete cycle did (`passdesk upstream pull` prints it; `seconds` is the caller's
/// measure of its own run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullSummary {
    pub passes: u64,
    pub pages: u64,
    pub templates: u64,
    pub events: u64,
    pub voided: u64,
    /// Passes not taken because a value of theirs is another pass's here.
    pub skipped: u64,
    pub seconds: f64,
}

/// Ends cycle `cycle` (its sweep found no candidate left): the last pull's time and count
/// kept, no pull in progress. A cycle another process ended already is left as it is, and its
/// summary read back (zeros once a newer cycle has started).
pub fn finish(conn: &Connection, cycle: i64, at: Timestamp) -> StoreResult<PullSummary> {
    type Row = (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<Timestamp>,
        Option<String>,
        i64,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT cycle_passes, cycle_pages, cycle_templates, cycle_events, cycle_voided,
                 cycle_skipped, pull_started_at, pull_stage, coalesce(last_pull_ms, 0)
             FROM upstream_state WHERE one = 1 AND cycle = ?1",
        )?
        .query_row([cycle], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let Some((passes, pages, templates, events, voided, skipped, started, stage, last_ms)) = row
    else {
        return Ok(PullSummary::default());
    };
    let ms = if stage.as_deref() == Some(Stage::Sweep.as_str()) {
        let ms = started.map_or(0, |s| (at.unix_ms() - s.unix_ms()).max(0));
        conn.prepare_cached(
            "UPDATE upstream_state SET pull_stage = NULL, pull_page = 1, last_pull_at = ?1,
                 last_pull_passes = ?2, last_pull_ms = ?3
             WHERE one = 1",
        )?
        .execute(params![at, passes, ms])?;
        ms
    } else {
        last_ms
    };
    let n = |v: i64| v.max(0) as u64;
    Ok(PullSummary {
        passes: n(passes),
        pages: n(pages),
        templates: n(templates),
        events: n(events),
        voided: n(voided),
        skipped: n(skipped),
        seconds: ms as f64 / 1000.0,
    })
}

/// When the next scheduled pull is due: `every_ms` after the last complete one; `None` when it
/// is due now (none was ever made, or one is in progress: it resumes).
pub fn next_due(conn: &Connection, every_ms: i64) -> StoreResult<Option<Timestamp>> {
    let (last, stage): (Option<Timestamp>, Option<String>) = conn
        .prepare_cached("SELECT last_pull_at, pull_stage FROM upstream_state WHERE one = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(match (last, stage) {
        (_, Some(_)) | (None, _) => None,
        (Some(last), None) => Some(last.plus_ms(every_ms)),
    })
}
