//! Webhook receivers on loopback: real HTTP servers (axum, on a runtime of their own) that
//! record every request as it arrived (path, headers, raw body) and answer as the test tells
//! them: a status, with headers, or held until the test releases it. Tests wait on what the
//! receiver recorded (a condition over the log), never for a time.

use crate::events::WAIT;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// One request as it reached the receiver.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its place in arrival order, from 0.
    pub n: usize,
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    /// The status answered, once answered (`None` while held, or when the caller went away).
    pub answered: Option<u16>,
    pub answered_at: Option<Instant>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    /// `webhook-id`: the event's id.
    pub fn webhook_id(&self) -> &str {
        self.header("webhook-id")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn delivered(&self) -> bool {
        self.answered.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// A status with headers (`Retry-After`, `Location`).
    With(u16, Vec<(&'static str, String)>),
    /// Nothing until [`Receiver::release`], then this status.
    Hold(u16),
}

/// Decides each request's answer from the request and what came before it.
pub type Plan = Box<dyn Fn(&Received, &[Received]) -> Answer + Send + Sync>;

struct Shared {
    log: Mutex<Vec<Received>>,
    changed: Condvar,
    plan: Mutex<Plan>,
    released: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Vec<Received>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A receiver; stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// A loopback port taken and let go: nothing listens there (a connection is refused) until
/// [`Reserved::start`].
pub struct Reserved {
    pub addr: SocketAddr,
}

impl Reserved {
    pub fn new() -> Reserved {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        Reserved {
            addr: listener.local_addr().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A receiver on this port at last.
    pub fn start(self, plan: Plan) -> Receiver {
        Receiver::on(self.addr, plan)
    }
}

impl Default for Reserved {
    fn default() -> Self {
        Self::new()
    }
}

/// Every request answered `status`.
pub fn always(status: u16) -> Plan {
    Box::new(move |_, _| Answer::Status(status))
}

impl Receiver {
    /// A receiver on a free loopback port.
    pub fn start(plan: Plan) -> Receiver {
        Self::on(SocketAddr::from(([127, 0, 0, 1], 0)), plan)
    }

    /// A receiver that answers every request 200.
    pub fn ok() -> Receiver {
        Self::start(always(200))
    }

    fn on(addr: SocketAddr, plan: Plan) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (released, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            plan: Mutex::new(plan),
            released,
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .unwrap_or_else(|e| panic!("a receiver cannot listen on {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            addr,
            shared,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers from now on by `plan`.
    pub fn set_plan(&self, plan: Plan) {
        *self.shared.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// Answers every request held so far, and any held later, with its status.
    pub fn release(&self) {
        self.shared.released.send_replace(true);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.log().clone()
    }

    /// Waits until `done` holds over what was received (checked at every request and answer),
    /// at most [`WAIT`]; returns the log then.
    #[track_caller]
    pub fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + WAIT;
        let mut log = self.shared.log();
        loop {
            if done(&log) {
                return log.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {} s for {what}; received {} request(s): {:?}",
                WAIT.as_secs(),
                log.len(),
                log.iter()
                    .map(|r| format!("{} {} -> {:?}", r.path, r.webhook_id(), r.answered))
                    .collect::<Vec<_>>()
            );
            log = self
                .shared
                .changed
                .wait_timeout(log, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits until `n` different events (`webhook-id`s) on `path` were answered with a 2xx.
    #[track_caller]
    pub fn wait_delivered(&self, path: &str, n: usize) -> Vec<Received> {
        self.wait_until(&format!("{n} events delivered on {path}"), |log| {
            delivered_ids(log, path).len() >= n
        })
    }
}

/// The distinct `webhook-id`s answered with a 2xx on `path`.
pub fn delivered_ids(log: &[Received], path: &str) -> std::collections::BTreeSet<String> {
    log.iter()
        .filter(|r| r.path == path && r.delivered())
        .map(|r| r.webhook_id().to_owned())
        .collect()
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn receive(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default()
        .to_vec();
    let mut received = Received {
        n: 0,
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        at: Instant::now(),
        answered: None,
        answered_at: None,
    };
    let answer = {
        let mut log = shared.log();
        received.n = log.len();
        let answer = (shared.plan.lock().unwrap_or_else(|p| p.into_inner()))(&received, &log);
        log.push(received.clone());
        shared.changed.notify_all();
        answer
    };
    let (status, headers) = match answer {
        Answer::Status(s) => (s, Vec::new()),
        Answer::With(s, h) => (s, h),
        Answer::Hold(s) => {
            let mut released = shared.released.subscribe();
            // Ends when released; a caller that goes away drops this future (never answered).
            let _ = released.wait_for(|r| *r).await;
            (s, Vec::new())
        }
    };
    {
        let mut log = shared.log();
        let entry = &mut log[received.n];
        entry.answered = Some(status);
        entry.answered_at = Some(Instant::now());
        shared.changed.notify_all();
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(status).expect("a valid status");
    for (name, value) in headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}
