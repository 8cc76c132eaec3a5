//! The loop closed: a store card issued at this counter over its API, added to a phone from
//! the wallet file the counter handed out, tapped at the counter's own reader through a real
//! pcscd + vpcd, and accepted with its balance on the event stream.
//!
//! The simulated phones know only what the pass file gave them, as a real phone does: the
//! iPhone takes its pass type, the reader key it encrypts to and the NFC message from the
//! `.pkpass`'s `pass.json`; the Android phone takes its redemption value from the object in the
//! "Add to Google Wallet" link's JWT (the collector's public key it gets, as a real phone does,
//! from Google, which knows the collector: here the demo collector's). Nothing here hands a
//! phone the pass's value from the counter's API or the counter's own configuration, so a pass
//! file that names the wrong key or the wrong value fails the tap, not just a unit test.

use base64::Engine as _;
use p256::pkcs8::{DecodePublicKey as _, LineEnding};
use passdesk_hardware::nfc::sim::{self, VirtualAndroid, VirtualIPhone};
use passdesk_tests::events::WAIT;
use passdesk_tests::service::TestApp;
use passdesk_tests::vpcd::{
    ensure_pcscd, exclusive, take_away, until_reader_connected, InsertedCard, READERS,
};
use passdesk_tests::wallet_ca::{google_account, test_ca, unzip, PASS_TYPE_ID};
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
    assert_wallet_ready(&app, "apple");
    if readers {
        until_reader_connected(&app, TILL);
    }
    app
}

/// `/status` says the `wallet` ("apple" or "google") is ready on this counter.
fn assert_wallet_ready(app: &TestApp, wallet: &str) {
    let status = app.get("/api/v1/status", &app.reader_key);
    let line = &status.body["data"]["attributes"]["wallet"][wallet];
    assert_eq!(line["state"], "ready", "{wallet}: {line}");
}

/// The demo Smart Tap collector's private key (what `[nfc.smart_tap] key_file` holds).
fn demo_collector_secret() -> p256::SecretKey {
    p256::SecretKey::from_slice(&hex::decode(sim::DEMO_COLLECTOR_KEY_HEX).unwrap()).unwrap()
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

/// The `.pkpass` in a pass document's `passSource.appleBase64`.
fn apple_pass_file(doc: &Value) -> Vec<u8> {
    let b64 = doc["data"]["attributes"]["passSource"]["appleBase64"]
        .as_str()
        .unwrap_or_else(|| panic!("passSource.appleBase64 in {doc}"));
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("appleBase64 is base64")
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
    let on_phone = ApplePhonePass::from_pkpass(&apple_pass_file(&doc));
    assert_eq!(
        (
            on_phone.pass_type_id.as_str(),
            Some(on_phone.message.as_str())
        ),
        (PASS_TYPE_ID, doc["data"]["attributes"]["nfc"].as_str()),
        "the pass file carries this counter's pass type and the pass's NFC value"
    );

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
    let on_phone = ApplePhonePass::from_pkpass(&apple_pass_file(&doc));
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

/// The issuer id the Google counter is configured with.
const GOOGLE_ISSUER_ID: &str = "3388000000022222228";

/// A counter that makes "Add to Google Wallet" links and reads Smart Tap as the demo
/// collector, watching the vpcd reader as [`TILL`].
fn google_counter() -> TestApp {
    let reader = READERS[0].0;
    let app = TestApp::start_with(
        |node| {
            let dir = node.data_dir();
            let collector = dir.join("collector.pem");
            write_key(&collector, &demo_collector_secret());
            let account = google_account().key_file();
            let config = format!(
                "[nfc]\nreader_filter = \"{reader}\"\n\n[nfc.smart_tap]\ncollector_id = {}\n\
                 key_version = {}\nkey_file = \"{}\"\n\n[nfc.reader_ids]\n\"{reader}\" = \"{TILL}\"\n\n\
                 [wallet.google]\nissuer_id = \"{GOOGLE_ISSUER_ID}\"\nservice_account_key = \"{}\"\n\
                 issuer_name = \"Bean There\"\nlogo_url = \"https://bean-there.example/logo.png\"\n",
                sim::DEMO_COLLECTOR_ID,
                sim::DEMO_COLLECTOR_KEY_VERSION,
                collector.display(),
                account.display()
            );
            std::fs::write(dir.join("passdesk.toml"), config).unwrap();
        },
        true,
    );
    assert_wallet_ready(&app, "google");
    until_reader_connected(&app, TILL);
    app
}

/// The loyalty object an "Add to Google Wallet" link saves: the JWT after the link's last
/// `/`, its payload decoded as the phone's Google Wallet reads it (not verified here: the
/// google part's tests check the signature with the account's public key).
fn google_loyalty_object(save_url: &str) -> Value {
    let jwt = save_url.rsplit('/').next().unwrap();
    let payload = jwt
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("a JWT (header.payload.signature) ends {save_url}"));
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("the JWT payload is base64url"),
    )
    .expect("the JWT payload is JSON");
    assert_eq!(
        (claims["aud"].as_str(), claims["typ"].as_str()),
        (Some("google"), Some("savetowallet")),
        "{claims}"
    );
    claims["payload"]["loyaltyObjects"][0].clone()
}

/// A Google Wallet store card issued at this counter, added to an Android phone from its save
/// link alone (the object's `smartTapRedemptionValue`), taps at the counter's reader as Smart
/// Tap: accepted, named, with its balance; after points are added, the new balance.
#[test]
fn a_google_pass_issued_here_taps_at_our_reader_with_its_balance() {
    let _turn = exclusive();
    ensure_pcscd();
    let app = google_counter();
    let events = app.events();

    let doc = issue_store_card(&app, "Gail Green", 25, "google");
    let pass_id = doc["data"]["id"].as_str().unwrap().to_owned();
    let url = doc["data"]["attributes"]["passSource"]["googleDownloadUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("passSource.googleDownloadUrl in {doc}"));
    let object = google_loyalty_object(url);
    let value = object["smartTapRedemptionValue"]
        .as_str()
        .unwrap_or_else(|| panic!("smartTapRedemptionValue in {object}"));

    // The phone holding the saved pass: what it knows is the collector (from Google) and
    // the object's redemption value; a fresh one for each tap.
    let phone = || {
        VirtualAndroid::new(
            sim::demo_collector().verifying_key(),
            sim::DEMO_COLLECTOR_ID,
            value.as_bytes(),
        )
    };
    let d = tap(&events, phone()).decision();
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
            Some("nfc_smart_tap"),
            Some(pass_id.as_str()),
            Some("Gail Green")
        ),
        "{d}"
    );
    assert_eq!(a["loyalty"]["balance"], 25, "{d}");

    earn(&app, &pass_id, 5);
    let d = tap(&events, phone()).decision();
    let a = &d["attributes"];
    assert_eq!(
        (a["verdict"].as_str(), a["pass"]["id"].as_str()),
        (Some("accept"), Some(pass_id.as_str())),
        "{d}"
    );
    assert_eq!(a["loyalty"]["balance"], 30, "{d}");
}
