//! The `passdesk` command line, driven as a person or a script would, on real SQLite files.

use passdesk_tests::{describe, json_lines, last_json, Node};
use serde_json::{json, Value};
use std::io::Write;

fn pass_line(id: &str, barcode: &str, extra: Value) -> String {
    let mut attributes = json!({
        "passType": "eventTicket", "status": "issued", "extId": format!("ext-{id}"),
        "passTemplateUuid": "tpl-1", "passTemplateName": "Gig Ticket",
        "eventUuid": "ev-1", "eventName": "The Gig",
        "nfc": format!("nfc-{id}"),
        "barcode": {"type": "qrCode", "value": barcode, "displayText": true},
        "passContent": {"fullName": format!("Holder {id}")},
        "createdAt": "2026-01-01T10:00:00Z"
    });
    attributes
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"id": id, "type": "pass", "attributes": attributes}).to_string()
}

fn write_file(node: &Node, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = node.data_dir().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

#[test]
fn init_is_idempotent_and_keeps_the_key_private() {
    let node = Node::empty();
    let first = node.ok(&["init"]);
    let second = node.ok(&["init"]);
    assert_eq!(first["created"], true);
    assert_eq!(second["created"], false);
    assert_eq!(first["nodeId"], second["nodeId"]);
    assert_eq!(first["keyId"], second["keyId"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let sub = node.data_dir().join("sub");
        let out = std::process::Command::new(passdesk_tests::passdesk_bin())
            .arg("--data-dir")
            .arg(&sub)
            .arg("init")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        let mode = std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

#[test]
fn commands_before_init_say_what_to_do_and_create_nothing() {
    let node = Node::empty();
    let out = node.run(&["scan", "ABC"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("passdesk init"),
        "{}",
        describe(&out)
    );
    assert!(!node.db_path().exists());
}

#[test]
fn import_then_scan_prints_the_decision() {
    let node = Node::new();
    let file = [
        pass_line("p1", "GIG-1", json!({})),
        pass_line("p2", "GIG-2", json!({"status": "voided"})),
    ]
    .join("\n");
    let path = write_file(&node, "passes.jsonl", file.as_bytes());
    let summary = node.ok(&[std::ffi::OsStr::new("import"), path.as_os_str()]);
    assert_eq!(summary["passes"], 2);

    let ok = node.ok(&["scan", "GIG-1", "--reader", "door", "--medium", "qr"]);
    assert_eq!(
        (
            ok["verdict"].as_str(),
            ok["reason"].as_str(),
            ok["passId"].as_str()
        ),
        (Some("accept"), None, Some("p1"))
    );
    assert!(ok["scanId"].as_str().unwrap().len() == 36);
    assert_eq!(ok["pass"]["holderName"], "Holder p1");

    for (value, reason) in [
        ("GIG-1", "already_used"),
        ("GIG-2", "voided"),
        ("nope", "unknown_pass"),
    ] {
        let out = node.run(&["scan", value, "--reader", "door-2"]);
        assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
        assert_eq!(last_json(&out)["reason"], reason);
    }
    let shown = node.ok(&["passes", "show", "nfc-p1"]);
    assert_eq!(
        shown["data"]["attributes"]["passTemplateName"],
        "Gig Ticket"
    );
    let listed = node.ok(&["passes", "list", "--status", "voided"]);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let scans = node.ok(&["scans", "list", "--pass", "p1"]);
    assert_eq!(scans["data"].as_array().unwrap().len(), 2);
    assert_eq!(scans["data"][0]["reason"], "already_used");
}

#[test]
fn a_bad_import_line_aborts_everything_and_names_the_line() {
    let node = Node::new();
    let good = write_file(
        &node,
        "good.jsonl",
        pass_line("keep", "KEEP-1", json!({})).as_bytes(),
    );
    node.ok(&[std::ffi::OsStr::new("import"), good.as_os_str()]);
    let before = node.fingerprint();
    let ok1 = pass_line("a", "A-1", json!({}));
    let ok2 = pass_line("b", "B-1", json!({}));
    let long = "x".repeat(1_100_000);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (format!("{ok1}\n{ok2}\n{{not json").into_bytes(), "line 3: not JSON"),
        (format!("{ok1}\n{}", pass_line("c", "C-1", json!({"status": "lost"}))).into_bytes(), "line 2: attributes.status"),
        (format!("{ok1}\n{}", pass_line("c", "C-1", json!({"expiresAt": "tomorrow"}))).into_bytes(), "line 2: attributes.expiresAt"),
        (format!("{ok1}\n{}", pass_line("c", "A-1", json!({}))).into_bytes(), "line 2: barcode value \"A-1\" already belongs to pass a"),
        (format!("{ok1}\n{}", pass_line("c", "KEEP-1", json!({}))).into_bytes(), "already belongs to pass keep"),
        (format!("{ok1}\n{{\"type\":\"pass\",\"attributes\":{{}}}}").into_bytes(), "line 2: id: missing"),
        (format!("{ok1}\n{{\"id\":\"z\",\"type\":\"coupon\"}}").into_bytes(), "line 2: type: unknown type"),
        (format!("{ok1}\n{{\"id\":\"z\",\"type\":\"pass\",\"attributes\":{{\"status\":\"issued\"}}}}").into_bytes(), "line 2: attributes.passTemplateUuid: missing"),
        (format!("{ok1}\n{}", pass_line("c", "", json!({}))).into_bytes(), "line 2: attributes.barcode.value: the value is empty"),
        (format!("{ok1}\n{}", pass_line("c", "C-1", json!({"passContent": [1]}))).into_bytes(), "line 2: attributes.passContent: expected an object"),
        ([ok1.as_bytes(), b"\n\xff\xfe garbage\n"].concat(), "line 2: cannot read: not UTF-8"),
        (format!("{ok1}\n{long}").into_bytes(), "line 2: cannot read: line longer than"),
        (b"[1,2,3]".to_vec(), "line 1: expected a JSON object"),
    ];
    for (bytes, expected) in cases {
        let path = write_file(&node, "bad.jsonl", &bytes);
        let out = node.run(&[std::ffi::OsStr::new("import"), path.as_os_str()]);
        assert_eq!(out.status.code(), Some(1), "{expected}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in: {stderr}"
        );
        assert!(stderr.contains("database unchanged"), "{stderr}");
        assert_eq!(node.fingerprint(), before, "{expected}: database changed");
    }
    let missing = node.run(&["import", "/no/such/file.jsonl"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open /no/such/file.jsonl"));
}

#[test]
fn malformed_scans_are_rejected_with_a_reason_never_a_panic() {
    let node = Node::demo();
    let huge = "9".repeat(100 * 1024);
    #[cfg(unix)]
    let garbage = {
        use std::os::unix::ffi::OsStringExt;
        std::ffi::OsString::from_vec((1..=255u8).rev().collect())
    };
    #[cfg(not(unix))]
    let garbage = std::ffi::OsString::from("\u{7}\u{8}");
    let token = node.ok(&["token", "issue", &demo_pass_id(&node, "HLF-0003")])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let truncated = token[..token.len() - 10].to_owned();
    let cases: Vec<(std::ffi::OsString, &str)> = vec![
        (huge.into(), "malformed_value"),
        (garbage, "malformed_value"),
        ("".into(), "malformed_value"),
        ("\u{1b}[2J".into(), "malformed_value"),
        (truncated.into(), "invalid_token"),
        ("PD1.".into(), "invalid_token"),
    ];
    for (value, reason) in cases {
        let before = node
            .store()
            .conn()
            .query_row("SELECT count(*) FROM scans", [], |r| r.get::<_, i64>(0))
            .unwrap();
        let out = node
            .cmd()
            .arg("scan")
            .arg(&value)
            .args(["--reader", "gate-a"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
        let d = last_json(&out);
        assert_eq!(d["reason"], reason, "{d}");
        assert!(!d["message"].as_str().unwrap().is_empty());
        let after = node
            .store()
            .conn()
            .query_row("SELECT count(*) FROM scans", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert_eq!(after, before + 1, "one whole scan row per reject");
    }
}

fn demo_pass_id(node: &Node, barcode: &str) -> String {
    node.ok(&["passes", "show", barcode])["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn stdin_session_survives_garbage_and_endless_lines() {
    let node = Node::demo();
    let mut input = b"HLF-0010\r\n\x00\x01\x02\xff\nBEAN-0001\n".to_vec();
    input.extend(std::iter::repeat_n(b'Z', 64 * 1024));
    input.extend(b"\nHLF-0010\n");
    let mut child = node
        .cmd()
        .args(["scan", "-", "--reader", "gate-a"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let reasons: Vec<Value> = json_lines(&out)
        .iter()
        .map(|d| match d.get("error") {
            Some(e) => e["code"].clone(),
            None => d["reason"].clone(),
        })
        .collect();
    // The 64 KiB line is skipped, not decided: reported on its own line, recorded nowhere.
    assert_eq!(
        reasons,
        vec![
            Value::Null,
            json!("malformed_value"),
            json!("wrong_event"),
            json!("line_too_long"),
            Value::Null
        ]
    );
    assert_eq!(json_lines(&out)[3]["line"], 4);
    let last = json_lines(&out).pop().unwrap();
    assert!(
        last["duplicateOf"].is_string(),
        "second tap inside the window repeats the first: {last}"
    );
}

#[test]
fn tokens_validate_offline_and_can_be_revoked() {
    let node = Node::demo();
    let id = demo_pass_id(&node, "HLF-0005");
    let issued = node.ok(&["token", "issue", &id]);
    let token = issued["token"].as_str().unwrap();
    assert!(token.starts_with("PD1."));
    let d = node.ok(&["scan", token, "--reader", "gate-a"]);
    assert_eq!(
        (
            d["verdict"].as_str(),
            d["matchedBy"].as_str(),
            d["passId"].as_str()
        ),
        (Some("accept"), Some("token"), Some(id.as_str()))
    );

    let other = node.ok(&["token", "issue", &demo_pass_id(&node, "HLF-0006")]);
    let revoked = node.ok(&[
        "token",
        "revoke",
        other["token"].as_str().unwrap(),
        "--reason",
        "refunded",
    ]);
    assert_eq!(revoked["tokenId"], other["tokenId"]);
    let out = node.run(&[
        "scan",
        other["token"].as_str().unwrap(),
        "--reader",
        "gate-a",
    ]);
    assert_eq!(last_json(&out)["reason"], "revoked");

    // A pass sold elsewhere, not in this cache: admitted on its signature, once.
    let web = node.ok(&[
        "token",
        "issue",
        "web-1",
        "--template",
        "tpl-hlf-ticket",
        "--event",
        "ev-harbour-lights",
    ]);
    let d = node.ok(&["scan", web["token"].as_str().unwrap(), "--reader", "gate-a"]);
    assert_eq!(
        (d["passId"].as_str(), d["warnings"].clone()),
        (Some("web-1"), json!(["not_in_cache"]))
    );
    let d = last_json(&node.run(&["scan", web["token"].as_str().unwrap(), "--reader", "gate-b"]));
    assert_eq!(d["reason"], "already_used");
    let out = node.run(&["token", "issue", "web-2", "--template", "no-such-template"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no template"),
        "{}",
        describe(&out)
    );

    // A token signed by a node this one does not trust.
    let stranger = Node::demo();
    let foreign = stranger.ok(&["token", "issue", &demo_pass_id(&stranger, "HLF-0007")]);
    let out = node.run(&[
        "scan",
        foreign["token"].as_str().unwrap(),
        "--reader",
        "gate-a",
    ]);
    let d = last_json(&out);
    assert_eq!(d["reason"], "invalid_token");
    assert!(
        d["message"].as_str().unwrap().contains("unknown key"),
        "{d}"
    );
}

#[test]
fn demo_tells_a_believable_story() {
    let node = Node::demo();
    let again = node.ok(&["demo"]);
    assert_eq!(again["imported"]["passes"], 460);
    let scan = |value: &str, reader: &str, exit: bool| {
        let mut args = vec!["scan", value, "--reader", reader];
        if exit {
            args.push("--exit");
        }
        last_json(&node.run(&args))
    };
    assert_eq!(scan("HLF-0001", "gate-a", false)["verdict"], "accept");
    let used = scan("HLF-0001", "gate-b", false);
    assert_eq!(used["reason"], "already_used");
    assert_eq!(used["previousUse"]["readerName"], "Gate A");
    assert_eq!(scan("HLF-0040", "gate-a", false)["reason"], "voided");
    assert_eq!(scan("JAZZ-001", "gate-a", false)["reason"], "wrong_event");
    assert_eq!(
        scan("JAZZ-001", "jazz-door", false)["reason"],
        "not_yet_valid"
    );
    assert_eq!(scan("BEAN-0025", "till-1", false)["reason"], "expired");
    assert_eq!(
        scan("BEAN-0033", "till-1", false)["warnings"],
        json!(["removed_from_wallet"])
    );
    assert_eq!(scan("HLW-001", "gate-a", false)["verdict"], "accept");
    assert_eq!(scan("HLW-001", "gate-b", false)["reason"], "already_used");
    assert_eq!(scan("HLW-001", "exit-1", false)["verdict"], "accept");
    assert_eq!(scan("HLW-001", "gate-b", false)["verdict"], "accept");
    let policies = node.ok(&["policy", "list"]);
    assert_eq!(policies.as_array().unwrap().len(), 3);
}

#[test]
fn policy_set_validates_its_input() {
    let node = Node::demo();
    let out = node.run(&[
        "policy",
        "set",
        "--event",
        "no-such-event",
        "--mode",
        "single",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no event \"no-such-event\""),
        "{}",
        describe(&out)
    );
    let out = node.run(&[
        "policy",
        "set",
        "--template",
        "tpl-bean-there",
        "--mode",
        "sometimes",
    ]);
    assert!(!out.status.success());
    let p = node.ok(&[
        "policy",
        "set",
        "--template",
        "tpl-bean-there",
        "--mode",
        "multiple",
        "--max-entries",
        "2",
        "--duplicate-window",
        "0",
    ]);
    assert_eq!(p["maxEntries"], 2);
    node.ok(&["scan", "BEAN-0002", "--reader", "till-1"]);
    node.ok(&["scan", "BEAN-0002", "--reader", "till-1"]);
    assert_eq!(
        last_json(&node.run(&["scan", "BEAN-0002", "--reader", "till-1"]))["reason"],
        "already_used"
    );
}

#[test]
fn the_packaged_example_config_is_valid() {
    let node = Node::demo();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/passdesk.toml");
    std::fs::copy(&example, node.data_dir().join("passdesk.toml")).unwrap();
    // serve reads the config before anything else; a bad key would stop it with the reason.
    let mut child = node
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0", "--no-readers"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        line.contains("listening"),
        "{line} / {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And a config with a typo is refused with the key it did not know.
    std::fs::write(
        node.data_dir().join("passdesk.toml"),
        "lisen = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = node.run(&["serve", "--listen", "127.0.0.1:0", "--no-readers"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lisen"),
        "{}",
        describe(&out)
    );
}
