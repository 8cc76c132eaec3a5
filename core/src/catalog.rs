//! Templates, events, readers and check-in policies: the small tables every scan consults.

use crate::pass::{Event, PassType, Template};
use crate::policy::{CheckinPolicy, EntryMode, PolicyScope};
use crate::reader::{Direction, Reader, ReaderChanges, ReaderSettingError};
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
             add_points_enabled, accept_ids, exit_enabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, reader_type = excluded.reader_type,
             event_id = excluded.event_id, direction = excluded.direction,
             scan_enabled = excluded.scan_enabled, redeem_enabled = excluded.redeem_enabled,
             add_points_enabled = excluded.add_points_enabled, accept_ids = excluded.accept_ids,
             exit_enabled = excluded.exit_enabled, updated_at = excluded.updated_at",
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
        r.accept_ids,
        r.exit_enabled,
        at
    ])?;
    Ok(())
}

/// Registers an unknown reader the first time a scan names it, so the audit log and the status
/// screen show it: with `Reader::unconfigured`'s settings (scan only). Never changes a
/// configured reader.
pub fn register_reader_if_new(conn: &Connection, id: &str, at: Timestamp) -> StoreResult<Reader> {
    if let Some(r) = get_reader(conn, id)? {
        return Ok(r);
    }
    let r = Reader::unconfigured(id);
    upsert_reader(conn, &r, at)?;
    Ok(r)
}

/// Whether `save_reader` may create the reader, must find it, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Create it if missing, else change it (a PassEntry `POST /readers`).
    Upsert,
    /// Create a new reader only (`passdesk readers add`).
    Create,
    /// Change an existing reader only.
    Update,
}

/// Why a reader's settings were not saved.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("no reader {0:?}")]
    NotFound(String),
    #[error("reader {0:?} exists already")]
    Exists(String),
    #[error("no event {0:?}")]
    UnknownEvent(String),
    #[error(transparent)]
    Setting(#[from] ReaderSettingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReaderError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Creates or changes a reader (run it in a write transaction: it reads, then writes): a new
/// one starts from `Reader::unconfigured` (scan only), so a permission is on only when the
/// changes say so. The one way the API, the CLI and an import write a reader's settings.
pub fn save_reader(
    conn: &Connection,
    id: &str,
    changes: ReaderChanges,
    mode: SaveMode,
    at: Timestamp,
) -> Result<Reader, ReaderError> {
    let mut r = match (get_reader(conn, id)?, mode) {
        (Some(_), SaveMode::Create) => return Err(ReaderError::Exists(id.to_owned())),
        (Some(r), _) => r,
        (None, SaveMode::Update) => return Err(ReaderError::NotFound(id.to_owned())),
        (None, _) => Reader::unconfigured(id),
    };
    if let Some(e) = &changes.event_id {
        if get_event(conn, e)?.is_none() {
            return Err(ReaderError::UnknownEvent(e.clone()));
        }
    }
    r.apply(changes)?;
    upsert_reader(conn, &r, at)?;
    Ok(r)
}

const READER_COLUMNS: &str =
    "id, name, reader_type, event_id, direction, scan_enabled, redeem_enabled,
    add_points_enabled, accept_ids, exit_enabled";

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
        accept_ids: r.get(8)?,
        exit_enabled: r.get(9)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use include_dir::{include_dir, Dir};
    use rusqlite_migration::Migrations;

    static MIGRATIONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations");

    /// Migration 06 on readers written by the code before it: what each kind keeps.
    #[test]
    fn readers_auto_registered_before_06_lose_redeem_and_add_points() {
        let migrations = Migrations::from_directory(&MIGRATIONS).unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        migrations.to_version(&mut conn, 5).unwrap();
        conn.execute_batch(
            "INSERT INTO readers (id, name, direction, created_at, updated_at) VALUES
                 ('pos-7', 'pos-7', 'entry', 1000, 1000),      -- registered by its first scan
                 ('till-1', 'Till 1', 'entry', 2000, 2000),    -- configured, with a name
                 ('desk-2', 'desk-2', 'entry', 3000, 3000),    -- created by a manager, unnamed
                 ('pos-9', 'pos-9', 'entry', 4000, 4500),      -- registered, then edited
                 ('exit-1', 'Exit 1', 'exit', 5000, 5000);
             INSERT INTO scans (id, node_id, at, reader_id, medium, direction, value, value_len,
                 verdict, counted) VALUES
                 ('s1', 'n', 1000, 'pos-7', 'manual', 'entry', 'x', 1, 'reject', 0),
                 ('s2', 'n', 2000, 'till-1', 'manual', 'entry', 'x', 1, 'reject', 0),
                 ('s3', 'n', 3001, 'desk-2', 'manual', 'entry', 'x', 1, 'reject', 0),
                 ('s4', 'n', 4000, 'pos-9', 'manual', 'entry', 'x', 1, 'reject', 0);",
        )
        .unwrap();
        migrations.to_version(&mut conn, 6).unwrap();
        let perms = |id: &str| {
            let r = get_reader(&conn, id).unwrap().unwrap();
            (
                r.scan_enabled,
                r.redeem_enabled,
                r.add_points_enabled,
                r.accept_ids,
                r.exit_enabled,
            )
        };
        assert_eq!(perms("pos-7"), (true, false, false, false, false));
        assert_eq!(perms("till-1"), (true, true, true, false, false));
        assert_eq!(perms("desk-2"), (true, true, true, false, false));
        assert_eq!(perms("pos-9"), (true, true, true, false, false));
        assert_eq!(perms("exit-1"), (true, true, true, false, true));
        // New rows take the new defaults, and an exit reader without exit scans cannot exist.
        conn.execute(
            "INSERT INTO readers (id, name, created_at, updated_at) VALUES ('new', 'new', 1, 1)",
            [],
        )
        .unwrap();
        assert_eq!(perms("new"), (true, false, false, false, false));
        assert!(conn
            .execute(
                "UPDATE readers SET direction = 'exit', exit_enabled = 0 WHERE id = 'new'",
                [],
            )
            .is_err());
    }
}
