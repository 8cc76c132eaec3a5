//! The class and object of each pass type, their states, Smart Tap, the key file's errors and
//! the JWT's framing. Bytes we did not make (openssl's key, openssl's verification) are in
//! `tests/tests/wallet_google.rs`.

use super::object::ObjectState;
use super::*;
use crate::loyalty::LoyaltyView;
use crate::pass::{Barcode, Event, Pass, PassStatus, PassType, Template};
use crate::time::Timestamp;
use crate::wallet::design::PassDesign;
use crate::wallet::PassFacts;
use rsa::pkcs8::{EncodePrivateKey as _, LineEnding};
use serde_json::{json, Value};
use std::sync::OnceLock;

const ISSUER: &str = "3388000000012345678";
const NOW: Timestamp = Timestamp::from_unix_ms(1_767_225_600_000); // 2026-01-01T00:00:00Z

/// One 2048-bit key for every test (making one takes a moment).
fn key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| {
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
    })
}

fn key_file(private_key: &str) -> Value {
    json!({
        "type": "service_account",
        "project_id": "passdesk-test",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": private_key,
        "client_email": "wallet@passdesk-test.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": "https://oauth2.googleapis.com/token",
    })
}

fn account() -> ServiceAccountKey {
    ServiceAccountKey::from_json(key_file(key_pem()).to_string().as_bytes()).unwrap()
}

fn issuer() -> GoogleIssuer {
    GoogleIssuer {
        issuer_id: ISSUER.parse().unwrap(),
        issuer_name: Some("Corner Café".into()),
        logo_url: Some("https://example.com/logo.png".into()),
    }
}

fn template(kind: &str) -> Template {
    Template {
        id: "tmpl-1".into(),
        name: "Coffee Club".into(),
        pass_type: PassType::new(kind),
    }
}

fn pass(kind: &str) -> Pass {
    let mut p = Pass::new(
        "0190f3a2-7c1e-7000-8000-1234567890ab",
        "tmpl-1",
        PassType::new(kind),
        NOW.minus_ms(86_400_000),
    );
    p.barcode = Some(Barcode {
        kind: "qrCode".into(),
        value: "PD1.payload.sig".into(),
        display_text: true,
    });
    p.nfc = Some("nfc-0190f3a2".into());
    p.pass_content
        .insert("fullName".into(), json!("Ada Lovelace"));
    p
}

fn loyalty() -> LoyaltyView {
    LoyaltyView {
        balance: 120,
        reserved_points: 0,
        stamps: 13,
        card_size: Some(10),
        stamps_on_card: Some(3),
        rewards: Vec::new(),
        claimable: Vec::new(),
    }
}

fn design() -> PassDesign {
    PassDesign {
        background_color: Some("#1A2B3C".parse().unwrap()),
        ..PassDesign::default()
    }
}

fn build(
    pass: &Pass,
    kind: &str,
    loyalty: Option<&LoyaltyView>,
    event: Option<&Event>,
) -> GooglePass {
    let issuer = issuer();
    let template = template(kind);
    let design = design();
    GooglePass::build(&GoogleInputs {
        issuer: &issuer,
        facts: PassFacts {
            pass,
            template: &template,
            design: &design,
            loyalty,
            event,
        },
        now: NOW,
    })
}

/// The payload as Google reads it.
fn payload(p: &GooglePass) -> Value {
    serde_json::to_value(save::SavePayload::of(p)).unwrap()
}

#[test]
fn a_store_card_is_a_loyalty_card_with_its_balance_stamps_and_smart_tap() {
    let l = loyalty();
    let p = payload(&build(&pass("storeCard"), "storeCard", Some(&l), None));
    assert_eq!(
        p,
        json!({
            "loyaltyClasses": [{
                "id": "3388000000012345678.tmpl-1",
                "issuerName": "Corner Café",
                "programName": "Coffee Club",
                "programLogo": {"sourceUri": {"uri": "https://example.com/logo.png"}},
                "hexBackgroundColor": "#1A2B3C",
                "reviewStatus": "UNDER_REVIEW",
                "enableSmartTap": true,
                "redemptionIssuers": ["3388000000012345678"],
            }],
            "loyaltyObjects": [{
                "id": "3388000000012345678.0190f3a2-7c1e-7000-8000-1234567890ab",
                "classId": "3388000000012345678.tmpl-1",
                "state": "ACTIVE",
                "accountName": "Ada Lovelace",
                "loyaltyPoints": {"label": "Points", "balance": {"int": 120}},
                "secondaryLoyaltyPoints": {"label": "Stamps", "balance": {"string": "3/10"}},
                "barcode": {"type": "QR_CODE", "value": "PD1.payload.sig", "alternateText": "PD1.payload.sig"},
                "smartTapRedemptionValue": "nfc-0190f3a2",
            }],
        })
    );
}

