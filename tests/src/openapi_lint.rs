//! Two validators we did not write, run on an OpenAPI document in a file: the counter's
//! (`tests/openapi_lint.rs`) and the hub's (`tests/hub_openapi_lint.rs`).
//! `openapi-spec-validator` (PyPI, installed by scripts/lib/python.sh) checks it against the
//! OpenAPI 3.1 specification; Redocly's CLI (`@redocly/cli`, a devDependency of ui/, installed
//! by scripts/lib/ui.sh) lints it with its recommended rules (`ui/redocly.yaml`). Any error or
//! warning fails the caller's test.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Panics with the validator's words unless `openapi-spec-validator` accepts `doc`
/// (`what` names the document in the message).
pub fn assert_spec_valid(doc: &Path, what: &str) {
    let out = Command::new("openapi-spec-validator")
        .arg(doc)
        .output()
        .unwrap_or_else(|e| {
            panic!("openapi-spec-validator cannot run ({e}): run scripts/test.sh (it installs it with pip)")
        });
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses {what}:\n{}",
        text(&out)
    );
}

/// Panics listing every problem unless Redocly's recommended rules find none in `doc`.
pub fn assert_redocly_clean(doc: &Path) {
    let redocly = ui_dir().join("node_modules/.bin/redocly");
    assert!(
        redocly.exists(),
        "{} is missing: run scripts/test.sh (it runs npm install in ui/)",
        redocly.display()
    );
    let out = Command::new(&redocly)
        .arg("lint")
        .arg("--config")
        .arg(ui_dir().join("redocly.yaml"))
        .arg("--format=json")
        .arg(doc)
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
