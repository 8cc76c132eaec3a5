//! One provider event applied to the cache, in the caller's transaction: the dedup table first
//! (a repeat changes nothing), then the pass, its outbox event (so webhooks out and the hub
//! hear of it like any pass change) and the event's row in `hook_events`, or nothing at all.
//!
//! What each change does:
//! - installed: `addedAt` the event's time, `removedAt` cleared, status `active` (from issued or
//!   removed; a voided, deactivated or expired pass keeps its status); the device type if given.
//!   An installation older than the pass's `removedAt` arrived late (a retry) and changes
//!   nothing.
//! - removed: `removedAt`, status `removed` (from issued or active). A removal older than the
//!   pass's `addedAt` arrived late and changes nothing.
//! - created: a new pass with the provider's id, its barcode, template, holder and dates; a
//!   pass the cache already has (by any value) is updated instead. An unknown template is
//!   created plain (the name given, else its id; the pass's type, else generic), as an import
//!   does: refusing would lose a pass the provider made, and its retries would be refused the
//!   same. A payload that names no template puts the pass under `{provider}-passes`. An unknown
//!   event is created plain likewise.
//! - updated: the fields the payload carries; a status it carries is the pass's (voided or
//!   deactivated: `deactivatedAt` set; any other: cleared).
//! - voided: status voided, `deactivatedAt` the event's time (or now): the next scan is
//!   refused. An already voided pass is left as it is.
//! - tapped: a tap at the provider's reader, recorded in the hook log only: no scan row (the
//!   scan log is this counter's own decisions, and the tap was decided elsewhere).
//! - noted: nothing changes; the row records why.
//!
//! An event about a pass the cache does not have (other than created, and noted) is
//! [`ApplyError::UnknownPass`] and changes nothing.

use super::{Change, Content, EventRef, HookEvent, PassData, Provider, TemplateRef};
use crate::catalog;
use crate::outbox::{self, topic};
use crate::pass::{Event, Pass, PassStatus, PassType, Template};
use crate::pass_store;
use crate::passentry::pass_resource;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Applied now.
    Done {
        /// `installed`, `removed`, `tapped`, `created`, `updated`, `voided`, `noted`.
        outcome: &'static str,
        pass_id: Option<String>,
        /// Whether the pass changed (and an outbox event was written).
        changed: bool,
    },
    /// Applied before (the same provider and dedup key): nothing changed now.
    Repeat {
        outcome: String,
        pass_id: Option<String>,
        received_at: Timestamp,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no pass {0:?} in the cache")]
    UnknownPass(String),
    /// A barcode or NFC value the payload gives belongs to another pass.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl ApplyError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPass(_) => "unknown_pass",
            Self::Conflict(_) => "duplicate_value",
            Self::Store(_) => "internal",
        }
    }
}

/// Applies `event` in one `BEGIN IMMEDIATE` transaction of `store`, received at `now`.
pub fn apply(store: &mut Store, event: &HookEvent, now: Timestamp) -> Result<Applied, ApplyError> {
    store.write(|tx| apply_in(tx, event, now))
}

