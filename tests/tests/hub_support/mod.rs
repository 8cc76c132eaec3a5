//! What the hub's tests share: a hub database of either engine, `passdesk hub serve` on
//! loopback, enrolled nodes, and changes written as the protocol's JSON (by hand, from the
//! documents, not with the crate's types).

#![allow(dead_code)] // each test file uses its part

use passdesk_tests::postgres::PgCluster;
use passdesk_tests::service::{client, send, Reply};
use passdesk_tests::{describe, json_lines, last_json, passdesk_bin};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A compressed P-256 point (the curve's generator, base64url): a valid PD1 public key.
pub const PUBLIC_KEY: &str = "A2sX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKW";

/// When the test's changes happened, unless a test says otherwise.
pub const AT: &str = "2026-12-01T19:42:00Z";

/// A hub database for one test: an SQLite file in a temp dir, or a fresh database on the
/// PostgreSQL cluster the running tests share.
pub struct Db {
    pub url: String,
    pub cluster: Option<Arc<PgCluster>>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            url: format!("sqlite://{}", dir.path().join("hub.sqlite").display()),
            cluster: None,
            _dir: Some(dir),
        }
    }

    pub fn postgres() -> Self {
        let cluster = PgCluster::shared();
        Self {
            url: cluster.database(),
            cluster: Some(cluster),
            _dir: None,
        }
    }
}

/// `passdesk hub …` without the caller's environment standing in for its flags.
pub fn hub_cmd() -> Command {
    let mut c = Command::new(passdesk_bin());
    c.env_remove("PASSDESK_HUB_DATABASE")
        .env_remove("PASSDESK_DATA_DIR")
        .env("NO_COLOR", "1")
        .arg("hub");
    c
}

/// An enrolled node: its id and credential.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub credential: String,
}

/// `passdesk hub serve` over a database, on a free loopback port; killed when dropped.
pub struct HubProc {
    pub url: String,
    pub base: String,
    pub hub_id: String,
    child: Child,
    agent: ureq::Agent,
}

impl HubProc {
    pub fn start(db: &Db) -> Self {
        Self::spawn(&db.url).ready()
    }

    /// Starts the process; [`Starting::ready`] waits for its line.
    pub fn spawn(url: &str) -> Starting {
        let child = hub_cmd()
            .args(["serve", "--database", url, "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start passdesk hub serve");
        Starting {
            url: url.to_owned(),
            child,
        }
    }

    pub fn send(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let body = body.map(|b| serde_json::to_vec(&b).unwrap());
        send(
            &self.agent,
            method,
            &format!("{}{path}", self.base),
            key,
            &[],
            body,
        )
    }

    /// A POST of raw bytes as JSON.
    pub fn send_bytes(&self, path: &str, key: &str, bytes: &[u8]) -> Reply {
        send(
            &self.agent,
            "POST",
            &format!("{}{path}", self.base),
            Some(key),
            &[],
            Some(bytes.to_vec()),
        )
    }

    /// `passdesk hub ARGS --database URL`, expected to succeed.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Output {
        run_ok(hub_cmd().args(args).args(["--database", &self.url]))
    }

    /// `passdesk hub ARGS --database URL`, whatever it ends with.
    pub fn run(&self, args: &[&str]) -> Output {
        hub_cmd()
            .args(args)
            .args(["--database", &self.url])
            .output()
            .expect("run passdesk hub")
    }

    /// A one-time enrollment token for `name`.
    pub fn token(&self, name: &str) -> String {
        token_of(&last_json(&self.ok(&["enroll", "--name", name])))
    }

    /// A token made by `passdesk hub enroll` on a clock `ago` behind (faketime).
    pub fn token_made_ago(&self, ago: &str, name: &str) -> String {
        let out = run_ok(
            Command::new("faketime")
                .args(["-f", &format!("-{ago}")])
                .arg(passdesk_bin())
                .env_remove("PASSDESK_HUB_DATABASE")
                .args(["hub", "enroll", "--name", name, "--database", &self.url]),
        );
        token_of(&last_json(&out))
    }

