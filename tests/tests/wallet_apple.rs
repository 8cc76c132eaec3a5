//! The signed `.pkpass`, checked as Apple's phone would and independently of our encoder: a
//! test CA made with the `openssl` CLI (root → "WWDR" intermediate → Pass Type ID
//! certificate), the package unzipped, every manifest hash recomputed, and the signature
//! verified by `openssl cms -verify` against that root.

use base64::Engine as _;
use p256::pkcs8::DecodePublicKey as _;
use passdesk_core::loyalty::{LoyaltyView, Reward, RewardStatus, RewardUnit};
use passdesk_core::pass::{Barcode, Event, Pass, PassStatus, PassType, Template};
use passdesk_core::wallet::apple::{
    build_pkpass, pass_json, sha1_hex, AppleIdentity, PassImages, PassInputs, PassSigner,
    WalletError, WebService,
};
use passdesk_core::wallet::{PassDesign, PassFacts};
use passdesk_core::Timestamp;
use passdesk_tests::wallet_ca::{
    manifest_mismatches, openssl_ok, openssl_verifies, test_ca as ca, unzip, PASS_TYPE_ID, TEAM_ID,
};
use std::collections::BTreeMap;

/// A VAS reader's key (the one hardware's key tests publish the id of).
const VAS_D: &str = "3d1547f23cd78ad052a58860f1219e8fb791ec4dfe33769f5b9bfa627a656ca1";

fn identity() -> AppleIdentity {
    AppleIdentity {
        pass_type_id: PASS_TYPE_ID.into(),
        team_id: TEAM_ID.into(),
        organization_name: "Corner Coffee".into(),
    }
}

fn vas_key() -> p256::PublicKey {
    p256::SecretKey::from_slice(&hex::decode(VAS_D).unwrap())
        .unwrap()
        .public_key()
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn store_card() -> (Pass, Template, LoyaltyView) {
    let now = at("2027-01-15T08:00:00Z");
    let mut content = serde_json::Map::new();
    content.insert("fullName".into(), "Jane Smith".into());
    content.insert("nfc".into(), serde_json::json!({"enabled": true}));
    let pass = Pass {
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: "PD-CARD-0001".into(),
            display_text: true,
        }),
        nfc: Some("33b680b7a5460e6cd4646dfd2c1a8c33a6fbfa5c".into()),
        pass_content: content,
        expires_at: Some(at("2028-01-01T00:00:00Z")),
        ..Pass::new("card-1", "tpl-coffee", PassType::new("storeCard"), now)
    };
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
        rewards: vec![Reward {
            id: "rw-1".into(),
            pass_id: "card-1".into(),
            tier_name: "Free coffee".into(),
            unit: RewardUnit::Stamps,
            cost: 10,
            status: RewardStatus::Available,
            created_at: now,
            closed_at: None,
        }],
        claimable: vec![],
    };
    (pass, template, loyalty)
}

fn event_ticket() -> (Pass, Template, Event) {
    let now = at("2027-01-15T08:00:00Z");
    let mut content = serde_json::Map::new();
    content.insert("fullName".into(), "Ada Lovelace".into());
    content.insert("seat".into(), "Row F, 12".into());
    let pass = Pass {
        barcode: Some(Barcode {
            kind: "qrCode".into(),
            value: "PD1.eyJwIjoidGlja2V0In0.c2ln".into(),
            display_text: false,
        }),
        nfc: Some("tkt-0042".into()),
        event_id: Some("ev-1".into()),
        pass_content: content,
        ..Pass::new("ticket-42", "tpl-gig", PassType::new("eventTicket"), now)
    };
    let template = Template {
        id: "tpl-gig".into(),
        name: "Gig ticket".into(),
        pass_type: PassType::new("eventTicket"),
    };
    let event = Event {
        id: "ev-1".into(),
        name: "Bob Marley Live".into(),
        venue_name: Some("The Lyceum Theatre".into()),
        start_time: Some(at("1975-07-17T21:30:00Z")),
        end_time: None,
        time_zone: "Europe/London".into(),
    };
    (pass, template, event)
}

