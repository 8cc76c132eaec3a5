//! Data that must not be lost or corrupted: the shutdown order (SIGTERM while scans flow from a
//! serial port and the API), file modes corrected at every open, `passdesk backup` while the
//! counter runs and `passdesk restore` once it has stopped.

use passdesk_core::rusqlite::Connection;
use passdesk_tests::service::{client, TestApp};
use passdesk_tests::socat::PtyPair;
use passdesk_tests::{describe, Node};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::time::Duration;

/// Posts one scan; `Some(scan id)` when the service answered 201, `None` for any other answer
/// or none at all (a stopped service is an answer here, not a panic).
fn post_scan(
    agent: &ureq::Agent,
    app_base: &str,
    key: &str,
    value: &str,
    reader: &str,
) -> Option<String> {
    let body = serde_json::to_vec(&json!({"value": value, "readerId": reader})).unwrap();
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{app_base}/api/v1/scans"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .body(body)
        .unwrap();
    let mut resp = agent.run(req).ok()?;
    if resp.status().as_u16() != 201 {
        return None;
    }
    let doc: Value = serde_json::from_str(&resp.body_mut().read_to_string().ok()?).ok()?;
    doc["data"]["id"].as_str().map(str::to_owned)
}

/// Keeps posting scans until told to stop or the service stops answering 201; sends a tick on
/// `progress` after each answer. Returns the ids of the scans answered.
fn spawn_poster(
    app: &TestApp,
    reader: &'static str,
    stop: Arc<AtomicBool>,
    progress: Sender<&'static str>,
) -> std::thread::JoinHandle<Vec<String>> {
    let (base, key) = (app.base.clone(), app.reader_key.clone());
    std::thread::spawn(move || {
        let agent = client();
        let mut answered = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            match post_scan(
                &agent,
                &base,
                &key,
                &format!("BEAN-{:04}", n % 40 + 1),
                reader,
            ) {
                Some(id) => {
                    answered.push(id);
                    let _ = progress.send(reader);
                }
                None => break,
            }
        }
        answered
    })
}

fn scan_ids(db: &Path) -> BTreeSet<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM scans").unwrap();
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids
}

fn wal_is_empty(db: &Path) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).map_or(true, |m| m.len() == 0)
}

