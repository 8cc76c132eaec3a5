//! A watching command (`passdesk readers watch`, `passdesk serial watch`) run as a child
//! process: its JSON lines arrive on a channel, read to the end so it never blocks on a full
//! pipe; it is killed if the test ends before it does.

use crate::events::{WatchLines, WAIT};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Instant;

pub struct WatchProcess {
    child: Option<Child>,
    lines: Receiver<Value>,
}

impl WatchProcess {
    /// Starts `cmd` with its stdout piped here.
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the watching command");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Self {
            child: Some(child),
            lines,
        }
    }

    /// The process id, to look at what it does (`/proc/<pid>/io`).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The next line, whatever it is: for a single source whose order is what is tested (the
    /// reads of one serial line).
    #[track_caller]
    pub fn next(&self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "no line from the watching command within {} s",
                    WAIT.as_secs()
                )
            }
            Err(RecvTimeoutError::Disconnected) => panic!("the watching command ended"),
        }
    }

    /// The next line whose `event` is `name` and that satisfies `matching`, others skipped.
    #[track_caller]
    pub fn wait_for(&self, name: &str, matching: impl Fn(&Value) -> bool) -> Value {
        self.lines.wait_for(name, matching)
    }

    /// The next line that satisfies `matching` (`what` names it), others skipped.
    #[track_caller]
    pub fn wait_line(&self, what: &str, matching: impl Fn(&Value) -> bool) -> Value {
        self.lines.wait_line(what, matching)
    }

    /// Lines until `done` says the ones seen so far are enough: for events whose order
    /// between them is not the point (a reader added and its init failure, a tap and a note).
    #[track_caller]
    pub fn collect_until(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let until = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => seen.push(v),
                Err(e) => panic!(
                    "waited for {what}: {}; saw:\n  {}",
                    match e {
                        RecvTimeoutError::Timeout => format!("not within {} s", WAIT.as_secs()),
                        RecvTimeoutError::Disconnected => "the watching command ended".into(),
                    },
                    seen.iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n  ")
                ),
            }
        }
        seen
    }

    /// Waits for the process to stop by itself (after `--count` events) and succeed; returns
    /// the lines it printed that were not read yet, all of them (its stdout has ended).
    #[track_caller]
    pub fn finish(mut self) -> Vec<Value> {
        let mut child = self.child.take().expect("running");
        let until = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the watching command") {
                break status;
            }
            if Instant::now() >= until {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the watching command did not stop by itself within {} s",
                    WAIT.as_secs()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "the watching command exited with {status}"
        );
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(v) => rest.push(v),
                Err(RecvTimeoutError::Disconnected) => return rest,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the watching command exited but its output did not end")
                }
            }
        }
    }
}

impl Drop for WatchProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