/// The files of a `.pkpass`, by name.
/// Apple's required top-level keys, and exactly one style key.
fn assert_apple_required_keys(pass: &serde_json::Value, style: &str) {
    for key in [
        "formatVersion",
        "passTypeIdentifier",
        "serialNumber",
        "teamIdentifier",
        "organizationName",
        "description",
    ] {
        assert!(pass.get(key).is_some(), "pass.json has {key}: {pass:#}");
    }
    assert_eq!(pass["formatVersion"], 1);
    assert_eq!(pass["passTypeIdentifier"], PASS_TYPE_ID);
    assert_eq!(pass["teamIdentifier"], TEAM_ID);
    let styles: Vec<&str> = [
        "boardingPass",
        "coupon",
        "eventTicket",
        "generic",
        "storeCard",
    ]
    .into_iter()
    .filter(|k| pass.get(*k).is_some())
    .collect();
    assert_eq!(styles, [style]);
    // Every field has a key and a value, and keys are unique in the pass.
    let mut keys = std::collections::HashSet::new();
    for row in [
        "headerFields",
        "primaryFields",
        "secondaryFields",
        "auxiliaryFields",
        "backFields",
    ] {
        for f in pass[style][row].as_array().into_iter().flatten() {
            assert!(f["value"].is_string() || f["value"].is_number(), "{f}");
            assert!(keys.insert(f["key"].as_str().unwrap().to_owned()), "{f}");
        }
    }
}

/// The reader key as a phone gets it: base64 → DER SubjectPublicKeyInfo → P-256 point; and
/// openssl reads it as a prime256v1 public key too.
fn assert_nfc_key_is(pass: &serde_json::Value, key: &p256::PublicKey) {
    let b64 = pass["nfc"]["encryptionPublicKey"].as_str().unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(der.len(), 59, "a compressed P-256 SubjectPublicKeyInfo");
    assert_eq!(&p256::PublicKey::from_public_key_der(&der).unwrap(), key);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nfc.der"), &der).unwrap();
    let text = openssl_ok(
        dir.path(),
        &[
            "pkey", "-pubin", "-inform", "DER", "-in", "nfc.der", "-noout", "-text",
        ],
    );
    assert!(text.contains("prime256v1"), "{text}");
}

fn field<'a>(pass: &'a serde_json::Value, style: &str, key: &str) -> &'a serde_json::Value {
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

#[test]
fn a_store_card_pkpass_unzips_hashes_and_verifies_with_openssl() {
    let ca = ca();
    let signer = ca.signer();
    let (pass, template, loyalty) = store_card();
    let design = PassDesign::from_passentry(&serde_json::json!({
        "backgroundColor": "#EFEFEF", "labelColor": "#FF8477", "textColor": "#29323A",
        "header": {"header_one": {"id": "fullName", "label": "Member", "default_value": null}},
    }))
    .unwrap();
    let identity = identity();
    let key = vas_key();
    let inputs = PassInputs {
        nfc_key: Some(&key),
        web_service: Some(WebService {
            url: "https://counter.example/wallet/apple",
            authentication_token: "tok-0123456789abcdef",
        }),
        ..PassInputs::new(
            &identity,
            PassFacts {
                loyalty: Some(&loyalty),
                ..PassFacts::new(&pass, &template, &design)
            },
        )
    };
    let mut images = PassImages::new();
    let logo = ca.read("root.pem"); // not a PNG: refused
    assert!(images.insert("logo.png", logo).is_err());
    let pkpass = build_pkpass(&inputs, &images, &signer, Timestamp::now()).unwrap();
    let files = unzip(&pkpass);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "icon.png",
            "icon@2x.png",
            "icon@3x.png",
            "manifest.json",
            "pass.json",
            "signature"
        ]
    );
    assert_eq!(manifest_mismatches(&files), Vec::<String>::new());
    openssl_verifies(&files).unwrap();

    let p: serde_json::Value = serde_json::from_slice(&files["pass.json"]).unwrap();
    assert_apple_required_keys(&p, "storeCard");
    assert_eq!(p["serialNumber"], "card-1");
    assert_eq!(p["organizationName"], "Corner Coffee");
    assert_eq!(p["description"], "Coffee card");
    assert_eq!(p["backgroundColor"], "rgb(239, 239, 239)");
    assert_eq!(p["labelColor"], "rgb(255, 132, 119)");
    assert_eq!(p["foregroundColor"], "rgb(41, 50, 58)");
    assert_eq!(p["expirationDate"], "2028-01-01T00:00:00Z");
    assert!(p.get("voided").is_none());
    assert_eq!(p["webServiceURL"], "https://counter.example/wallet/apple");
    assert_eq!(p["authenticationToken"], "tok-0123456789abcdef");
    assert_eq!(
        p["barcodes"],
        serde_json::json!([{"format": "PKBarcodeFormatQR", "message": "PD-CARD-0001",
            "messageEncoding": "iso-8859-1", "altText": "PD-CARD-0001"}])
    );
    assert_eq!(
        p["nfc"]["message"],
        "33b680b7a5460e6cd4646dfd2c1a8c33a6fbfa5c"
    );
    assert_nfc_key_is(&p, &key);
    // The design's field, and the loyalty state a store card always shows.
    assert_eq!(field(&p, "storeCard", "fullName")["value"], "Jane Smith");
    assert_eq!(field(&p, "storeCard", "fullName")["label"], "Member");
    let balance = field(&p, "storeCard", "balance");
    assert_eq!(balance["value"], 120);
    assert_eq!(balance["changeMessage"], "Points: %@");
    assert_eq!(p["storeCard"]["primaryFields"][0]["key"], "balance");
    assert_eq!(field(&p, "storeCard", "stamps")["value"], "3 / 10");
    assert_eq!(field(&p, "storeCard", "rewards")["value"], 1);
}