fn integrity(db: &Path) -> String {
    Connection::open(db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// SIGTERM while a serial scanner and an API client both scan: the readers stop, what was
/// queued is decided, the stream ends after the last decision, requests finish, the store is
/// checkpointed and closed. Every scan a client was answered for (a decision on the stream for
/// the serial reads, a 201 for the API) is in the log; the process exits 0; the WAL is empty.
#[test]
fn sigterm_while_scans_flow_loses_no_answered_scan() {
    let cables = tempfile::tempdir().unwrap();
    let cable = PtyPair::start(cables.path());
    let host = cable.host_path();
    let mut app = TestApp::with_serial_till(&host, "medium = \"serial\"");
    let events = app.events();
    let (progress, ticks) = channel::<&'static str>();

    // The screen: every serial decision is an answer; each answer (or refusal) lets the
    // scanner send its next read. Ends when the stream does.
    let (next_read, may_send) = channel::<()>();
    let serial_ticks = progress.clone();
    let screen = std::thread::spawn(move || {
        let mut answered = Vec::new();
        for (name, data) in events {
            let from_till =
                data["attributes"]["readerId"] == "till-1" || data["readerId"] == "till-1";
            if !from_till {
                continue;
            }
            if name == "decision" {
                answered.push(data["id"].as_str().unwrap().to_owned());
                let _ = serial_ticks.send("serial");
            }
            if name == "decision" || name == "tapFailed" {
                let _ = next_read.send(());
            }
        }
        answered
    });
    let mut device = cable.device();
    let scanner = std::thread::spawn(move || {
        let mut n = 0;
        loop {
            n += 1;
            device.send(format!("BEAN-{:04}\r", n % 40 + 1).as_bytes());
            // The screen is gone once the service has stopped: so is the scanner.
            if may_send.recv().is_err() {
                return n;
            }
        }
    });
    let api = spawn_poster(&app, "api-1", Arc::new(AtomicBool::new(false)), progress);

    let (mut serial, mut posted) = (0, 0);
    while serial < 10 || posted < 10 {
        match ticks
            .recv_timeout(Duration::from_secs(30))
            .expect("scans flowing")
        {
            "serial" => serial += 1,
            _ => posted += 1,
        }
    }
    let status = app.stop();
    assert!(status.success(), "{status:?}");

    let streamed = screen.join().unwrap();
    let posted = api.join().unwrap();
    let sent = scanner.join().unwrap();
    assert!(
        streamed.len() >= 10 && posted.len() >= 10,
        "{} {}",
        streamed.len(),
        posted.len()
    );
    assert!(sent >= streamed.len());

    let db = app.node.db_path();
    assert!(wal_is_empty(&db), "the WAL is checkpointed at shutdown");
    assert_eq!(integrity(&db), "ok");
    let logged = scan_ids(&db);
    for id in streamed.iter().chain(&posted) {
        assert!(logged.contains(id), "answered scan {id} is not in the log");
    }
}

/// A data directory made 0755 with its database, WAL and shared memory 0644 (a copy, a loose
/// umask): the next open makes them 0700 / 0600 and says so, once, naming each path.
#[cfg(unix)]
#[test]
fn open_modes_are_corrected_at_every_open_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let node = Node::demo();
    let dir = node.data_dir().to_owned();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    let db = node.db_path();
    let wal = dir.join("passdesk.sqlite-wal");
    let shm = dir.join("passdesk.sqlite-shm");
    let lock = dir.join("passdesk.lock");
    // What this build creates is private from the start.
    assert_eq!((mode(&dir), mode(&db), mode(&lock)), (0o700, 0o600, 0o600));

    // Another connection keeps the -wal and -shm files on disk meanwhile.
    let held = Connection::open(&db).unwrap();
    held.query_row("SELECT count(*) FROM passes", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert!(wal.exists() && shm.exists());
    set(&dir, 0o755);
    for f in [&db, &wal, &shm, &lock] {
        set(f, 0o644);
    }

    let out = node.run(&["scans", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: mode 0755 corrected to 0700", dir.display())),
        "{stderr}"
    );
    for f in [&db, &wal, &shm, &lock] {
        assert!(
            stderr.contains(&format!("{}: mode 0644 corrected to 0600", f.display())),
            "{stderr}"
        );
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&dir), 0o700);

    let again = node.run(&["scans", "list"]);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("corrected"),
        "{}",
        describe(&again)
    );
    drop(held);
}

/// `passdesk backup` while a thread posts scans through a running `serve`: the copy is sound,
/// private, and holds every scan answered before it began; it refuses to overwrite without
/// `--force`. `restore` is refused while `serve` runs and, once it has stopped, brings the
/// counter back to the copy's state, keeping the replaced database beside it.
#[test]
fn backup_while_scans_flow_and_restore_once_the_counter_stops() {
    let mut app = TestApp::start();
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("counter.backup");
    let stop = Arc::new(AtomicBool::new(false));
    let (progress, ticks) = channel();
    let poster = spawn_poster(&app, "till-1", stop.clone(), progress);
    let mut answered_before = 0;
    while answered_before < 20 {
        ticks
            .recv_timeout(Duration::from_secs(30))
            .expect("scans flowing");
        answered_before += 1;
    }
    // Every scan answered so far (the poster may be waiting on one more: not counted).
    let logged_before = scan_ids(&app.node.db_path());

    let out = app.node.run(&["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", describe(&out));
    let report = passdesk_tests::last_json(&out);
    // Scans still flow after the backup.
    for _ in 0..20 {
        ticks
            .recv_timeout(Duration::from_secs(30))
            .expect("scans flowing after the backup");
    }
    stop.store(true, Ordering::Relaxed);
    let answered = poster.join().unwrap();
    assert!(answered.len() >= 40);

    assert_eq!(integrity(&copy), "ok");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let in_copy = scan_ids(&copy);
    assert!(
        logged_before.is_subset(&in_copy),
        "a scan answered before the backup is missing"
    );
    assert_eq!(
        report["scans"].as_u64(),
        Some(in_copy.len() as u64),
        "{report}"
    );
    assert!(
        in_copy.len() < scan_ids(&app.node.db_path()).len(),
        "scans went on after it"
    );

    // No overwriting without --force; with it, a file there is replaced by a private copy.
    let bytes = std::fs::read(&copy).unwrap();
    let again = app.node.run(&["backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        describe(&again)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    let other = work.path().join("other.backup");
    std::fs::write(&other, b"yesterday's notes").unwrap();
    let forced = app
        .node
        .run(&["backup", other.to_str().unwrap(), "--force"]);
    assert!(forced.status.success(), "{}", describe(&forced));
    assert_eq!(integrity(&other), "ok");

    // Not while the counter runs.
    let now = app.node.fingerprint();
    let refused = app.node.run(&["restore", copy.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it first"),
        "{}",
        describe(&refused)
    );
    assert_eq!(app.node.fingerprint(), now);

    let status = app.stop();
    assert!(status.success(), "{status:?}");
    let after_serve = scan_ids(&app.node.db_path());
    let restored = app.node.ok(&["restore", copy.to_str().unwrap()]);
    assert_eq!(scan_ids(&app.node.db_path()), in_copy);
    let expected = Node::empty();
    std::fs::copy(&copy, expected.db_path()).unwrap();
    assert_eq!(
        app.node.fingerprint(),
        expected.fingerprint(),
        "the counter is the copy"
    );
    let replaced = Path::new(restored["replaced"].as_str().unwrap());
    assert!(
        replaced
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("passdesk.sqlite.replaced-"),
        "{restored}"
    );
    assert_eq!(
        scan_ids(replaced),
        after_serve,
        "the replaced database is kept whole"
    );
}

/// A file that is not a sound Passdesk database is refused with what is wrong with it, and
/// nothing in the data directory changes.
#[test]
fn restore_refuses_what_is_not_a_sound_passdesk_database() {
    let node = Node::demo();
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name);

    std::fs::write(path("notes.txt"), "a list of things to do\n".repeat(200)).unwrap();

    node.ok(&["backup", path("damaged.sqlite").to_str().unwrap()]);
    let mut bytes = std::fs::read(path("damaged.sqlite")).unwrap();
    assert!(bytes.len() >= 8 * 4096);
    bytes[4096..5 * 4096].fill(0xAB);
    std::fs::write(path("damaged.sqlite"), bytes).unwrap();

    Connection::open(path("other-app.sqlite"))
        .unwrap()
        .execute_batch("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('x');")
        .unwrap();

    node.ok(&["backup", path("newer.sqlite").to_str().unwrap()]);
    Connection::open(path("newer.sqlite"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();

    let listing = || -> BTreeSet<String> {
        std::fs::read_dir(node.data_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let (files, rows) = (listing(), node.fingerprint());
    for (file, needle) in [
        ("notes.txt", "is not a SQLite database"),
        ("damaged.sqlite", "is damaged"),
        (
            "other-app.sqlite",
            "not a Passdesk one (it has no node table)",
        ),
        ("newer.sqlite", "from a newer Passdesk (migration 999"),
        ("missing.sqlite", "cannot read"),
    ] {
        let out = node.run(&["restore", path(file).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{file}: {stderr}");
        assert!(
            stderr.contains(&path(file).display().to_string()),
            "{file}: {stderr}"
        );
        assert_eq!(listing(), files, "{file}: the data directory changed");
        assert_eq!(node.fingerprint(), rows, "{file}: the database changed");
    }
}