/// Applies `event` inside the caller's transaction (which rolls back on an error).
pub fn apply_in(
    conn: &Connection,
    event: &HookEvent,
    now: Timestamp,
) -> Result<Applied, ApplyError> {
    if let Some(repeat) = recall(conn, event.provider, &event.dedup_key)? {
        return Ok(repeat);
    }
    let found = match &event.pass {
        Some(r) => pass_store::find(conn, r.as_str())?.map(|f| f.pass),
        None => None,
    };
    let unknown = || {
        ApplyError::UnknownPass(
            event
                .pass
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        )
    };
    let mut detail = None;
    let (outcome, pass_id, changed) = match &event.change {
        Change::Noted { why } => {
            detail = Some(json!({ "why": why }));
            ("noted", found.map(|p| p.id), false)
        }
        Change::Tapped(tap) => {
            let pass = found.ok_or_else(unknown)?;
            detail = Some(serde_json::to_value(tap).expect("a tap serialises"));
            ("tapped", Some(pass.id), false)
        }
        Change::Created(data) => match found {
            Some(pass) => {
                let changed = update(conn, pass, data, now)?;
                ("updated", Some(changed), true)
            }
            None => {
                let id = create(conn, data, event.provider, now)?;
                ("created", Some(id), true)
            }
        },
        Change::Updated(data) => {
            let pass = found.ok_or_else(unknown)?;
            let id = update(conn, pass, data, now)?;
            ("updated", Some(id), true)
        }
        Change::Installed { at, device_type } => {
            let mut pass = found.ok_or_else(unknown)?;
            let t = at.unwrap_or(now);
            if pass.removed_at.is_some_and(|removed| removed > t) {
                detail = Some(
                    json!({ "why": format!("installed at {t}, before its removal at {}: a late delivery, ignored", pass.removed_at.expect("checked")) }),
                );
                ("installed", Some(pass.id), false)
            } else {
                pass.added_at = Some(t);
                pass.removed_at = None;
                if matches!(pass.status, PassStatus::Issued | PassStatus::Removed) {
                    pass.status = PassStatus::Active;
                }
                if let Some(d) = device_type {
                    pass.device_type = Some(d.clone());
                }
                pass.updated_at = now;
                write_pass(conn, &pass, topic::PASS_UPDATED, now)?;
                ("installed", Some(pass.id), true)
            }
        }
        Change::Removed { at } => {
            let mut pass = found.ok_or_else(unknown)?;
            let t = at.unwrap_or(now);
            if pass.added_at.is_some_and(|added| added > t) {
                detail = Some(
                    json!({ "why": format!("removed at {t}, before its installation at {}: a late delivery, ignored", pass.added_at.expect("checked")) }),
                );
                ("removed", Some(pass.id), false)
            } else {
                pass.removed_at = Some(t);
                if matches!(pass.status, PassStatus::Issued | PassStatus::Active) {
                    pass.status = PassStatus::Removed;
                }
                pass.updated_at = now;
                write_pass(conn, &pass, topic::PASS_UPDATED, now)?;
                ("removed", Some(pass.id), true)
            }
        }
        Change::Voided { at } => {
            let mut pass = found.ok_or_else(unknown)?;
            if pass.is_voided() {
                detail = Some(json!({ "why": "already voided" }));
                ("voided", Some(pass.id), false)
            } else {
                pass.status = PassStatus::Voided;
                pass.deactivated_at = Some(at.unwrap_or(now));
                pass.updated_at = now;
                write_pass(conn, &pass, topic::PASS_VOIDED, now)?;
                ("voided", Some(pass.id), true)
            }
        }
    };
    if let (Provider::PassEntry, Some(id), "created" | "updated") =
        (event.provider, pass_id.as_deref(), outcome)
    {
        crate::upstream::pull::remember_hooked_pass(conn, id)?;
    }
    record(conn, event, pass_id.as_deref(), outcome, detail, now)?;
    Ok(Applied::Done {
        outcome,
        pass_id,
        changed,
    })
}

/// The event's row, if it was applied before.
fn recall(conn: &Connection, provider: Provider, key: &str) -> Result<Option<Applied>, ApplyError> {
    Ok(conn
        .prepare_cached(
            "SELECT outcome, pass_id, received_at FROM hook_events
             WHERE provider = ?1 AND dedup_key = ?2",
        )?
        .query_row(params![provider.as_str(), key], |r| {
            Ok(Applied::Repeat {
                outcome: r.get(0)?,
                pass_id: r.get(1)?,
                received_at: r.get(2)?,
            })
        })
        .optional()?)
}

fn record(
    conn: &Connection,
    event: &HookEvent,
    pass_id: Option<&str>,
    outcome: &str,
    detail: Option<serde_json::Value>,
    now: Timestamp,
) -> Result<(), ApplyError> {
    conn.prepare_cached(
        "INSERT INTO hook_events (provider, dedup_key, event, pass_id, event_at, received_at,
             outcome, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        event.provider.as_str(),
        event.dedup_key,
        event.event_name,
        pass_id,
        event.at,
        now,
        outcome,
        detail.map(|d| d.to_string()),
    ])?;
    Ok(())
}

/// A new pass from the payload; its id.
fn create(
    conn: &Connection,
    data: &PassData,
    provider: Provider,
    now: Timestamp,
) -> Result<String, ApplyError> {
    let template_ref = data
        .template
        .clone()
        .unwrap_or_else(|| fallback_template(provider));
    let template = ensure_template(conn, &template_ref, data.pass_type.as_ref(), now)?;
    let pass_type = data.pass_type.clone().unwrap_or(template.pass_type);
    let mut pass = Pass::new(
        data.id.clone(),
        template.id,
        pass_type,
        data.created_at.unwrap_or(now),
    );
    pass.updated_at = now;
    fill(conn, &mut pass, data, now)?;
    write_pass(conn, &pass, topic::PASS_CREATED, now)?;
    Ok(pass.id)
}

