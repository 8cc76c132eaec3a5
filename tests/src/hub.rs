//! `HubApp`: the real `passdesk hub serve` on loopback, over an SQLite file or a PostgreSQL
//! database, that a test stops, kills (`kill -9`) and starts again on the same address (the
//! counters joined it by that address). Also: counters that joined it ([`HubApp::counter`]),
//! and an observer node that reads the hub's whole log over the protocol, the way a counter
//! does, so a test compares what the hub holds whatever its engine.

use crate::events::until;
use crate::postgres::PgCluster;
use crate::service::{client, send, Launch, Reply, TestApp};
use crate::{describe, json_lines, last_json, passdesk_bin, Node};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// The hub's two engines; every end-to-end case runs over both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A hub's database for one test: an SQLite file in a temp dir, or a database of its own on
/// the throwaway PostgreSQL cluster the running tests share ([`PgCluster::shared`], stopped
/// with the last test holding it). Declare it before the hubs that use it, so they are
/// dropped first.
pub struct HubDatabase {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    pub engine: Engine,
    /// The cluster, for PostgreSQL.
    pub cluster: Option<Arc<PgCluster>>,
    _dir: Option<tempfile::TempDir>,
}

impl HubDatabase {
    pub fn new(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                Self {
                    url: format!("sqlite://{}", dir.path().join("hub.sqlite").display()),
                    engine,
                    cluster: None,
                    _dir: Some(dir),
                }
            }
            Engine::Postgres => {
                let cluster = PgCluster::shared();
                Self {
                    url: cluster.database(),
                    engine,
                    cluster: Some(cluster),
                    _dir: None,
                }
            }
        }
    }

    /// A hub process over this database.
    pub fn hub(&self) -> HubApp {
        HubApp::start(&self.url)
    }
}

