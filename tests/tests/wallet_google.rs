//! The "Add to Google Wallet" link checked as Google would, independently of our encoder: a
//! service account key made by the `openssl` CLI and wrapped in Google's JSON key file shape,
//! the JWT's RS256 signature verified by `openssl dgst -sha256 -verify` over
//! `header.payload`, its header, claims and embedded class and object read back with plain
//! base64url + JSON. Then the counter: `[wallet.google]` loaded (or refused, saying why) on
//! `/status`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use passdesk_core::loyalty::LoyaltyView;
use passdesk_core::pass::{Barcode, Pass, PassType, Template};
use passdesk_core::wallet::google::{
    save_jwt, save_url, GoogleInputs, GoogleIssuer, GooglePass, ServiceAccountKey, SAVE_URL_PREFIX,
};
use passdesk_core::wallet::{PassDesign, PassFacts};
use passdesk_core::Timestamp;
use passdesk_tests::service::TestApp;
use passdesk_tests::wallet_ca::{
    google_account, google_key_file, openssl, openssl_ok, GOOGLE_CLIENT_EMAIL, GOOGLE_KEY_ID,
};
use serde_json::{json, Value};
use std::path::Path;

const ISSUER: &str = "3388000000022222222";
const NFC: &str = "33b680b7a5460e6cd4646dfd2c1a8c33a6fbfa5c";
fn service_account() -> ServiceAccountKey {
    ServiceAccountKey::from_json(&std::fs::read(google_account().key_file()).unwrap()).unwrap()
}

/// `openssl dgst -sha256 -verify pub.pem -signature sig` over `header.payload`.
fn openssl_verifies(jwt: &str) -> Result<(), String> {
    let (signed, sig) = jwt.rsplit_once('.').ok_or("no signature part")?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|e| format!("signature is not base64url: {e}"))?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("signed"), signed).unwrap();
    std::fs::write(dir.path().join("sig"), sig).unwrap();
    let public = google_account().path("pub.pem");
    let out = openssl(
        dir.path(),
        &[
            "dgst",
            "-sha256",
            "-verify",
            public.to_str().unwrap(),
            "-signature",
            "sig",
            "signed",
        ],
    );
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() && said.contains("Verified OK") {
        Ok(())
    } else {
        Err(said)
    }
}

/// One part of the JWT as JSON.
fn part(jwt: &str, i: usize) -> Value {
    let text = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
}

fn store_card() -> (Pass, Template, LoyaltyView) {
    let now = Timestamp::parse_rfc3339("2027-01-15T08:00:00Z").unwrap();
    let mut pass = Pass {
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: "PD-CARD-0001".into(),
            display_text: true,
        }),
        nfc: Some(NFC.into()),
        ..Pass::new("card-1", "tpl-coffee", PassType::new("storeCard"), now)
    };
    pass.pass_content
        .insert("fullName".into(), json!("Jane Smith"));
    let template = Template {
        id: "tpl-coffee".into(),
        name: "Coffee card".into(),
        pass_type: PassType::new("storeCard"),
    };
    let loyalty = LoyaltyView {
        balance: 120,
        reserved_points: 0,
        stamps: 13,
        card_size: Some(10),
        stamps_on_card: Some(3),
        rewards: vec![],
        claimable: vec![],
    };
    (pass, template, loyalty)
}

fn issuer() -> GoogleIssuer {
    GoogleIssuer {
        issuer_id: ISSUER.parse().unwrap(),
        issuer_name: Some("Corner Coffee".into()),
        logo_url: Some("https://corner-coffee.example/logo.png".into()),
    }
}

fn store_card_jwt() -> String {
    let (pass, template, loyalty) = store_card();
    let issuer = issuer();
    let design = PassDesign {
        background_color: Some("#6F4E37".parse().unwrap()),
        ..PassDesign::default()
    };
    let now = Timestamp::parse_rfc3339("2027-01-15T09:30:00Z").unwrap();
    let google = GooglePass::build(&GoogleInputs {
        issuer: &issuer,
        facts: PassFacts {
            pass: &pass,
            template: &template,
            design: &design,
            loyalty: Some(&loyalty),
            event: None,
        },
        now,
    });
    save_jwt(
        &service_account(),
        &google,
        &["https://corner-coffee.example".into()],
        now,
    )
    .unwrap()
}

