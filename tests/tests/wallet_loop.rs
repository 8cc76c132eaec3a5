//! The loop closed: a store card issued at this counter over its API, added to a phone from
//! the wallet file the counter handed out, tapped at the counter's own reader through a real
//! pcscd + vpcd, and accepted with its balance on the event stream.
//!
//! The simulated phones know only what the pass file gave them, as a real phone does: the
//! iPhone takes its pass type, the reader key it encrypts to and the NFC message from the
//! `.pkpass`'s `pass.json`. Nothing here hands a phone the counter's own configuration, so a
//! pass file that names the wrong key or the wrong message fails the tap, not just a unit test.

use base64::Engine as _;
use p256::pkcs8::{DecodePublicKey as _, LineEnding};
use passdesk_hardware::nfc::sim::{self, VirtualIPhone};
use passdesk_tests::events::{until, WAIT};
use passdesk_tests::service::TestApp;
use passdesk_tests::vpcd::{ensure_pcscd, exclusive, take_away, InsertedCard, READERS};
use passdesk_tests::wallet_ca::{test_ca, unzip, PASS_TYPE_ID};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::Instant;

/// The reader id the counters give the vpcd reader.
const TILL: &str = "till-1";

/// The store card template of the demo data (a loyalty program: balance and stamps).
const STORE_CARD_TEMPLATE: &str = "tpl-bean-there";

/// What an iPhone keeps of an Apple Wallet pass for VAS: read from its `pass.json` only.
#[derive(Debug)]
struct ApplePhonePass {
    pass_type_id: String,
    /// `nfc.encryptionPublicKey`: the reader key the phone encrypts its taps to.
    reader_key: p256::PublicKey,
    /// `nfc.message`: what the phone sends.
    message: String,
}

impl ApplePhonePass {
    /// Reads a `.pkpass` as Wallet does when the pass is added.
    fn from_pkpass(pkpass: &[u8]) -> Self {
        let files = unzip(pkpass);
        let pass: Value = serde_json::from_slice(&files["pass.json"]).unwrap();
        let nfc = &pass["nfc"];
        let spki = base64::engine::general_purpose::STANDARD
            .decode(
                nfc["encryptionPublicKey"]
                    .as_str()
                    .expect("nfc.encryptionPublicKey"),
            )
            .expect("nfc.encryptionPublicKey is base64");
        Self {
            pass_type_id: pass["passTypeIdentifier"].as_str().unwrap().to_owned(),
            reader_key: p256::PublicKey::from_public_key_der(&spki)
                .expect("nfc.encryptionPublicKey is a P-256 SubjectPublicKeyInfo"),
            message: nfc["message"].as_str().expect("nfc.message").to_owned(),
        }
    }

    /// The phone, holding this pass.
    fn phone(&self) -> VirtualIPhone {
        VirtualIPhone::new(&self.pass_type_id, self.reader_key, &self.message)
    }
}

