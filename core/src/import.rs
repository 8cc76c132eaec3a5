//! Import of PassEntry-shaped JSON lines: one JSON:API resource object per line.
//!
//! `{"id": "...", "type": "pass", "attributes": {...}}`, and also `passTemplate`, `event` and
//! `reader` objects so that a whole counter can be described in one file. The import is one
//! transaction: the first bad line aborts it with `line N: what is wrong` and the database is
//! left exactly as it was.

use crate::catalog;
use crate::local_day::TimeZone;
use crate::pass::{Barcode, Event, Pass, PassStatus, PassType, Template};
use crate::pass_store;
use crate::reader::{Direction, Reader, ReaderChanges};
use crate::scan::ScanValue;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Display;

/// The longest line an import accepts (a pass with a large passContent is a few KB).
pub const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("import aborted, nothing changed: {0}")]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub lines: usize,
    pub passes: usize,
    pub templates: usize,
    pub events: usize,
    pub readers: usize,
}

/// One parsed line.
#[derive(Debug, Clone)]
pub enum ImportRecord {
    Pass {
        pass: Box<Pass>,
        template_name: Option<String>,
        event_name: Option<String>,
    },
    Template(Template),
    Event(Event),
    Reader(Reader),
}

/// Imports all lines or none. `lines` yields each line's text or why it could not be read.
pub fn import_lines<I, E>(
    store: &mut Store,
    lines: I,
    now: Timestamp,
) -> Result<ImportSummary, ImportError>
where
    I: IntoIterator<Item = Result<String, E>>,
    E: Display,
{
    store.write(|tx| {
        let mut summary = ImportSummary::default();
        for (index, line) in lines.into_iter().enumerate() {
            let line_no = index + 1;
            let at_line = |message: String| ImportError::Line {
                line: line_no,
                message,
            };
            let text = line.map_err(|e| at_line(format!("cannot read: {e}")))?;
            summary.lines = line_no;
            let Some(record) = parse_line(&text, now).map_err(at_line)? else {
                continue;
            };
            apply(tx, record, now, &mut summary).map_err(|e| match e {
                ApplyError::Conflict(message) => at_line(message),
                ApplyError::Store(e) => ImportError::Store(e),
            })?;
        }
        Ok(summary)
    })
}

