//! Apple's pass update web service, the storage half: which phones registered which passes,
//! which of them changed since a phone last asked, and which phones are due a push.
//!
//! A pass's *change time* is derived from what is written anyway: the latest of the pass row's
//! `updated_at`, its loyalty account's (set in the transaction of every ledger entry), its
//! template's, its event's and its loyalty program's. So a loyalty change marks the pass
//! updated with no write of its own, and the scan path writes nothing here.
//!
//! The `lastUpdated` tag handed to phones is our own opaque string: the change time (unix ms)
//! of the newest pass in the answer. A later change has a later time; a change written with an
//! older time than a phone's tag (a clock that went back, a change pulled from elsewhere with
//! its own older time) is found by that phone at the pass's next change, not before.
//!
//! Pure SQLite: the routes and the APNs worker call these inside their own transactions.

use rusqlite::{params, Connection, OptionalExtension};
use std::fmt;

use crate::store::StoreResult;
use crate::time::Timestamp;

/// The SQL for a pass's change time, over a `passes` row named `p`.
const CHANGED_AT: &str = "max(p.updated_at,
    coalesce((SELECT a.updated_at FROM loyalty_accounts a WHERE a.pass_id = p.id), 0),
    coalesce((SELECT t.updated_at FROM templates t WHERE t.id = p.template_id), 0),
    coalesce((SELECT e.updated_at FROM events e WHERE e.id = p.event_id), 0),
    coalesce((SELECT lp.updated_at FROM loyalty_programs lp WHERE lp.template_id = p.template_id), 0))";

/// Why a path segment or a body field of Apple's web service was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateInputError {
    #[error("the device library identifier must be 1 to {max} letters, digits, '.', '_' or '-'", max = DeviceLibraryId::MAX)]
    DeviceLibraryId,
    #[error("the push token must be {min} to {max} hexadecimal digits", min = PushToken::MIN, max = PushToken::MAX)]
    PushToken,
}

/// The phone's `deviceLibraryIdentifier`, as a path segment we accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLibraryId(String);

impl DeviceLibraryId {
    pub const MAX: usize = 128;

    pub fn parse(text: &str) -> Result<Self, UpdateInputError> {
        let ok = !text.is_empty()
            && text.len() <= Self::MAX
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(text.to_owned()))
            .ok_or(UpdateInputError::DeviceLibraryId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An APNs device token: hex, so it can go into `/3/device/<token>` as it is.
#[derive(Clone, PartialEq, Eq)]
pub struct PushToken(String);

impl PushToken {
    pub const MIN: usize = 16;
    pub const MAX: usize = 200;

    pub fn parse(text: &str) -> Result<Self, UpdateInputError> {
        let ok = (Self::MIN..=Self::MAX).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(text.to_ascii_lowercase()))
            .ok_or(UpdateInputError::PushToken)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A push token addresses one phone: shown only by its first digits.
impl fmt::Debug for PushToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PushToken({}…)", &self.0[..8])
    }
}

/// `passesUpdatedSince` / `lastUpdated`: a change time in unix ms, as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UpdateTag(i64);

impl UpdateTag {
    /// `None` for anything that is not a tag we handed out: the caller then lists every pass,
    /// as Apple's guide allows for a tag the server does not understand.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(Self)
    }

    pub fn unix_ms(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UpdateTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// A new registration (Apple: 201).
    New,
    /// The device had this pass registered already (Apple: 200); its push token is updated.
    Already,
}

/// Registers `pass_id` of `pass_type_id` on `device` with its push token (idempotent). The
/// caller has checked the pass's token, so the pass exists.
pub fn register(
    conn: &Connection,
    device: &DeviceLibraryId,
    pass_type_id: &str,
    pass_id: &str,
    push_token: &PushToken,
    now: Timestamp,
) -> StoreResult<Registered> {
    conn.prepare_cached(
        "INSERT INTO wallet_apple_devices (device_library_id, push_token, updated_at)
         VALUES (?1, ?2, ?3)
         ON CONFLICT(device_library_id) DO UPDATE SET push_token = excluded.push_token,
             updated_at = excluded.updated_at
         WHERE push_token <> excluded.push_token",
    )?
    .execute(params![device.as_str(), push_token.as_str(), now.unix_ms()])?;
    // The phone fetched the pass as it is now: it is due a push only for a later change.
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO wallet_apple_registrations
                 (device_library_id, pass_type_id, pass_id, registered_at, pushed_through)
             SELECT ?1, ?2, p.id, ?4, {CHANGED_AT} FROM passes p WHERE p.id = ?3
             ON CONFLICT DO NOTHING"
        ))?
        .execute(params![
            device.as_str(),
            pass_type_id,
            pass_id,
            now.unix_ms()
        ])?;
    Ok(if inserted == 1 {
        Registered::New
    } else {
        Registered::Already
    })
}

