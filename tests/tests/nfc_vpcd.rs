//! Taps through the real stack: simulated phones and tags plugged into vpcd, read by pcscd,
//! seen by `passdesk readers watch`. One tap, one JSON event.

use p256::pkcs8::LineEnding;
use passdesk_hardware::nfc::sim::{
    self, AndroidBehaviour, IPhoneBehaviour, VirtualAndroid, VirtualIPhone, VirtualTag,
};
use passdesk_hardware::nfc::smarttap::messages::ServiceNumberForm;
use passdesk_tests::events::until;
use passdesk_tests::vpcd::{ensure_pcscd, exclusive, take_away, InsertedCard, READERS};
use passdesk_tests::watch::WatchProcess;
use passdesk_tests::{describe, Node};
use serde_json::Value;

const READER: &str = READERS[0].0;
const PORT: u16 = READERS[0].1;

fn secret(hex: &str) -> p256::SecretKey {
    let d: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    p256::SecretKey::from_slice(&d).unwrap()
}

/// `passdesk readers watch` on the readers whose name contains `readers`, with the demo keys.
struct Watch(WatchProcess);

impl Watch {
    fn start(node: &Node, count: u32) -> Self {
        Self::start_on(node, count, READER)
    }

    fn start_on(node: &Node, count: u32, readers: &str) -> Self {
        let vas = node.data_dir().join("vas.pem");
        std::fs::write(
            &vas,
            secret(sim::DEMO_VAS_KEY_HEX)
                .to_sec1_pem(LineEnding::LF)
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        let collector = node.data_dir().join("collector.pem");
        std::fs::write(
            &collector,
            secret(sim::DEMO_COLLECTOR_KEY_HEX)
                .to_sec1_pem(LineEnding::LF)
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        let mut cmd = node.cmd();
        cmd.args(["readers", "watch", "--reader", readers, "--timeout", "120"])
            .args(["--count", &count.to_string()])
            .arg("--vas-key")
            .arg(&vas)
            .args(["--pass-type-id", sim::DEMO_PASS_TYPE_ID])
            .arg("--collector-key")
            .arg(&collector)
            .args(["--collector-id", &sim::DEMO_COLLECTOR_ID.to_string()]);
        Self(WatchProcess::spawn(cmd))
    }

    /// Waits until the watch has seen `reader`: a card put on it from now on is its tap.
    fn sees(&self, reader: &str) {
        self.0.wait_for("readerAdded", |e| e["reader"] == reader);
    }

    /// What the next tap on `reader` gave: a scan or a failed tap.
    fn tap_on(&self, reader: &str) -> Value {
        self.0
            .wait_line(&format!("a scan or a failed tap on {reader}"), |e| {
                (e["event"] == "scan" || e["event"] == "tapFailed") && e["reader"] == reader
            })
    }

    /// Waits for the watch to stop after its `--count` taps: no tap beyond them.
    fn finish(self) {
        let rest = self.0.finish();
        assert!(
            !rest
                .iter()
                .any(|e| e["event"] == "scan" || e["event"] == "tapFailed"),
            "taps nobody made: {rest:?}"
        );
    }
}

/// Puts `card` on the reader, waits for what the tap gave, takes the card away and waits until
/// pcscd has seen it go (so the next card is a tap of its own).
fn tap(watch: &Watch, card: impl sim::VirtualCard + Send + 'static) -> (Value, usize) {
    let inserted = InsertedCard::insert(PORT, card).expect("connect to vpcd");
    let event = watch.tap_on(READER);
    let apdus = take_away(inserted, READER);
    (event, apdus)
}

#[test]
fn readers_list_shows_the_virtual_readers() {
    let _turn = exclusive();
    ensure_pcscd();
    let node = Node::empty();
    let out = node.run(&["readers", "list"]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&READER), "{v}");
    // With a card on it, the reader says so and shows the ATR.
    let card = InsertedCard::insert(PORT, VirtualTag::plastic(&[1, 2, 3, 4])).unwrap();
    let r = until("readers list to show the card on the reader", || {
        let out = node.run(&["readers", "list"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == READER && r["cardPresent"] == true)
            .cloned()
    });
    assert_eq!(r["atr"], "3B80800101");
    take_away(card, READER);
}

#[test]
fn a_queue_of_phones_and_cards_one_event_per_tap() {
    let _turn = exclusive();
    ensure_pcscd();
    let node = Node::empty();
    let watch = Watch::start(&node, 7);
    watch.sees(READER);
    let key = sim::demo_vas_key().public_key();
    let collector = sim::demo_collector().verifying_key();

    let (e, apdus) = tap(
        &watch,
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0001"),
    );
    assert_eq!(e["event"], "scan", "{e}");
    assert_eq!(e["reader"], READER);
    assert_eq!(
        e["medium"],
        serde_json::json!({"kind": "nfc", "nfc": "vas"})
    );
    assert_eq!(e["value"], "HLF-0001");
    assert_eq!(apdus, 2, "SELECT + GET DATA");

    let (e, _) = tap(
        &watch,
        VirtualAndroid::new(collector, sim::DEMO_COLLECTOR_ID, b"BEAN-0001"),
    );
    assert_eq!(e["event"], "scan", "{e}");
    assert_eq!(e["medium"]["nfc"], "smart_tap");
    assert_eq!(e["value"], "BEAN-0001");

    // The redemption value as a Text record whose id is `n` (how Google's sample terminal
    // finds it), through pcscd.
    let (e, _) = tap(
        &watch,
        VirtualAndroid::new(collector, sim::DEMO_COLLECTOR_ID, b"BEAN-0003")
            .with_service_number(ServiceNumberForm::Text),
    );
    assert_eq!(
        (e["medium"]["nfc"].as_str(), e["value"].as_str()),
        (Some("smart_tap"), Some("BEAN-0003")),
        "{e}"
    );

    let (e, _) = tap(&watch, VirtualTag::with_text(&[4, 1, 2, 3], "BEAN-0002"));
    assert_eq!(
        (e["medium"]["nfc"].as_str(), e["value"].as_str()),
        (Some("ndef"), Some("BEAN-0002")),
        "{e}"
    );

    let (e, _) = tap(&watch, VirtualTag::plastic(&[4, 0xA1, 0xB2, 0xC3]));
    assert_eq!(
        (e["medium"]["nfc"].as_str(), e["value"].as_str()),
        (Some("uid"), Some("04A1B2C3")),
        "{e}"
    );

    let locked = VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0002")
        .behaving(IPhoneBehaviour::Locked);
    let (e, _) = tap(&watch, locked);
    assert_eq!(e["event"], "tapFailed", "{e}");
    assert_eq!(e["message"], "Unlock your phone and tap again");
    assert_eq!(e["tapAgain"], true);

    let choose = VirtualAndroid::new(collector, sim::DEMO_COLLECTOR_ID, b"X")
        .behaving(AndroidBehaviour::ChoosePass);
    let (e, _) = tap(&watch, choose);
    assert_eq!(
        e["message"], "Choose the pass on the phone, then tap again",
        "{e}"
    );
    watch.finish();
}

/// A phone left on the reader is read once. What the test waits for meanwhile is other taps:
/// three cards on the second vpcd reader, each read while the phone stays on the first, and
/// none of them followed by a second read of the phone.
#[test]
fn a_phone_left_on_the_reader_is_read_once() {
    let _turn = exclusive();
    ensure_pcscd();
    let (other, other_port) = READERS[1];
    let node = Node::empty();
    let watch = Watch::start_on(&node, 5, "Virtual PCD");
    watch.sees(READER);
    watch.sees(other);
    let key = sim::demo_vas_key().public_key();
    let phone = InsertedCard::insert(
        PORT,
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0009"),
    )
    .unwrap();
    assert_eq!(watch.tap_on(READER)["value"], "HLF-0009");
    for i in 1..=3u8 {
        let card = InsertedCard::insert(other_port, VirtualTag::plastic(&[4, i, i, i])).unwrap();
        let e = watch.0.wait_line("the next tap on either reader", |e| {
            e["event"] == "scan" || e["event"] == "tapFailed"
        });
        assert_eq!(
            (e["reader"].as_str(), e["value"].as_str()),
            (
                Some(other),
                Some(format!("04{i:02X}{i:02X}{i:02X}").as_str())
            ),
            "card {i} on the other reader, while the phone stays: {e}"
        );
        take_away(card, other);
    }
    assert_eq!(take_away(phone, READER), 2, "the phone answered one read");
    // Taken away and tapped again: a new tap.
    let (e, _) = tap(
        &watch,
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0009"),
    );
    assert_eq!(e["value"], "HLF-0009");
    watch.finish();
}

/// `[[nfc.reader_init]]`: init APDUs reach the phone on every connect, before the tap is read;
/// an init APDU answered with the wrong status and an escape command vpcd refuses are each
/// reported once, and the reader keeps reading taps.
#[test]
fn reader_init_commands_are_sent_and_failures_reported_not_fatal() {
    let _turn = exclusive();
    ensure_pcscd();
    let node = Node::empty();
    // SELECT OSE.VAS.01 (the iPhone answers 9000), then a PN532 pseudo-APDU it does not know
    // (6D00, where 9000 is expected).
    let select_ose = "00A404000A4F53452E5641532E303100";
    std::fs::write(
        node.data_dir().join("passdesk.toml"),
        format!(
            "[[nfc.reader_init]]\nreader = \"{READER}\"\nescape = [{{ ctl_code = 3500, hex = \"E0 00 00 18 00\" }}]\n\
             apdu = [{{ hex = \"{select_ose}\" }}, {{ hex = \"FF 00 00 00 02 D4 02\", expect_sw = \"9000\" }}]\n"
        ),
    )
    .unwrap();
    let watch = Watch::start(&node, 2);
    // The reader appears and its escape command fails (reported in whichever order).
    let seen = watch
        .0
        .collect_until("the reader and its failed escape command", |seen| {
            seen.iter().any(|e| e["event"] == "readerAdded")
                && seen.iter().any(|e| e["event"] == "readerInitFailed")
        });
    let escape = seen
        .iter()
        .find(|e| e["event"] == "readerInitFailed")
        .unwrap();
    assert_eq!(escape["reader"], READER);
    assert!(
        escape["error"]
            .as_str()
            .unwrap()
            .contains("escape command #1 (SCardControl, SCARD_CTL_CODE(3500))"),
        "{escape}"
    );

    let init_apdu_failed = |e: &Value| {
        e["event"] == "readerInitFailed"
            && e["error"].as_str().is_some_and(|s| {
                s.contains("init APDU #2 failed: status 6D00 where 9000 was expected")
            })
    };
    let key = sim::demo_vas_key().public_key();
    let mut later = Vec::new();
    for round in 0..2 {
        let card = InsertedCard::insert_recording(
            PORT,
            VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "PASS-INIT-1"),
        )
        .unwrap();
        // The tap, and on the first one the init APDU's failure, in whichever order.
        let seen = watch
            .0
            .collect_until("the tap and what the watch says of it", |seen| {
                seen.iter().any(|e| e["event"] == "scan")
                    && (round > 0 || seen.iter().any(init_apdu_failed))
            });
        let event = seen.iter().find(|e| e["event"] == "scan").unwrap();
        assert_eq!(event["value"], "PASS-INIT-1", "round {round}: {event}");
        if round > 0 {
            later.extend(seen.iter().cloned());
        }
        let commands = card.commands();
        take_away(card, READER);
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02X}")).collect::<String>();
        assert_eq!(hex(&commands[0]), select_ose);
        assert_eq!(hex(&commands[1]), "FF00000002D402");
        // Then the tap itself: SELECT OSE.VAS.01 and VAS GET DATA.
        assert_eq!(commands.len(), 4, "{commands:?}");
    }
    // Reported on the first tap only, not on every tap: nothing of it in what the watch said
    // from the second tap to its end.
    later.extend(watch.0.finish());
    assert!(!later.iter().any(init_apdu_failed), "{later:?}");
}
