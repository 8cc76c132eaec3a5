//! `TestApp`: the real `passdesk serve` on 127.0.0.1:0 with a fresh demo data directory and an
//! API key per role, driven by a real HTTP client.

use crate::events::until;
use crate::Node;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

pub struct TestApp {
    pub node: Node,
    pub base: String,
    /// How it was started (kept for a restart).
    launch: Launch,
    child: Option<Child>,
    pub reader_key: String,
    pub cashier_key: String,
    pub manager_key: String,
    pub admin_key: String,
    agent: ureq::Agent,
}

/// A response: status, headers (lower-case names), the body as sent and, when it is JSON,
/// parsed (`Value::Null` otherwise).
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// A header's value (`""` when the answer has none).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// The body as text (an HTML page, a refusal that is not JSON).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// What a failed assertion shows: the status and the JSON body, or the text when it is not JSON.
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Reply");
        d.field("status", &self.status);
        if self.body.is_null() && !self.bytes.is_empty() {
            d.field("text", &self.text().chars().take(300).collect::<String>());
        } else {
            d.field("body", &self.body);
        }
        d.finish()
    }
}

/// An HTTP client as the tests use it: every status is an answer to check, not an error, and
/// each request has a fresh connection (a server may close one after refusing a request whose
/// body it did not read, 401 before the body; a reused one would fail the next request).
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .max_idle_connections(0)
        .build()
        .into()
}

/// One request to `url`: `key` as the bearer, `headers`, and a JSON body (as bytes). The body
/// of an event stream is not read (it never ends): its `bytes` are empty.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Reply {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(k) = key {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    for (h, v) in headers {
        req = req.header(*h, *v);
    }
    let result = match body {
        Some(b) => agent.run(
            req.header("Content-Type", "application/json")
                .body(b)
                .unwrap(),
        ),
        None => agent.run(req.body(()).unwrap()),
    };
    let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let headers: HashMap<String, String> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let streaming = headers
        .get("content-type")
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let bytes = if streaming {
        Vec::new()
    } else {
        resp.body_mut().read_to_vec().unwrap_or_default()
    };
    Reply {
        status: resp.status().as_u16(),
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    }
}

/// How a [`TestApp`] starts: on what data, watching PC/SC readers or not, and under what
/// command.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `passdesk demo` first (the default), or only `passdesk init`: an empty counter that
    /// gets its passes from elsewhere (a hub).
    pub demo: bool,
    /// Also watch PC/SC readers.
    pub readers: bool,
    /// A command the service runs under, its arguments before the `passdesk` binary's (e.g.
    /// `["nice", "-n", "10"]`). It must exec the service, not fork it: `kill` and `stop`
    /// reach the process started here, and a child left behind would outlive the test
    /// (`faketime` forks: see [`Launch::clock_off`]).
    pub prefix: Vec<String>,
    /// Environment variables of the service process.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// A counter whose wall clock is off by `offset` (libfaketime's words: `"+10m"`, `"-2h"`):
    /// Debian's libfaketime (package `faketime`) preloaded into the service itself, no wrapper
    /// process. Only the wall clock is wrong; timers (the monotonic clock) keep the machine's
    /// pace. The test's own `passdesk` commands keep the machine's clock.
    pub fn clock_off(offset: &str) -> Self {
        let lib = std::fs::read_dir("/usr/lib")
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|d| d.path().join("faketime").join("libfaketimeMT.so.1"))
            .find(|p| p.exists())
            .expect("libfaketimeMT.so.1 under /usr/lib/*/faketime/: install Debian's faketime (scripts/lib/apt.sh does)");
        Self {
            env: vec![
                ("LD_PRELOAD".into(), lib.display().to_string()),
                ("FAKETIME".into(), offset.into()),
                ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
            ],
            ..Self::default()
        }
    }
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            demo: true,
            readers: false,
            prefix: Vec::new(),
            env: Vec::new(),
        }
    }
}