/// Unregisters the pass from the device (idempotent: false when it was not registered). A
/// device left with no passes is forgotten with its push token.
pub fn unregister(
    conn: &Connection,
    device: &DeviceLibraryId,
    pass_type_id: &str,
    pass_id: &str,
) -> StoreResult<bool> {
    let removed = conn
        .prepare_cached(
            "DELETE FROM wallet_apple_registrations
             WHERE device_library_id = ?1 AND pass_type_id = ?2 AND pass_id = ?3",
        )?
        .execute(params![device.as_str(), pass_type_id, pass_id])?;
    conn.prepare_cached(
        "DELETE FROM wallet_apple_devices WHERE device_library_id = ?1
         AND NOT EXISTS (SELECT 1 FROM wallet_apple_registrations r WHERE r.device_library_id = ?1)",
    )?
    .execute([device.as_str()])?;
    Ok(removed == 1)
}

/// Whether the device has this pass registered.
pub fn is_registered(
    conn: &Connection,
    device: &DeviceLibraryId,
    pass_type_id: &str,
    pass_id: &str,
) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM wallet_apple_registrations
             WHERE device_library_id = ?1 AND pass_type_id = ?2 AND pass_id = ?3",
        )?
        .query_row(params![device.as_str(), pass_type_id, pass_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Apple's `SerialNumbers`: the passes changed since the tag, and the tag to ask with next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialNumbers {
    pub serial_numbers: Vec<String>,
    pub last_updated: UpdateTag,
}

/// The serial numbers (pass ids) of the device's passes of `pass_type_id` changed after
/// `since` (`None`: all of them); `None` when there are none (Apple: 204).
pub fn updated_since(
    conn: &Connection,
    device: &DeviceLibraryId,
    pass_type_id: &str,
    since: Option<UpdateTag>,
) -> StoreResult<Option<SerialNumbers>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, changed FROM (
             SELECT p.id AS id, {CHANGED_AT} AS changed
             FROM wallet_apple_registrations r JOIN passes p ON p.id = r.pass_id
             WHERE r.device_library_id = ?1 AND r.pass_type_id = ?2)
         WHERE changed > ?3 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map(
            params![
                device.as_str(),
                pass_type_id,
                since.map_or(i64::MIN, UpdateTag::unix_ms)
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let Some(newest) = rows.iter().map(|(_, at)| *at).max() else {
        return Ok(None);
    };
    Ok(Some(SerialNumbers {
        serial_numbers: rows.into_iter().map(|(id, _)| id).collect(),
        last_updated: UpdateTag(newest),
    }))
}

/// The pass's change time (`Last-Modified` of its latest `.pkpass`); `None`: no such pass.
pub fn last_modified(conn: &Connection, pass_id: &str) -> StoreResult<Option<Timestamp>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CHANGED_AT} FROM passes p WHERE p.id = ?1"
        ))?
        .query_row([pass_id], |r| r.get::<_, i64>(0))
        .optional()?
        .map(Timestamp::from_unix_ms))
}

/// One push due: a device's token and pass type, and each of its registrations with the
/// change time the push tells of (what [`pushed`] records once APNs took it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePush {
    pub device: DeviceLibraryId,
    pub push_token: PushToken,
    pub pass_type_id: String,
    /// (pass id, its change time) for each registration of this device and type that is due.
    pub passes: Vec<(String, i64)>,
}

