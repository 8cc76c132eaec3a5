//! Helpers for end-to-end tests: a fresh data directory per test and the real `passdesk` binary.
//!
//! The binary is the one `cargo build` put beside the test executable (`target/<profile>/`);
//! `scripts/test.sh` builds it before running the tests.

pub mod events;
pub mod hub;
pub mod openapi_lint;
pub mod postgres;
pub mod receiver;
pub mod service;
pub mod signatures;
pub mod socat;
pub mod standin;
pub mod sysfs;
pub mod vpcd;
pub mod wallet_ca;
pub mod watch;

use passdesk_core::{OpenMode, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `passdesk` binary of this build.
pub fn passdesk_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash>  →  target/<profile>/passdesk
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join(format!("passdesk{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p passdesk), as scripts/test.sh does",
        bin.display()
    );
    bin
}

/// A node: its own data directory, removed when the test ends.
pub struct Node {
    dir: tempfile::TempDir,
}

impl Node {
    /// A data directory with nothing in it yet.
    pub fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// An initialised node.
    pub fn new() -> Self {
        let node = Self::empty();
        node.ok(&["init"]);
        node
    }

    /// A node filled with `passdesk demo`.
    pub fn demo() -> Self {
        let node = Self::empty();
        node.ok(&["demo"]);
        node
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("passdesk.sqlite")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(passdesk_bin());
        c.arg("--data-dir").arg(self.dir.path());
        c.env_remove("PASSDESK_DATA_DIR").env("NO_COLOR", "1");
        c
    }

    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        self.cmd().args(args).output().expect("run passdesk")
    }

    /// Runs and expects success; returns the JSON of the last stdout line.
    pub fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "passdesk failed: {}", describe(&out));
        last_json(&out)
    }

    pub fn store(&self) -> Store {
        Store::open(&self.db_path(), OpenMode::MustExist).expect("open store")
    }

    /// Every row of every table, as text: equal fingerprints mean nothing changed. A key's
    /// `last_used_at` is left out: it is the service's bookkeeping of who called (written at
    /// most once a minute per key, whatever the request did), not something a request changes.
    /// So is the webhook fan-out's cursor: how far the worker has read the outbox, which moves
    /// on its own schedule, whatever a request did.
    pub fn fingerprint(&self) -> String {
        let store = self.store();
        let conn = store.conn();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = String::new();
        for t in tables.into_iter().filter(|t| t != "webhook_cursor") {
            let sql = if t == "api_keys" {
                "SELECT id, name, role, secret_hash, created_at, revoked_at FROM api_keys ORDER BY 1"
                    .to_owned()
            } else {
                format!("SELECT * FROM \"{t}\" ORDER BY 1")
            };
            let mut stmt = conn.prepare(&sql).unwrap();
            let n = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            out.push_str(&format!("## {t}\n"));
            while let Some(row) = rows.next().unwrap() {
                for i in 0..n {
                    let v: passdesk_core::rusqlite::types::Value = row.get(i).unwrap();
                    out.push_str(&format!("{v:?}|"));
                }
                out.push('\n');
            }
        }
        out
    }
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn last_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("null");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// Every JSON line of stdout.
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// An uncompressed grayscale PNG of one grey level (stored deflate blocks), written by hand
/// so this crate needs no image library: a frame with nothing in view.
pub fn blank_png(w: u32, h: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for _ in 0..h {
        raw.push(0u8); // filter: none
        raw.extend(std::iter::repeat_n(200u8, w as usize));
    }
    let mut z = vec![0x78, 0x01];
    for (i, chunk) in raw.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= raw.len();
        z.push(u8::from(last));
        let len = chunk.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit grayscale
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(&data);
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