#[test]
fn an_event_ticket_pkpass_verifies_and_shows_its_event() {
    let signer = ca().signer();
    let (pass, template, event) = event_ticket();
    let identity = identity();
    let key = vas_key();
    let design = PassDesign::default();
    let inputs = PassInputs {
        nfc_key: Some(&key),
        ..PassInputs::new(
            &identity,
            PassFacts {
                event: Some(&event),
                ..PassFacts::new(&pass, &template, &design)
            },
        )
    };
    let png = {
        // The built-in icon's bytes serve as any PNG here.
        let files =
            unzip(&build_pkpass(&inputs, &PassImages::new(), &signer, Timestamp::now()).unwrap());
        files["icon@2x.png"].clone()
    };
    let mut images = PassImages::new();
    images.insert("icon.png", png.clone()).unwrap();
    images.insert("logo.png", png.clone()).unwrap();
    images.insert("logo@2x.png", png).unwrap();
    let pkpass = build_pkpass(&inputs, &images, &signer, Timestamp::now()).unwrap();
    let files = unzip(&pkpass);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "icon.png",
            "logo.png",
            "logo@2x.png",
            "manifest.json",
            "pass.json",
            "signature"
        ]
    );
    assert_eq!(manifest_mismatches(&files), Vec::<String>::new());
    openssl_verifies(&files).unwrap();

    let p: serde_json::Value = serde_json::from_slice(&files["pass.json"]).unwrap();
    assert_apple_required_keys(&p, "eventTicket");
    assert_eq!(p["serialNumber"], "ticket-42");
    assert_eq!(p["description"], "Gig ticket");
    assert_eq!(p["relevantDate"], "1975-07-17T21:30:00Z");
    assert!(p.get("webServiceURL").is_none() && p.get("authenticationToken").is_none());
    assert_eq!(p["barcodes"][0]["message"], "PD1.eyJwIjoidGlja2V0In0.c2ln");
    assert_eq!(p["barcodes"][0]["messageEncoding"], "iso-8859-1");
    assert!(p["barcodes"][0].get("altText").is_none());
    assert_eq!(p["nfc"]["message"], "tkt-0042");
    assert_nfc_key_is(&p, &key);
    assert_eq!(
        field(&p, "eventTicket", "event")["value"],
        "Bob Marley Live"
    );
    assert_eq!(field(&p, "eventTicket", "name")["value"], "Ada Lovelace");
    assert_eq!(
        field(&p, "eventTicket", "venue")["value"],
        "The Lyceum Theatre"
    );
    // The start as written in London (BST, +01:00), not moved to the phone's zone.
    let starts = field(&p, "eventTicket", "starts");
    assert_eq!(starts["value"], "1975-07-17T22:30:00+01:00");
    assert_eq!(starts["ignoresTimeZone"], true);
    assert_eq!(starts["dateStyle"], "PKDateStyleMedium");
}