#[test]
fn a_ticket_is_an_event_ticket_named_after_its_event_in_its_own_time_zone() {
    let event = Event {
        id: "ev-1".into(),
        name: "Jazz Night".into(),
        venue_name: Some("Blue Hall".into()),
        start_time: Some(Timestamp::parse_rfc3339("2026-03-01T19:00:00Z").unwrap()),
        end_time: None,
        time_zone: "Europe/Berlin".into(),
    };
    let mut pass = pass("eventTicket");
    pass.valid_until = Some(Timestamp::parse_rfc3339("2026-03-02T00:00:00Z").unwrap());
    let p = payload(&build(&pass, "eventTicket", None, Some(&event)));
    let class = &p["eventTicketClasses"][0];
    assert_eq!(
        class["eventName"],
        json!({"defaultValue": {"language": "en", "value": "Jazz Night"}})
    );
    assert_eq!(
        class["dateTime"],
        json!({"start": "2026-03-01T20:00:00+01:00"})
    );
    assert_eq!(class["issuerName"], "Corner Café");
    assert_eq!(class["reviewStatus"], "UNDER_REVIEW");
    assert_eq!(
        class["logo"]["sourceUri"]["uri"],
        "https://example.com/logo.png"
    );
    let object = &p["eventTicketObjects"][0];
    assert_eq!(object["ticketHolderName"], "Ada Lovelace");
    assert_eq!(object["classId"], class["id"]);
    assert_eq!(
        object["validTimeInterval"],
        json!({"end": {"date": "2026-03-02T00:00:00Z"}})
    );
    assert_eq!(object["smartTapRedemptionValue"], "nfc-0190f3a2");
    assert!(p.get("loyaltyObjects").is_none() && p.get("genericObjects").is_none());
}

#[test]
fn anything_else_is_generic_with_a_title_and_a_header() {
    for kind in ["generic", "coupon", "boardingPass", "somethingNew"] {
        let p = payload(&build(&pass(kind), kind, None, None));
        let object = &p["genericObjects"][0];
        assert_eq!(
            object["cardTitle"]["defaultValue"]["value"], "Corner Café",
            "{kind}"
        );
        assert_eq!(object["header"]["defaultValue"]["value"], "Ada Lovelace");
        assert_eq!(object["subheader"]["defaultValue"]["value"], "Coffee Club");
        assert_eq!(object["hexBackgroundColor"], "#1A2B3C");
        // Google's generic class has no issuerName, reviewStatus or colour.
        let class = p["genericClasses"][0].as_object().unwrap();
        let mut keys: Vec<_> = class.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["enableSmartTap", "id", "redemptionIssuers"]);
    }
    // No holder: the template's name is the header.
    let mut p = pass("generic");
    p.pass_content.clear();
    let v = payload(&build(&p, "generic", None, None));
    assert_eq!(
        v["genericObjects"][0]["header"]["defaultValue"]["value"],
        "Coffee Club"
    );
    assert!(v["genericObjects"][0].get("subheader").is_none());
}

#[test]
fn no_nfc_value_no_smart_tap() {
    for kind in ["storeCard", "eventTicket", "generic"] {
        for nfc in [None, Some(String::new())] {
            let mut p = pass(kind);
            p.nfc = nfc;
            let v = payload(&build(&p, kind, None, None));
            let text = v.to_string();
            for key in [
                "enableSmartTap",
                "redemptionIssuers",
                "smartTapRedemptionValue",
            ] {
                assert!(!text.contains(key), "{kind}: {key} in {text}");
            }
        }
    }
}