#[test]
fn the_save_jwt_verifies_with_the_service_accounts_public_key_and_carries_the_object() {
    let jwt = store_card_jwt();
    openssl_verifies(&jwt).unwrap();
    assert_eq!(
        part(&jwt, 0),
        json!({"typ": "JWT", "alg": "RS256", "kid": GOOGLE_KEY_ID})
    );
    let claims = part(&jwt, 1);
    assert_eq!(claims["iss"], GOOGLE_CLIENT_EMAIL);
    assert_eq!(claims["aud"], "google");
    assert_eq!(claims["typ"], "savetowallet");
    assert_eq!(claims["iat"], 1_800_005_400);
    assert_eq!(claims["origins"], json!(["https://corner-coffee.example"]));
    let payload = claims["payload"].as_object().unwrap();
    let mut kinds: Vec<_> = payload.keys().map(String::as_str).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["loyaltyClasses", "loyaltyObjects"]);
    let class = &payload["loyaltyClasses"][0];
    assert_eq!(class["id"], format!("{ISSUER}.tpl-coffee"));
    assert_eq!(class["issuerName"], "Corner Coffee");
    assert_eq!(class["programName"], "Coffee card");
    assert_eq!(class["hexBackgroundColor"], "#6F4E37");
    assert_eq!(class["reviewStatus"], "UNDER_REVIEW");
    assert_eq!(class["enableSmartTap"], true);
    assert_eq!(class["redemptionIssuers"], json!([ISSUER]));
    let object = &payload["loyaltyObjects"][0];
    assert_eq!(object["id"], format!("{ISSUER}.card-1"));
    assert_eq!(object["classId"], class["id"]);
    assert_eq!(object["state"], "ACTIVE");
    assert_eq!(object["accountName"], "Jane Smith");
    assert_eq!(object["loyaltyPoints"]["balance"]["int"], 120);
    assert_eq!(object["smartTapRedemptionValue"], NFC);
    assert_eq!(
        object["barcode"],
        json!({"type": "QR_CODE", "value": "PD-CARD-0001", "alternateText": "PD-CARD-0001"})
    );
    let url = save_url(&jwt);
    assert_eq!(url.strip_prefix(SAVE_URL_PREFIX), Some(jwt.as_str()));
    assert!(url.len() < 2000, "{} characters", url.len());
}

#[test]
fn a_tampered_jwt_fails_verification() {
    let jwt = store_card_jwt();
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    // More points than the counter gave.
    let mut claims = part(&jwt, 1);
    claims["payload"]["loyaltyObjects"][0]["loyaltyPoints"]["balance"]["int"] = json!(99_999);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = parts.join(".");
    assert!(
        openssl_verifies(&forged).is_err(),
        "a changed payload verified"
    );
    // One bit of the signature.
    let mut sig = URL_SAFE_NO_PAD
        .decode(jwt.rsplit('.').next().unwrap())
        .unwrap();
    sig[10] ^= 1;
    let (signed, _) = jwt.rsplit_once('.').unwrap();
    let flipped = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert!(
        openssl_verifies(&flipped).is_err(),
        "a changed signature verified"
    );
}

#[test]
fn a_bad_key_file_says_what_is_wrong() {
    let d = tempfile::tempdir().unwrap();
    openssl_ok(
        d.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "ec.pem",
        ],
    );
    let ec = std::fs::read_to_string(d.path().join("ec.pem")).unwrap();
    let rsa = google_account().private_pem();
    let err = |v: Value| {
        ServiceAccountKey::from_json(v.to_string().as_bytes())
            .unwrap_err()
            .to_string()
    };
    let ec_err = err(google_key_file(&ec));
    assert!(
        ec_err
            .starts_with("service account key file: private_key: not a PKCS#8 PEM RSA private key"),
        "{ec_err}"
    );
    let mut no_email = google_key_file(&rsa);
    no_email.as_object_mut().unwrap().remove("client_email");
    assert_eq!(
        err(no_email),
        "service account key file: client_email: missing"
    );
    let mut oauth = google_key_file(&rsa);
    oauth["type"] = json!("authorized_user");
    assert!(err(oauth).starts_with("service account key file: type: \"authorized_user\""));
    // Whatever is wrong, the key's body is never in the message.
    let body: String = rsa.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut broken = google_key_file(&rsa.replace("MII", "XXX"));
    let broken_err = err(broken.take());
    assert!(broken_err.contains("private_key"), "{broken_err}");
    for e in [ec_err, broken_err] {
        assert!(!e.contains(&body[10..50]), "key material in {e}");
    }
}

fn google_toml(key_file: &Path) -> String {
    format!(
        "[wallet.google]\nissuer_id = \"{ISSUER}\"\nservice_account_key = \"{}\"\n\
         origins = [\"https://corner-coffee.example/\"]\nissuer_name = \"Corner Coffee\"\n\
         logo_url = \"https://corner-coffee.example/logo.png\"\n",
        key_file.display()
    )
}