#[test]
fn the_signature_is_detached_with_its_attributes_and_both_certificates() {
    let ca = ca();
    let (pass, template, loyalty) = store_card();
    let identity = identity();
    let design = PassDesign::default();
    let inputs = PassInputs::new(
        &identity,
        PassFacts {
            loyalty: Some(&loyalty),
            ..PassFacts::new(&pass, &template, &design)
        },
    );
    let signed_at = Timestamp::now();
    let pkpass = build_pkpass(&inputs, &PassImages::new(), &ca.signer(), signed_at).unwrap();
    let files = unzip(&pkpass);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("signature"), &files["signature"]).unwrap();
    let printed = openssl_ok(
        dir.path(),
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            "signature",
        ],
    );
    assert!(
        printed.contains("eContent: <ABSENT>"),
        "detached: {printed}"
    );
    for attribute in ["contentType", "signingTime", "messageDigest"] {
        assert!(printed.contains(attribute), "{attribute}: {printed}");
    }
    assert!(printed.contains("sha256WithRSAEncryption"), "{printed}");
    // The signing time is ours, to the second (UTCTime).
    let when = signed_at
        .to_datetime()
        .unwrap()
        .format("UTCTIME:%b %e %H:%M:%S %Y GMT")
        .to_string();
    assert!(printed.contains(&when), "signing time {when}: {printed}");
    let certs = openssl_ok(
        dir.path(),
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            "signature",
            "-print_certs",
            "-noout",
        ],
    );
    assert!(
        certs.contains(&format!("Pass Type ID: {PASS_TYPE_ID}")),
        "{certs}"
    );
    assert!(certs.contains("Worldwide Developer Relations"), "{certs}");
    // No pass.json key names an empty default layout's missing value.
    let p: serde_json::Value = serde_json::from_slice(&files["pass.json"]).unwrap();
    assert!(p.get("nfc").is_none(), "no reader key given: no nfc");
    assert_eq!(field(&p, "storeCard", "name")["value"], "Jane Smith");
}

#[test]
fn a_tampered_manifest_or_pass_json_fails() {
    let (pass, template, loyalty) = store_card();
    let identity = identity();
    let design = PassDesign::default();
    let inputs = PassInputs::new(
        &identity,
        PassFacts {
            loyalty: Some(&loyalty),
            ..PassFacts::new(&pass, &template, &design)
        },
    );
    let pkpass = build_pkpass(
        &inputs,
        &PassImages::new(),
        &ca().signer(),
        Timestamp::now(),
    )
    .unwrap();
    let files = unzip(&pkpass);
    openssl_verifies(&files).unwrap();

    // pass.json changed (a balance of 9120): its hash no longer matches.
    let mut changed = files.clone();
    let text = String::from_utf8(changed["pass.json"].clone()).unwrap();
    assert!(text.contains("\"value\": 120"));
    changed.insert(
        "pass.json".into(),
        text.replace("\"value\": 120", "\"value\": 9120")
            .into_bytes(),
    );
    assert_eq!(manifest_mismatches(&changed), ["pass.json"]);
    // ... and the manifest rewritten to match it: the signature no longer verifies.
    let mut manifest: BTreeMap<String, String> =
        serde_json::from_slice(&changed["manifest.json"]).unwrap();
    manifest.insert("pass.json".into(), sha1_hex(&changed["pass.json"]));
    changed.insert(
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    );
    assert_eq!(manifest_mismatches(&changed), Vec::<String>::new());
    let refused = openssl_verifies(&changed).unwrap_err();
    assert!(refused.contains("verification failure"), "{refused}");
    // One byte of the signature changed: refused.
    let mut broken = files.clone();
    let sig = broken.get_mut("signature").unwrap();
    let n = sig.len();
    sig[n - 10] ^= 0x01;
    assert!(openssl_verifies(&broken).is_err());
}

