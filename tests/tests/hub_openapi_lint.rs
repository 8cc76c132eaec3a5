//! The hub's sync API document (`GET /sync/v1/openapi.json` of `passdesk hub serve`) against
//! the same two validators as the counter's (`openapi_lint.rs`): `openapi-spec-validator`
//! (OpenAPI 3.1) and Redocly's recommended rules (`ui/redocly.yaml`). Any error or warning
//! fails the test.

mod hub_support;

use hub_support::{Db, HubProc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The document as a running hub serves it, in a file of its own.
fn document(dir: &Path) -> PathBuf {
    let db = Db::sqlite();
    let hub = HubProc::start(&db);
    let r = hub.send("GET", "/sync/v1/openapi.json", None, None);
    assert_eq!(r.status, 200, "{r:?}");
    let path = dir.join("hub-openapi.json");
    std::fs::write(&path, &r.bytes).unwrap();
    path
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

#[test]
fn openapi_spec_validator_finds_the_hub_document_valid() {
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path());
    let out = Command::new("openapi-spec-validator")
        .arg(&doc)
        .output()
        .unwrap_or_else(|e| {
            panic!("openapi-spec-validator cannot run ({e}): run scripts/test.sh (it installs it with pip)")
        });
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses the hub's document:\n{}",
        text(&out)
    );
}

#[test]
fn redocly_lint_finds_no_error_and_no_warning_in_the_hub_document() {
    let redocly = ui_dir().join("node_modules/.bin/redocly");
    assert!(
        redocly.exists(),
        "{} is missing: run scripts/test.sh (it runs npm install in ui/)",
        redocly.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path());
    let out = Command::new(&redocly)
        .arg("lint")
        .arg("--config")
        .arg(ui_dir().join("redocly.yaml"))
        .arg("--format=json")
        .arg(&doc)
        .env("REDOCLY_SUPPRESS_UPDATE_NOTICE", "true")
        .env("REDOCLY_TELEMETRY", "off")
        .output()
        .expect("run redocly lint");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "redocly lint did not print its JSON report ({e}):\n{}",
            text(&out)
        )
    });
    let problems: Vec<String> = report["problems"]
        .as_array()
        .expect("the report lists its problems")
        .iter()
        .map(|p| {
            format!(
                "{} {}: {} at {}",
                p["severity"].as_str().unwrap_or("?"),
                p["ruleId"].as_str().unwrap_or("?"),
                p["message"].as_str().unwrap_or("?"),
                p["location"][0]["pointer"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert!(
        problems.is_empty() && out.status.success(),
        "redocly lint (recommended rules) found {} problem(s):\n{}\n{}",
        problems.len(),
        problems.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}
