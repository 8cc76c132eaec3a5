//! The counter serves each pass's signed `.pkpass`: in the API as PassEntry's
//! `includePassSource=apple` (`passSource.appleBase64`), and to the holder at
//! `/p/{token}/pass.pkpass`. The real `passdesk serve` with `[wallet.apple]` naming a test CA
//! made by openssl; the files checked as a phone would (unzipped, every manifest hash, the
//! signature by `openssl cms -verify`), independently of our signer.

use base64::Engine as _;
use p256::pkcs8::{DecodePublicKey as _, LineEnding};
use passdesk_tests::service::{Reply, TestApp};
use passdesk_tests::wallet_ca::{
    manifest_mismatches, openssl_ok, openssl_verifies, test_ca, unzip, PASS_TYPE_ID,
};
use passdesk_tests::{describe, last_json, Node};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The VAS reader's private key (the counter's `[nfc] vas_key_files`).
const VAS_D: &str = "3d1547f23cd78ad052a58860f1219e8fb791ec4dfe33769f5b9bfa627a656ca1";

fn vas_secret() -> p256::SecretKey {
    p256::SecretKey::from_slice(&hex::decode(VAS_D).unwrap()).unwrap()
}

/// A counter whose passdesk.toml is `extra` plus `[nfc]` naming the VAS key.
fn counter(apple: &str) -> TestApp {
    let apple = apple.to_owned();
    TestApp::start_with(
        move |node| {
            let key = node.data_dir().join("vas.pem");
            std::fs::write(
                &key,
                vas_secret().to_sec1_pem(LineEnding::LF).unwrap().as_bytes(),
            )
            .unwrap();
            let config = format!(
                "[nfc]\nvas_pass_type_ids = [\"{PASS_TYPE_ID}\"]\nvas_key_files = [\"{}\"]\n\n{apple}",
                key.display()
            );
            std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
        },
        false,
    )
}

fn store_card_request() -> Value {
    json!({
        "passTemplate": "tpl-bean-there",
        "pass": {"fullName": "Jane Smith", "nfc": {"enabled": true}},
        "initialBalance": 120,
    })
}

/// The package a phone would get: unzipped, every hash matching, the signature verified.
fn checked_package(pkpass: &[u8]) -> (BTreeMap<String, Vec<u8>>, Value) {
    let files = unzip(pkpass);
    assert_eq!(manifest_mismatches(&files), Vec::<String>::new());
    openssl_verifies(&files).unwrap_or_else(|e| panic!("openssl cms -verify: {e}"));
    let pass: Value = serde_json::from_slice(&files["pass.json"]).unwrap();
    (files, pass)
}

fn apple_base64(reply: &Reply) -> Vec<u8> {
    let b64 = reply.body["data"]["attributes"]["passSource"]["appleBase64"]
        .as_str()
        .unwrap_or_else(|| panic!("no passSource.appleBase64: {reply:?}"));
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn field<'a>(pass: &'a Value, style: &str, key: &str) -> &'a Value {
    [
        "headerFields",
        "primaryFields",
        "secondaryFields",
        "auxiliaryFields",
        "backFields",
    ]
    .iter()
    .flat_map(|row| pass[style][row].as_array().into_iter().flatten())
    .find(|f| f["key"] == key)
    .unwrap_or_else(|| panic!("no field {key} in {pass:#}"))
}

fn wallet_line(app: &TestApp, wallet: &str) -> Value {
    let status = app.get("/api/v1/status", &app.reader_key);
    assert_eq!(status.status, 200, "{status:?}");
    status.body["data"]["attributes"]["wallet"][wallet].clone()
}

