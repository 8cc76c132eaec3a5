//! The simulated phones through the crate's public API, as the service and the vpcd tests use
//! them: one tap, one scan.

use passdesk_hardware::nfc::sim::{self, SimReader, VirtualAndroid, VirtualIPhone, VirtualTag};
use passdesk_hardware::nfc::{read_tap, SmartTapConfig, TapConfig, TapError, VasConfig};
use passdesk_hardware::{Medium, NfcKind};
use std::time::SystemTime;

fn counter() -> TapConfig {
    TapConfig {
        vas: Some(VasConfig::new(sim::DEMO_PASS_TYPE_ID, sim::demo_vas_key())),
        smart_tap: Some(SmartTapConfig::new(sim::demo_collector())),
        ..TapConfig::default()
    }
}

#[test]
fn a_queue_of_customers() {
    let cfg = counter();
    let key = sim::demo_vas_key().public_key();
    let collector = sim::demo_collector().verifying_key();
    let mut taps: Vec<Result<(Medium, Vec<u8>), TapError>> = Vec::new();
    let mut go = |t: &mut dyn passdesk_hardware::nfc::ApduTransport| {
        taps.push(read_tap(t, &cfg, "gate-a", SystemTime::now()).map(|s| (s.medium, s.value)));
    };
    go(&mut SimReader::new(VirtualIPhone::new(
        sim::DEMO_PASS_TYPE_ID,
        key,
        "HLF-0001",
    )));
    go(&mut SimReader::new(VirtualAndroid::new(
        collector,
        sim::DEMO_COLLECTOR_ID,
        b"HLF-0002",
    )));
    go(&mut SimReader::new(VirtualTag::with_text(
        &[4, 1, 2, 3],
        "HLF-0003",
    )));
    go(&mut SimReader::new(VirtualTag::plastic(&[
        4, 1, 2, 3, 4, 5, 6,
    ])));
    go(&mut SimReader::new(
        VirtualIPhone::new(sim::DEMO_PASS_TYPE_ID, key, "HLF-0005")
            .behaving(sim::IPhoneBehaviour::Locked),
    ));
    assert_eq!(
        taps,
        vec![
            Ok((Medium::Nfc(NfcKind::Vas), b"HLF-0001".to_vec())),
            Ok((Medium::Nfc(NfcKind::SmartTap), b"HLF-0002".to_vec())),
            Ok((Medium::Nfc(NfcKind::Ndef), b"HLF-0003".to_vec())),
            Ok((Medium::Nfc(NfcKind::Uid), b"04010203040506".to_vec())),
            Err(TapError::PhoneLocked(
                passdesk_hardware::nfc::apdu::StatusWord(0x6287)
            )),
        ]
    );
}
