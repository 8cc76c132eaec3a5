//! Templates, events, readers and check-in policies: the small tables every scan consults.

use crate::pass::{Event, PassType, Template};
use crate::policy::{CheckinPolicy, EntryMode, PolicyScope};
use crate::reader::{Direction, Reader};
use crate::store::{StoreError, StoreResult};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

pub fn upsert_template(conn: &Connection, t: &Template, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO templates (id, name, pass_type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, pass_type = excluded.pass_type,
             updated_at = excluded.updated_at
         WHERE templates.name IS NOT excluded.name OR templates.pass_type IS NOT excluded.pass_type",
    )?
    .execute(params![t.id, t.name, t.pass_type.as_str(), at])?;
    Ok(())
}

pub fn get_template(conn: &Connection, id: &str) -> StoreResult<Option<Template>> {
    Ok(conn
        .prepare_cached("SELECT id, name, pass_type FROM templates WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(Template {
                id: r.get(0)?,
                name: r.get(1)?,
                pass_type: PassType::new(r.get::<_, String>(2)?),
            })
        })
        .optional()?)
}

pub fn list_templates(conn: &Connection) -> StoreResult<Vec<Template>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, pass_type FROM templates ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok(Template {
            id: r.get(0)?,
            name: r.get(1)?,
            pass_type: PassType::new(r.get::<_, String>(2)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn upsert_event(conn: &Connection, e: &Event, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO events (id, name, venue_name, start_time, end_time, time_zone, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, venue_name = excluded.venue_name,
             start_time = excluded.start_time, end_time = excluded.end_time,
             time_zone = excluded.time_zone, updated_at = excluded.updated_at",
    )?
    .execute(params![e.id, e.name, e.venue_name, e.start_time, e.end_time, e.time_zone, at])?;
    Ok(())
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        name: r.get(1)?,
        venue_name: r.get(2)?,
        start_time: r.get(3)?,
        end_time: r.get(4)?,
        time_zone: r.get(5)?,
    })
}

pub fn get_event(conn: &Connection, id: &str) -> StoreResult<Option<Event>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, venue_name, start_time, end_time, time_zone FROM events WHERE id = ?1",
        )?
        .query_row([id], event_from_row)
        .optional()?)
}

pub fn list_events(conn: &Connection) -> StoreResult<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, venue_name, start_time, end_time, time_zone FROM events ORDER BY start_time, name",
    )?;
    let rows = stmt.query_map([], event_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn upsert_reader(conn: &Connection, r: &Reader, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO readers (id, name, reader_type, event_id, direction, scan_enabled, redeem_enabled,
             add_points_enabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, reader_type = excluded.reader_type,
             event_id = excluded.event_id, direction = excluded.direction,
             scan_enabled = excluded.scan_enabled, redeem_enabled = excluded.redeem_enabled,
             add_points_enabled = excluded.add_points_enabled, updated_at = excluded.updated_at",
    )?
    .execute(params![
        r.id,
        r.name,
        r.reader_type,
        r.event_id,
        r.direction.as_str(),
        r.scan_enabled,
        r.redeem_enabled,
        r.add_points_enabled,
        at
    ])?;
    Ok(())
}

/// Registers a reader the first time a scan names it, so the audit log and the status screen
/// show it. Never changes a configured reader.
pub fn register_reader_if_new(conn: &Connection, r: &Reader, at: Timestamp) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO readers (id, name, reader_type, direction, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(id) DO NOTHING",
    )?
    .execute(params![
        r.id,
        r.name,
        r.reader_type,
        r.direction.as_str(),
        at
    ])?;
    Ok(())
}

const READER_COLUMNS: &str =
    "id, name, reader_type, event_id, direction, scan_enabled, redeem_enabled, add_points_enabled";

fn reader_from_row(r: &Row<'_>) -> rusqlite::Result<Reader> {
    let direction: String = r.get(4)?;
    Ok(Reader {
        id: r.get(0)?,
        name: r.get(1)?,
        reader_type: r.get(2)?,
        event_id: r.get(3)?,
        direction: if direction == "exit" {
            Direction::Exit
        } else {
            Direction::Entry
        },
        scan_enabled: r.get(5)?,
        redeem_enabled: r.get(6)?,
        add_points_enabled: r.get(7)?,
    })
}

