//! Waiting for what a test needs, never for a fixed time: the service's event stream
//! ([`crate::service::TestApp::events`]) and the JSON lines of a watching command (`readers
//! watch`, `serial watch`). The wanted event is named and matched; whatever else arrives first
//! (a camera's `device` line, another reader's tap) is skipped, not mistaken for it, and a
//! test that waits in vain says what it waited for and what came instead.

use serde_json::Value;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a test waits for an event before it fails: generous, for a loaded machine (the
/// test then fails on what it checks, not on how fast it came).
pub const WAIT: Duration = Duration::from_secs(30);

/// Skipped events named in a failure message, at most.
const SHOWN: usize = 12;

/// The service's stream as [`crate::service::TestApp::events`] delivers it: `(event name,
/// data)`.
pub trait StreamEvents {
    /// The next event named `name` whose data satisfies `matching`, others skipped.
    fn wait_for(&self, name: &str, matching: impl Fn(&Value) -> bool) -> Value;

    /// The next event named `name`, others skipped.
    #[track_caller]
    fn wait_named(&self, name: &str) -> Value {
        self.wait_for(name, |_| true)
    }
}

impl StreamEvents for Receiver<(String, Value)> {
    #[track_caller]
    fn wait_for(&self, name: &str, matching: impl Fn(&Value) -> bool) -> Value {
        wait(
            self,
            &format!("a `{name}` event that matches"),
            |(n, v)| n == name && matching(v),
            |(n, v)| format!("{n} {v}"),
        )
        .1
    }
}

/// The JSON lines of a watching command, each with an `event` field.
pub trait WatchLines {
    /// The next line that satisfies `matching` (`what` says which, for the failure message),
    /// others skipped.
    fn wait_line(&self, what: &str, matching: impl Fn(&Value) -> bool) -> Value;

    /// The next line whose `event` is `name` and that satisfies `matching`, others skipped.
    #[track_caller]
    fn wait_for(&self, name: &str, matching: impl Fn(&Value) -> bool) -> Value {
        self.wait_line(&format!("an `{name}` line that matches"), |v| {
            v["event"] == name && matching(v)
        })
    }
}

impl WatchLines for Receiver<Value> {
    #[track_caller]
    fn wait_line(&self, what: &str, matching: impl Fn(&Value) -> bool) -> Value {
        wait(self, what, matching, Value::to_string)
    }
}

/// Receives until `wanted`, for at most [`WAIT`].
#[track_caller]
fn wait<T>(
    rx: &Receiver<T>,
    what: &str,
    wanted: impl Fn(&T) -> bool,
    show: impl Fn(&T) -> String,
) -> T {
    let until = Instant::now() + WAIT;
    let mut skipped = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(item) if wanted(&item) => return item,
            Ok(item) => skipped.push(show(&item)),
            Err(e) => {
                let why = match e {
                    RecvTimeoutError::Timeout => format!("not within {} s", WAIT.as_secs()),
                    RecvTimeoutError::Disconnected => "the stream ended".to_owned(),
                };
                let n = skipped.len();
                let shown = skipped.split_off(n.saturating_sub(SHOWN));
                panic!(
                    "waited for {what}: {why}; skipped {n} other(s){}:\n  {}",
                    if n > SHOWN { " (the last shown)" } else { "" },
                    shown.join("\n  ")
                );
            }
        }
    }
}

/// Polls `check` until it gives something, for at most [`WAIT`]: for states a test can only
/// ask about (a status line, a file), not be told of.
#[track_caller]
pub fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "waited {} s for {what}",
            WAIT.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