/// The payload's fields written over `pass`; its id.
fn update(
    conn: &Connection,
    mut pass: Pass,
    data: &PassData,
    now: Timestamp,
) -> Result<String, ApplyError> {
    let was_voided = pass.is_voided();
    if let Some(t) = &data.template {
        let template = ensure_template(conn, t, data.pass_type.as_ref(), now)?;
        pass.template_id = template.id;
    }
    if let Some(kind) = &data.pass_type {
        pass.pass_type = kind.clone();
    }
    fill(conn, &mut pass, data, now)?;
    pass.updated_at = now;
    let topic = if pass.is_voided() && !was_voided {
        topic::PASS_VOIDED
    } else {
        topic::PASS_UPDATED
    };
    write_pass(conn, &pass, topic, now)?;
    Ok(pass.id)
}

/// Every field the payload carries, onto `pass` (its template and type are the caller's).
fn fill(
    conn: &Connection,
    pass: &mut Pass,
    data: &PassData,
    now: Timestamp,
) -> Result<(), ApplyError> {
    set(&mut pass.ext_id, &data.ext_id);
    set(&mut pass.device_type, &data.device_type);
    set(&mut pass.barcode, &data.barcode);
    set(&mut pass.nfc, &data.nfc);
    set(&mut pass.group_tag, &data.group_tag);
    set(&mut pass.latest_message, &data.latest_message);
    set(&mut pass.added_at, &data.added_at);
    set(&mut pass.removed_at, &data.removed_at);
    set(&mut pass.expires_at, &data.expires_at);
    set(&mut pass.valid_from, &data.valid_from);
    set(&mut pass.valid_until, &data.valid_until);
    if let Some(e) = &data.event {
        ensure_event(conn, e, now)?;
        pass.event_id = Some(e.id.clone());
    }
    match &data.content {
        Content::Unsaid => {}
        Content::Replace(c) => pass.pass_content = c.clone(),
        Content::Merge(c) => {
            for (k, v) in c {
                pass.pass_content.insert(k.clone(), v.clone());
            }
        }
    }
    match data.status {
        Some(status) => {
            pass.status = status;
            pass.deactivated_at = match status {
                PassStatus::Voided | PassStatus::Deactivated => {
                    Some(data.deactivated_at.or(pass.deactivated_at).unwrap_or(now))
                }
                _ => None,
            };
        }
        None => set(&mut pass.deactivated_at, &data.deactivated_at),
    }
    Ok(())
}

/// `value` into `field` when the payload says it (`Some`).
fn set<T: Clone>(field: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        field.clone_from(value);
    }
}

/// Writes the pass and its outbox event (the pass as a PassEntry resource, as every pass
/// write does), refusing a barcode or NFC value another pass has.
fn write_pass(
    conn: &Connection,
    pass: &Pass,
    topic: &str,
    now: Timestamp,
) -> Result<(), ApplyError> {
    pass_store::upsert_pass(conn, pass).map_err(|e| unique_conflict(conn, pass, e))?;
    let template_name = catalog::get_template(conn, &pass.template_id)?.map(|t| t.name);
    let event_name = match &pass.event_id {
        Some(e) => catalog::get_event(conn, e)?.map(|e| e.name),
        None => None,
    };
    outbox::append(
        conn,
        topic,
        &pass.id,
        &pass_resource(pass, template_name.as_deref(), event_name.as_deref()),
        now,
    )?;
    Ok(())
}

/// A unique-index failure in words: which value belongs to which other pass.
fn unique_conflict(conn: &Connection, pass: &Pass, e: StoreError) -> ApplyError {
    if !pass_store::is_constraint_violation(&e) {
        return ApplyError::Store(e);
    }
    match pass_store::owner_of_value(conn, pass) {
        Some(held) => ApplyError::Conflict(held.to_string()),
        None => ApplyError::Store(e),
    }
}

