//! The hub's sync API document (`GET /sync/v1/openapi.json` of `passdesk hub serve`) against
//! the same two validators as the counter's (`openapi_lint.rs`): `openapi-spec-validator`
//! (OpenAPI 3.1) and Redocly's recommended rules (`ui/redocly.yaml`). Any error or warning
//! fails the test.

mod hub_support;

use hub_support::{Db, HubProc};
use passdesk_tests::openapi_lint::{assert_redocly_clean, assert_spec_valid};
use std::path::{Path, PathBuf};

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

#[test]
fn openapi_spec_validator_finds_the_hub_document_valid() {
    let dir = tempfile::tempdir().unwrap();
    assert_spec_valid(&document(dir.path()), "the hub's document");
}

#[test]
fn redocly_lint_finds_no_error_and_no_warning_in_the_hub_document() {
    let dir = tempfile::tempdir().unwrap();
    assert_redocly_clean(&document(dir.path()));
}
