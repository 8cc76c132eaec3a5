//! A phone tapped on a PC/SC reader reaches the check-in engine inside `passdesk serve` and
//! shows up on the event stream: simulated phones in vpcd, a real pcscd, the real service.

use p256::pkcs8::LineEnding;
use passdesk_hardware::nfc::sim::{self, IPhoneBehaviour, VirtualIPhone};
use passdesk_tests::events::{until, StreamEvents};
use passdesk_tests::service::TestApp;
use passdesk_tests::vpcd::{
    ensure_pcscd, exclusive, take_away, until_reader_connected, InsertedCard, READERS,
};

fn secret(hex: &str) -> p256::SecretKey {
    let d: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    p256::SecretKey::from_slice(&d).unwrap()
}

#[test]
fn a_phone_tap_is_decided_and_streamed() {
    let _turn = exclusive();
    ensure_pcscd();
    let (reader, port) = READERS[0];
    let app = TestApp::start_with(
        |node| {
            let key = node.data_dir().join("vas.pem");
            std::fs::write(
                &key,
                secret(sim::DEMO_VAS_KEY_HEX)
                    .to_sec1_pem(LineEnding::LF)
                    .unwrap()
                    .as_bytes(),
            )
            .unwrap();
            let config = format!(
                "[nfc]\nreader_filter = \"{reader}\"\nvas_pass_type_ids = [\"{}\"]\nvas_key_files = [\"{}\"]\n\n[nfc.reader_ids]\n\"{reader}\" = \"gate-a\"\n",
                sim::DEMO_PASS_TYPE_ID,
                key.display()
            );
            std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
        },
        true,
    );
    // The reader shows on the status screen once the service has seen it.
    until_reader_connected(&app, "gate-a");
    let events = app.events();
    let nfc_value = app
        .get("/api/v1/passes/HLF-ORDER-1001", &app.cashier_key)
        .body["data"]["attributes"]["nfc"]
        .as_str()
        .unwrap()
        .to_owned();

    let key = sim::demo_vas_key().public_key();
    let card = InsertedCard::insert(
        port,
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, &nfc_value),
    )
    .unwrap();
    let d = events.wait_for("decision", |d| d["attributes"]["readerId"] == "gate-a");
    take_away(card, reader);
    let a = &d["attributes"];
    assert_eq!(
        (
            a["verdict"].as_str(),
            a["medium"].as_str(),
            a["readerId"].as_str()
        ),
        (Some("accept"), Some("nfc_vas"), Some("gate-a")),
        "{d}"
    );
    assert_eq!(a["pass"]["extId"], "HLF-ORDER-1001");

    let locked = VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, &nfc_value)
        .behaving(IPhoneBehaviour::Locked);
    let card = InsertedCard::insert(port, locked).unwrap();
    let failed = events.wait_for("tapFailed", |f| f["readerId"] == "gate-a");
    take_away(card, reader);
    assert_eq!(
        failed["message"], "Unlock your phone and tap again",
        "{failed}"
    );
    assert_eq!(failed["readerId"], "gate-a");
}

/// A reader whose escape command fails stays connected: the status line says what failed,
/// and taps are still decided.
#[test]
fn a_failing_reader_init_shows_on_status_and_taps_still_work() {
    let _turn = exclusive();
    ensure_pcscd();
    let (reader, port) = READERS[0];
    let app = TestApp::start_with(
        |node| {
            let config = format!(
                "[nfc]\nreader_filter = \"{reader}\"\n\n[nfc.reader_ids]\n\"{reader}\" = \"gate-b\"\n\n\
                 [[nfc.reader_init]]\nreader = \"Virtual PCD\"\nescape = [{{ hex = \"E0 00 00 18 00\" }}]\n"
            );
            std::fs::write(node.data_dir().join("passdesk.toml"), config).unwrap();
        },
        true,
    );
    let device = until("gate-b's init failure on /status", || {
        ensure_pcscd();
        let status = app.get("/api/v1/status", &app.reader_key);
        status.body["data"]["attributes"]["devices"]
            .as_array()?
            .iter()
            .find(|d| d["readerId"] == "gate-b" && d["detail"].is_string())
            .cloned()
    });
    assert_eq!(device["connected"], true, "{device}");
    assert!(
        device["detail"]
            .as_str()
            .unwrap()
            .starts_with("init command failed: escape command #1"),
        "{device}"
    );
    // A plastic card's UID is still read and decided (unknown here: a reject, but a decision).
    let events = app.events();
    let card =
        InsertedCard::insert(port, sim::VirtualTag::plastic(&[0xDE, 0xAD, 0xBE, 0xEF])).unwrap();
    let d = events.wait_for("decision", |d| d["attributes"]["readerId"] == "gate-b");
    take_away(card, reader);
    assert_eq!(d["attributes"]["medium"], "nfc_uid", "{d}");
}