    pub fn enroll_raw(&self, token: &str, node_id: &str) -> Reply {
        self.send(
            "POST",
            "/sync/v1/enroll",
            None,
            Some(
                json!({"token": token, "nodeId": node_id, "keyId": format!("{node_id}-key"),
                        "publicKey": PUBLIC_KEY}),
            ),
        )
    }

    /// Enrolls node `node_id` called `name`.
    #[track_caller]
    pub fn enroll(&self, name: &str, node_id: &str) -> Node {
        let r = self.enroll_raw(&self.token(name), node_id);
        assert_eq!(r.status, 201, "{r:?}");
        Node {
            id: node_id.to_owned(),
            credential: r.body["credential"].as_str().unwrap().to_owned(),
        }
    }

    pub fn push<'a>(&self, node: &Node, changes: impl IntoIterator<Item = &'a Value>) -> Reply {
        let changes: Vec<&Value> = changes.into_iter().collect();
        self.send(
            "POST",
            "/sync/v1/push",
            Some(&node.credential),
            Some(json!({ "changes": changes })),
        )
    }

    pub fn pull(&self, node: &Node, after: i64, limit: Option<u64>, wait: u64) -> Reply {
        let limit = limit.map_or(String::new(), |l| format!("&limit={l}"));
        self.send(
            "GET",
            &format!("/sync/v1/changes?after={after}&wait={wait}{limit}"),
            Some(&node.credential),
            None,
        )
    }

    /// Every change the log holds for `node`, from the start.
    #[track_caller]
    pub fn pull_all(&self, node: &Node) -> Vec<Value> {
        let mut cursor = 0;
        let mut all = Vec::new();
        loop {
            let page = self.pull(node, cursor, None, 0);
            assert_eq!(page.status, 200, "{page:?}");
            all.extend(page.body["changes"].as_array().unwrap().iter().cloned());
            cursor = page.body["cursor"].as_i64().unwrap();
            if page.body["more"] == false {
                return all;
            }
        }
    }

    pub fn conflicts(&self) -> Vec<Value> {
        json_lines(&self.ok(&["conflicts"]))
    }

    pub fn nodes(&self) -> Vec<Value> {
        json_lines(&self.ok(&["nodes"]))
    }
}

impl Drop for HubProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A hub process started, its ready line not read yet (two processes may start at once).
pub struct Starting {
    url: String,
    child: Child,
}

impl Starting {
    #[track_caller]
    pub fn ready(mut self) -> HubProc {
        let mut line = String::new();
        BufReader::new(self.child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = self.child.kill();
            panic!("hub serve did not print its address ({e}): {line:?}")
        });
        HubProc {
            url: self.url,
            base: ready["listening"].as_str().unwrap().to_owned(),
            hub_id: ready["hubId"].as_str().unwrap().to_owned(),
            child: self.child,
            agent: client(),
        }
    }
}

#[track_caller]
fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run passdesk hub");
    assert!(
        out.status.success(),
        "passdesk hub failed: {}",
        describe(&out)
    );
    out
}

fn token_of(v: &Value) -> String {
    v["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {v}"))
        .to_owned()
}

/// A fresh UUID (v7-shaped, unique in this process and across processes in practice).
pub fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let pid = u64::from(std::process::id());
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        (nanos >> 32) as u32,
        (nanos >> 16) & 0xffff,
        pid & 0xfff,
        (pid >> 12) & 0xfff,
        (n << 16 | (nanos & 0xffff)) & 0xffff_ffff_ffff
    )
}

/// A scan as a gate decided it.
#[derive(Debug, Clone)]
pub struct Scan {
    pub pass: String,
    pub direction: &'static str,
    pub verdict: &'static str,
    pub offline: bool,
    pub mode: Option<&'static str>,
    pub limit: Option<u32>,
    pub at: String,
}

impl Scan {
    /// An accepted, counted entry of `pass`, online, with no entry rule.
    pub fn entry(pass: &str) -> Self {
        Self {
            pass: pass.to_owned(),
            direction: "entry",
            verdict: "accept",
            offline: false,
            mode: None,
            limit: None,
            at: AT.to_owned(),
        }
    }

