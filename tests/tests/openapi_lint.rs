//! The API document (`passdesk openapi`, the one the service serves at `/api/v1/openapi.json`)
//! against two validators we did not write: `openapi-spec-validator` (PyPI, installed by
//! scripts/lib/python.sh) checks it against the OpenAPI 3.1 specification, and Redocly's CLI
//! (`@redocly/cli`, a devDependency of ui/, installed by scripts/lib/ui.sh) lints it with its
//! recommended rules (`ui/redocly.yaml`). A client generated from a document that fails them
//! calls the wrong URLs: any error or warning fails the test.

use passdesk_tests::openapi_lint::{assert_redocly_clean, assert_spec_valid};
use passdesk_tests::passdesk_bin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The document as the binary prints it, in a file of its own.
fn document(dir: &Path) -> PathBuf {
    let out = Command::new(passdesk_bin())
        .arg("openapi")
        .output()
        .expect("run passdesk openapi");
    assert!(
        out.status.success(),
        "passdesk openapi: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout).expect("passdesk openapi prints JSON");
    let path = dir.join("openapi.json");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn openapi_spec_validator_finds_the_document_valid() {
    let dir = tempfile::tempdir().unwrap();
    assert_spec_valid(&document(dir.path()), "the document");
}

#[test]
fn redocly_lint_finds_no_error_and_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    assert_redocly_clean(&document(dir.path()));
}
