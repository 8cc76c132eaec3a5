//! Taps through the real stack: simulated phones and tags plugged into vpcd, read by pcscd,
//! seen by `passdesk readers watch`. One tap, one JSON event.

use p256::pkcs8::LineEnding;
use passdesk_hardware::nfc::sim::{
    self, AndroidBehaviour, IPhoneBehaviour, VirtualAndroid, VirtualIPhone, VirtualTag,
};
use passdesk_tests::vpcd::{ensure_pcscd, exclusive, InsertedCard, READERS};
use passdesk_tests::{describe, Node};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const READER: &str = READERS[0].0;
const PORT: u16 = READERS[0].1;

fn secret(hex: &str) -> p256::SecretKey {
    let d: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    p256::SecretKey::from_slice(&d).unwrap()
}

struct Watch {
    child: Child,
    lines: Receiver<Value>,
}

impl Watch {
    fn start(node: &Node, count: u32) -> Self {
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
        let mut child = node
            .cmd()
            .args(["readers", "watch", "--reader", READER, "--timeout", "60"])
            .args(["--count", &count.to_string()])
            .arg("--vas-key")
            .arg(&vas)
            .args(["--pass-type-id", sim::DEMO_PASS_TYPE_ID])
            .arg("--collector-key")
            .arg(&collector)
            .args(["--collector-id", &sim::DEMO_COLLECTOR_ID.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start passdesk readers watch");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let w = Self { child, lines };
        let first = w.next();
        assert_eq!(first["event"], "readerAdded", "{first}");
        assert_eq!(first["reader"], READER);
        w
    }

    fn next(&self) -> Value {
        self.lines
            .recv_timeout(Duration::from_secs(15))
            .expect("an event from passdesk readers watch within 15 s")
    }

    fn finish(mut self) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "watch exited with {status}");
                return;
            }
            assert!(
                Instant::now() < until,
                "watch did not stop after --count taps"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Puts `card` on the reader, waits for the event it causes, takes it away again.
fn tap(watch: &Watch, card: impl sim::VirtualCard + Send + 'static) -> (Value, usize) {
    let inserted = InsertedCard::insert(PORT, card).expect("connect to vpcd");
    let event = watch.next();
    let apdus = inserted.remove();
    // Let pcscd's presence poll (~400 ms) see the card go before the next one comes.
    std::thread::sleep(Duration::from_millis(900));
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
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let out = node.run(&["readers", "list"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == READER)
            .cloned()
            .unwrap();
        if r["cardPresent"] == true {
            assert_eq!(r["atr"], "3B80800101");
            break;
        }
        assert!(Instant::now() < until, "card never seen: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    card.remove();
    std::thread::sleep(Duration::from_millis(900));
}

#[test]
fn a_queue_of_phones_and_cards_one_event_per_tap() {
    let _turn = exclusive();
    ensure_pcscd();
    let node = Node::empty();
    let watch = Watch::start(&node, 6);
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

#[test]
fn a_phone_left_on_the_reader_is_read_once() {
    let _turn = exclusive();
    ensure_pcscd();
    let node = Node::empty();
    let watch = Watch::start(&node, 2);
    let key = sim::demo_vas_key().public_key();
    let card = InsertedCard::insert(
        PORT,
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0009"),
    )
    .unwrap();
    assert_eq!(watch.next()["value"], "HLF-0009");
    // Two seconds on the reader: no second event.
    assert!(watch.lines.recv_timeout(Duration::from_secs(2)).is_err());
    assert_eq!(card.remove(), 2);
    std::thread::sleep(Duration::from_millis(900));
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
    let escape = watch.next();
    assert_eq!(escape["event"], "readerInitFailed", "{escape}");
    assert_eq!(escape["reader"], READER);
    assert!(
        escape["error"]
            .as_str()
            .unwrap()
            .contains("escape command #1 (SCardControl, SCARD_CTL_CODE(3500))"),
        "{escape}"
    );

    let key = sim::demo_vas_key().public_key();
    for round in 0..2 {
        let card = InsertedCard::insert_recording(
            PORT,
            VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "PASS-INIT-1"),
        )
        .unwrap();
        let mut event = watch.next();
        if round == 0 {
            // Reported on the first tap only, not on every tap.
            assert_eq!(event["event"], "readerInitFailed", "{event}");
            assert!(
                event["error"]
                    .as_str()
                    .unwrap()
                    .contains("init APDU #2 failed: status 6D00 where 9000 was expected"),
                "{event}"
            );
            event = watch.next();
        }
        assert_eq!(event["event"], "scan", "round {round}: {event}");
        assert_eq!(event["value"], "PASS-INIT-1");
        let commands = card.commands();
        card.remove();
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02X}")).collect::<String>();
        assert_eq!(hex(&commands[0]), select_ose);
        assert_eq!(hex(&commands[1]), "FF00000002D402");
        // Then the tap itself: SELECT OSE.VAS.01 and VAS GET DATA.
        assert_eq!(commands.len(), 4, "{commands:?}");
        std::thread::sleep(Duration::from_millis(900));
    }
    watch.finish();
}