#[test]
fn an_ec_pass_certificate_signs_too() {
    let ca = ca();
    let d = ca.dir();
    let subject = format!("/UID={PASS_TYPE_ID}/CN=EC pass/OU={TEAM_ID}");
    openssl_ok(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "pass-ec.key",
            "-out",
            "pass-ec.csr",
            "-subj",
            &subject,
        ],
    );
    openssl_ok(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "pass-ec.csr",
            "-CA",
            "wwdr.pem",
            "-CAkey",
            "wwdr.key",
            "-set_serial",
            "77",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            "pass-ec.pem",
        ],
    );
    let signer = PassSigner::from_pem(
        &ca.read("pass-ec.pem"),
        &ca.read("pass-ec.key"),
        &ca.read("wwdr.pem"),
    )
    .unwrap();
    let (pass, template, event) = event_ticket();
    let identity = identity();
    let design = PassDesign::default();
    let inputs = PassInputs::new(
        &identity,
        PassFacts {
            event: Some(&event),
            ..PassFacts::new(&pass, &template, &design)
        },
    );
    let files =
        unzip(&build_pkpass(&inputs, &PassImages::new(), &signer, Timestamp::now()).unwrap());
    openssl_verifies(&files).unwrap();
}

#[test]
fn credentials_are_read_in_their_usual_forms_and_checked() {
    let ca = ca();
    let d = ca.dir();
    // DER certificates, as Apple's portal downloads them; a PKCS #1 key.
    openssl_ok(
        d,
        &[
            "x509", "-in", "pass.pem", "-outform", "DER", "-out", "pass.cer",
        ],
    );
    openssl_ok(
        d,
        &[
            "x509", "-in", "wwdr.pem", "-outform", "DER", "-out", "wwdr.cer",
        ],
    );
    openssl_ok(
        d,
        &[
            "rsa",
            "-in",
            "pass.key",
            "-traditional",
            "-out",
            "pass-pkcs1.key",
        ],
    );
    assert!(String::from_utf8(ca.read("pass-pkcs1.key"))
        .unwrap()
        .contains("BEGIN RSA PRIVATE KEY"));
    let signer = PassSigner::from_pem(
        &ca.read("pass.cer"),
        &ca.read("pass-pkcs1.key"),
        &ca.read("wwdr.cer"),
    )
    .unwrap();
    assert_eq!(signer.pass_type_id().as_deref(), Some(PASS_TYPE_ID));
    assert!(signer.subject().contains("Pass Type ID"));
    assert!(signer.not_after() > Timestamp::now());
    let shown = format!("{signer:?}");
    assert!(
        shown.contains("Pass Type ID") && !shown.contains("PRIVATE"),
        "{shown}"
    );
    // One file holding both, as `openssl pkcs12 -nodes` writes it.
    let mut both = ca.read("pass.pem");
    both.extend(ca.read("pass.key"));
    PassSigner::from_pem(&both, &both, &ca.read("wwdr.pem")).unwrap();

    // Another key than the certificate's.
    let e = PassSigner::from_pem(
        &ca.read("pass.pem"),
        &ca.read("wwdr.key"),
        &ca.read("wwdr.pem"),
    )
    .unwrap_err();
    assert!(matches!(e, WalletError::KeyMismatch), "{e}");
    // The root given as the WWDR: not the certificate's issuer.
    let e = PassSigner::from_pem(
        &ca.read("pass.pem"),
        &ca.read("pass.key"),
        &ca.read("root.pem"),
    )
    .unwrap_err();
    assert!(matches!(e, WalletError::WrongIntermediate { .. }), "{e}");
    assert!(
        e.to_string().contains("Worldwide Developer Relations"),
        "{e}"
    );
    // An encrypted key: refused with what to do, never echoed.
    openssl_ok(
        d,
        &[
            "pkey",
            "-in",
            "pass.key",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "pass-enc.key",
        ],
    );
    let e = PassSigner::from_pem(
        &ca.read("pass.pem"),
        &ca.read("pass-enc.key"),
        &ca.read("wwdr.pem"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");
    // Not a certificate at all.
    let e = PassSigner::from_pem(b"hello", &ca.read("pass.key"), &ca.read("wwdr.pem")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("certificate: neither PEM nor a DER certificate"),
        "{e}"
    );
    let e = PassSigner::from_pem(
        &ca.read("pass.pem"),
        b"-----BEGIN NOTHING-----",
        &ca.read("wwdr.pem"),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("key: no PRIVATE KEY"), "{e}");
}

#[test]
fn a_pass_the_certificate_cannot_sign_or_apple_would_refuse_is_refused() {
    let signer = ca().signer();
    let (pass, template, _) = store_card();
    let design = PassDesign::default();
    // The certificate names another Pass Type ID than the configuration.
    let other = AppleIdentity {
        pass_type_id: "pass.com.example.other".into(),
        ..identity()
    };
    let e = build_pkpass(
        &PassInputs::new(&other, PassFacts::new(&pass, &template, &design)),
        &PassImages::new(),
        &signer,
        Timestamp::now(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("pass.com.example.other"), "{e}");
    let identity = identity();
    // An NFC value Apple would cut at 64 bytes.
    let key = vas_key();
    let long = Pass {
        nfc: Some("n".repeat(65)),
        ..pass.clone()
    };
    let e = pass_json(&PassInputs {
        nfc_key: Some(&key),
        ..PassInputs::new(&identity, PassFacts::new(&long, &template, &design))
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "pass card-1: its NFC value is 65 bytes; Apple Wallet carries at most 64"
    );
    // A token shorter than Apple's 16 characters.
    let e = pass_json(&PassInputs {
        web_service: Some(WebService {
            url: "https://counter.example/wallet/apple",
            authentication_token: "short",
        }),
        ..PassInputs::new(&identity, PassFacts::new(&pass, &template, &design))
    })
    .unwrap_err();
    assert!(e.to_string().contains("authenticationToken"), "{e}");
}

#[test]
fn styles_voids_and_odd_values_map_as_apple_reads_them() {
    let (pass, template, _) = store_card();
    let identity = identity();
    let design = PassDesign::default();
    let voided = Pass {
        status: PassStatus::Voided,
        barcode: Some(Barcode {
            kind: "pdf417".into(),
            value: "Zoë→1".into(),
            display_text: false,
        }),
        ..pass.clone()
    };
    let j = pass_json(&PassInputs::new(
        &identity,
        PassFacts::new(&voided, &template, &design),
    ))
    .unwrap();
    let v = serde_json::to_value(&j).unwrap();
    assert_eq!(v["voided"], true);
    assert_eq!(v["barcodes"][0]["format"], "PKBarcodeFormatPDF417");
    assert_eq!(
        v["barcodes"][0]["messageEncoding"], "utf-8",
        "→ is outside Latin-1"
    );
    // The same bytes read back into the same value.
    let back: passdesk_core::wallet::apple::PassJson =
        serde_json::from_slice(&j.to_bytes()).unwrap();
    assert_eq!(back, j);

    for (kind, key) in [
        ("generic", "generic"),
        ("coupon", "coupon"),
        ("somethingNew", "generic"),
        ("boardingPass", "boardingPass"),
    ] {
        let p = Pass {
            pass_type: PassType::new(kind),
            ..pass.clone()
        };
        let v = serde_json::to_value(
            pass_json(&PassInputs::new(
                &identity,
                PassFacts::new(&p, &template, &design),
            ))
            .unwrap(),
        )
        .unwrap();
        assert_apple_required_keys(&v, key);
        if key == "boardingPass" {
            assert_eq!(v["boardingPass"]["transitType"], "PKTransitTypeGeneric");
        } else {
            assert!(v[key].get("transitType").is_none());
        }
        assert_eq!(field(&v, key, "name")["value"], "Jane Smith");
    }
    let train = PassDesign {
        transit_type: Some("train".into()),
        ..PassDesign::default()
    };
    let p = Pass {
        pass_type: PassType::new("boardingPass"),
        ..pass.clone()
    };
    let v = serde_json::to_value(
        pass_json(&PassInputs::new(
            &identity,
            PassFacts::new(&p, &template, &train),
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(v["boardingPass"]["transitType"], "PKTransitTypeTrain");
    let ferry = PassDesign {
        transit_type: Some("ferry".into()),
        ..PassDesign::default()
    };
    assert!(pass_json(&PassInputs::new(
        &identity,
        PassFacts::new(&p, &template, &ferry)
    ))
    .is_err());
}

#[test]
fn a_p12_as_keychain_or_openssl_exports_it_signs_the_same() {
    let ca = ca();
    let d = ca.dir();
    // OpenSSL 3's default (PBES2, AES-256) and the legacy 3DES a Keychain export uses.
    openssl_ok(
        d,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "pass.key",
            "-in",
            "pass.pem",
            "-name",
            "pass",
            "-passout",
            "pass:s3cret",
            "-out",
            "pass.p12",
        ],
    );
    openssl_ok(
        d,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "pass.key",
            "-in",
            "pass.pem",
            "-name",
            "pass",
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
            "-passout",
            "pass:s3cret",
            "-out",
            "pass-3des.p12",
        ],
    );
    let (pass, template, event) = event_ticket();
    let identity = identity();
    let design = PassDesign::default();
    let inputs = PassInputs::new(
        &identity,
        PassFacts {
            event: Some(&event),
            ..PassFacts::new(&pass, &template, &design)
        },
    );
    for file in ["pass.p12", "pass-3des.p12"] {
        let signer = PassSigner::from_p12(&ca.read(file), "s3cret", &ca.read("wwdr.pem"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(signer.pass_type_id().as_deref(), Some(PASS_TYPE_ID));
        let files =
            unzip(&build_pkpass(&inputs, &PassImages::new(), &signer, Timestamp::now()).unwrap());
        openssl_verifies(&files).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    let e =
        PassSigner::from_p12(&ca.read("pass.p12"), "hunter2", &ca.read("wwdr.pem")).unwrap_err();
    assert!(e.to_string().starts_with("p12: cannot be opened"), "{e}");
    assert!(
        !e.to_string().contains("hunter2"),
        "the password is never shown: {e}"
    );
    let e = PassSigner::from_p12(&ca.read("pass.p12"), "s3cret", &ca.read("root.pem")).unwrap_err();
    assert!(matches!(e, WalletError::WrongIntermediate { .. }), "{e}");
}

#[test]
fn a_self_issued_signer_signs_passes_openssl_verifies_against_its_own_wwdr() {
    let signer = PassSigner::self_issued(PASS_TYPE_ID, TEAM_ID, Timestamp::now()).unwrap();
    assert_eq!(signer.pass_type_id().as_deref(), Some(PASS_TYPE_ID));
    assert!(signer.subject().contains(TEAM_ID), "{}", signer.subject());
    let (pass, template, loyalty) = store_card();
    let identity = identity();
    let design = PassDesign::default();
    let inputs = PassInputs::new(
        &identity,
        PassFacts {
            loyalty: Some(&loyalty),
            ..PassFacts::new(&pass, &template, &design)
        },
    );
    let files =
        unzip(&build_pkpass(&inputs, &PassImages::new(), &signer, Timestamp::now()).unwrap());
    assert_eq!(manifest_mismatches(&files), Vec::<String>::new());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("wwdr.der"), signer.wwdr_der()).unwrap();
    std::fs::write(d.join("signature"), &files["signature"]).unwrap();
    std::fs::write(d.join("manifest.json"), &files["manifest.json"]).unwrap();
    openssl_ok(
        d,
        &[
            "x509", "-inform", "DER", "-in", "wwdr.der", "-out", "wwdr.pem",
        ],
    );
    openssl_ok(
        d,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "signature",
            "-content",
            "manifest.json",
            "-CAfile",
            "wwdr.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    );
    // Its made-up WWDR is no one else's: the test CA's root does not vouch for it.
    assert!(openssl_verifies(&files).is_err());
}
