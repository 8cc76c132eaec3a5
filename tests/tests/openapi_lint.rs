//! The API document (`passdesk openapi`, the one the service serves at `/api/v1/openapi.json`)
//! against two validators we did not write: `openapi-spec-validator` (PyPI, installed by
//! scripts/lib/python.sh) checks it against the OpenAPI 3.1 specification, and Redocly's CLI
//! (`@redocly/cli`, a devDependency of ui/, installed by scripts/lib/ui.sh) lints it with its
//! recommended rules (`ui/redocly.yaml`). A client generated from a document that fails them
//! calls the wrong URLs: any error or warning fails the test.

use passdesk_tests::passdesk_bin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The document as the binary prints it, in a file of its own.
fn document(dir: &Path) -> PathBuf {
    let out = Command::new(passdesk_bin())
        .arg("openapi")
        .output()
        .expect("run passdesk openapi");
    assert!(out.status.success(), "passdesk openapi: {}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).expect("passdesk openapi prints JSON");
    let path = dir.join("openapi.json");
    std::fs::write(&path, &out.stdout).unwrap();
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
fn openapi_spec_validator_finds_the_document_valid() {
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
        "openapi-spec-validator refuses the document:\n{}",
        text(&out)
    );
}

#[test]
fn redocly_lint_finds_no_error_and_no_warning() {
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
        // No update check or notice: the answer must not depend on the network.
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