/// What is due: the first pushes, and how many are due in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DueQueue {
    /// At most the `limit` asked for, in device order.
    pub pushes: Vec<DuePush>,
    /// Pushes due in all (devices and pass types), those above included.
    pub backlog: u64,
}

/// The registrations whose pass changed after their last push, one [`DuePush`] per device and
/// pass type: the first `limit` of them, and the count of all. One pass over the
/// registrations, each pass's change time computed once on primary keys (the APNs worker's
/// look; `passdesk-core`'s `apple_updates::measure` times it on a large store).
pub fn due_pushes(conn: &Connection, limit: usize) -> StoreResult<DueQueue> {
    // Every registration in key order with its pass's change time, computed once per row (a
    // `WHERE` on it would compute it again), and filtered here without copying a due-less row.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.pushed_through, {CHANGED_AT}, r.device_library_id, r.pass_type_id, r.pass_id,
                d.push_token
         FROM wallet_apple_registrations r
         JOIN wallet_apple_devices d ON d.device_library_id = r.device_library_id
         JOIN passes p ON p.id = r.pass_id
         ORDER BY r.device_library_id, r.pass_type_id, r.pass_id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut due = DueQueue::default();
    let mut group: Option<(String, String)> = None;
    while let Some(row) = rows.next()? {
        let (pushed_through, changed): (i64, i64) = (row.get(0)?, row.get(1)?);
        if changed <= pushed_through {
            continue;
        }
        let (device, pass_type_id) = (text(row, 2)?, text(row, 3)?);
        let pass_id: String = row.get(4)?;
        if group
            .as_ref()
            .is_some_and(|(d, t)| d == device && t == pass_type_id)
        {
            // Another pass of the same push (kept while that push is one of those taken).
            if due.backlog <= limit as u64 {
                if let Some(push) = due.pushes.last_mut() {
                    push.passes.push((pass_id, changed));
                }
            }
            continue;
        }
        due.backlog += 1;
        group = Some((device.to_owned(), pass_type_id.to_owned()));
        if due.pushes.len() < limit {
            due.pushes.push(DuePush {
                device: DeviceLibraryId(device.to_owned()),
                push_token: PushToken(row.get(5)?),
                pass_type_id: pass_type_id.to_owned(),
                passes: vec![(pass_id, changed)],
            });
        }
    }
    Ok(due)
}

/// A text column borrowed from the row (no copy for a row that is then skipped).
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Records that APNs took the push: each registration is marked pushed through the change
/// time the push told of (never back: a later change stays due).
pub fn pushed(conn: &Connection, push: &DuePush) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE wallet_apple_registrations SET pushed_through = max(pushed_through, ?4)
         WHERE device_library_id = ?1 AND pass_type_id = ?2 AND pass_id = ?3",
    )?;
    for (pass_id, changed) in &push.passes {
        stmt.execute(params![
            push.device.as_str(),
            push.pass_type_id,
            pass_id,
            changed
        ])?;
    }
    Ok(())
}