enum ApplyError {
    Conflict(String),
    Store(StoreError),
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

fn apply(
    conn: &rusqlite::Connection,
    record: ImportRecord,
    now: Timestamp,
    summary: &mut ImportSummary,
) -> Result<(), ApplyError> {
    match record {
        ImportRecord::Template(t) => {
            catalog::upsert_template(conn, &t, now)?;
            summary.templates += 1;
        }
        ImportRecord::Event(e) => {
            catalog::upsert_event(conn, &e, now)?;
            summary.events += 1;
        }
        ImportRecord::Reader(r) => {
            if let Some(event_id) = &r.event_id {
                if catalog::get_event(conn, event_id)?.is_none() {
                    return Err(ApplyError::Conflict(format!(
                        "reader {:?} names event {event_id:?}, which is not known (put the event line first)",
                        r.id
                    )));
                }
            }
            catalog::upsert_reader(conn, &r, now)?;
            summary.readers += 1;
        }
        ImportRecord::Pass {
            pass,
            template_name,
            event_name,
        } => {
            if catalog::get_template(conn, &pass.template_id)?.is_none() {
                let template = Template {
                    id: pass.template_id.clone(),
                    name: template_name.unwrap_or_else(|| pass.template_id.clone()),
                    pass_type: pass.pass_type.clone(),
                };
                catalog::upsert_template(conn, &template, now)?;
            }
            if let Some(event_id) = &pass.event_id {
                if catalog::get_event(conn, event_id)?.is_none() {
                    let event = Event {
                        id: event_id.clone(),
                        name: event_name.unwrap_or_else(|| event_id.clone()),
                        venue_name: None,
                        start_time: None,
                        end_time: None,
                        time_zone: "UTC".into(),
                    };
                    catalog::upsert_event(conn, &event, now)?;
                }
            }
            pass_store::upsert_pass(conn, &pass).map_err(|e| unique_conflict(conn, &pass, e))?;
            summary.passes += 1;
        }
    }
    Ok(())
}

/// Turns a unique-index failure into words: which value already belongs to which pass.
fn unique_conflict(conn: &rusqlite::Connection, pass: &Pass, e: StoreError) -> ApplyError {
    if !pass_store::is_constraint_violation(&e) {
        return ApplyError::Store(e);
    }
    match pass_store::owner_of_value(conn, pass) {
        Some(held) => ApplyError::Conflict(held.to_string()),
        None => ApplyError::Conflict(format!("pass {}: {e}", pass.id)),
    }
}

/// Parses one line. Blank lines are `Ok(None)`.
pub fn parse_line(text: &str, now: Timestamp) -> Result<Option<ImportRecord>, String> {
    if text.len() > MAX_LINE_BYTES {
        return Err(format!(
            "line is {} bytes; at most {MAX_LINE_BYTES}",
            text.len()
        ));
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    parse_resource(&obj, now).map(Some)
}

/// Parses one JSON:API resource object (`{"id", "type", "attributes"}`): a line's, or one item
/// of a PassEntry page's `data` (the upstream pull).
pub fn parse_resource(obj: &Map<String, Value>, now: Timestamp) -> Result<ImportRecord, String> {
    let id = required_id(obj)?;
    let kind = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err("type: expected a string".into()),
        None => {
            return Err(
                "type: missing (expected \"pass\", \"passTemplate\", \"event\" or \"reader\")"
                    .into(),
            )
        }
    };
    let empty = Map::new();
    let attrs = match obj.get("attributes") {
        Some(Value::Object(a)) => a,
        None | Some(Value::Null) if kind != "pass" => &empty,
        Some(_) => return Err("attributes: expected an object".into()),
        None => return Err("attributes: missing".into()),
    };
    let a = Attrs(attrs);
    Ok(match kind {
        "pass" => parse_pass(id, &a, now)?,
        "passTemplate" => ImportRecord::Template(Template {
            name: a.string("name")?.unwrap_or_else(|| id.clone()),
            pass_type: PassType::new(a.string("templateType")?.unwrap_or_else(|| PassType::GENERIC.into())),
            id,
        }),
        "event" => ImportRecord::Event(Event {
            name: a.string("name")?.ok_or("attributes.name: missing")?,
            venue_name: a.string("venueName")?,
            start_time: a.time_either("startTime", "startDatetime")?,
            end_time: a.time_either("endTime", "endDatetime")?,
            // Its gates count their day in this zone: an IANA name, checked here.
            time_zone: match a.string("timeZone")? {
                None => "UTC".into(),
                Some(z) => z
                    .parse::<TimeZone>()
                    .map_err(|e| format!("attributes.timeZone: {e}"))?
                    .name()
                    .to_owned(),
            },
            id,
        }),
        "reader" => {
            crate::scan::ReaderId::parse(&id).map_err(|e| format!("id: {e}"))?;
            let direction = a
                .string("direction")?
                .map(|d| d.parse::<Direction>())
                .transpose()
                .map_err(|e| format!("attributes.direction: {e}"))?;
            // A line describes the whole reader: what it leaves out is `unconfigured`'s (scan
            // only), as for a reader created through the API.
            let mut r = Reader::unconfigured(&id);
            r.apply(ReaderChanges {
                name: a.string("name")?,
                reader_type: a.string("readerType")?,
                event_id: a.string("eventUuid")?,
                direction,
                scan_enabled: a.bool("scanEnabled")?,
                redeem_enabled: a.bool("redeemEnabled")?,
                add_points_enabled: a.bool("addPointsEnabled")?,
                accept_ids: a.bool("acceptIds")?,
                exit_enabled: a.bool("exitEnabled")?,
            })
            .map_err(|e| format!("attributes.{}: {e}", e.field()))?;
            ImportRecord::Reader(r)
        }
        other => {
            return Err(format!(
                "type: unknown type {:?} (expected \"pass\", \"passTemplate\", \"event\" or \"reader\")",
                truncate(other)
            ))
        }
    })
}

fn parse_pass(id: String, a: &Attrs<'_>, now: Timestamp) -> Result<ImportRecord, String> {
    let status = match a.string("status")? {
        Some(s) => s
            .parse::<PassStatus>()
            .map_err(|e| format!("attributes.status: {e}"))?,
        None => PassStatus::Issued,
    };
    let template_id = a
        .string("passTemplateUuid")?
        .ok_or("attributes.passTemplateUuid: missing (every pass needs its template)")?;
    let barcode = match a.0.get("barcode") {
        None | Some(Value::Null) => None,
        Some(Value::Object(b)) => {
            let b = Attrs(b);
            let value = b
                .string("value")?
                .ok_or("attributes.barcode.value: missing")?;
            scannable(&value).map_err(|e| format!("attributes.barcode.value: {e}"))?;
            Some(Barcode {
                kind: b.string("type")?.unwrap_or_else(|| "qrCode".into()),
                value,
                display_text: b.bool("displayText")?.unwrap_or(false),
            })
        }
        Some(_) => return Err("attributes.barcode: expected an object or null".into()),
    };
    let nfc = a.string("nfc")?;
    if let Some(n) = &nfc {
        scannable(n).map_err(|e| format!("attributes.nfc: {e}"))?;
    }
    let pass_content = match a.0.get("passContent") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(_) => return Err("attributes.passContent: expected an object".into()),
    };
    let created_at = a.time("createdAt")?.unwrap_or(now);
    let pass = Pass {
        ext_id: a.string("extId")?,
        status,
        pass_type: PassType::new(
            a.string("passType")?
                .unwrap_or_else(|| PassType::GENERIC.into()),
        ),
        device_type: a.string("deviceType")?,
        template_id,
        event_id: a.string("eventUuid")?,
        barcode,
        nfc,
        group_tag: a.string("groupTag")?,
        pass_content,
        latest_message: a.string("latestMessage")?,
        created_at,
        updated_at: a.time("updatedAt")?.unwrap_or(now),
        added_at: a.time("addedAt")?,
        removed_at: a.time("removedAt")?,
        deactivated_at: a.time("deactivatedAt")?,
        expires_at: a.time("expiresAt")?,
        valid_from: a.time("validFrom")?,
        valid_until: a.time("validUntil")?,
        id,
    };
    if let (Some(from), Some(until)) = (pass.valid_from, pass.valid_until) {
        if from > until {
            return Err("attributes.validFrom is after validUntil".into());
        }
    }
    Ok(ImportRecord::Pass {
        pass: Box::new(pass),
        template_name: a.string("passTemplateName")?,
        event_name: a.string("eventName")?,
    })
}