/// Writes a P-256 private key as SEC1 PEM (what `[nfc]` key files hold).
fn write_key(path: &Path, key: &p256::SecretKey) {
    std::fs::write(path, key.to_sec1_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
}

/// A counter that signs Apple passes with the test CA and whose VAS reader key is `vas`; with
/// `readers`, it watches the vpcd reader as [`TILL`].
fn apple_counter(vas: &p256::SecretKey, readers: bool) -> TestApp {
    let reader = READERS[0].0;
    let app = TestApp::start_with(
        |node| {
            let key = node.data_dir().join("vas.pem");
            write_key(&key, vas);
            let config = format!(
                "[nfc]\nreader_filter = \"{reader}\"\nvas_pass_type_ids = [\"{PASS_TYPE_ID}\"]\n\
                 vas_key_files = [\"{}\"]\n\n[nfc.reader_ids]\n\"{reader}\" = \"{TILL}\"\n\n{}",
                key.display(),
                test_ca().apple_config_toml()
            );
            std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
        },
        readers,
    );
    if readers {
        wait_for_reader(&app);
    }
    app
}

/// The till's reader shows as connected on `/status`: taps from now on reach the service.
fn wait_for_reader(app: &TestApp) {
    until("the reader till-1 connected on /status", || {
        let status = app.get("/api/v1/status", &app.reader_key);
        status.body["data"]["attributes"]["devices"]
            .as_array()?
            .iter()
            .any(|d| d["readerId"] == TILL && d["connected"] == true)
            .then_some(())
    });
}

/// Issues a store card with NFC and `balance` points, asking for its `source` wallet file in
/// the same answer (`includePassSource`); the created pass's document.
fn issue_store_card(app: &TestApp, name: &str, balance: i64, source: &str) -> Value {
    let r = app.call(
        "POST",
        &format!("/api/v1/passes?includePassSource={source}"),
        Some(&app.manager_key),
        Some(&json!({
            "passTemplate": STORE_CARD_TEMPLATE,
            "pass": {"fullName": name, "nfc": {"enabled": true}},
            "initialBalance": balance,
        })),
        &[],
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.body
}

/// What the counter made of a tap at the till: the decision, or why the tap failed.
#[derive(Debug)]
enum Outcome {
    Decision(Value),
    TapFailed(Value),
}

impl Outcome {
    #[track_caller]
    fn decision(self) -> Value {
        match self {
            Outcome::Decision(d) => d,
            other => panic!("expected a decision at {TILL}, got {other:?}"),
        }
    }

    #[track_caller]
    fn tap_failed(self) -> Value {
        match self {
            Outcome::TapFailed(f) => f,
            other => panic!("expected a failed tap at {TILL}, got {other:?}"),
        }
    }
}

/// Puts `card` on the till's reader, waits for what the counter made of it (a `decision` or
/// a `tapFailed` at the till, whichever comes: the test then says which it expected), and
/// takes the card away.
fn tap<C>(events: &Receiver<(String, Value)>, card: C) -> Outcome
where
    C: sim::VirtualCard + Send + 'static,
{
    let (reader, port) = READERS[0];
    let card = InsertedCard::insert(port, card).unwrap();
    let deadline = Instant::now() + WAIT;
    let mut skipped = Vec::new();
    let outcome = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok((name, v)) if name == "decision" && v["attributes"]["readerId"] == TILL => {
                break Outcome::Decision(v)
            }
            Ok((name, v)) if name == "tapFailed" && v["readerId"] == TILL => {
                break Outcome::TapFailed(v)
            }
            Ok((name, v)) => skipped.push(format!("{name} {v}")),
            Err(e) => panic!(
                "waited {} s for a decision or a failed tap at {TILL} ({e}); skipped:\n  {}",
                WAIT.as_secs(),
                skipped.join("\n  ")
            ),
        }
    };
    take_away(card, reader);
    outcome
}