pub struct HubApp {
    /// `sqlite://PATH` or `postgres://…`.
    pub database: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT`: where it listens again after a restart.
    addr: String,
    child: Option<Child>,
    agent: ureq::Agent,
}

/// A hub command (`passdesk hub …`) with nothing of the caller's environment standing in for
/// its flags.
fn hub_cmd() -> Command {
    let mut c = Command::new(passdesk_bin());
    c.env_remove("PASSDESK_HUB_DATABASE")
        .env_remove("PASSDESK_DATA_DIR")
        .env("NO_COLOR", "1")
        .arg("hub");
    c
}

/// Starts `passdesk hub serve` on `listen`; returns the process and its base URL once it
/// listens.
fn serve(database: &str, listen: &str) -> (Child, String) {
    let mut child = hub_cmd()
        .args(["serve", "--database", database, "--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start passdesk hub serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("hub serve did not print its address ({e}): {line:?}"));
    let base = ready["listening"]
        .as_str()
        .unwrap_or_else(|| panic!("no `listening` in {ready}"))
        .trim_end_matches('/')
        .to_owned();
    (child, base)
}

impl HubApp {
    /// A hub over `database` (created by the hub at its first start), on a free port.
    pub fn start(database: &str) -> Self {
        let (child, base) = serve(database, "127.0.0.1:0");
        let addr = base
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("not an http URL: {base}"))
            .to_owned();
        Self {
            database: database.to_owned(),
            base,
            addr,
            child: Some(child),
            agent: client(),
        }
    }

    /// A second hub process over the same database, on a port of its own (a chain's second
    /// server behind its load balancer).
    pub fn another(&self) -> Self {
        Self::start(&self.database)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One request to the hub's API (`key`: a node's credential).
    pub fn send(&self, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> Reply {
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        send(&self.agent, method, &self.url(path), key, &[], body)
    }

    /// `passdesk hub ARGS… --database URL`.
    pub fn cmd<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut c = hub_cmd();
        c.args(args).arg("--database").arg(&self.database);
        c
    }

    /// Runs a hub command and expects success; returns its output.
    #[track_caller]
    pub fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> std::process::Output {
        let out = self.cmd(args).output().expect("run passdesk hub");
        assert!(
            out.status.success(),
            "passdesk hub failed: {}",
            describe(&out)
        );
        out
    }

    /// A one-time enrollment token for a node called `name`.
    pub fn enroll(&self, name: &str) -> String {
        let v = last_json(&self.ok(&["enroll", "--name", name]));
        v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {v}"))
            .to_owned()
    }

    /// `passdesk hub conflicts`: one JSON object per conflict.
    pub fn conflicts(&self) -> Vec<Value> {
        json_lines(&self.ok(&["conflicts"]))
    }

    /// `passdesk hub nodes`.
    pub fn nodes(&self) -> Vec<Value> {
        json_lines(&self.ok(&["nodes"]))
    }

    /// `passdesk hub import FILE` (PassEntry JSON lines); its summary.
    pub fn import(&self, file: &Path) -> Value {
        last_json(&self.ok(&[std::ffi::OsStr::new("import"), file.as_os_str()]))
    }

    /// Enrolls `node` (an initialised data directory, its service not running) as `name`
    /// with `passdesk sync join`.
    pub fn join(&self, node: &Node, name: &str) -> Value {
        let token = self.enroll(name);
        node.ok(&["sync", "join", &self.base, &token])
    }

    /// A counter joined to this hub as `name`: an empty data directory (`passdesk init`),
    /// `setup` run on it (its catalogue, readers, loyalty programs, `passdesk.toml`), joined,
    /// then served as `launch` says (its `demo` is ignored: a counter of a hub starts empty).
    pub fn counter(&self, name: &str, launch: Launch, setup: impl FnOnce(&Node)) -> TestApp {
        TestApp::launch(
            Launch {
                demo: false,
                ..launch
            },
            |node| {
                setup(node);
                self.join(node, name);
            },
        )
    }

    /// SIGTERM, and waits for it to end.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        child.wait().unwrap()
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts it again over the same database on the same address (after [`HubApp::stop`] or
    /// [`HubApp::kill`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill it first");
        let (child, base) = serve(&self.database, &self.addr);
        assert_eq!(base, self.base, "the hub came back on another address");
        self.child = Some(child);
    }

    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// An observer: a node enrolled over the protocol (no counter behind it) that reads the
    /// hub's log. It pushes nothing, so the log it pulls is everything.
    pub fn observer(&self) -> Observer {
        use base64::Engine as _;
        let token = self.enroll("observer");
        let node_id = format!("observer-{}", &token[..token.len().min(8)]);
        // A key of its own, as a counter has: every counter trusts the keys the hub enrolled,
        // so none may be one whose private key anybody knows. It never signs anything.
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(key.verifying_key().to_encoded_point(true).as_bytes());
        let key_id = passdesk_core::token::key_id_of(key.verifying_key());
        let body = json!({"token": token, "nodeId": node_id, "keyId": key_id, "publicKey": public});
        let r = self.send("POST", "/sync/v1/enroll", None, Some(&body));
        assert_eq!(r.status, 201, "{r:?}");
        Observer {
            credential: r.body["credential"].as_str().unwrap().to_owned(),
        }
    }
}

impl Drop for HubApp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A node that only reads the hub's log.
pub struct Observer {
    pub credential: String,
}

impl Observer {
    /// Every change in the hub's log, in seq order (`{seq, id, nodeId, at, kind, data}`).
    pub fn log(&self, hub: &HubApp) -> Vec<Value> {
        let mut after = 0i64;
        let mut all = Vec::new();
        loop {
            let r = hub.send(
                "GET",
                &format!("/sync/v1/changes?after={after}&limit=5000&wait=0"),
                Some(&self.credential),
                None,
            );
            assert_eq!(r.status, 200, "{r:?}");
            all.extend(r.body["changes"].as_array().unwrap().iter().cloned());
            after = r.body["cursor"].as_i64().unwrap();
            if r.body["more"] != true {
                return all;
            }
        }
    }

    /// The `scan` changes of the log: their scan ids, one per change (a scan twice in the log
    /// shows twice).
    pub fn scan_ids(&self, hub: &HubApp) -> Vec<String> {
        self.log(hub)
            .iter()
            .filter(|c| c["kind"] == "scan")
            .map(|c| c["data"]["scanId"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A counter's node id.
pub fn node_id(node: &Node) -> String {
    node.store()
        .conn()
        .query_row("SELECT node_id FROM node", [], |r| r.get(0))
        .unwrap()
}

/// `passdesk sync status` of a counter.
pub fn sync_status(node: &Node) -> Value {
    node.ok(&["sync", "status"])
}

/// Waits until the counter has nothing left to push and its last round reached the hub.
#[track_caller]
pub fn wait_pushed(app: &TestApp) -> Value {
    until("the counter pushed everything", || {
        let s = sync_status(&app.node);
        (s["online"] == true && s["pending"] == 0).then_some(s)
    })
}

/// Waits until the counter's status says the hub is out of reach.
#[track_caller]
pub fn wait_offline(app: &TestApp) -> Value {
    until("the counter to see the hub gone", || {
        let s = sync_status(&app.node);
        (s["online"] == false && !s["offlineSince"].is_null()).then_some(s)
    })
}

/// Waits until the counter's status says it reached the hub again.
#[track_caller]
pub fn wait_online(app: &TestApp) -> Value {
    until("the counter to reach the hub", || {
        let s = sync_status(&app.node);
        (s["online"] == true).then_some(s)
    })
}

/// Whether the counter's audit log holds the scan `scan_id` (its own or one applied from the
/// hub).
pub fn has_scan(node: &Node, scan_id: &str) -> bool {
    node.store()
        .conn()
        .query_row("SELECT count(*) FROM scans WHERE id = ?1", [scan_id], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
        > 0
}

/// Waits until the counter holds the scan `scan_id`.
#[track_caller]
pub fn wait_scan(app: &TestApp, scan_id: &str) {
    until(&format!("scan {scan_id} at {}", app.base), || {
        has_scan(&app.node, scan_id).then_some(())
    })
}

/// The ids of the scans a counter made itself (not those it learnt from the hub).
pub fn own_scan_ids(node: &Node) -> Vec<String> {
    let store = node.store();
    let mut stmt = store
        .conn()
        .prepare("SELECT id FROM scans WHERE node_id = (SELECT node_id FROM node)")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