#[test]
fn states_follow_the_pass() {
    let at = |f: fn(&mut Pass)| {
        let mut p = pass("storeCard");
        f(&mut p);
        object::state(&p, NOW)
    };
    assert_eq!(at(|_| {}), ObjectState::Active);
    assert_eq!(at(|p| p.status = PassStatus::Removed), ObjectState::Active);
    assert_eq!(at(|p| p.status = PassStatus::Voided), ObjectState::Inactive);
    assert_eq!(
        at(|p| p.status = PassStatus::Deactivated),
        ObjectState::Inactive
    );
    assert_eq!(at(|p| p.deactivated_at = Some(NOW)), ObjectState::Inactive);
    assert_eq!(at(|p| p.status = PassStatus::Expired), ObjectState::Expired);
    assert_eq!(
        at(|p| p.expires_at = Some(NOW.minus_ms(1))),
        ObjectState::Expired
    );
    assert_eq!(at(|p| p.valid_until = Some(NOW)), ObjectState::Expired);
    assert_eq!(
        at(|p| p.expires_at = Some(NOW.plus_ms(1))),
        ObjectState::Active
    );
    // Voided wins over expired.
    assert_eq!(
        at(|p| {
            p.status = PassStatus::Voided;
            p.expires_at = Some(NOW.minus_ms(1));
        }),
        ObjectState::Inactive
    );
    let mut voided = pass("storeCard");
    voided.status = PassStatus::Voided;
    assert_eq!(
        payload(&build(&voided, "storeCard", None, None))["loyaltyObjects"][0]["state"],
        "INACTIVE"
    );
}

#[test]
fn a_balance_past_googles_32_bits_is_written_as_text() {
    let mut l = loyalty();
    l.balance = i64::from(i32::MAX) + 1;
    let v = payload(&build(&pass("storeCard"), "storeCard", Some(&l), None));
    assert_eq!(
        v["loyaltyObjects"][0]["loyaltyPoints"]["balance"],
        json!({"string": "2147483648"})
    );
}

#[test]
fn barcode_types_map_to_googles_names() {
    for (given, want) in [
        ("qrCode", "QR_CODE"),
        ("PDF417", "PDF_417"),
        ("aztec", "AZTEC"),
        ("code128", "CODE_128"),
        ("weird", "QR_CODE"),
    ] {
        let mut p = pass("generic");
        p.barcode.as_mut().unwrap().kind = given.into();
        p.barcode.as_mut().unwrap().display_text = false;
        let v = payload(&build(&p, "generic", None, None));
        assert_eq!(
            v["genericObjects"][0]["barcode"],
            json!({"type": want, "value": "PD1.payload.sig"})
        );
    }
}

#[test]
fn the_jwt_carries_header_claims_and_object_and_verifies_with_the_public_key() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use rsa::traits::PublicKeyParts as _;
    let account = account();
    let l = loyalty();
    let gp = build(&pass("storeCard"), "storeCard", Some(&l), None);
    let origins = vec!["https://shop.example.com".to_owned()];
    let jwt = save_jwt(&account, &gp, &origins, NOW).unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.kid.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    let public = account.public_key();
    let decoding =
        DecodingKey::from_rsa_raw_components(&public.n().to_bytes_be(), &public.e().to_bytes_be());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["google"]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<SaveClaims>(&jwt, &decoding, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.iss, "wallet@passdesk-test.iam.gserviceaccount.com");
    assert_eq!(claims.typ, "savetowallet");
    assert_eq!(claims.iat, 1_767_225_600);
    assert_eq!(claims.origins, origins);
    assert_eq!(claims.payload, save::SavePayload::of(&gp));
    let url = save_url(&jwt);
    assert!(url.starts_with("https://pay.google.com/gp/v/save/ey"));
}

/// A counter-issued pass's barcode: a signed PD1 token (as the demo issues them).
const PD1: &str = "PD1.eyJ0aWQiOiIwMWEyMzQ3ZS0xYzhjLTcxN2MtYjE0Yy0yN2Y5NWRlNjY2YzgiLCJwaWQiOiIwMWEyMzQ3ZS0xYzhjLTcxN2MtYjE0Yy0yN2Y4MjA5MjBmZmIiLCJ0cGwiOiJ0cGwtYmVhbi10aGVyZSIsImlhdCI6MTc5NjE3NzAwOSwia2lkIjoiZDQ0ZTA0NzFmNGMyYTc2ZCJ9.eLFIwMrIKECKsk9NOAckKbQUTG4AZ4BqqCY1ojO6ucQBSN9tkRY8Z9QZ1_Sw6rYfooDSE1cOB3jjumBxNjwZgA";