fn google_status(app: &TestApp) -> Value {
    let reply = app.get("/api/v1/status", &app.admin_key);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["data"]["attributes"]["wallet"]["google"].clone()
}

#[test]
fn the_counter_loads_the_service_account_and_says_so_on_status() {
    let app = TestApp::with_config(&google_toml(&google_account().key_file()));
    assert_eq!(
        google_status(&app),
        json!({"state": "ready", "detail": null})
    );
}

#[test]
fn a_broken_google_setup_leaves_the_counter_running_and_says_why() {
    let d = tempfile::tempdir().unwrap();
    let rsa = google_account().private_pem();
    let mut wrong = google_key_file(&rsa);
    wrong.as_object_mut().unwrap().remove("private_key_id");
    let wrong_file = d.path().join("wrong.json");
    std::fs::write(&wrong_file, wrong.to_string()).unwrap();
    let app = TestApp::with_config(&google_toml(&wrong_file));
    let status = google_status(&app);
    assert_eq!(status["state"], "broken", "{status}");
    let detail = status["detail"].as_str().unwrap();
    assert!(
        detail.contains("service account key file: private_key_id: missing"),
        "{detail}"
    );
    let body: String = rsa.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!detail.contains(&body[10..50]));
    // The rest of the counter works.
    assert_eq!(app.get("/api/v1/passes", &app.manager_key).status, 200);
}

/// The JWT inside a save link, verified by openssl; its claims.
fn verified_claims(url: &str) -> Value {
    let jwt = url
        .strip_prefix(SAVE_URL_PREFIX)
        .unwrap_or_else(|| panic!("not a save link: {url}"));
    openssl_verifies(jwt).unwrap_or_else(|e| panic!("openssl dgst -verify: {e}"));
    part(jwt, 1)
}

#[test]
fn an_issued_store_card_comes_with_a_google_link_that_verifies_and_the_holder_is_sent_to_it() {
    let app = TestApp::with_config(&google_toml(&google_account().key_file()));
    let issued = app.post(
        "/api/v1/passes?includePassSource=google",
        &app.manager_key,
        json!({
            "passTemplate": "tpl-bean-there",
            "pass": {"fullName": "Jane Smith", "nfc": {"enabled": true}},
            "initialBalance": 120,
        }),
    );
    assert_eq!(issued.status, 201, "{issued:?}");
    let attrs = &issued.body["data"]["attributes"];
    let id = issued.body["data"]["id"].as_str().unwrap().to_owned();
    let url = attrs["passSource"]["googleDownloadUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("no passSource.googleDownloadUrl: {issued:?}"));
    let claims = verified_claims(url);
    assert_eq!(claims["iss"], GOOGLE_CLIENT_EMAIL);
    assert_eq!(claims["origins"], json!(["https://corner-coffee.example"]));
    let object = &claims["payload"]["loyaltyObjects"][0];
    assert_eq!(object["id"], format!("{ISSUER}.{id}"));
    assert_eq!(object["accountName"], "Jane Smith");
    assert_eq!(object["loyaltyPoints"]["balance"]["int"], 120);
    assert_eq!(object["barcode"]["value"], attrs["barcode"]["value"]);
    assert!(attrs["nfc"].is_string(), "{attrs}");
    assert_eq!(object["smartTapRedemptionValue"], attrs["nfc"]);
    let class = &claims["payload"]["loyaltyClasses"][0];
    assert_eq!(class["issuerName"], "Corner Coffee");
    assert_eq!(class["enableSmartTap"], true);
    assert_eq!(
        class["programLogo"]["sourceUri"]["uri"],
        "https://corner-coffee.example/logo.png"
    );

    // GET by id: the same object, as of now.
    let got = app.get(
        &format!("/api/v1/passes/{id}?includePassSource=google"),
        &app.cashier_key,
    );
    assert_eq!(got.status, 200, "{got:?}");
    let again = verified_claims(
        got.body["data"]["attributes"]["passSource"]["googleDownloadUrl"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(again["payload"], claims["payload"]);

    // The holder's link (no key): a 303 to a save link that verifies. Not followed: it leads
    // to Google.
    let page = {
        let url = attrs["downloadUrl"].as_str().unwrap();
        url[url.find("/p/").expect("a holder link")..].to_owned()
    };
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let holder = passdesk_tests::service::send(
        &no_redirects,
        "GET",
        &app.url(&format!("{page}/google")),
        None,
        &[],
        None,
    );
    assert_eq!(holder.status, 303, "{holder:?}");
    let held = verified_claims(holder.header("location"));
    assert_eq!(held["payload"], claims["payload"]);
}
