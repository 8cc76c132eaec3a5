//! The served OpenAPI document against the real service: schemathesis (from PyPI, installed by
//! scripts/test.sh) generates requests for every operation, stateful sequences included, and
//! checks that nothing answers 5xx and that every response matches the document (status codes,
//! content types, bodies, headers). Rule-based refusals (422) are the service's to decide, so
//! the "schema-valid data must be accepted" check is not run.

use passdesk_tests::service::TestApp;
use std::process::Command;

#[test]
fn schemathesis_finds_no_server_error_and_no_undocumented_response() {
    let version = Command::new("schemathesis").arg("--version").output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "schemathesis is not installed: run scripts/test.sh (it installs it with pip)"
    );
    let app = TestApp::start();
    let doc = app.call("GET", "/api/v1/openapi.json", None, None, &[]);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let reports = tempfile::tempdir().unwrap();
    let out = Command::new("schemathesis")
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {}", app.admin_key)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,use_after_free,ensure_resource_availability",
            "--max-examples",
            "15",
            "--seed",
            "20261123",
            "--request-timeout",
            "10",
            "--report-dir",
        ])
        .arg(reports.path())
        .env("NO_COLOR", "1")
        // schemathesis keeps a cache in its working directory: not in the repository.
        .current_dir(reports.path())
        .output()
        .expect("run schemathesis");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
