//! `TestApp`: the real `passdesk serve` on 127.0.0.1:0 with a fresh demo data directory and an
//! API key per role, driven by a real HTTP client.

use crate::Node;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

pub struct TestApp {
    pub node: Node,
    pub base: String,
    child: Option<Child>,
    pub reader_key: String,
    pub cashier_key: String,
    pub manager_key: String,
    pub admin_key: String,
    agent: ureq::Agent,
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl TestApp {
    pub fn start() -> Self {
        Self::start_with(|_| {}, false)
    }

    /// Starts on a fresh demo data directory, after `configure` (e.g. writing passdesk.toml);
    /// `readers`: also watch PC/SC readers.
    pub fn start_with(configure: impl FnOnce(&Node), readers: bool) -> Self {
        let node = Node::demo();
        configure(&node);
        let key = |role: &str| {
            node.ok(&["keys", "create", "--role", role, "--name", role])["key"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (reader_key, cashier_key, manager_key, admin_key) =
            (key("reader"), key("cashier"), key("manager"), key("admin"));
        let mut child = node
            .cmd()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(if readers {
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
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            // A server may close a connection after refusing a request whose body it did not
            // read (401 before the body); a fresh connection per request keeps tests exact.
            .max_idle_connections(0)
            .build()
            .into();
        Self {
            node,
            base,
            child: Some(child),
            reader_key,
            cashier_key,
            manager_key,
            admin_key,
            agent,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = self.url(path);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        let result = match body {
            Some(b) => {
                let req = req
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(b).unwrap())
                    .unwrap();
                self.agent.run(req)
            }
            None => self.agent.run(req.body(()).unwrap()),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub fn raw(&self, method: &str, path: &str, key: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("Content-Type", "application/json");
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = self.agent.run(req.body(body).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// `GET` with a key (or none), the body as bytes: status, Content-Type, Cache-Control, body.
    pub fn get_bytes(&self, path: &str, key: Option<&str>) -> (u16, String, String, Vec<u8>) {
        let mut req = ureq::http::Request::builder()
            .method("GET")
            .uri(self.url(path));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = self.agent.run(req.body(()).unwrap()).unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let (ct, cc) = (header("content-type"), header("cache-control"));
        let body = resp.body_mut().read_to_vec().unwrap_or_default();
        (resp.status().as_u16(), ct, cc, body)
    }

    pub fn get(&self, path: &str, key: &str) -> Reply {
        self.call("GET", path, Some(key), None, &[])
    }

    pub fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.call("POST", path, Some(key), Some(&body), &[])
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