pub fn get_reader(conn: &Connection, id: &str) -> StoreResult<Option<Reader>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {READER_COLUMNS} FROM readers WHERE id = ?1"
        ))?
        .query_row([id], reader_from_row)
        .optional()?)
}

pub fn list_readers(conn: &Connection) -> StoreResult<Vec<Reader>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {READER_COLUMNS} FROM readers ORDER BY id"))?;
    let rows = stmt.query_map([], reader_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets the policy of an event or a template (replacing any earlier one).
pub fn set_policy(conn: &Connection, p: &CheckinPolicy, at: Timestamp) -> StoreResult<()> {
    let (scope, scope_id) = p.scope.as_parts().ok_or(StoreError::Corrupt {
        what: "policy",
        detail: "the built-in default policy cannot be stored".into(),
    })?;
    let readers = p
        .allowed_readers
        .as_ref()
        .map(|r| serde_json::to_string(r).expect("strings serialise"));
    conn.prepare_cached(
        "INSERT INTO checkin_policies (scope, scope_id, entry_mode, max_entries, duplicate_window_ms,
             valid_from, valid_until, allowed_readers, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(scope, scope_id) DO UPDATE SET entry_mode = excluded.entry_mode,
             max_entries = excluded.max_entries, duplicate_window_ms = excluded.duplicate_window_ms,
             valid_from = excluded.valid_from, valid_until = excluded.valid_until,
             allowed_readers = excluded.allowed_readers, updated_at = excluded.updated_at",
    )?
    .execute(params![
        scope,
        scope_id,
        p.entry_mode.as_str(),
        p.max_entries,
        p.duplicate_window_ms,
        p.valid_from,
        p.valid_until,
        readers,
        at
    ])?;
    Ok(())
}

fn get_policy(conn: &Connection, scope: PolicyScope) -> StoreResult<Option<CheckinPolicy>> {
    let (scope_name, scope_id) = scope.as_parts().expect("stored scopes only");
    let row = conn
        .prepare_cached(
            "SELECT entry_mode, max_entries, duplicate_window_ms, valid_from, valid_until, allowed_readers
             FROM checkin_policies WHERE scope = ?1 AND scope_id = ?2",
        )?
        .query_row([scope_name, scope_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<u32>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<Timestamp>>(3)?,
                r.get::<_, Option<Timestamp>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .optional()?;
    let Some((mode, max_entries, window, valid_from, valid_until, readers)) = row else {
        return Ok(None);
    };
    let entry_mode: EntryMode = mode.parse().map_err(|detail| StoreError::Corrupt {
        what: "policy",
        detail,
    })?;
    let allowed_readers = readers
        .map(|json| serde_json::from_str::<Vec<String>>(&json))
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            what: "policy",
            detail: format!("allowed_readers: {e}"),
        })?;
    Ok(Some(CheckinPolicy {
        scope,
        entry_mode,
        max_entries,
        duplicate_window_ms: window,
        valid_from,
        valid_until,
        allowed_readers,
    }))
}

/// The policy that governs a pass: its event's, else its template's, else the default for its
/// pass type.
pub fn resolve_policy(
    conn: &Connection,
    event_id: Option<&str>,
    template_id: &str,
    pass_type: &PassType,
) -> StoreResult<CheckinPolicy> {
    if let Some(event_id) = event_id {
        if let Some(p) = get_policy(conn, PolicyScope::Event(event_id.to_owned()))? {
            return Ok(p);
        }
    }
    if let Some(p) = get_policy(conn, PolicyScope::Template(template_id.to_owned()))? {
        return Ok(p);
    }
    Ok(CheckinPolicy::default_for(pass_type))
}

pub fn list_policies(conn: &Connection) -> StoreResult<Vec<CheckinPolicy>> {
    let keys: Vec<(String, String)> = conn
        .prepare_cached("SELECT scope, scope_id FROM checkin_policies ORDER BY scope, scope_id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(keys.len());
    for (scope, id) in keys {
        let scope = if scope == "event" {
            PolicyScope::Event(id)
        } else {
            PolicyScope::Template(id)
        };
        out.extend(get_policy(conn, scope)?);
    }
    Ok(out)
}