fn store_card_link(barcode: &str) -> (String, GooglePass) {
    let l = loyalty();
    let mut p = pass("storeCard");
    p.pass_content
        .insert("fullName".into(), json!("Alexandra Montgomery-Smythe"));
    p.barcode.as_mut().unwrap().value = barcode.into();
    let google = build(&p, "storeCard", Some(&l), None);
    let url = save_url(
        &save_jwt(
            &account(),
            &google,
            &["https://counter.example.com".into()],
            NOW,
        )
        .unwrap(),
    );
    (url, google)
}

#[test]
fn a_store_card_with_a_short_code_stays_under_googles_length() {
    let (url, _) = store_card_link("BEAN-0001-7731");
    assert!(url.len() < SAVE_URL_SOFT_LIMIT, "{} characters", url.len());
}

/// A signed PD1 token is ~250 characters, a third more in base64: with the class embedded the
/// link is past Google's advice (browsers follow it; mail and SMS may cut it). It is kept as
/// small as it can be: the token is not repeated as text under the code.
#[test]
fn a_pd1_token_barcode_is_not_repeated_as_text_and_the_link_stays_near_googles_length() {
    let (url, google) = store_card_link(PD1);
    let GooglePass::Loyalty { object, .. } = google else {
        panic!("a store card is a loyalty card")
    };
    let barcode = object.barcode.unwrap();
    assert_eq!(barcode.value, PD1);
    assert_eq!(barcode.alternate_text, None);
    assert!(url.len() < 2250, "{} characters", url.len());
}

#[test]
fn the_key_file_names_what_is_wrong_and_never_shows_the_key() {
    let pem = key_pem();
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut v = key_file(pem);
        f(v.as_object_mut().unwrap());
        ServiceAccountKey::from_json(v.to_string().as_bytes())
            .unwrap_err()
            .to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            ServiceAccountKey::from_json(b"{not json")
                .unwrap_err()
                .to_string(),
            "file: not a JSON key file",
        ),
        (
            ServiceAccountKey::from_json(b"[1]")
                .unwrap_err()
                .to_string(),
            "file: expected a JSON object",
        ),
        (
            with(&|m| {
                m.remove("type");
            }),
            "type: missing",
        ),
        (
            with(&|m| {
                m.insert("type".into(), json!("authorized_user"));
            }),
            "type: \"authorized_user\"",
        ),
        (
            with(&|m| {
                m.remove("client_email");
            }),
            "client_email: missing",
        ),
        (
            with(&|m| {
                m.insert("client_email".into(), json!("nobody"));
            }),
            "client_email: \"nobody\" is not an email",
        ),
        (
            with(&|m| {
                m.insert("private_key_id".into(), json!(7));
            }),
            "private_key_id: expected a string",
        ),
        (
            with(&|m| {
                m.insert("private_key".into(), json!(""));
            }),
            "private_key: empty",
        ),
        (
            with(&|m| {
                m.insert("private_key".into(), json!("MIIEv..."));
            }),
            "private_key: expected a PEM",
        ),
        (
            with(&|m| {
                m.insert(
                    "private_key".into(),
                    json!("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                );
            }),
            "private_key: not a PKCS#8",
        ),
    ];
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for (got, want) in cases {
        assert!(got.starts_with("service account key file: "), "{got}");
        assert!(got.contains(want), "{got:?} lacks {want:?}");
        assert!(!got.contains(&body[..40]), "the key leaked: {got}");
    }
    let shown = format!("{:?}", account());
    assert!(
        shown.contains("wallet@passdesk-test") && shown.contains("<redacted>"),
        "{shown}"
    );
    assert!(!shown.contains(&body[..40]));
}

#[test]
fn a_short_key_is_refused() {
    let small = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
    let pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
    let e = ServiceAccountKey::from_json(key_file(&pem).to_string().as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "service account key file: private_key: a 1024-bit RSA key; RS256 needs 2048 bits or more"
    );
}