/// Starts `passdesk serve` on `node`'s data directory on a free loopback port; returns the
/// process and its base URL once it listens.
fn serve(node: &Node, launch: &Launch) -> (Child, String) {
    let plain = node.cmd();
    let mut cmd = match launch.prefix.split_first() {
        None => plain,
        Some((program, args)) => {
            let mut c = std::process::Command::new(program);
            c.args(args).arg(plain.get_program()).args(plain.get_args());
            for (k, v) in plain.get_envs() {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
            }
            c
        }
    };
    cmd.envs(launch.env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(if launch.readers {
            &[][..]
        } else {
            &["--no-readers"][..]
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start passdesk serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("serve did not print its address ({e}): {line:?}"));
    let base = ready["listening"].as_str().unwrap().to_owned();
    (child, base)
}

impl TestApp {
    pub fn start() -> Self {
        Self::start_with(|_| {}, false)
    }

    /// Starts with this `passdesk.toml` in the data directory (no PC/SC readers).
    pub fn with_config(toml: &str) -> Self {
        Self::start_with(
            |node| std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap(),
            false,
        )
    }

    /// Starts with a serial scanner (`[[serial]]`, CR-terminated) as the reader `till-1` on
    /// `port` and waits until `/status` says it is connected. `kind`: its settings line
    /// (`medium = "serial"` for a barcode scanner, `vtap = true` for a VTAP).
    pub fn with_serial_till(port: &Path, kind: &str) -> Self {
        let app = Self::with_config(&format!(
            "[[serial]]\nreader_id = \"till-1\"\nport = \"{}\"\n{kind}\nterminator = \"cr\"\n",
            port.display()
        ));
        until("the serial reader till-1 connected on /status", || {
            app.device("till-1")
                .filter(|d| d["connected"] == true)
                .map(|_| ())
        });
        app
    }

    /// Starts on a fresh demo data directory, after `configure` (e.g. writing passdesk.toml);
    /// `readers`: also watch PC/SC readers.
    pub fn start_with(configure: impl FnOnce(&Node), readers: bool) -> Self {
        Self::launch(
            Launch {
                readers,
                ..Launch::default()
            },
            configure,
        )
    }

    /// Starts as `launch` says, after `configure` (which runs before the keys are made and
    /// the service starts).
    pub fn launch(launch: Launch, configure: impl FnOnce(&Node)) -> Self {
        let node = if launch.demo {
            Node::demo()
        } else {
            Node::new()
        };
        configure(&node);
        let key = |role: &str| {
            node.ok(&["keys", "create", "--role", role, "--name", role])["key"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (reader_key, cashier_key, manager_key, admin_key) =
            (key("reader"), key("cashier"), key("manager"), key("admin"));
        let (child, base) = serve(&node, &launch);
        Self {
            node,
            base,
            launch,
            child: Some(child),
            reader_key,
            cashier_key,
            manager_key,
            admin_key,
            agent: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One request to this service (see [`send`]).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        send(&self.agent, method, &self.url(path), key, headers, body)
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        self.send(method, path, key, headers, body)
    }

    /// A request whose body is sent as given, byte for byte.
    pub fn raw(&self, method: &str, path: &str, key: Option<&str>, body: Vec<u8>) -> Reply {
        self.send(method, path, key, &[], Some(body))
    }

    /// `GET` with a key (or none), the body as bytes: status, Content-Type, Cache-Control, body.
    pub fn get_bytes(&self, path: &str, key: Option<&str>) -> (u16, String, String, Vec<u8>) {
        let r = self.send("GET", path, key, &[], None);
        let (ct, cc) = (r.header("content-type"), r.header("cache-control"));
        (r.status, ct.to_owned(), cc.to_owned(), r.bytes)
    }

    /// The device's line on `/status` whose reader id is `reader`.
    pub fn device(&self, reader: &str) -> Option<Value> {
        let status = self.get("/api/v1/status", &self.reader_key);
        status.body["data"]["attributes"]["devices"]
            .as_array()?
            .iter()
            .find(|d| d["readerId"] == reader)
            .cloned()
    }

    pub fn get(&self, path: &str, key: &str) -> Reply {
        self.call("GET", path, Some(key), None, &[])
    }

    pub fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("POST", path, Some(key), Some(&body), &[])
    }

    pub fn patch(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(key), Some(&body), &[])
    }

    pub fn scan(&self, value: &str, reader: &str) -> Value {
        let r = self.post(
            "/api/v1/scans",
            &self.reader_key,
            serde_json::json!({"value": value, "readerId": reader, "medium": "qr"}),
        );
        assert_eq!(r.status, 201, "{r:?}");
        r.body["data"]["attributes"].clone()
    }

    /// Subscribes to `/api/v1/scans/stream`: a channel of `(event name, JSON data)`.
    pub fn events(&self) -> std::sync::mpsc::Receiver<(String, Value)> {
        let req = ureq::http::Request::builder()
            .uri(self.url("/api/v1/scans/stream"))
            .header("Authorization", format!("Bearer {}", self.reader_key))
            .body(())
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(None)
            .build()
            .into();
        let resp = agent.run(req).expect("open the event stream");
        assert_eq!(resp.status(), 200);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut name = String::new();
            for line in BufReader::new(resp.into_body().into_reader())
                .lines()
                .map_while(Result::ok)
            {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    let v = serde_json::from_str(d).unwrap_or(Value::Null);
                    if tx.send((std::mem::take(&mut name), v)).is_err() {
                        return;
                    }
                }
            }
        });
        rx
    }

    /// SIGKILL, and waits for the process to be gone: nothing of it runs on.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts the service again on the same data directory (after [`TestApp::kill`] or
    /// [`TestApp::stop`]), on a new port; the keys stay valid.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill it first");
        let (child, base) = serve(&self.node, &self.launch);
        self.child = Some(child);
        self.base = base;
    }

    /// Sends SIGTERM and waits: the exit status of a graceful shutdown.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        child.wait().unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
