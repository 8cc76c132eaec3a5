//! The PassEntry stand-in (`passdesk-passentry-standin`, written from the seed) beside a
//! counter: `[upstream.passentry]` pointing at it, `passdesk upstream …` run against it, and
//! what the counter's cache holds afterwards.

use crate::events::until;
use crate::service::{Launch, TestApp};
use crate::{describe, last_json, Node};
pub use passdesk_passentry_standin::{
    seeded_barcode, seeded_id, seeded_is_card, CrashMode, Options, Outage, PageChange, RateLimit,
    Recorded, RequestKind, StandIn,
};
use serde_json::Value;
use std::process::Output;

/// A stand-in with `passes` seeded passes.
pub fn standin(passes: u64) -> StandIn {
    StandIn::start(Options {
        passes,
        ..Options::default()
    })
    .expect("start the PassEntry stand-in")
}

/// `passdesk.toml` with `[upstream.passentry]` at the stand-in: pages of `per_page` passes,
/// no scheduled pull (pulls are the test's: `passdesk upstream pull`), and `extra` lines.
pub fn upstream_toml(s: &StandIn, per_page: u32, extra: &str) -> String {
    format!(
        "[upstream.passentry]\nbase_url = \"{}\"\napi_key = \"{}\"\npull_every_seconds = 0\nper_page = {per_page}\n{extra}\n",
        s.base_url(),
        s.api_key()
    )
}

/// An empty counter (`passdesk init`, no demo passes) with this `passdesk.toml`, not serving:
/// for `passdesk upstream …` alone.
pub fn node_with(toml: &str) -> Node {
    let node = Node::new();
    std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap();
    node
}

/// An empty counter serving with this `passdesk.toml` (the upstream worker runs in it).
pub fn serving(toml: &str) -> TestApp {
    let toml = toml.to_owned();
    TestApp::launch(
        Launch {
            demo: false,
            ..Launch::default()
        },
        move |node| std::fs::write(node.data_dir().join("passdesk.toml"), toml).unwrap(),
    )
}

/// `passdesk upstream ARGS…`, run to its end.
pub fn upstream(node: &Node, args: &[&str]) -> Output {
    node.cmd()
        .arg("upstream")
        .args(args)
        .output()
        .expect("run passdesk upstream")
}

/// `passdesk upstream pull`, expected to succeed: its JSON summary.
#[track_caller]
pub fn pull(node: &Node) -> Value {
    let out = upstream(node, &["pull"]);
    assert!(out.status.success(), "upstream pull: {}", describe(&out));
    last_json(&out)
}

/// `passdesk upstream status`: its JSON.
#[track_caller]
pub fn status(node: &Node) -> Value {
    let out = upstream(node, &["status"]);
    assert!(out.status.success(), "upstream status: {}", describe(&out));
    last_json(&out)
}

/// Waits until `passdesk upstream status` satisfies `done`; returns it.
#[track_caller]
pub fn wait_status(node: &Node, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    until(what, || Some(status(node)).filter(|s| done(s)))
}

/// Waits until nothing is waiting to go to PassEntry (`queueLength` 0).
#[track_caller]
pub fn wait_drained(node: &Node) -> Value {
    wait_status(node, "the upstream queue drained (queueLength 0)", |s| {
        s["queueLength"] == 0
    })
}

/// The counter's copy of a pass (`None`: not in the cache).
pub fn cached(node: &Node, id: &str) -> Option<passdesk_core::pass::Pass> {
    passdesk_core::pass_store::get_pass(node.store().conn(), id).expect("read the cache")
}

/// Passes in the counter's cache.
pub fn cached_count(node: &Node) -> u64 {
    passdesk_core::pass_store::count_passes(node.store().conn()).expect("count the cache")
}

/// Scans of a pass in the counter's audit log.
pub fn counter_scans_of(node: &Node, pass_id: &str) -> u64 {
    node.store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM scans WHERE pass_id = ?1",
            [pass_id],
            |r| r.get(0),
        )
        .expect("count scans")
}

/// Requests of `kind` about pass `id` the stand-in received (answered or not).
pub fn requests_about(s: &StandIn, kind: &RequestKind, id: &str) -> Vec<Recorded> {
    s.requests()
        .into_iter()
        .filter(|r| &r.kind == kind && r.pass_id.as_deref() == Some(id))
        .collect()
}