/// A value stored for lookup must be one a reader can deliver.
fn scannable(value: &str) -> Result<(), String> {
    match ScanValue::parse(value.as_bytes()) {
        Ok(v) if v.as_str() == value => Ok(()),
        Ok(_) => Err("has surrounding whitespace".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn required_id(obj: &Map<String, Value>) -> Result<String, String> {
    match obj.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 128 && s.trim() == s => {
            Ok(s.clone())
        }
        Some(Value::String(s)) if s.len() > 128 => Err("id: longer than 128 characters".into()),
        Some(Value::String(_)) => Err("id: empty or has surrounding whitespace".into()),
        Some(_) => Err("id: expected a string".into()),
        None => Err("id: missing".into()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Typed access to an attributes object, with errors that name the field.
struct Attrs<'a>(&'a Map<String, Value>);

impl Attrs<'_> {
    fn string(&self, key: &str) -> Result<Option<String>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "attributes.{key}: expected a string, got {}",
                kind_of(other)
            )),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!(
                "attributes.{key}: expected true or false, got {}",
                kind_of(other)
            )),
        }
    }

    fn time(&self, key: &str) -> Result<Option<Timestamp>, String> {
        self.string(key)?
            .map(|s| Timestamp::parse_rfc3339(&s).map_err(|e| format!("attributes.{key}: {e}")))
            .transpose()
    }

    fn time_either(&self, key: &str, alias: &str) -> Result<Option<Timestamp>, String> {
        match self.time(key)? {
            Some(t) => Ok(Some(t)),
            None => self.time(alias),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