    pub fn exit(pass: &str) -> Self {
        Self {
            direction: "exit",
            ..Self::entry(pass)
        }
    }

    pub fn single(self) -> Self {
        Self {
            mode: Some("single"),
            limit: Some(1),
            ..self
        }
    }

    pub fn multiple(self, limit: Option<u32>) -> Self {
        Self {
            mode: Some("multiple"),
            limit,
            ..self
        }
    }

    pub fn entry_exit(self) -> Self {
        Self {
            mode: Some("entry_exit"),
            limit: None,
            ..self
        }
    }

    pub fn offline(self) -> Self {
        Self {
            offline: true,
            ..self
        }
    }

    pub fn refused(self) -> Self {
        Self {
            verdict: "reject",
            ..self
        }
    }

    pub fn at(self, at: &str) -> Self {
        Self {
            at: at.to_owned(),
            ..self
        }
    }
}

/// A `scan` change of `node`.
pub fn scan(node: &Node, s: &Scan) -> Value {
    let accepted = s.verdict == "accept";
    json!({
        "id": new_id(),
        "nodeId": node.id,
        "at": s.at,
        "kind": "scan",
        "data": {
            "scanId": new_id(),
            "at": s.at,
            "readerId": "reader-1",
            "readerName": "Gate 1",
            "medium": "qr",
            "direction": s.direction,
            "value": s.pass,
            "valueLen": s.pass.len(),
            "passId": s.pass,
            "verdict": s.verdict,
            "reason": if accepted { Value::Null } else { json!("already_used") },
            "detail": null,
            "counted": accepted,
            "duplicateOf": null,
            "viaToken": false,
            "offline": s.offline,
            "entryMode": s.mode,
            "entryLimit": s.limit,
        }
    })
}

/// A `ledger` change of `node`: one operation on `pass` with entries (kind, points, reward).
pub fn ledger(
    node: &Node,
    pass: &str,
    entries: &[(&str, i64, Option<&str>)],
    offline: bool,
    cap: Option<i64>,
) -> Value {
    ledger_at(node, pass, entries, offline, cap, AT)
}

pub fn ledger_at(
    node: &Node,
    pass: &str,
    entries: &[(&str, i64, Option<&str>)],
    offline: bool,
    cap: Option<i64>,
    at: &str,
) -> Value {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(kind, points, reward)| {
            json!({
                "id": new_id(), "kind": kind, "points": points, "stamps": 0,
                "reservedPoints": 0, "reservedStamps": 0, "amountMinor": null,
                "rewardId": reward, "reverses": null, "reason": null, "at": at,
                "expiresAt": null,
            })
        })
        .collect();
    json!({
        "id": new_id(),
        "nodeId": node.id,
        "at": at,
        "kind": "ledger",
        "data": {
            "opId": new_id(),
            "passId": pass,
            "entries": entries,
            "rewards": [],
            "offline": offline,
            "offlineRedemptionsPerDay": cap,
        }
    })
}

/// An operation that redeems `reward` of `pass` at `at`.
pub fn redeem(node: &Node, pass: &str, reward: &str, offline: bool, at: &str) -> Value {
    ledger_at(
        node,
        pass,
        &[("reward_redeem", 0, Some(reward))],
        offline,
        None,
        at,
    )
}

/// A `pass` change of `node`: a pass as issued there.
pub fn pass(node: &Node, id: &str) -> Value {
    json!({
        "id": new_id(),
        "nodeId": node.id,
        "at": AT,
        "kind": "pass",
        "data": {
            "id": id, "extId": null, "status": "issued", "passType": "eventTicket",
            "deviceType": null,
            "template": {"id": "tpl-1", "name": "Festival", "passType": "eventTicket", "design": null},
            "event": null, "barcodeType": "qr", "barcodeValue": id, "barcodeDisplayText": false,
            "nfcValue": null, "groupTag": null, "passContent": {}, "latestMessage": null,
            "createdAt": AT, "updatedAt": AT, "addedAt": null, "removedAt": null,
            "deactivatedAt": null, "expiresAt": null, "validFrom": null, "validUntil": null,
        }
    })
}