/// The template a payload names, created plain when the cache does not have it.
fn ensure_template(
    conn: &Connection,
    t: &TemplateRef,
    pass_type: Option<&PassType>,
    now: Timestamp,
) -> Result<Template, ApplyError> {
    if let Some(existing) = catalog::get_template(conn, &t.id)? {
        return Ok(existing);
    }
    let template = Template {
        id: t.id.clone(),
        name: t.name.clone().unwrap_or_else(|| t.id.clone()),
        pass_type: pass_type.cloned().unwrap_or_default(),
    };
    catalog::upsert_template(conn, &template, now)?;
    Ok(template)
}

fn ensure_event(conn: &Connection, e: &EventRef, now: Timestamp) -> Result<(), ApplyError> {
    if catalog::get_event(conn, &e.id)?.is_none() {
        let event = Event {
            id: e.id.clone(),
            name: e.name.clone().unwrap_or_else(|| e.id.clone()),
            venue_name: None,
            start_time: None,
            end_time: None,
            time_zone: "UTC".into(),
        };
        catalog::upsert_event(conn, &event, now)?;
    }
    Ok(())
}

/// The template of a provider's passes whose payload names none (Skycore's XML postback).
pub fn fallback_template(provider: Provider) -> TemplateRef {
    let name = match provider {
        Provider::PassEntry => "PassEntry passes",
        Provider::Passcreator => "Passcreator passes",
        Provider::Skycore => "Skycore passes",
    };
    TemplateRef {
        id: format!("{provider}-passes"),
        name: Some(name.into()),
    }
}

