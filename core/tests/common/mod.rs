//! What the core's integration tests build alike: a store on a real SQLite file with this
//! node's identity, templates, events, passes with a QR code, and scans. Each test binary uses
//! the part it needs.
#![allow(dead_code)]

use passdesk_core::catalog;
use passdesk_core::keys::{self, NodeIdentity};
use passdesk_core::pass::{Barcode, Event, Pass, PassStatus, PassType, Template};
use passdesk_core::rusqlite::Connection;
use passdesk_core::scan::{Medium, ReaderId, ScanInput};
use passdesk_core::{OpenMode, Store, Timestamp};
use std::path::PathBuf;

/// The tests' clock starts here: 2027-01-15T08:00:00Z.
pub const T0: i64 = 1_800_000_000_000;
pub const MIN: i64 = 60_000;
pub const DAY: i64 = 86_400_000;

/// A store on a new SQLite file in a directory of its own (removed with it), with this node's
/// identity made.
pub struct TestStore {
    pub store: Store,
    pub node: NodeIdentity,
    /// The file, for a second connection (another thread, another process).
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
}

impl TestStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let store = Store::open(&path, OpenMode::CreateIfMissing).unwrap();
        let (node, _) = keys::init_node(store.conn()).unwrap();
        Self {
            store,
            node,
            path,
            dir,
        }
    }
}

pub fn add_template(conn: &Connection, id: &str, name: &str, kind: &str) {
    let t = Template {
        id: id.into(),
        name: name.into(),
        pass_type: PassType::new(kind),
    };
    catalog::upsert_template(conn, &t, Timestamp::from_unix_ms(T0)).unwrap();
}

/// An event with a name and a time zone (text, as an older store may hold a zone no longer
/// known), nothing else.
pub fn add_event(conn: &Connection, id: &str, name: &str, time_zone: &str) {
    let e = Event {
        id: id.into(),
        name: name.into(),
        venue_name: None,
        start_time: None,
        end_time: None,
        time_zone: time_zone.into(),
    };
    catalog::upsert_event(conn, &e, Timestamp::from_unix_ms(T0)).unwrap();
}

/// An active pass of `template` (a `kind` pass) whose QR code is `qr`, written at `at`, with
/// nothing else: a test sets what it is about.
pub fn qr_pass(id: &str, template: &str, kind: &str, qr: String, at: Timestamp) -> Pass {
    Pass {
        status: PassStatus::Active,
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: qr,
            display_text: false,
        }),
        ..Pass::new(id, template, PassType::new(kind), at)
    }
}

/// A read of `value` at `reader`, at `at_ms`, with no direction given.
pub fn scan_input(value: &[u8], medium: Medium, reader: &str, at_ms: i64) -> ScanInput {
    ScanInput {
        value: value.to_vec(),
        reader_id: ReaderId::parse(reader).unwrap(),
        medium,
        direction: None,
        at: Timestamp::from_unix_ms(at_ms),
    }
}