/// `/p/{token}` of a pass, from its `downloadUrl`.
fn holder_path(pass: &Value) -> String {
    let url = pass["data"]["attributes"]["downloadUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("no downloadUrl: {pass:#}"));
    let at = url.find("/p/").expect("a holder link");
    url[at..].to_owned()
}

#[test]
fn an_issued_store_card_comes_with_its_signed_pkpass_and_the_holder_gets_the_same() {
    let ca = test_ca();
    let app = counter(&ca.apple_config_toml());
    let apple = wallet_line(&app, "apple");
    assert_eq!(apple["state"], "ready", "{apple}");
    assert!(apple["detail"].is_null(), "{apple}");

    let issued = app.post(
        "/api/v1/passes?includePassSource=apple",
        &app.manager_key,
        store_card_request(),
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    assert_eq!(issued.body["meta"]["passSource"]["included"], true);
    let attrs = &issued.body["data"]["attributes"];
    let id = issued.body["data"]["id"].as_str().unwrap().to_owned();
    let (files, pass) = checked_package(&apple_base64(&issued));
    assert!(files.contains_key("icon.png"), "{:?}", files.keys());
    assert_eq!(pass["serialNumber"], id);
    assert_eq!(pass["passTypeIdentifier"], PASS_TYPE_ID);
    assert_eq!(pass["barcodes"][0]["message"], attrs["barcode"]["value"]);
    assert!(attrs["nfc"].is_string(), "{attrs}");
    assert_eq!(pass["nfc"]["message"], attrs["nfc"]);
    let published = base64::engine::general_purpose::STANDARD
        .decode(pass["nfc"]["encryptionPublicKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        p256::PublicKey::from_public_key_der(&published).unwrap(),
        vas_secret().public_key(),
        "nfc.encryptionPublicKey is the configured VAS reader key's public key"
    );
    assert_eq!(field(&pass, "storeCard", "balance")["value"], 120);
    assert!(pass.get("voided").is_none(), "{pass:#}");
    // No web service configured: no token, none written.
    assert!(pass.get("authenticationToken").is_none(), "{pass:#}");
    let tokens: i64 = app
        .node
        .store()
        .conn()
        .query_row("SELECT count(*) FROM wallet_apple_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tokens, 0);

    // The holder's file, by the link's token and no key: the same pass.
    let page = holder_path(&issued.body);
    let file = app.send("GET", &format!("{page}/pass.pkpass"), None, &[], None);
    assert_eq!(file.status, 200, "{file:?}");
    assert_eq!(file.header("content-type"), "application/vnd.apple.pkpass");
    assert_eq!(
        file.header("content-disposition"),
        format!("attachment; filename=\"{id}.pkpass\"")
    );
    assert_eq!(file.header("cache-control"), "no-store");
    assert_eq!(file.header("referrer-policy"), "no-referrer");
    let (held, _) = checked_package(&file.bytes);
    assert_eq!(held["pass.json"], files["pass.json"], "the same pass.json");

    // GET by id answers it too, and by extId-less id with the Google arm refused (not set up).
    let got = app.get(
        &format!("/api/v1/passes/{id}?includePassSource=apple"),
        &app.cashier_key,
    );
    assert_eq!(got.status, 200, "{got:?}");
    let (_, again) = checked_package(&apple_base64(&got));
    assert_eq!(again["serialNumber"], id);
    let google = app.get(
        &format!("/api/v1/passes/{id}?includePassSource=google"),
        &app.cashier_key,
    );
    assert_eq!(google.status, 409, "{google:?}");
    assert_eq!(google.body["errors"][0]["code"], "googleWalletNotSetUp");

    // An active pass (on a device) gets no passSource, and meta says why.
    let active = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"passAction": "reactivate"}),
    );
    assert_eq!(active.status, 200, "{active:?}");
    assert_eq!(active.body["data"]["attributes"]["status"], "active");
    let got = app.get(
        &format!("/api/v1/passes/{id}?includePassSource=apple"),
        &app.cashier_key,
    );
    assert_eq!(got.status, 200, "{got:?}");
    assert!(
        got.body["data"]["attributes"].get("passSource").is_none(),
        "{got:?}"
    );
    assert_eq!(got.body["meta"]["passSource"]["included"], false);
    assert!(got.body["meta"]["passSource"]["detail"]
        .as_str()
        .unwrap()
        .contains("active"));

    // A voided pass's file says so.
    let voided = app.patch(
        &format!("/api/v1/passes/{id}"),
        &app.manager_key,
        json!({"passAction": "void"}),
    );
    assert_eq!(voided.status, 200, "{voided:?}");
    let file = app.send("GET", &format!("{page}/pass.pkpass"), None, &[], None);
    assert_eq!(file.status, 200, "{file:?}");
    let (_, pass) = checked_package(&file.bytes);
    assert_eq!(pass["voided"], true, "{pass:#}");
}

#[test]
fn with_a_web_service_each_pass_gets_one_token_for_life() {
    let ca = test_ca();
    let app = counter(&format!(
        "{}web_service_url = \"https://counter.example/wallet/apple/\"\n",
        ca.apple_config_toml()
    ));
    let issued = app.post(
        "/api/v1/passes?includePassSource=apple",
        &app.manager_key,
        store_card_request(),
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    let id = issued.body["data"]["id"].as_str().unwrap().to_owned();
    let (_, first) = checked_package(&apple_base64(&issued));
    assert_eq!(
        first["webServiceURL"],
        "https://counter.example/wallet/apple"
    );
    let token = first["authenticationToken"].as_str().unwrap().to_owned();
    assert!(token.len() >= 16, "{token}");
    let file = app.send(
        "GET",
        &format!("{}/pass.pkpass", holder_path(&issued.body)),
        None,
        &[],
        None,
    );
    let (_, second) = checked_package(&file.bytes);
    assert_eq!(second["authenticationToken"], token.as_str());
    let stored: Vec<(String, String)> = app
        .node
        .store()
        .conn()
        .prepare("SELECT pass_id, token FROM wallet_apple_tokens")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored, vec![(id, token.clone())]);
    // The token is the file's alone: never in the API's own words.
    assert!(!issued.body["data"].to_string().contains(&token));
}

#[test]
fn a_counter_without_apple_wallet_refuses_pass_source_and_issues_nothing() {
    let app = TestApp::start();
    let apple = wallet_line(&app, "apple");
    assert_eq!(apple["state"], "notConfigured", "{apple}");
    let detail = apple["detail"].as_str().unwrap().to_owned();

    let before = app.node.fingerprint();
    let refused = app.post(
        "/api/v1/passes?includePassSource=apple",
        &app.manager_key,
        store_card_request(),
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    let error = &refused.body["errors"][0];
    assert_eq!(error["code"], "appleWalletNotSetUp");
    assert_eq!(error["detail"], detail.as_str());
    assert_eq!(error["source"]["parameter"], "includePassSource");
    assert_eq!(app.node.fingerprint(), before, "nothing was issued");

    // A value that is neither wallet: 400 naming the parameter, nothing issued.
    for path in [
        "/api/v1/passes?includePassSource=samsung",
        "/api/v1/passes?includePassSource=",
    ] {
        let bad = app.post(path, &app.manager_key, store_card_request());
        assert_eq!(bad.status, 400, "{path}: {bad:?}");
        assert_eq!(
            bad.body["errors"][0]["source"]["parameter"],
            "includePassSource"
        );
    }
    let bad = app.get(
        "/api/v1/passes/BEAN-0001?includePassSource=samsung",
        &app.cashier_key,
    );
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(
        bad.body["errors"][0]["source"]["parameter"],
        "includePassSource"
    );
    assert_eq!(app.node.fingerprint(), before, "nothing changed");

    // Without the parameter, issuance goes on as ever.
    let issued = app.post("/api/v1/passes", &app.manager_key, store_card_request());
    assert_eq!(issued.status, 201, "{issued:?}");
    assert!(issued.body["data"]["attributes"]
        .get("passSource")
        .is_none());

    // The holder's file: a page saying Apple Wallet is not set up here; a bad link: not found.
    let page = holder_path(&issued.body);
    let file = app.send("GET", &format!("{page}/pass.pkpass"), None, &[], None);
    assert_eq!(file.status, 404, "{file:?}");
    assert!(file.header("content-type").starts_with("text/html"));
    assert!(
        file.text().contains("Apple Wallet is not set up"),
        "{}",
        file.text()
    );
    assert_eq!(file.header("cache-control"), "no-store");
    let google = app.send("GET", &format!("{page}/google"), None, &[], None);
    assert_eq!(google.status, 404, "{google:?}");
    assert!(google.text().contains("Google Wallet is not set up"));
    for bad in [
        "/p/0123456789abcdef0123456789abcdef/pass.pkpass",
        "/p/not-a-token/pass.pkpass",
        "/p/0123456789abcdef0123456789abcdef/google",
    ] {
        let r = app.send("GET", bad, None, &[], None);
        assert_eq!(r.status, 404, "{bad}: {r:?}");
        assert!(r.text().contains("Pass not found"), "{bad}");
    }
}

#[test]
fn a_broken_apple_wallet_leaves_the_counter_running_and_says_why() {
    let ca = test_ca();
    // The root's key, not the Pass Type ID certificate's.
    let config = ca.apple_config_toml().replace(
        &format!("key = \"{}\"", ca.path("pass.key").display()),
        &format!("key = \"{}\"", ca.path("root.key").display()),
    );
    assert_ne!(config, ca.apple_config_toml());
    let app = counter(&config);
    let apple = wallet_line(&app, "apple");
    assert_eq!(apple["state"], "broken", "{apple}");
    let detail = apple["detail"].as_str().unwrap();
    assert!(detail.contains("root.key"), "{detail}");
    assert!(
        detail.contains("not the Pass Type ID certificate's key"),
        "{detail}"
    );
    assert!(!detail.contains("PRIVATE KEY"), "{detail}");

    let refused = app.get(
        "/api/v1/passes/BEAN-0001?includePassSource=apple",
        &app.cashier_key,
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.body["errors"][0]["code"], "appleWalletNotSetUp");
    assert_eq!(refused.body["errors"][0]["detail"], detail);

    // A missing file says which.
    let app = counter(
        &ca.apple_config_toml()
            .replace("wwdr.pem", "no-such-wwdr.pem"),
    );
    let detail = wallet_line(&app, "apple")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("wwdr") && detail.contains("no-such-wwdr.pem"),
        "{detail}"
    );
}

/// A demo node whose passdesk.toml is `config`.
fn node_with(config: &str) -> Node {
    let node = Node::demo();
    std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
    node
}

/// `passdesk wallet check`'s Apple line, and whether it exited 0.
fn check_apple(node: &Node, env: &[(&str, &str)]) -> (Value, bool) {
    let out = node
        .cmd()
        .args(["wallet", "check"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        last_json(&out)["wallet"]["apple"].clone(),
        out.status.success(),
    )
}

#[test]
fn the_command_line_writes_the_same_pkpass_and_checks_the_certificates() {
    let ca = test_ca();
    let node = node_with(&ca.apple_config_toml());
    let (apple, ok) = check_apple(&node, &[]);
    assert!(ok);
    assert_eq!(apple["state"], "ready", "{apple}");

    let out = node.data_dir().join("card.pkpass");
    let written = node.ok(&[
        "wallet",
        "pkpass",
        "BEAN-0001",
        "--out",
        out.to_str().unwrap(),
    ]);
    let pkpass = std::fs::read(&out).unwrap();
    assert_eq!(written["bytes"], pkpass.len());
    let (_, pass) = checked_package(&pkpass);
    assert_eq!(pass["serialNumber"], written["passId"]);
    assert_eq!(pass["barcodes"][0]["message"], "BEAN-0001");

    // The template's design (a PassEntry template document in templates.design) colours it;
    // one that does not read leaves the default layout and the pass still made.
    let set_design = |design: &str| {
        node.store()
            .conn()
            .execute(
                "UPDATE templates SET design = ?1 WHERE id = 'tpl-bean-there'",
                [design],
            )
            .unwrap();
    };
    set_design(
        r##"{"data": {"attributes": {"backgroundColor": "#EFEFEF", "textColor": "#29323A"}}}"##,
    );
    node.ok(&[
        "wallet",
        "pkpass",
        "BEAN-0001",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (_, designed) = checked_package(&std::fs::read(&out).unwrap());
    assert_eq!(designed["backgroundColor"], "rgb(239, 239, 239)");
    assert_eq!(designed["foregroundColor"], "rgb(41, 50, 58)");
    set_design(r##"{"backgroundColor": "beige"}"##);
    let made = node.run(&[
        "wallet",
        "pkpass",
        "BEAN-0001",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", describe(&made));
    assert!(
        describe(&made).contains("tpl-bean-there"),
        "the warning names the template"
    );
    let (_, plain) = checked_package(&std::fs::read(&out).unwrap());
    assert!(plain.get("backgroundColor").is_none(), "{plain:#}");

    let unknown = node.run(&["wallet", "pkpass", "NO-SUCH-PASS"]);
    assert!(!unknown.status.success());
    assert!(
        describe(&unknown).contains("no pass"),
        "{}",
        describe(&unknown)
    );

    // Without [wallet.apple]: said, and nothing written.
    let bare = Node::demo();
    let (apple, ok) = check_apple(&bare, &[]);
    assert!(ok, "not configured is not broken");
    assert_eq!(apple["state"], "notConfigured");
    let refused = bare.run(&["wallet", "pkpass", "BEAN-0001"]);
    assert!(!refused.status.success());
    assert!(describe(&refused).contains("Apple Wallet is not set up"));
}

/// Each way `[wallet.apple]` can fail to load is named with its file and why, and no key
/// material is ever shown.
#[test]
fn every_broken_apple_wallet_names_its_file_and_why() {
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A Pass Type ID certificate for another pass type, from the same WWDR.
    openssl_ok(
        d,
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
            "other.csr", "-subj", "/UID=pass.com.example.other/CN=Pass Type ID: pass.com.example.other/OU=TEAM123456/O=Other/C=GB",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "other.csr",
            "-CA",
            ca.path("wwdr.pem").to_str().unwrap(),
            "-CAkey",
            ca.path("wwdr.key").to_str().unwrap(),
            "-set_serial",
            "77",
            "-days",
            "30",
            "-out",
            "other.pem",
        ],
    );
    // The certificate and key as Keychain Access exports them.
    openssl_ok(
        d,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            ca.path("pass.key").to_str().unwrap(),
            "-in",
            ca.path("pass.pem").to_str().unwrap(),
            "-out",
            "pass.p12",
            "-passout",
            "pass:counter-secret",
        ],
    );
    let pem_lines = |cert: &str, key: &str| {
        format!(
            "certificate = \"{}\"\nkey = \"{}\"\n",
            ca.path(cert).display(),
            ca.path(key).display()
        )
    };
    let base = ca
        .apple_config_toml()
        .replace(&pem_lines("pass.pem", "pass.key"), "");
    assert_ne!(base, ca.apple_config_toml());
    let p12 = d.join("pass.p12");
    let other = format!(
        "certificate = \"{}\"\nkey = \"{}\"\n",
        d.join("other.pem").display(),
        d.join("other.key").display()
    );
    let cases: Vec<(String, &[&str])> = vec![
        (
            format!(
                "{base}p12 = \"{}\"\np12_password = \"wrong\"\n",
                p12.display()
            ),
            &["p12", "pass.p12", "p12_password"],
        ),
        (
            format!("{base}{other}"),
            &["other.pem", "pass.com.example.other", PASS_TYPE_ID],
        ),
        (
            format!("{base}{}", pem_lines("pass.pem", "missing.key")),
            &["key", "missing.key", "cannot read"],
        ),
        (
            format!("{base}{}", pem_lines("wwdr.pem", "wwdr.key")).replace(
                &format!("wwdr = \"{}\"", ca.path("wwdr.pem").display()),
                &format!("wwdr = \"{}\"", ca.path("pass.pem").display()),
            ),
            &["wwdr"],
        ),
        (
            format!(
                "{base}{}p12 = \"{}\"\n",
                pem_lines("pass.pem", "pass.key"),
                p12.display()
            ),
            &["either certificate and key", "p12"],
        ),
    ];
    for (apple, words) in cases {
        let node = node_with(&apple);
        let (line, ok) = check_apple(&node, &[]);
        assert!(!ok, "{apple}: broken exits 1");
        assert_eq!(line["state"], "broken", "{apple}: {line}");
        let detail = line["detail"].as_str().unwrap();
        for w in words {
            assert!(detail.contains(w), "{apple}: {detail:?} should say {w:?}");
        }
        assert!(
            !detail.contains("PRIVATE KEY") && !detail.contains("counter-secret"),
            "{detail}"
        );
    }

    // The right p12 and its password load.
    let node = node_with(&format!(
        "{base}p12 = \"{}\"\np12_password = \"counter-secret\"\n",
        p12.display()
    ));
    let (line, ok) = check_apple(&node, &[]);
    assert!(ok, "{line}");
    assert_eq!(line["state"], "ready", "{line}");

    // A certificate past its end (the test CA's is valid for a year): a counter whose clock
    // is two years on says so.
    let node = node_with(&ca.apple_config_toml());
    let lib = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|d| d.path().join("faketime").join("libfaketime.so.1"))
        .find(|p| p.exists())
        .expect("libfaketime (Debian's faketime)");
    let (line, ok) = check_apple(
        &node,
        &[("LD_PRELOAD", lib.to_str().unwrap()), ("FAKETIME", "+730d")],
    );
    assert!(!ok);
    assert_eq!(line["state"], "broken", "{line}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains("expired") && detail.contains("pass.pem"),
        "{detail}"
    );
}