/// How many hook events were recorded (for tests and status).
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM hook_events", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::{passcreator, passentry, skycore_json, skycore_xml, PassRef};
    use crate::scan::{Medium, ScanInput};
    use crate::testkit as seeds;

    const NOW: i64 = 1_800_000_000_000;

    fn now() -> Timestamp {
        Timestamp::from_unix_ms(NOW)
    }

    fn store() -> Store {
        Store::open_in_memory().unwrap()
    }

    fn outbox_topics(store: &Store) -> Vec<String> {
        store
            .conn()
            .prepare("SELECT topic FROM outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn pass(store: &Store, id: &str) -> Pass {
        pass_store::get_pass(store.conn(), id).unwrap().unwrap()
    }

    fn passcreator(event: &str, n: usize) -> HookEvent {
        passcreator::parse(event, seeds::passcreator(n).as_bytes()).unwrap()
    }

    const PC_ID: &str = "12fd53c5-863e-4056-9dbf-2525fa175523";

    #[test]
    fn a_passcreator_pass_from_creation_to_void() {
        let mut s = store();
        let created = apply(&mut s, &passcreator("pass_created", 0), now()).unwrap();
        assert_eq!(
            created,
            Applied::Done {
                outcome: "created",
                pass_id: Some(PC_ID.into()),
                changed: true
            }
        );
        let p = pass(&s, PC_ID);
        assert_eq!(
            p.barcode.as_ref().unwrap().value,
            "122501adfa977d7.55989831"
        );
        assert_eq!(p.template_id, "02fd53c5-863e-4056-9dbf-2525fa171123");
        assert_eq!(p.holder_name().as_deref(), Some("John Doe"));
        assert_eq!(p.status, PassStatus::Issued);
        let t = catalog::get_template(s.conn(), &p.template_id)
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "test");
        assert_eq!(t.pass_type.as_str(), "generic");

        // The same body again: a repeat, nothing written.
        let topics = outbox_topics(&s);
        let again = apply(&mut s, &passcreator("pass_created", 0), now()).unwrap();
        assert!(matches!(again, Applied::Repeat { ref outcome, .. } if outcome == "created"));
        assert_eq!(outbox_topics(&s), topics);

        apply(
            &mut s,
            &passcreator("first_pushnotification_registered", 3),
            now(),
        )
        .unwrap();
        let p = pass(&s, PC_ID);
        assert_eq!(p.status, PassStatus::Active);
        assert_eq!(p.device_type.as_deref(), Some("apple"));

        let voided = apply(&mut s, &passcreator("pass_voided", 2), now()).unwrap();
        assert!(matches!(
            voided,
            Applied::Done {
                outcome: "voided",
                changed: true,
                ..
            }
        ));
        let p = pass(&s, PC_ID);
        assert!(p.is_voided());
        assert_eq!(p.deactivated_at, Some(now()));
        assert_eq!(
            outbox_topics(&s),
            ["passCreated", "passUpdated", "passVoided"]
        );

        // A voided pass is refused at the counter.
        let d = crate::checkin(
            &mut s,
            "node",
            &ScanInput {
                reader_id: crate::scan::ReaderId::parse("gate-1").unwrap(),
                medium: Medium::Qr,
                value: b"122501adfa977d7.55989831".to_vec(),
                at: now(),
                direction: None,
            },
        )
        .unwrap();
        assert_eq!(d.verdict, crate::Verdict::Reject);
        assert_eq!(d.reason, Some(crate::Reason::Voided));
        assert_eq!(count(s.conn()).unwrap(), 3);
    }

    #[test]
    fn an_event_about_an_unknown_pass_changes_nothing() {
        let mut s = store();
        for e in [
            passcreator("pass_voided", 2),
            passcreator("pass_updated", 1),
            passcreator("pushnotification_registered", 4),
        ] {
            let err = apply(&mut s, &e, now()).unwrap_err();
            assert!(
                matches!(err, ApplyError::UnknownPass(ref id) if id == PC_ID),
                "{err}"
            );
        }
        assert_eq!(count(s.conn()).unwrap(), 0);
        assert!(outbox_topics(&s).is_empty());
        // Noted: acknowledged all the same (it changes nothing either way).
        let noted = apply(
            &mut s,
            &passcreator("pushnotification_unregistered", 5),
            now(),
        )
        .unwrap();
        assert!(matches!(
            noted,
            Applied::Done {
                outcome: "noted",
                pass_id: None,
                changed: false
            }
        ));
    }

    #[test]
    fn passentry_install_remove_and_a_late_install() {
        let mut s = store();
        let body = seeds::passentry("Webhook triggered when a pass is added to the wallet by user");
        let mut doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["data"]["id"] = "creation-1".into();
        doc["data"]["attributes"]["webhookType"] = "passCreated".into();
        doc["included"][0]["id"] = "313c3c3b950d30d7ecec486ddf9adf33b887ae29".into();
        let created = passentry::parse(doc.to_string().as_bytes()).unwrap();
        apply(&mut s, &created, now()).unwrap();
        let id = "313c3c3b950d30d7ecec486ddf9adf33b887ae29";
        let p = pass(&s, id);
        assert_eq!(p.status, PassStatus::Active);
        assert_eq!(
            p.nfc.as_deref(),
            Some("e89b1330fc391ec89656f3c664318cff8805471e")
        );
        let t = catalog::get_template(s.conn(), "c1f632d3e693a75c376b440b")
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "Pass Template 1 3079");

        let removed =
            seeds::passentry("Webhook triggered when a pass is removed from the wallet by user");
        let mut doc: serde_json::Value = serde_json::from_str(&removed).unwrap();
        doc["data"]["id"] = "removal-1".into();
        doc["data"]["attributes"]["timeStamp"] = "2023-02-01T00:00:00Z".into();
        apply(
            &mut s,
            &passentry::parse(doc.to_string().as_bytes()).unwrap(),
            now(),
        )
        .unwrap();
        let p = pass(&s, id);
        assert_eq!(p.status, PassStatus::Removed);
        assert_eq!(
            p.removed_at,
            Some(Timestamp::parse_rfc3339("2023-02-01T00:00:00Z").unwrap())
        );

        // The seed's installation, from 2022-01-01: older than the removal, a late retry.
        let installed =
            seeds::passentry("Webhook triggered when a pass is added to the wallet by user");
        let late = apply(
            &mut s,
            &passentry::parse(installed.as_bytes()).unwrap(),
            now(),
        )
        .unwrap();
        assert!(matches!(
            late,
            Applied::Done {
                outcome: "installed",
                changed: false,
                ..
            }
        ));
        assert_eq!(pass(&s, id).status, PassStatus::Removed);
    }

    #[test]
    fn a_tap_is_logged_without_a_scan_row() {
        let mut s = store();
        let tapped = seeds::passentry("Webhook triggered when an NFC pass is tapped on a reader");
        let e = passentry::parse(tapped.as_bytes()).unwrap();
        assert!(matches!(
            apply(&mut s, &e, now()),
            Err(ApplyError::UnknownPass(_))
        ));
        let p = Pass::new(
            "313c3c3b950d30d7ecec486ddf9adf33b887ae29",
            "tpl",
            PassType::default(),
            now(),
        );
        s.write(|tx| -> Result<(), ApplyError> {
            ensure_template(
                tx,
                &TemplateRef {
                    id: "tpl".into(),
                    name: None,
                },
                None,
                now(),
            )?;
            pass_store::upsert_pass(tx, &p)?;
            Ok(())
        })
        .unwrap();
        let done = apply(&mut s, &e, now()).unwrap();
        assert!(matches!(
            done,
            Applied::Done {
                outcome: "tapped",
                changed: false,
                ..
            }
        ));
        assert_eq!(crate::scan_log::count(s.conn()).unwrap(), 0);
        let detail: String = s
            .conn()
            .query_row("SELECT detail FROM hook_events", [], |r| r.get(0))
            .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["readerId"], "CC202952");
        assert_eq!(detail["readerName"], "West Gate");
        assert_eq!(detail["successful"], true);
    }

    #[test]
    fn skycore_creates_then_installs_by_the_custom_id() {
        let mut s = store();
        let xml = seeds::skycore_xml("skycore-pass-postback-xml.txt");
        apply(&mut s, &skycore_xml::parse(xml.as_bytes()).unwrap(), now()).unwrap();
        let p = pass(&s, "5294CE37878AE-112613-113711");
        assert_eq!(p.template_id, "skycore-passes");
        assert_eq!(p.ext_id.as_deref(), Some("ID-123323"));
        assert_eq!(p.holder_name().as_deref(), Some("John"));
        // A wallet postback names the pass by its custom id.
        let json =
            seeds::skycore_json("3. Response").replace("1618389328-5c1b63d9d527d", "ID-123323");
        let done = apply(
            &mut s,
            &skycore_json::parse(json.as_bytes()).unwrap(),
            now(),
        )
        .unwrap();
        assert_eq!(
            done,
            Applied::Done {
                outcome: "installed",
                pass_id: Some("5294CE37878AE-112613-113711".into()),
                changed: true
            }
        );
        assert_eq!(
            pass(&s, "5294CE37878AE-112613-113711").status,
            PassStatus::Active
        );
    }

    #[test]
    fn a_barcode_another_pass_has_is_refused_and_nothing_changes() {
        let mut s = store();
        apply(&mut s, &passcreator("pass_created", 0), now()).unwrap();
        let other = seeds::passcreator(0).replace(PC_ID, "another-pass");
        let e = passcreator::parse("pass_created", other.as_bytes()).unwrap();
        let err = apply(&mut s, &e, now()).unwrap_err();
        assert!(
            matches!(err, ApplyError::Conflict(ref m) if m.contains(PC_ID)),
            "{err}"
        );
        assert_eq!(count(s.conn()).unwrap(), 1);
        assert_eq!(outbox_topics(&s), ["passCreated"]);
        assert!(pass_store::get_pass(s.conn(), "another-pass")
            .unwrap()
            .is_none());
    }

    #[test]
    fn an_update_carries_its_fields_and_a_status() {
        let mut s = store();
        apply(&mut s, &passcreator("pass_created", 0), now()).unwrap();
        let body = seeds::passcreator(1)
            .replace("\"Example ave. 1\"", "\"Elm St 2\"")
            .replace(
                "\"secondaryFields_0_Name\": \"John Doe\"",
                "\"secondaryFields_0_Name\": \"Jane Doe\", \"tier\": \"gold\"",
            );
        let e = passcreator::parse("pass_updated", body.as_bytes()).unwrap();
        apply(&mut s, &e, now()).unwrap();
        let p = pass(&s, PC_ID);
        assert_eq!(p.pass_content["tier"], "gold");
        assert_eq!(p.pass_content["secondaryFields_0_Name"], "Jane Doe");
        assert_eq!(p.status, PassStatus::Issued);
        // A status carried by the payload is the pass's.
        let data = PassData {
            id: PC_ID.into(),
            status: Some(PassStatus::Deactivated),
            ..PassData::default()
        };
        let e = HookEvent {
            provider: Provider::PassEntry,
            dedup_key: "k".into(),
            event_name: "passUpdated".into(),
            at: None,
            pass: Some(PassRef(PC_ID.into())),
            change: Change::Updated(Box::new(data)),
        };
        apply(&mut s, &e, now()).unwrap();
        assert!(pass(&s, PC_ID).is_voided());
        assert_eq!(
            outbox_topics(&s).last().map(String::as_str),
            Some("passVoided")
        );
    }
}