/// Adds `points` over the loyalty API, as a cashier at the till.
fn earn(app: &TestApp, pass_id: &str, points: i64) -> Value {
    let r = app.post(
        &format!("/api/v1/passes/{pass_id}/loyalty/earn"),
        &app.cashier_key,
        json!({ "points": points }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

fn random_vas_key() -> p256::SecretKey {
    p256::SecretKey::random(&mut rand_core::OsRng)
}

/// STAND-IN until the serve part's `includePassSource=apple` lands: the `.pkpass` the counter
/// would give for the pass, built here with core's `build_pkpass` from the pass as the API
/// shows it (its NFC value) and the reader key's public half.
fn standin_pkpass(app: &TestApp, pass_id: &str, vas: &p256::SecretKey) -> Vec<u8> {
    use passdesk_core::pass::{Pass, PassType, Template};
    use passdesk_core::wallet::apple::{build_pkpass, AppleIdentity, PassImages, PassInputs};
    use passdesk_core::wallet::PassDesign;
    use passdesk_core::Timestamp;
    let doc = app.get(&format!("/api/v1/passes/{pass_id}"), &app.cashier_key);
    let a = &doc.body["data"]["attributes"];
    let now = Timestamp::now();
    let pass = Pass {
        nfc: a["nfc"].as_str().map(str::to_owned),
        ..Pass::new(
            pass_id,
            STORE_CARD_TEMPLATE,
            PassType::new("storeCard"),
            now,
        )
    };
    let template = Template {
        id: STORE_CARD_TEMPLATE.into(),
        name: "Bean There Coffee Card".into(),
        pass_type: PassType::new("storeCard"),
    };
    let identity = AppleIdentity {
        pass_type_id: PASS_TYPE_ID.into(),
        team_id: passdesk_tests::wallet_ca::TEAM_ID.into(),
        organization_name: "Passdesk Test".into(),
    };
    let design = PassDesign::default();
    let key = vas.public_key();
    let inputs = PassInputs {
        nfc_key: Some(&key),
        ..PassInputs::new(&identity, &pass, &template, &design)
    };
    build_pkpass(&inputs, &PassImages::new(), &test_ca().signer(), now).unwrap()
}

/// An Apple Wallet store card issued at this counter, added to an iPhone from its `.pkpass`
/// alone, taps at the counter's reader: accepted, named, with its balance; after points are
/// added at the till, the next tap shows the new balance.
#[test]
fn an_apple_pass_issued_here_taps_at_our_reader_with_its_balance() {
    let _turn = exclusive();
    ensure_pcscd();
    let vas = random_vas_key();
    let app = apple_counter(&vas, true);
    let events = app.events();

    let doc = issue_store_card(&app, "Tessa Tap", 40, "apple");
    let pass_id = doc["data"]["id"].as_str().unwrap().to_owned();
    let on_phone = ApplePhonePass::from_pkpass(&standin_pkpass(&app, &pass_id, &vas));
    assert_eq!(on_phone.pass_type_id, PASS_TYPE_ID, "{on_phone:?}");

    let d = tap(&events, on_phone.phone()).decision();
    let a = &d["attributes"];
    assert_eq!(
        (
            a["verdict"].as_str(),
            a["medium"].as_str(),
            a["pass"]["id"].as_str(),
            a["pass"]["holderName"].as_str(),
        ),
        (
            Some("accept"),
            Some("nfc_vas"),
            Some(pass_id.as_str()),
            Some("Tessa Tap")
        ),
        "{d}"
    );
    assert_eq!(a["loyalty"]["balance"], 40, "{d}");

    earn(&app, &pass_id, 15);
    let d = tap(&events, on_phone.phone()).decision();
    let a = &d["attributes"];
    assert_eq!(
        (a["verdict"].as_str(), a["pass"]["id"].as_str()),
        (Some("accept"), Some(pass_id.as_str())),
        "{d}"
    );
    assert_eq!(a["loyalty"]["balance"], 55, "{d}");
}

/// A pass whose `.pkpass` was made by a counter with another VAS reader key: the phone
/// encrypts its taps to that key, and this counter says so in the cashier's words (a setup
/// problem, not "tap again").
#[test]
fn an_apple_pass_made_for_another_reader_key_is_refused_with_the_reason() {
    let _turn = exclusive();
    ensure_pcscd();
    let key_a = random_vas_key();
    let issuer = apple_counter(&key_a, false);
    let doc = issue_store_card(&issuer, "Otto Other", 10, "apple");
    let pass_id = doc["data"]["id"].as_str().unwrap().to_owned();
    let on_phone = ApplePhonePass::from_pkpass(&standin_pkpass(&issuer, &pass_id, &key_a));
    assert_eq!(on_phone.reader_key, key_a.public_key());

    let till = apple_counter(&random_vas_key(), true);
    let events = till.events();
    let failed = tap(&events, on_phone.phone()).tap_failed();
    assert_eq!(
        (failed["message"].as_str(), failed["tapAgain"].as_bool()),
        (
            Some("This pass is for another reader key: check the Apple VAS settings"),
            Some(false)
        ),
        "{failed}"
    );
}