/// APNs said the token is no longer valid (410, `BadDeviceToken`): the devices holding it and
/// their registrations are forgotten. Returns how many devices.
pub fn drop_push_token(conn: &Connection, push_token: &PushToken) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM wallet_apple_devices WHERE push_token = ?1")?
        .execute([push_token.as_str()])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::{Pass, PassType};
    use crate::store::Store;

    const TYPE: &str = "pass.com.example.passdesk";

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_ms(ms)
    }

    fn store_with(passes: &[&str]) -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO templates (id, name, pass_type, created_at, updated_at)
                 VALUES ('t', 'T', 'storeCard', 0, 0)",
                [],
            )
            .unwrap();
        for id in passes {
            crate::pass_store::upsert_pass(
                store.conn(),
                &Pass::new(*id, "t", PassType::new("storeCard"), at(1_000)),
            )
            .unwrap();
        }
        store
    }

    fn device(s: &str) -> DeviceLibraryId {
        DeviceLibraryId::parse(s).unwrap()
    }

    fn token(c: char) -> PushToken {
        PushToken::parse(&c.to_string().repeat(64)).unwrap()
    }

    fn touch_account(conn: &Connection, pass: &str, ms: i64) {
        conn.execute(
            "INSERT INTO loyalty_accounts (pass_id, points, updated_at) VALUES (?1, 0, ?2)
             ON CONFLICT(pass_id) DO UPDATE SET updated_at = excluded.updated_at",
            params![pass, ms],
        )
        .unwrap();
    }

    #[test]
    fn inputs_are_parsed() {
        assert!(DeviceLibraryId::parse("a1b2-c3.d_4").is_ok());
        for bad in ["", "a/b", "a b", "é", &"a".repeat(129)] {
            assert_eq!(
                DeviceLibraryId::parse(bad),
                Err(UpdateInputError::DeviceLibraryId),
                "{bad:?}"
            );
        }
        assert_eq!(token('A').as_str(), "a".repeat(64), "lowercased");
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(201)] {
            assert_eq!(PushToken::parse(bad), Err(UpdateInputError::PushToken));
        }
        assert!(!format!("{:?}", token('b')).contains(&"b".repeat(64)));
        assert_eq!(
            UpdateTag::parse("1700000000000"),
            Some(UpdateTag(1_700_000_000_000))
        );
        for bad in ["", "-1", "1.5", "yesterday", "99999999999999999999", "0x10"] {
            assert_eq!(UpdateTag::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn register_is_idempotent_and_unregister_forgets_the_device() {
        let store = store_with(&["p1", "p2"]);
        let c = store.conn();
        let d = device("dev1");
        assert_eq!(
            register(c, &d, TYPE, "p1", &token('a'), at(2_000)).unwrap(),
            Registered::New
        );
        assert_eq!(
            register(c, &d, TYPE, "p1", &token('b'), at(3_000)).unwrap(),
            Registered::Already
        );
        assert_eq!(
            register(c, &d, TYPE, "p2", &token('b'), at(3_000)).unwrap(),
            Registered::New
        );
        assert!(is_registered(c, &d, TYPE, "p1").unwrap());
        let tok: String = c
            .query_row("SELECT push_token FROM wallet_apple_devices", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(tok, "b".repeat(64), "a new push token replaces the old");
        assert!(unregister(c, &d, TYPE, "p1").unwrap());
        assert!(
            !unregister(c, &d, TYPE, "p1").unwrap(),
            "again: nothing to do"
        );
        let devices: i64 = c
            .query_row("SELECT count(*) FROM wallet_apple_devices", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(devices, 1, "p2 still registered");
        assert!(unregister(c, &d, TYPE, "p2").unwrap());
        let devices: i64 = c
            .query_row("SELECT count(*) FROM wallet_apple_devices", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(devices, 0, "a device with no passes is forgotten");
    }

    #[test]
    fn a_loyalty_change_lists_the_pass_with_a_newer_tag_and_makes_a_push_due() {
        let store = store_with(&["p1", "p2", "other"]);
        let c = store.conn();
        let d = device("dev1");
        register(c, &d, TYPE, "p1", &token('a'), at(2_000)).unwrap();
        register(c, &d, TYPE, "p2", &token('a'), at(2_000)).unwrap();
        let all = updated_since(c, &d, TYPE, None).unwrap().unwrap();
        assert_eq!(all.serial_numbers, ["p1", "p2"]);
        assert_eq!(all.last_updated, UpdateTag(1_000));
        assert_eq!(
            updated_since(c, &d, TYPE, Some(all.last_updated)).unwrap(),
            None
        );
        assert_eq!(updated_since(c, &d, "pass.other", None).unwrap(), None);
        assert_eq!(
            due_pushes(c, 10).unwrap(),
            DueQueue::default(),
            "nothing changed since"
        );

        touch_account(c, "p2", 5_000);
        touch_account(c, "other", 6_000);
        let since = updated_since(c, &d, TYPE, Some(all.last_updated))
            .unwrap()
            .unwrap();
        assert_eq!(since.serial_numbers, ["p2"]);
        assert_eq!(since.last_updated, UpdateTag(5_000));
        assert_eq!(last_modified(c, "p2").unwrap(), Some(at(5_000)));
        assert_eq!(last_modified(c, "nope").unwrap(), None);

        let due = due_pushes(c, 10).unwrap();
        assert_eq!(due.backlog, 1);
        assert_eq!(due.pushes[0].passes, [("p2".to_owned(), 5_000)]);
        touch_account(c, "p2", 7_000);
        pushed(c, &due.pushes[0]).unwrap();
        assert_eq!(
            due_pushes(c, 10).unwrap().pushes[0].passes,
            [("p2".to_owned(), 7_000)],
            "a change after the push read stays due"
        );
        let due = due_pushes(c, 10).unwrap();
        pushed(c, &due.pushes[0]).unwrap();
        assert_eq!(due_pushes(c, 10).unwrap().backlog, 0);

        // Two devices due; a limit of one takes the first, with both its passes, and counts
        // both devices.
        let d2 = device("dev2");
        register(c, &d2, TYPE, "p1", &token('c'), at(2_000)).unwrap();
        touch_account(c, "p1", 7_500);
        touch_account(c, "p2", 7_600);
        let due = due_pushes(c, 1).unwrap();
        assert_eq!(due.backlog, 2);
        assert_eq!(due.pushes.len(), 1);
        assert_eq!(due.pushes[0].device, d);
        assert_eq!(
            due.pushes[0].passes,
            [("p1".to_owned(), 7_500), ("p2".to_owned(), 7_600)]
        );
        unregister(c, &d2, TYPE, "p1").unwrap();

        assert_eq!(drop_push_token(c, &token('a')).unwrap(), 1);
        assert_eq!(
            due_pushes(c, 10).unwrap(),
            DueQueue::default(),
            "a dropped token's passes are gone"
        );
        assert!(!is_registered(c, &d, TYPE, "p1").unwrap());
    }
}

#[cfg(test)]
mod measure {
    use super::*;
    use crate::store::Store;

    /// `cargo test -p passdesk-core --release --lib apple_updates::measure -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn the_queue_query_on_a_large_store() {
        let mut store = Store::open_in_memory().unwrap();
        let (passes, registered) = (200_000, 20_000);
        store
            .write(|tx| -> Result<(), crate::store::StoreError> {
                tx.execute(
                    "INSERT INTO templates (id, name, pass_type, created_at, updated_at)
                     VALUES ('t', 'T', 'storeCard', 0, 0)",
                    [],
                )?;
                for i in 0..passes {
                    tx.execute(
                        "INSERT INTO passes (id, status, pass_type, template_id, created_at, updated_at)
                         VALUES (?1, 'issued', 'storeCard', 't', 1, 1)",
                        [format!("p{i:07}")],
                    )?;
                    tx.execute(
                        "INSERT INTO loyalty_accounts (pass_id, points, updated_at) VALUES (?1, 0, 1)",
                        [format!("p{i:07}")],
                    )?;
                }
                for i in 0..registered {
                    let pass = format!("p{:07}", i * (passes / registered));
                    let device = DeviceLibraryId::parse(&format!("dev{i}")).unwrap();
                    register(tx, &device, "pass.x", &pass, &PushToken::parse(&"ab".repeat(32)).unwrap(), Timestamp::from_unix_ms(2))?;
                }
                // One registered pass in a hundred changed since.
                tx.execute(
                    "UPDATE loyalty_accounts SET updated_at = 5 WHERE pass_id IN
                     (SELECT pass_id FROM wallet_apple_registrations ORDER BY pass_id LIMIT 200)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let c = store.conn();
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let due = due_pushes(c, 100).unwrap();
            let d1 = t.elapsed();
            let t = std::time::Instant::now();
            let since =
                updated_since(c, &DeviceLibraryId::parse("dev5").unwrap(), "pass.x", None).unwrap();
            let d3 = t.elapsed();
            println!(
                "{registered} registrations over {passes} passes: due_pushes {d1:?} ({} taken, {} due), one device's updated_since {d3:?} ({})",
                due.pushes.len(),
                due.backlog,
                since.map_or(0, |s| s.serial_numbers.len())
            );
        }
    }
}
